import QPackContainer
import QPackConvert
import QPackModel
import QPackPacking
import QPackReaders

/// Checks that every tensor of a `.qpack` file unpacks to codes and scales that dequantize
/// within its scheme's bound of the source tensor: exact for f32 and keep, half a binary16 ulp
/// for f16, and for quantized schemes max(scale/2, absmax − qmax·scale) per block or row plus a
/// few float ulps (rounding inside the clip range, clipping outside it).
public enum LayoutCheck {
    public struct Result: Sendable, Codable {
        public let tensor: String
        public let scheme: String
        /// Elements outside the bound (0 when the tensor passes).
        public let violations: Int
        /// Largest |decoded − source| / bound (≤ 1 passes).
        public let worstRatio: Double
    }

    public static func run(_ file: ContainerFile, source: Checkpoint) throws -> [Result] {
        try run(file, reference: FloatReference(checkpoint: source, path: ""))
    }

    public static func run(_ file: ContainerFile, reference source: FloatReference) throws -> [Result] {
        var results: [Result] = []
        for t in file.tensors {
            guard t.scheme != .keep || t.sourceType == "F32", var reference = try source.floatValues(of: t.name) else {
                continue
            }
            // A smoothed tensor is checked where it was quantized: the source times its divisors.
            let decoded = try ContainerTensorDecoder.storedFloats(t, in: file)
            if let d = try ContainerTensorDecoder.divisors(t, in: file), reference.count % d.count == 0 {
                for i in reference.indices { reference[i] *= d[i % d.count] }
            }
            guard decoded.count == reference.count else {
                results.append(
                    Result(tensor: t.name, scheme: t.scheme.name, violations: reference.count, worstRatio: .infinity))
                continue
            }
            let bounds = try elementBounds(t, file: file, reference: reference)
            var violations = 0
            var worst = 0.0
            for i in 0..<decoded.count {
                let err = Double(abs(decoded[i] - reference[i]))
                let ratio = bounds[i] > 0 ? err / Double(bounds[i]) : (err == 0 ? 0 : .infinity)
                if ratio > 1 { violations += 1 }
                worst = max(worst, ratio)
            }
            results.append(Result(tensor: t.name, scheme: t.scheme.name, violations: violations, worstRatio: worst))
        }
        return results
    }

    static func elementBounds(_ t: ContainerFile.Tensor, file: ContainerFile, reference: [Float]) throws -> [Float] {
        switch t.scheme {
        case .f32, .keep:
            return [Float](repeating: 0, count: reference.count)
        case .f16:
            return reference.map { s in
                max(Float(0x1p-25), Float(sign: .plus, exponent: max(s.exponent, -14) - 11, significand: 1))
            }
        case .bf16:
            // Zero's exponent is Int.min: clamp to the smallest normal's before subtracting.
            return reference.map { s in Float(sign: .plus, exponent: max(s.exponent, -126) - 8, significand: 1) }
        default:
            guard let family = t.scheme.family, let m = t.matrix, let l = t.layout else {
                return [Float](repeating: 0, count: reference.count)
            }
            // A lossless repack holds the source's values exactly.
            if t.scheme.isRepack { return [Float](repeating: 0, count: reference.count) }
            let w = family.unpack(
                try file.sectionBytes(t.section), m.rows, m.columns, t.scheme.blockLength ?? 0,
                KleidiAITile(nr: l.nr, kr: l.kr, sr: l.sr))
            var bounds = [Float](repeating: 0, count: reference.count)
            for (gi, start) in stride(from: 0, to: reference.count, by: w.groupLength).enumerated() {
                let range = start..<min(start + w.groupLength, reference.count)
                let absmax = reference[range].map { abs($0) }.max() ?? 0
                let s = w.scales[gi]
                var b = max(s / 2, absmax - w.qmax * s) + 4 * absmax * Float.ulpOfOne
                if let offsets = w.offsets {  // asymmetric: half a step inside the grid, the clip outside
                    let lo = offsets[gi] - 8 * s, hi = offsets[gi] + 7 * s
                    let clip = reference[range].reduce(Float(0)) { max($0, lo - $1, $1 - hi) }
                    b = s / 2 + clip + 8 * (absmax + abs(offsets[gi]) + 16 * s) * Float.ulpOfOne
                }
                for i in range { bounds[i] = b }
            }
            return bounds
        }
    }
}
