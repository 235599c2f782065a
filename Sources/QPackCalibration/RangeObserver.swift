import Foundation

/// Chooses a static activation clip range from calibration statistics
/// (Formats/qpack-calibration.md §4 states each rule).
public enum RangeObserver: Sendable, Hashable, CustomStringConvertible {
    /// The observed minimum and maximum.
    case minmax
    /// The p-th and (100 − p)-th percentiles of the histogram (bin edges), e.g. 99.99.
    case percentile(Double)
    /// TensorRT-style entropy calibration: the magnitude threshold whose 128-level
    /// quantization of the histogram has the least KL divergence from it.
    case entropy
    /// The range [α·min, α·max], α = 1 − 0.01·i (i = 0…69), whose quantization of the
    /// histogram's bin centres has the least squared error.
    case mse

    public static let defaultPercentile = 99.99

    public init?(name: String, percentile: Double? = nil) {
        switch name {
        case "minmax": self = .minmax
        case "percentile": self = .percentile(percentile ?? Self.defaultPercentile)
        case "entropy": self = .entropy
        case "mse": self = .mse
        default: return nil
        }
    }

    public static let names = ["minmax", "percentile", "entropy", "mse"]

    public var name: String {
        switch self {
        case .minmax: return "minmax"
        case .percentile: return "percentile"
        case .entropy: return "entropy"
        case .mse: return "mse"
        }
    }

    public var description: String {
        if case let .percentile(p) = self { return "percentile(\(p))" }
        return name
    }

    public func range(_ s: ActivationStats) -> ActivationRange {
        guard s.minimum <= s.maximum else { return ActivationRange(lo: 0, hi: 0) }
        let lo0 = min(0, s.minimum), hi0 = max(0, s.maximum)
        switch self {
        case .minmax:
            return ActivationRange(lo: lo0, hi: hi0)
        case let .percentile(p):
            let (lo, hi) = Self.percentiles(s.histogram, p)
            return ActivationRange(lo: max(lo0, min(0, lo)), hi: min(hi0, max(0, hi)))
        case .entropy:
            let t = Float(Self.entropyThreshold(s.histogram))
            return ActivationRange(lo: max(lo0, -t), hi: min(hi0, t))
        case .mse:
            return Self.mseRange(s.histogram, lo: lo0, hi: hi0)
        }
    }

    // MARK: percentile

    /// Lower edge of the first bin where the count from the left exceeds (100 − p)% of the
    /// total, and upper edge of the first bin where the count from the right does.
    static func percentiles(_ h: ActivationHistogram, _ p: Double) -> (Float, Float) {
        let total = Double(h.total)
        guard total > 0 else { return (0, 0) }
        let tail = total * (100 - p) / 100
        var cum = 0.0, lo = h.lowerEdge(0), hi = h.lowerEdge(ActivationHistogram.binCount)
        for i in 0..<ActivationHistogram.binCount {
            cum += Double(h.counts[i])
            if cum > tail { lo = h.lowerEdge(i); break }
        }
        cum = 0
        for i in stride(from: ActivationHistogram.binCount - 1, through: 0, by: -1) {
            cum += Double(h.counts[i])
            if cum > tail { hi = h.lowerEdge(i + 1); break }
        }
        return (Float(lo), Float(hi))
    }

    // MARK: entropy

    public static let entropyLevels = 128

    /// Magnitude threshold i·w (w the bin width) for i in 128…1024 minimising KL(P‖Q), where P is
    /// the magnitude histogram's first i bins with everything beyond added to bin i − 1, and Q
    /// merges those i bins (without the outliers) into 128 groups of ⌊i/128⌋ (the last takes the
    /// rest) and spreads each group's count evenly over its bins where P is non-zero. Both are
    /// smoothed (ε = 0.0001 moved onto zero bins) and normalised; the first minimum wins.
    static func entropyThreshold(_ h: ActivationHistogram) -> Double {
        let mags = h.magnitudes.map { Double($0) }  // not Double.init, which takes the bit pattern
        let n = mags.count, levels = entropyLevels
        var suffix = [Double](repeating: 0, count: n + 1)
        for i in stride(from: n - 1, through: 0, by: -1) { suffix[i] = suffix[i + 1] + mags[i] }
        guard suffix[0] > 0 else { return 0 }
        var best = (kl: Double.infinity, i: n)
        var p = [Double](repeating: 0, count: n), q = p
        for i in levels...n {
            for j in 0..<i { p[j] = mags[j] }
            p[i - 1] += suffix[i]
            let merged = i / levels
            for g in 0..<levels {
                let start = g * merged, stop = g == levels - 1 ? i : start + merged
                var sum = 0.0, nonzero = 0
                for j in start..<stop {
                    sum += mags[j]
                    if p[j] != 0 { nonzero += 1 }
                }
                for j in start..<stop { q[j] = (p[j] != 0 && nonzero > 0) ? sum / Double(nonzero) : 0 }
            }
            guard let kl = divergence(Array(p[0..<i]), Array(q[0..<i])) else { continue }
            if kl < best.kl { best = (kl, i) }
        }
        return Double(best.i) * h.binWidth
    }

    /// KL(p‖q) after moving ε = 0.0001 onto each zero bin (taken evenly from the non-zero bins)
    /// and normalising; nil when either has no mass.
    static func divergence(_ p: [Double], _ q: [Double]) -> Double? {
        guard let ps = smoothed(p), let qs = smoothed(q) else { return nil }
        let sp = ps.reduce(0, +), sq = qs.reduce(0, +)
        var kl = 0.0
        for j in 0..<ps.count where ps[j] > 0 {
            let a = ps[j] / sp, b = qs[j] / sq
            kl += a * log(a / b)
        }
        return kl
    }

    static func smoothed(_ d: [Double]) -> [Double]? {
        let eps = 0.0001
        let zeros = d.filter { $0 == 0 }.count, nonzeros = d.count - zeros
        guard nonzeros > 0 else { return nil }
        let take = eps * Double(zeros) / Double(nonzeros)
        return d.map { $0 == 0 ? eps : $0 - take }
    }

    // MARK: mse

    public static let mseRatios: [Float] = (0..<70).map { 1 - 0.01 * Float($0) }

    /// Σ count·(dequantized(centre) − centre)² over the histogram's bins for the range [lo, hi].
    public static func squaredError(_ h: ActivationHistogram, lo: Float, hi: Float) -> Double {
        let q = ActivationQuantizer(lo: lo, hi: hi)
        var err = 0.0
        for i in 0..<ActivationHistogram.binCount where h.counts[i] != 0 {
            let c = Float(h.center(i))
            let d = Double(q.dequantized(c)) - Double(c)
            err += Double(h.counts[i]) * d * d
        }
        return err
    }

    static func mseRange(_ h: ActivationHistogram, lo: Float, hi: Float) -> ActivationRange {
        var best = ActivationRange(lo: lo, hi: hi), bestError = Double.infinity
        for a in mseRatios {
            let e = squaredError(h, lo: a * lo, hi: a * hi)
            if e < bestError {
                bestError = e
                best = ActivationRange(lo: a * lo, hi: a * hi)
            }
        }
        return best
    }
}
