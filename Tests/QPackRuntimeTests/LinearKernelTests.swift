import CQPackRuntime
import Testing
import QPackBinary

/// Float linear kernels: NEON (SIMDe here) and scalar give identical bits on random shapes with
/// K tails; both are within float rounding of a double-precision reference.
@Suite struct LinearKernelTests {
    struct Rng {
        var s: UInt64
        mutating func next() -> Float {
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int32(truncatingIfNeeded: s >> 33) % 2001) / 1000
        }
    }

    @Test func scalarAndNEONAgreeAndMatchDoublePrecision() {
        var g = Rng(s: 42)
        for shape in [(1, 1, 1), (1, 7, 3), (3, 5, 17), (2, 9, 64), (5, 13, 131), (1, 33, 384)] {
            let (m, n, k) = shape
            let x = (0..<(m * k)).map { _ in g.next() }
            let w = (0..<(n * k)).map { _ in g.next() }
            let h = w.map { FloatBits.floatToHalf($0) }
            let bias = (0..<n).map { _ in g.next() }
            var a = [Float](repeating: .nan, count: m * n), b = a, c = a, d = a
            qp_linear_f32_scalar(m, n, k, x, w, bias, &a, -.infinity, .infinity)
            qp_linear_f32_neon(m, n, k, x, w, bias, &b, -.infinity, .infinity)
            qp_linear_f16_scalar(m, n, k, x, h, bias, &c, -.infinity, .infinity)
            qp_linear_f16_neon(m, n, k, x, h, bias, &d, -.infinity, .infinity)
            #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "f32 \(shape)")
            #expect(c.map(\.bitPattern) == d.map(\.bitPattern), "f16 \(shape)")
            for r in 0..<m {
                for col in 0..<n {
                    var ref = Double(bias[col]), ref16 = Double(bias[col]), mag = abs(Double(bias[col]))
                    for i in 0..<k {
                        ref += Double(x[r * k + i]) * Double(w[col * k + i])
                        ref16 += Double(x[r * k + i]) * Double(FloatBits.halfToFloat(h[col * k + i]))
                        mag += abs(Double(x[r * k + i]) * Double(w[col * k + i]))
                    }
                    let tolerance = mag * Double(k + 2) * Double(Float.ulpOfOne)
                    #expect(abs(Double(a[r * n + col]) - ref) <= tolerance, "f32 \(shape) [\(r),\(col)]")
                    #expect(abs(Double(c[r * n + col]) - ref16) <= tolerance, "f16 \(shape) [\(r),\(col)]")
                }
            }
        }
    }

    @Test func halfConversionIsExact() {
        for bits in stride(from: 0, through: 0xFFFF, by: 7) {
            let h = UInt16(bits)
            let mine = qp_f16_to_f32(h), reference = FloatBits.halfToFloat(h)
            #expect(mine.bitPattern == reference.bitPattern || (mine.isNaN && reference.isNaN))
        }
    }
}
