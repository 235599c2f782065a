import Testing
import QPackBinary
import QPackModel
import QPackTestSupport
@testable import QPackQuant

@Suite struct WeightQuantizerTests {
    /// The absmax rule reproduces the codes and scales the oracle generator derived with
    /// KleidiAI's reference quantizer, for every case in the golden vectors.
    @Test func absmaxMatchesKleidiAIReferenceCodes() throws {
        let oracle = Oracle.best
        var checked = 0
        for c in oracle.cases(kind: "rhs_pack") {
            let quantizer = c["quantizer"]?.string ?? ""
            let p = c["params"]!, inputs = c["inputs"]!
            let n = p["n"]!.int!, k = p["k"]!.int!
            guard let wEntry = inputs["weights_f32"], c["function"]!.string!.contains("nxk") else { continue }
            let w = try oracle.floats(wEntry)
            let id = c["id"]!.string!
            switch quantizer {
            case "kai_ref_symmetric_int4_per_block_bf16":
                let m = try w.withUnsafeBufferPointer {
                    try WeightQuantizer.int4Blocks($0, rows: n, columns: k, blockLength: p["bl"]!.int!, search: .absmax)
                }
                let raw = try oracle.bytes(inputs["codes"]!)
                let stride = p["rhs_stride"]!.int!
                let u = (0..<(n * k)).map { i -> UInt8 in
                    let b = raw[(i / k) * stride + (i % k) / 2]; return (i % k) % 2 == 0 ? b & 15 : b >> 4
                }
                #expect(m.codes == u.map { Int8($0) - 8 }, "\(id) codes")
                #expect(m.scales == (try oracle.uint16s(inputs["scales"]!)), "\(id) scales")
                checked += 1
            case "kai_ref_symmetric_int4_per_channel_f32":
                let m = try w.withUnsafeBufferPointer {
                    try WeightQuantizer.perChannel($0, rows: n, columns: k, bits: 4, search: .absmax)
                }
                #expect(m.scales == (try oracle.floats(inputs["scales"]!)), "\(id) scales")
                let raw = try oracle.bytes(inputs["codes"]!)
                let stride = p["rhs_stride"]!.int!
                let zp8 = p["rhs_zero_point"]!.int! == 8
                let q = (0..<(n * k)).map { i -> Int8 in
                    let b = raw[(i / k) * stride + (i % k) / 2]
                    let nib = (i % k) % 2 == 0 ? b & 15 : b >> 4
                    return zp8 ? Int8(nib) - 8 : Int8(bitPattern: nib << 4) >> 4
                }
                #expect(m.codes == q, "\(id) codes")
                checked += 1
            case "kai_ref_symmetric_int8_per_channel_f32":
                let m = try w.withUnsafeBufferPointer {
                    try WeightQuantizer.perChannel($0, rows: n, columns: k, bits: 8, search: .absmax)
                }
                #expect(m.scales == (try oracle.floats(inputs["scales"]!)), "\(id) scales")
                #expect(m.codes == (try oracle.bytes(inputs["codes"]!)).map { Int8(bitPattern: $0) }, "\(id) codes")
                checked += 1
            default:
                continue
            }
        }
        #expect(checked >= 30)
    }

    static func squaredError(_ w: [Float], _ d: [Float]) -> Double {
        zip(w, d).reduce(0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
    }

    @Test(arguments: [32, 64, 128, 256])
    func mseSearchIsNeverWorseThanRoundedAbsmax(_ bl: Int) throws {
        var g = SplitMix64(state: UInt64(bl))
        let rows = 16, cols = 1024
        var w = (0..<(rows * cols)).map { _ in Float.random(in: -1...1, using: &g) * 0.02 }
        for i in stride(from: 0, to: w.count, by: 97) { w[i] *= 8 }  // outliers make clipping pay
        let mse = try w.withUnsafeBufferPointer {
            try WeightQuantizer.int4Blocks($0, rows: rows, columns: cols, blockLength: bl)
        }
        let rtn = try w.withUnsafeBufferPointer {
            try WeightQuantizer.int4Blocks($0, rows: rows, columns: cols, blockLength: bl, search: .mse(ratios: [1]))
        }
        let dm = WeightQuantizer.dequantize(mse), dr = WeightQuantizer.dequantize(rtn)
        for b in 0..<(rows * cols / bl) {
            let range = (b * bl)..<((b + 1) * bl)
            #expect(
                Self.squaredError(Array(w[range]), Array(dm[range])) <= Self.squaredError(
                    Array(w[range]), Array(dr[range])) * (1 + 1e-6))
        }
        #expect(Self.squaredError(w, dm) < 0.97 * Self.squaredError(w, dr))
    }

    @Test func errorIsWithinHalfAStepPerBlock() throws {
        var g = SplitMix64(state: 9)
        let w = (0..<(8 * 256)).map { _ in Float.random(in: -3...3, using: &g) }
        let m = try w.withUnsafeBufferPointer {
            try WeightQuantizer.int4Blocks($0, rows: 8, columns: 256, blockLength: 32, search: .absmax)
        }
        let d = WeightQuantizer.dequantize(m)
        for i in 0..<w.count {
            let s = Float(bitPattern: UInt32(m.scales[i / 32]) << 16)
            // Half a step, plus the bf16 rounding of the scale applied to up to 7 steps.
            #expect(abs(w[i] - d[i]) <= 0.5 * s + 7 * s * 0x1p-8 + 1e-6)
        }
    }

    @Test func allZeroBlocksQuantizeToExactZeros() throws {
        var w = [Float](repeating: 0, count: 64)
        w[40] = 1
        for search in [ScaleSearch.absmax, .default] {
            let m = try w.withUnsafeBufferPointer {
                try WeightQuantizer.int4Blocks($0, rows: 1, columns: 64, blockLength: 32, search: search)
            }
            #expect(m.scales[0] == 0)
            #expect(m.codes[0..<32].allSatisfy { $0 == 0 })
            #expect(WeightQuantizer.dequantize(m)[0..<32].allSatisfy { $0 == 0 && $0.sign == .plus })
        }
    }

    @Test func nonFiniteWeightsAreRefusedWithTheirIndex() {
        var w = [Float](repeating: 0.5, count: 96)
        w[70] = .nan
        #expect(throws: QuantizationError(index: 70, value: .nan)) {
            try w.withUnsafeBufferPointer { try WeightQuantizer.int4Blocks($0, rows: 3, columns: 32, blockLength: 32) }
        }
        w[70] = -.infinity
        #expect(throws: QuantizationError(index: 70, value: -.infinity)) {
            try w.withUnsafeBufferPointer { try WeightQuantizer.perChannel($0, rows: 3, columns: 32, bits: 8) }
        }
        let zeroed = try? w.withUnsafeBufferPointer {
            try WeightQuantizer.perChannel($0, rows: 3, columns: 32, bits: 8, nonFinite: .zero)
        }
        #expect(zeroed?.codes[70] == 0)
    }

    @Test func bfloat16RoundsToNearestEven() {
        #expect(BFloat16.fromFloat(1) == 0x3F80)
        #expect(BFloat16.fromFloat(Float(bitPattern: 0x3F80_8000)) == 0x3F80)  // tie, even stays
        #expect(BFloat16.fromFloat(Float(bitPattern: 0x3F81_8000)) == 0x3F82)  // tie, odd rounds up
        #expect(BFloat16.fromFloat(Float(bitPattern: 0x3F80_8001)) == 0x3F81)
        #expect(BFloat16.fromFloat(-2) == 0xC000)
        #expect(BFloat16.fromFloat(.infinity) == 0x7F80)
        #expect(BFloat16.fromFloat(.greatestFiniteMagnitude) == 0x7F80)  // rounds up to infinity
        #expect(Float(bitPattern: UInt32(BFloat16.fromFloat(.nan)) << 16).isNaN)
    }
}

@Suite struct QuantizerEdgeTests {
    /// N05: a block of subnormals is flushed to zero instead of overflowing 1/scale.
    @Test func subnormalBlocksFlushToZero() throws {
        var w = [Float](repeating: 1e-40, count: 64)
        w[33] = 0.5
        for search in [ScaleSearch.absmax, .default] {
            let m = try w.withUnsafeBufferPointer {
                try WeightQuantizer.int4Blocks($0, rows: 1, columns: 64, blockLength: 32, search: search)
            }
            #expect(m.scales[0] == 0 && m.codes[0..<32].allSatisfy { $0 == 0 })
            #expect(m.scales[1] != 0)
            let c = try w.withUnsafeBufferPointer {
                try WeightQuantizer.perChannel($0, rows: 2, columns: 32, bits: 8, search: search)
            }
            #expect(c.scales[0] == 0 && c.codes[0..<32].allSatisfy { $0 == 0 })
        }
    }

    /// Splitting rows across threads never changes a bit.
    @Test func threadCountDoesNotChangeTheResult() throws {
        var g = SplitMix64(state: 77)
        let rows = 64, cols = 2048
        let w = (0..<(rows * cols)).map { _ in Float.random(in: -1...1, using: &g) }
        let one = try w.withUnsafeBufferPointer {
            try WeightQuantizer.int4Blocks($0, rows: rows, columns: cols, blockLength: 32, threads: 1)
        }
        let four = try w.withUnsafeBufferPointer {
            try WeightQuantizer.int4Blocks($0, rows: rows, columns: cols, blockLength: 32, threads: 4)
        }
        #expect(one == four)
        let c1 = try w.withUnsafeBufferPointer {
            try WeightQuantizer.perChannel($0, rows: rows, columns: cols, bits: 4, threads: 1)
        }
        let c3 = try w.withUnsafeBufferPointer {
            try WeightQuantizer.perChannel($0, rows: rows, columns: cols, bits: 4, threads: 3)
        }
        #expect(c1 == c3)
    }

    /// The vectorised rounding is round-half-to-even, like the scalar definition.
    @Test func roundingIsHalfToEven() {
        let v: [Float] = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.4999998, -7.5, 126.5, -127.5]
        for x in v {
            #expect(WeightQuantizer.roundEven(x) == x.rounded(.toNearestOrEven), "\(x)")
        }
        // The C kernel rounds the same way (codes of x·1 clamped to ±128).
        let xs: [Float] = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 7.5, -8.5, 3.49, 100.5, -127.5, 126.5]
        var out = [Int8](repeating: 0, count: xs.count)
        xs.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer {
                WeightQuantizer.encode(x, inv: 1, qmin: -128, qmax: 127, out: $0.baseAddress!)
            }
        }
        #expect(out == xs.map { Int8($0.rounded(.toNearestOrEven)) })
    }
}

@Suite struct ImportanceSearchTests {
    /// Σ importance[col]·(w − dequantized)², in double, written out here independently.
    static func weightedError(_ w: [Float], _ d: [Float], importance: [Float], columns: Int) -> Double {
        var e = 0.0
        for i in 0..<w.count { let x = Double(w[i] - d[i]); e += Double(importance[i % columns]) * x * x }
        return e
    }

    static func data(rows: Int, columns: Int, seed: UInt64) -> (w: [Float], importance: [Float]) {
        var g = SplitMix64(state: seed)
        let w = (0..<(rows * columns)).map { _ in
            Float.random(in: -1...1, using: &g) * (Bool.random(using: &g) ? 1 : 0.1)
        }
        // Heavy-tailed importance: a few input channels matter much more, as in real activations.
        let importance = (0..<columns).map { c in
            c % 7 == 0 ? Float.random(in: 20...50, using: &g) : Float.random(in: 0.01...1, using: &g)
        }
        return (w, importance)
    }

    @Test func neverWorseInWeightedErrorThanPlainSearches() throws {
        let rows = 16, columns = 128
        let (w, imp) = Self.data(rows: rows, columns: columns, seed: 11)
        func blocks(_ s: ScaleSearch, _ i: [Float]?) throws -> [Float] {
            try WeightQuantizer.dequantize(
                w.withUnsafeBufferPointer {
                    try WeightQuantizer.int4Blocks(
                        $0, rows: rows, columns: columns, blockLength: 32, search: s, importance: i)
                })
        }
        let weighted = try blocks(.importance(ratios: ScaleSearch.importanceRatios), imp)
        let plain = try blocks(.default, nil), absmax = try blocks(.absmax, nil)
        let ew = Self.weightedError(w, weighted, importance: imp, columns: columns)
        #expect(ew < Self.weightedError(w, plain, importance: imp, columns: columns))
        #expect(ew < Self.weightedError(w, absmax, importance: imp, columns: columns))
        func channels(_ s: ScaleSearch, _ i: [Float]?) throws -> [Float] {
            try WeightQuantizer.dequantize(
                w.withUnsafeBufferPointer {
                    try WeightQuantizer.perChannel($0, rows: rows, columns: columns, bits: 4, search: s, importance: i)
                })
        }
        let cw = try channels(.importance(ratios: ScaleSearch.importanceRatios), imp)
        #expect(
            Self.weightedError(w, cw, importance: imp, columns: columns)
                <= Self.weightedError(w, try channels(.default, nil), importance: imp, columns: columns))
    }

    @Test func zeroImportanceFallsBackToThePlainSearch() throws {
        let rows = 4, columns = 64
        let (w, _) = Self.data(rows: rows, columns: columns, seed: 5)
        let zeros = [Float](repeating: 0, count: columns)
        let a = try w.withUnsafeBufferPointer {
            try WeightQuantizer.int4Blocks(
                $0, rows: rows, columns: columns, blockLength: 32,
                search: .importance(ratios: ScaleSearch.importanceRatios), importance: zeros)
        }
        let b = try w.withUnsafeBufferPointer {
            try WeightQuantizer.int4Blocks($0, rows: rows, columns: columns, blockLength: 32, search: .default)
        }
        #expect(a.codes == b.codes && a.scales == b.scales)
    }

    /// The clip search's error, written here from its definition with Swift's own fused
    /// multiply-add (`addingProduct`): the C kernel gives the same bits, tails included.
    @Test func squaredErrorFollowsItsDefinition() {
        var rng = SplitMix64(seed: 5)
        for trial in 0..<400 {
            let n = 1 + Int(rng.next() % 100)
            let x = (0..<n).map { _ in Float(Int64(rng.next() % 2_000_001) - 1_000_000) * 1e-6 }
            let s = Float(1 + rng.next() % 1000) * 1e-5 * (trial % 2 == 0 ? 1 : 30), inv = 1 / s
            let (qmin, qmax): (Float, Float) = trial % 3 == 0 ? (-128, 127) : (-8, 7)
            var acc = [Float](repeating: 0, count: 8)
            let whole = n / 8 * 8
            func code(_ v: Float) -> Float { (min(max(v * inv, qmin), qmax)).rounded(.toNearestOrEven) }
            for i in 0..<whole {
                let d = x[i].addingProduct(-code(x[i]), s)
                acc[i % 8] = acc[i % 8].addingProduct(d, d)
            }
            var err: Float = 0
            for l in 0..<8 { err = err + acc[l] }
            for i in whole..<n {
                let d = x[i].addingProduct(-code(x[i]), s)
                err = err.addingProduct(d, d)
            }
            let got = x.withUnsafeBufferPointer {
                WeightQuantizer.squaredError($0, scale: s, inv: inv, qmin: qmin, qmax: qmax)
            }
            #expect(got.bitPattern == err.bitPattern, "trial \(trial) n \(n)")
        }
    }
}
