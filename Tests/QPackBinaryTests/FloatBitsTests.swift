import Testing
import QPackTestSupport
@testable import QPackBinary

@Suite struct FloatBitsTests {
    /// Every binary16 value against the toolchain's own Float16 conversion (compiler-rt), an
    /// independent implementation. NaNs must stay NaN with the sign and payload bits kept.
    @Test func halfToFloatMatchesFloat16ForAllValues() {
        var mismatches = 0
        for h in 0...UInt16.max {
            let mine = FloatBits.halfToFloat(h)
            let reference = Float(Float16(bitPattern: h))
            if reference.isNaN {
                let payload = UInt32(h & 0x3FF) << 13
                if !mine.isNaN || (mine.bitPattern & 0x8000_0000) != UInt32(h & 0x8000) << 16
                    || (mine.bitPattern & 0x7F_E000 & ~0x40_0000) != payload & ~0x40_0000
                {
                    mismatches += 1
                }
            } else if mine.bitPattern != reference.bitPattern {
                mismatches += 1
            }
        }
        #expect(mismatches == 0)
    }

    @Test func floatToHalfRoundTripsEveryHalf() {
        for h in 0...UInt16.max {
            let f = FloatBits.halfToFloat(h)
            if f.isNaN { continue }
            #expect(FloatBits.floatToHalf(f) == h)
        }
    }

    @Test func floatToHalfRoundsToNearestEvenLikeFloat16() {
        var g = SplitMix64(seed: 7)
        for _ in 0..<200_000 {
            let bits = UInt32(truncatingIfNeeded: g.next())
            let f = Float(bitPattern: bits)
            if f.isNaN { continue }
            #expect(FloatBits.floatToHalf(f) == Float16(f).bitPattern, "input bits 0x\(String(bits, radix: 16))")
        }
    }

    @Test func bfloat16IsTheHighHalf() {
        #expect(FloatBits.bfloat16ToFloat(0x3F80) == 1.0)
        #expect(FloatBits.bfloat16ToFloat(0xC000) == -2.0)
        #expect(FloatBits.bfloat16ToFloat(0x7F80) == .infinity)
        #expect(FloatBits.bfloat16ToFloat(0x0001).bitPattern == 0x0001_0000)
    }

    @Test func doubleToFloatRoundsToNearestEven() {
        #expect(FloatBits.doubleToFloat(1 + 0x1p-24) == 1.0)  // halfway, rounds to even
        #expect(FloatBits.doubleToFloat(1 + 3 * 0x1p-24) == 1 + 0x1p-22)
        #expect(FloatBits.doubleToFloat(1e300) == .infinity)
        #expect(FloatBits.doubleToFloat(-1e-50).bitPattern == 0x8000_0000)
    }
}

/// A small deterministic generator for tests.
