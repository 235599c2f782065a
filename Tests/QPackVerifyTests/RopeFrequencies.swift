import Foundation
import QPackBinary
import QPackModel

/// Inverse rotary frequencies per pair of a head, with the scalings Llama-family configs name
/// (transformers' `rope_scaling`: `default`, `linear`, `llama3`; GGUF's `rope.scaling.type`).
/// A second implementation of the runtime loader's RoPE scaling (qp_model_loader.c), from the
/// configs' rules as transformers states them, that tests compare the C frequencies with.
enum RopeFrequencies {
    public struct Unsupported: Error, CustomStringConvertible {
        public let description: String
    }

    /// base^(-2i/d), i = 0 ..< d/2.
    public static func plain(base: Double, headDim d: Int) -> [Double] {
        (0..<(d / 2)).map { i in pow(base, -2 * Double(i) / Double(d)) }
    }

    /// Position interpolation: every frequency divided by `factor`.
    public static func linear(base: Double, headDim d: Int, factor: Double) -> [Double] {
        plain(base: base, headDim: d).map { $0 / factor }
    }

    /// Llama 3.1's scaling: wavelengths longer than original/low_freq_factor are divided by
    /// `factor`, shorter than original/high_freq_factor are kept, and the band between is
    /// interpolated linearly in original/wavelength.
    public static func llama3(
        base: Double, headDim d: Int, factor: Double, lowFreqFactor: Double, highFreqFactor: Double,
        originalMaxPositions: Double
    ) -> [Double] {
        let lowWavelength = originalMaxPositions / lowFreqFactor, highWavelength = originalMaxPositions / highFreqFactor
        return plain(base: base, headDim: d).map { f in
            let wavelength = 2 * Double.pi / f
            if wavelength < highWavelength { return f }
            if wavelength > lowWavelength { return f / factor }
            let smooth = (originalMaxPositions / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor)
            return (1 - smooth) * f / factor + smooth * f
        }
    }

    /// Frequencies for config.json's `rope_scaling` (absent or null: nil, the runtime's plain
    /// frequencies).
    public static func huggingFace(base: Double, headDim d: Int, scaling: JSONNode?) throws(Unsupported) -> [Double]? {
        guard let s = scaling, !s.isNull else { return nil }
        guard case .object = s.value else { throw Unsupported(description: "is not an object") }
        let type = s["rope_type"]?.string ?? s["type"]?.string ?? "?"
        func number(_ k: String) throws(Unsupported) -> Double {
            guard let v = s[k]?.double, v.isFinite, v > 0 else {
                throw Unsupported(description: "'\(k)' is missing or not a positive number")
            }
            return v
        }
        switch type {
        case "default": return nil
        case "linear": return linear(base: base, headDim: d, factor: try number("factor"))
        case "llama3":
            let low = try number("low_freq_factor"), high = try number("high_freq_factor")
            guard high > low else { throw Unsupported(description: "'high_freq_factor' must exceed 'low_freq_factor'") }
            return llama3(
                base: base, headDim: d, factor: try number("factor"), lowFreqFactor: low, highFreqFactor: high,
                originalMaxPositions: try number("original_max_position_embeddings"))
        default:
            throw Unsupported(description: "type '\(type)' is not supported (default, linear and llama3 are)")
        }
    }
}

extension RopeFrequencies.Unsupported: QPackFailure {
    public var failureKind: FailureKind { .malformed }
}
