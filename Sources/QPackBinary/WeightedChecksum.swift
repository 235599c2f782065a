/// A position-weighted 64-bit checksum of float32 bit patterns, cheap to compute identically in
/// numpy (uint64 arithmetic wraps the same way):
///
///     h = Σ (bits[i] + 1) * (((i + 1) * 0x9E3779B97F4A7C15) | 1)   mod 2^64
///
/// Every weight is odd, so changing any single element always changes the sum. Tests use it to
/// compare whole dequantized tensors with gguf-py's without storing the values.
public enum WeightedChecksum {
    public static let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15

    public static func of(_ values: UnsafeBufferPointer<Float>) -> UInt64 {
        var h: UInt64 = 0
        var i: UInt64 = 1
        for v in values {
            h = h &+ (UInt64(v.bitPattern) &+ 1) &* ((i &* multiplier) | 1)
            i &+= 1
        }
        return h
    }

    public static func of(_ values: [Float]) -> UInt64 {
        values.withUnsafeBufferPointer { of($0) }
    }
}
