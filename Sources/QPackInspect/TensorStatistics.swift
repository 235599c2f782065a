/// Summary statistics of one tensor's values, computed in Double over finite values.
public struct TensorStatistics: Sendable, Codable, Equatable {
    public struct Bin: Sendable, Codable, Equatable {
        public let lower: Double
        public let upper: Double
        public let count: Int
    }

    public let count: Int
    /// Over finite values; nil when there are none.
    public let min: Double?
    public let max: Double?
    public let mean: Double?
    /// Population standard deviation.
    public let std: Double?
    public let absmax: Double?
    public let zeros: Int
    public let nans: Int
    public let infinities: Int
    /// Equal-width bins from min to max of the finite values; the last bin includes max.
    public let histogram: [Bin]

    public static let defaultBins = 16

    public init(values: UnsafeBufferPointer<Float>, bins: Int = defaultBins) {
        self.init(bins: bins) { body in body(values) }
    }

    /// Over values handed over in chunks by `chunks`, which is called twice (two passes: the
    /// mean, then the variance and histogram), so a tensor never has to be in memory at once.
    public init<E: Error>(
        bins: Int = defaultBins, chunks: ((UnsafeBufferPointer<Float>) -> Void) throws(E) -> Void
    ) throws(E) {
        precondition(bins > 0)
        var n = 0, zeros = 0, nans = 0, infs = 0, total = 0
        var lo = Double.infinity, hi = -Double.infinity
        var sum = 0.0
        try chunks { values in
            total += values.count
            for v in values {
                if v.isNaN { nans += 1; continue }
                if v.isInfinite { infs += 1; continue }
                if v == 0 { zeros += 1 }
                let d = Double(v)
                n += 1
                sum += d
                if d < lo { lo = d }
                if d > hi { hi = d }
            }
        }
        count = total
        self.zeros = zeros
        self.nans = nans
        self.infinities = infs
        guard n > 0 else {
            min = nil; max = nil; mean = nil; std = nil; absmax = nil; histogram = []
            return
        }
        let m = sum / Double(n)
        // Second pass for the variance: stable where sum-of-squares is not.
        var sq = 0.0
        var counts = [Int](repeating: 0, count: bins)
        let width = (hi - lo) / Double(bins)
        try chunks { values in
            for v in values where v.isFinite {
                let d = Double(v)
                sq += (d - m) * (d - m)
                var b = width > 0 ? Int((d - lo) / width) : 0
                if b >= bins { b = bins - 1 }
                counts[b] += 1
            }
        }
        min = lo
        max = hi
        mean = m
        std = (sq / Double(n)).squareRoot()
        absmax = Swift.max(abs(lo), abs(hi))
        histogram = (0..<bins).map { i in
            Bin(lower: lo + Double(i) * width, upper: i == bins - 1 ? hi : lo + Double(i + 1) * width, count: counts[i])
        }
    }

    public init(values: [Float], bins: Int = defaultBins) {
        self = values.withUnsafeBufferPointer { TensorStatistics(values: $0, bins: bins) }
    }
}
