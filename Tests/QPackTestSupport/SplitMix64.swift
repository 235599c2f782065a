// The generator lives in QPackBinary; re-exported so tests that import only this module see it.
@_exported import QPackBinary

extension SplitMix64 {
    /// A float in [lo, hi) from the top 24 bits.
    public mutating func float(_ lo: Float, _ hi: Float) -> Float {
        lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24)
    }
}
