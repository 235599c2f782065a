import Foundation

/// SmoothQuant-style smoothing of a static linear (Formats/qpack-container.md §4.5.2): input
/// channel j is divided by s_j and weight column j multiplied by it, moving outlier channels'
/// range from the activations (one int8 range per tensor) into the weights (a scale per row).
public enum Smoothing {
    /// s_j = max|x_j|^α / max|W[:, j]|^(1−α), in float64 then rounded to float32; 1 for a
    /// channel whose inputs or weights are all zero (nothing to balance).
    public static func divisors(inputAbsMax: [Float], weights: [Float], alpha: Double) -> [Float] {
        let k = inputAbsMax.count
        guard k > 0, weights.count % k == 0 else { return [] }
        var wmax = [Float](repeating: 0, count: k)
        for (i, w) in weights.enumerated() where w.isFinite { wmax[i % k] = max(wmax[i % k], abs(w)) }
        return (0..<k).map { j in
            let x = Double(inputAbsMax[j]), w = Double(wmax[j])
            guard x > 0, w > 0 else { return 1 }
            let s = Float(pow(x, alpha) / pow(w, 1 - alpha))
            return s.isFinite && s > 0 ? s : 1
        }
    }

    /// The exact range of the divided inputs calibration saw: min_j(min_j / s_j) and
    /// max_j(max_j / s_j), each division in float32 as the runtime does it.
    public static func range(channelMin: [Float], channelMax: [Float], divisors: [Float]) -> (lo: Float, hi: Float) {
        var lo: Float = 0, hi: Float = 0
        for j in divisors.indices where channelMin[j] <= channelMax[j] {
            lo = min(lo, channelMin[j] / divisors[j])
            hi = max(hi, channelMax[j] / divisors[j])
        }
        return (lo, hi)
    }
}
