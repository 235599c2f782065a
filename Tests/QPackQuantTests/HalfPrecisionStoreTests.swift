import Testing
import QPackBinary
import QPackModel
import QPackTestSupport
@testable import QPackQuant

/// f16/bf16 storage against the scalar definitions (FloatBits.floatToHalf, BFloat16.fromFloat),
/// element by element, with enough values to use F16C on x86, several chunks and thread runs.
@Suite struct HalfPrecisionStoreTests {
    /// Finite values of every kind f16 rounding cares about: random bit patterns within range,
    /// f16 subnormals and values below them, exact ties, and the largest f16.
    static func values(_ count: Int, rng: inout SplitMix64) -> [Float] {
        (0..<count).map { i in
            switch i % 6 {
            case 0:
                return Float(
                    bitPattern: UInt32(truncatingIfNeeded: rng.next()) & 0x477F_FFFF
                        | (rng.next() % 2 == 0 ? 0 : 0x8000_0000))
            case 1: return Float(Int64(rng.next() % 2_000_001) - 1_000_000) * 6e-8  // around f16 subnormals
            case 2: return Float(Int(rng.next() % 4096)) + 0.5  // ties at small magnitudes
            case 3: return (Float(Int(rng.next() % 2048)) * 2 + 1) * 0x1p-25  // ties between subnormals
            case 4: return [65504, -65504, 65519.99, 0x1p-24, 0x1p-25, -0.0][Int(rng.next() % 6)]
            default: return Float(Int64(rng.next() % 2_000_001) - 1_000_000) * 1e-3
            }
        }.map { abs($0) <= 65504 ? $0 : 1 }
    }

    static func bytes(_ v: [Float]) -> [UInt8] {
        v.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
    }

    @Test func f16AndBF16MatchTheScalarDefinitions() {
        var rng = SplitMix64(seed: 16)
        let v = Self.values(1_000_003, rng: &rng), raw = Self.bytes(v)
        let expectedF16 = v.flatMap { x in withUnsafeBytes(of: FloatBits.floatToHalf(x).littleEndian, Array.init) }
        let expectedBF16 = v.flatMap { x in withUnsafeBytes(of: BFloat16.fromFloat(x).littleEndian, Array.init) }
        for threads in [1, 3] {
            raw.withUnsafeBytes { r in
                let w = PackedQuantizer.Source(bytes: r, encoding: .f32, rows: v.count, columns: 1)
                #expect(
                    HalfPrecisionStore.store(w, as: .f16, nonFinite: .error, threads: threads) == .stored(expectedF16))
                #expect(
                    HalfPrecisionStore.store(w, as: .bf16, nonFinite: .error, threads: threads) == .stored(expectedBF16)
                )
            }
        }
        // From bf16 and f16 sources: decoded exactly, then stored.
        let bf = v.map { BFloat16.fromFloat($0) },
            bfRaw = bf.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) }
        let bfAsF16 = bf.flatMap { b in
            withUnsafeBytes(of: FloatBits.floatToHalf(Float(bitPattern: UInt32(b) << 16)).littleEndian, Array.init)
        }
        bfRaw.withUnsafeBytes { r in
            let w = PackedQuantizer.Source(bytes: r, encoding: .bf16, rows: v.count, columns: 1)
            let got = HalfPrecisionStore.store(w, as: .f16, nonFinite: .zero, threads: 2)
            // bf16 rounding may push a value past 65504: then the first such one is reported.
            if let i = bf.firstIndex(where: { abs(Float(bitPattern: UInt32($0) << 16)) > 65504 }) {
                #expect(got == .tooLarge(index: i, value: Float(bitPattern: UInt32(bf[i]) << 16)))
            } else {
                #expect(got == .stored(bfAsF16))
            }
        }
        let halves = (0..<UInt16.max).filter { $0 & 0x7C00 != 0x7C00 }
        let hRaw = halves.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) }
        hRaw.withUnsafeBytes { r in
            let w = PackedQuantizer.Source(bytes: r, encoding: .f16, rows: halves.count, columns: 1)
            #expect(
                HalfPrecisionStore.store(w, as: .f16, nonFinite: .error) == .stored(hRaw),
                "every finite f16 survives the round trip")
        }
    }

    /// The first non-finite value wins over an earlier value too large for f16 (the policy
    /// check comes first); with `zero` it becomes 0 and the too-large one is reported.
    @Test func errorsNameTheFirstOffendingElement() {
        var v = [Float](repeating: 0.25, count: 900_000)
        v[100] = 70_000
        v[600_000] = .nan
        v[700_000] = .infinity
        let raw = Self.bytes(v)
        for threads in [1, 3] {
            raw.withUnsafeBytes { r in
                let w = PackedQuantizer.Source(bytes: r, encoding: .f32, rows: v.count, columns: 1)
                guard
                    case let .nonFinite(i, x) = HalfPrecisionStore.store(
                        w, as: .f16, nonFinite: .error, threads: threads)
                else {
                    Issue.record("no non-finite error"); return
                }
                #expect(i == 600_000 && x.isNaN)
                #expect(
                    HalfPrecisionStore.store(w, as: .f16, nonFinite: .zero, threads: threads)
                        == .tooLarge(index: 100, value: 70_000))
                guard case let .stored(b) = HalfPrecisionStore.store(w, as: .bf16, nonFinite: .zero, threads: threads)
                else {
                    Issue.record("bf16 refused"); return
                }
                #expect(
                    b[1_200_000] == 0 && b[1_200_001] == 0 && b[1_400_000] == 0 && b[1_400_001] == 0,
                    "non-finite stored as 0")
                #expect(b[200] == UInt8(truncatingIfNeeded: BFloat16.fromFloat(70_000)))
            }
        }
    }
}
