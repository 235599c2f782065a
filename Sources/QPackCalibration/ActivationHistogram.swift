/// A histogram of activation values over a symmetric power-of-two range [-2^e, 2^e] in 2048
/// equal bins. Power-of-two ranges nest, so growing the range (or merging two histograms of
/// different ranges) moves whole bins into whole bins: counts stay exact and the result does
/// not depend on the order values arrive in.
public struct ActivationHistogram: Sendable, Equatable {
    public static let binCount = 2048
    /// Smallest range exponent: values below 2^-40 in magnitude land in the two centre bins.
    public static let minimumExponent = -40

    /// Range [-2^exponent, 2^exponent].
    public private(set) var exponent: Int
    public private(set) var counts: [UInt64]

    public init() {
        exponent = Self.minimumExponent
        counts = [UInt64](repeating: 0, count: Self.binCount)
    }

    /// Restores a histogram read from a `.qcal` file.
    public init?(exponent: Int, counts: [UInt64]) {
        guard counts.count == Self.binCount, exponent >= Self.minimumExponent, exponent <= 128 else { return nil }
        self.exponent = exponent
        self.counts = counts
    }

    public var range: Double { Double(sign: .plus, exponent: exponent, significand: 1) }
    public var binWidth: Double { 2 * range / Double(Self.binCount) }
    public var total: UInt64 { counts.reduce(0, +) }

    /// Left edge of bin i.
    public func lowerEdge(_ i: Int) -> Double { -range + Double(i) * binWidth }
    public func center(_ i: Int) -> Double { lowerEdge(i) + binWidth / 2 }

    /// Grows the range (doubling) until `magnitude` < 2^exponent, so every value has its own bin.
    public mutating func grow(toHold magnitude: Float) {
        guard magnitude.isFinite else { return }
        var e = exponent
        while Double(magnitude) >= Double(sign: .plus, exponent: e, significand: 1) { e += 1 }
        rebin(to: e)
    }

    /// Moves every bin into the range 2^e (e >= exponent): old bin i goes to (i + 1024·(2^d − 1)) / 2^d.
    public mutating func rebin(to e: Int) {
        guard e > exponent else { return }
        let d = e - exponent
        var out = [UInt64](repeating: 0, count: Self.binCount)
        let half = Self.binCount / 2
        if d < 12 {
            let f = 1 << d
            for (i, c) in counts.enumerated() where c != 0 { out[(i + half * (f - 1)) / f] += c }
        } else {
            // Every old bin falls into one of the two centre bins.
            for (i, c) in counts.enumerated() where c != 0 { out[i < half ? half - 1 : half] += c }
        }
        counts = out
        exponent = e
    }

    /// Adds values whose magnitudes are below 2^exponent (call `grow` first). The bin is
    /// ⌊x/w⌋ + 1024; w is a power of two, so x/w is exact and so is the bin.
    @inline(__always)
    public mutating func addUnchecked(_ x: UnsafeBufferPointer<Float>) {
        let inv = 1 / binWidth, half = Self.binCount / 2, last = Self.binCount - 1
        counts.withUnsafeMutableBufferPointer { c in
            for v in x {
                let i = Int((Double(v) * inv).rounded(.down)) + half
                c[i < 0 ? 0 : (i > last ? last : i)] &+= 1
            }
        }
    }

    public mutating func merge(_ other: ActivationHistogram) {
        var o = other
        let e = max(exponent, other.exponent)
        rebin(to: e)
        o.rebin(to: e)
        for i in 0..<Self.binCount { counts[i] += o.counts[i] }
    }

    /// The histogram of magnitudes: 1024 bins of width binWidth over [0, range], bin j holding
    /// signed bins 1024 + j and 1023 − j.
    public var magnitudes: [UInt64] {
        let half = Self.binCount / 2
        return (0..<half).map { counts[half + $0] + counts[half - 1 - $0] }
    }
}
