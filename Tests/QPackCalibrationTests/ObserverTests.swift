import Foundation
import Testing
@testable import QPackCalibration

/// Statistics of a list of values seen as `rows` rows of one channel each.
func stats(_ values: [Float], channels: Int = 1) -> ActivationStats {
    var s = ActivationStats(tensor: "t", channels: channels)
    values.withUnsafeBufferPointer { s.observe(rows: values.count / channels, $0.baseAddress!) }
    return s
}

/// A histogram over [-1, 1] (bin width 1/1024) with the given counts at signed bin indices.
func histogram(_ bins: [Int: UInt64], exponent: Int = 0) -> ActivationHistogram {
    var c = [UInt64](repeating: 0, count: ActivationHistogram.binCount)
    for (i, n) in bins { c[i] = n }
    return ActivationHistogram(exponent: exponent, counts: c)!
}

@Suite struct HistogramTests {
    @Test func binsAreFloorOfValueOverWidth() {
        // 0.5 < 2^0: range [-1, 1], width 1/1024: 0.5 → bin 1024 + 512, -0.25 → 1024 - 256,
        // -1/1024 → 1023, 0 → 1024.
        let s = stats([0.5, -0.25, -1.0 / 1024, 0])
        #expect(s.histogram.exponent == 0)
        #expect(s.histogram.counts[1536] == 1 && s.histogram.counts[768] == 1)
        #expect(s.histogram.counts[1023] == 1 && s.histogram.counts[1024] == 1)
        #expect(s.histogram.total == 4)
    }

    @Test func growingTheRangeMovesWholeBinsExactly() {
        // Small values first then a large one, or the large one first: the same histogram.
        var rng = SystemRandomNumberGenerator()
        let small = (0..<500).map { _ in Float.random(in: -0.7...0.9, using: &rng) }
        let large: [Float] = [37.5, -90.25]
        let a = stats(small + large), b = stats(large + small)
        #expect(a.histogram == b.histogram)
        #expect(a.histogram.exponent == 7)  // 90.25 < 128
        // And merging two halves gives the histogram of the whole.
        var m = stats(small)
        m.merge(stats(large))
        #expect(m.histogram == a.histogram)
        #expect(m.minimum == -90.25 && m.maximum == 37.5 && m.rows == 502)
    }

    @Test func importanceIsMeanSquarePerChannel() {
        // Two channels, rows (1, -2), (3, 4): mean x² = (1+9)/2, (4+16)/2.
        let s = stats([1, -2, 3, 4], channels: 2)
        #expect(s.importance == [5, 10])
        #expect(s.channelAbsMax == [3, 4])
    }
}

@Suite struct ObserverTests {
    @Test func minmaxIncludesZero() {
        #expect(RangeObserver.minmax.range(stats([-3, 5, 1])) == ActivationRange(lo: -3, hi: 5))
        #expect(RangeObserver.minmax.range(stats([2, 5])) == ActivationRange(lo: 0, hi: 5))
    }

    @Test func percentileDropsARareOutlier() {
        // 9999 values of 1.0 and one of 100: range 2^7, width 1/8; 1.0 is in bin [1, 1.125).
        // At 99.99% the tail is 1 value: the outlier's bin does not exceed it, 1.0's does, so
        // hi = 1.125; lo = 1.0 clamped to 0.
        let s = stats([Float](repeating: 1, count: 9999) + [100])
        #expect(RangeObserver.percentile(99.99).range(s) == ActivationRange(lo: 0, hi: 1.125))
        // At 100% nothing is dropped: the outlier's bin [100, 100.125) ends above max → max.
        #expect(RangeObserver.percentile(100).range(s) == ActivationRange(lo: 0, hi: 100))
    }

    @Test func entropyThresholdUniformBelow128Bins() {
        // Magnitudes spread evenly over the first 100 bins: at i = 128, Q merges single bins,
        // so Q = P and KL = 0, the first minimum: threshold 128·w.
        var bins: [Int: UInt64] = [:]
        for j in 0..<100 { bins[1024 + j] = 7 }
        #expect(RangeObserver.entropyThreshold(histogram(bins)) == 128.0 / 1024)
    }

    @Test func entropyKeepsAnOutlierTheGridHolds() {
        // 1000 at magnitude bin 5 and 1 at bin 1000. Below i = 1001 the outlier is folded into
        // P's last bin where Q is empty (KL > 0); at i = 1001 groups of 7 bins hold each
        // non-zero bin alone, Q = P, KL = 0: threshold 1001·w.
        let h = histogram([1024 + 5: 1000, 1024 + 1000: 1])
        #expect(RangeObserver.entropyThreshold(h) == 1001.0 / 1024)
        // The folded magnitude histogram counts both signs.
        #expect(histogram([1023: 2, 1024: 3]).magnitudes[0] == 5)
    }

    @Test func mseErrorOfOneBinByHand() {
        // 10 values at the centre 512.5/1024 of bin 1536, range [0, 1]: multiplier 255, zero
        // point -128; code round(0.50048828125·255) - 128 = 0, which dequantizes to 128/255.
        let h = histogram([1536: 10])
        let expected = 10 * pow(128.0 / 255 - 0.50048828125, 2)
        #expect(abs(RangeObserver.squaredError(h, lo: 0, hi: 1) - expected) < 1e-9)
        // Clipping to [0, 0.25]: the value saturates at 0.25 (code 127), error (0.25 - c)².
        let clipped = 10 * pow(0.50048828125 - Double(ActivationQuantizer(lo: 0, hi: 0.25).dequantized(0.25)), 2)
        #expect(abs(RangeObserver.squaredError(h, lo: 0, hi: 0.25) - clipped) < 1e-9)
    }

    @Test func mseClipsAHeavyBulkWithOneOutlier() {
        // 10⁶ values near 0.01 and one at 1: the outlier's clipping error (< 1) is far smaller
        // than the bulk's rounding error at step 1/255, so mse clips (α < 1) and its range's
        // error is the least over its grid.
        var bins: [Int: UInt64] = [1024 + 10: 1_000_000, 1024 + 1000: 1]
        bins[1024 + 11] = 500_000
        var s = stats([0.98])
        s = ActivationStats(
            tensor: "t", channels: 1, rows: 1_500_001, minimum: 0.0098, maximum: 0.98,
            sumSquares: [1], channelAbsMax: [0.98], channelMin: [0.0098], channelMax: [0.98], histogram: histogram(bins)
        )
        let r = RangeObserver.mse.range(s)
        #expect(r.hi < 0.98 && r.lo == 0)
        let chosen = RangeObserver.squaredError(s.histogram, lo: r.lo, hi: r.hi)
        for a in RangeObserver.mseRatios {
            #expect(chosen <= RangeObserver.squaredError(s.histogram, lo: 0, hi: a * 0.98))
        }
    }

    @Test func staticQuantizerMatchesTheDynamicRuleOnARow() {
        // Range [-1, 3]: multiplier 255/4 = 63.75, dmin -63.75, dmax 191.25; (-128-63.75) +
        // (127+191.25) > 0 → zero point round(-128 + 63.75) = -64.
        let q = ActivationQuantizer(lo: -1, hi: 3)
        #expect(q.multiplier == 63.75 && q.zeroPoint == -64)
        #expect(q.code(3) == 127 && q.code(-1) == -128 && q.code(0) == -64)
        #expect(q.code(10) == 127 && q.code(-10) == -128)  // saturates
        #expect(q.code(0.5 / 63.75) == -63)  // 0.5 rounds away from zero
        // Values no Int32 holds saturate instead of trapping; NaN is taken as 0 (code = zero point).
        #expect(q.code(1e30) == 127 && q.code(-.infinity) == -128 && q.code(.infinity) == 127)
        #expect(q.code(.nan) == -64)
        #expect(ActivationQuantizer(lo: 0, hi: 0).code(3e38) == 127)
    }
}
