/// What calibration observed at the input of one linear layer: per-tensor range and histogram,
/// per input channel the sum of squares (the importance matrix), largest magnitude, smallest and
/// largest value (what smoothing needs to know the range after dividing channels apart).
public struct ActivationStats: Sendable, Equatable {
    /// The linear's weight tensor name, as in the checkpoint.
    public let tensor: String
    /// Input channels (K).
    public let channels: Int
    /// Input rows seen (tokens).
    public private(set) var rows: UInt64 = 0
    public private(set) var minimum: Float = .infinity
    public private(set) var maximum: Float = -.infinity
    /// Σ x² per input channel, accumulated in double per row in channel order.
    public private(set) var sumSquares: [Double]
    public private(set) var channelAbsMax: [Float]
    /// Smallest and largest value per input channel (+inf / -inf before any row).
    public private(set) var channelMin: [Float]
    public private(set) var channelMax: [Float]
    public private(set) var histogram = ActivationHistogram()

    public init(tensor: String, channels: Int) {
        self.tensor = tensor
        self.channels = channels
        sumSquares = [Double](repeating: 0, count: channels)
        channelAbsMax = [Float](repeating: 0, count: channels)
        channelMin = [Float](repeating: .infinity, count: channels)
        channelMax = [Float](repeating: -.infinity, count: channels)
    }

    /// Restores statistics read from a file (validated by the reader).
    public init(
        tensor: String, channels: Int, rows: UInt64, minimum: Float, maximum: Float, sumSquares: [Double],
        channelAbsMax: [Float], channelMin: [Float], channelMax: [Float], histogram: ActivationHistogram
    ) {
        self.tensor = tensor
        self.channels = channels
        self.rows = rows
        self.minimum = minimum
        self.maximum = maximum
        self.sumSquares = sumSquares
        self.channelAbsMax = channelAbsMax
        self.channelMin = channelMin
        self.channelMax = channelMax
        self.histogram = histogram
    }

    /// Observes `m` rows of `channels` values (row-major). Non-finite values are not expected
    /// from a float model; they are skipped so one bad row cannot poison the ranges.
    public mutating func observe(rows m: Int, _ x: UnsafePointer<Float>) {
        let k = channels
        var lo = minimum, hi = maximum
        var finite = true
        sumSquares.withUnsafeMutableBufferPointer { ss in
            channelAbsMax.withUnsafeMutableBufferPointer { am in
                channelMin.withUnsafeMutableBufferPointer { cl in
                    channelMax.withUnsafeMutableBufferPointer { ch in
                        for r in 0..<m {
                            let row = x + r * k
                            for c in 0..<k {
                                let v = row[c]
                                guard v.isFinite else { finite = false; continue }
                                lo = min(lo, v)
                                hi = max(hi, v)
                                ss[c] += Double(v) * Double(v)
                                am[c] = max(am[c], abs(v))
                                cl[c] = min(cl[c], v)
                                ch[c] = max(ch[c], v)
                            }
                        }
                    }
                }
            }
        }
        minimum = lo
        maximum = hi
        rows += UInt64(m)
        if lo <= hi { histogram.grow(toHold: max(abs(lo), abs(hi))) }
        if finite {
            histogram.addUnchecked(UnsafeBufferPointer(start: x, count: m * k))
        } else {
            for i in 0..<(m * k) where x[i].isFinite {
                var one = x[i]
                withUnsafePointer(to: &one) { histogram.addUnchecked(UnsafeBufferPointer(start: $0, count: 1)) }
            }
        }
    }

    /// Mean of x² per input channel (the importance of each weight column).
    public var importance: [Float] {
        guard rows > 0 else { return [Float](repeating: 1, count: channels) }
        return sumSquares.map { Float($0 / Double(rows)) }
    }

    /// Adds another file's statistics for the same tensor.
    public mutating func merge(_ o: ActivationStats) {
        precondition(o.tensor == tensor && o.channels == channels)
        rows += o.rows
        minimum = min(minimum, o.minimum)
        maximum = max(maximum, o.maximum)
        for c in 0..<channels {
            sumSquares[c] += o.sumSquares[c]
            channelAbsMax[c] = max(channelAbsMax[c], o.channelAbsMax[c])
            channelMin[c] = min(channelMin[c], o.channelMin[c])
            channelMax[c] = max(channelMax[c], o.channelMax[c])
        }
        histogram.merge(o.histogram)
    }
}
