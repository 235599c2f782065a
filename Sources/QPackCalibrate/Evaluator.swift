import Foundation
import QPackModel

/// How far a packed (or mixed) model is from the float model over a data set: for decoders the
/// perplexity under both, mean KL divergence of next-token distributions and top-1 agreement;
/// for encoders the cosine of pooled embeddings.
public struct EvaluationReport: Sendable, Codable, Equatable {
    public let architecture: String
    public let samples: Int
    /// Positions compared (decoders: every position; encoders: one per sample).
    public let positions: Int
    public let meanKL: Double?
    public let maxSampleKL: Double?
    public let top1Agreement: Double?
    public let perplexityFloat: Double?
    public let perplexityPacked: Double?
    public let meanCosine: Double?
    public let minimumCosine: Double?
    /// Output values (logits or embedding elements) that were NaN or infinite, per model: any
    /// makes the comparison meaningless, and the commands fail on it.
    public let nonFiniteFloat: Int
    public let nonFinitePacked: Int
    /// Stored tensor bits over parameters of the evaluated file (set by the caller).
    public var bitsPerWeight: Double?

    /// The budget metric: mean KL for decoders, 1 − mean cosine for encoders.
    public var harm: Double { meanKL ?? (1 - (meanCosine ?? 1)) }
}

public enum Evaluator {
    /// The float model's outputs on a fixed set of sequences, computed once and reused for
    /// every candidate model (log-probabilities per position for decoders, embeddings for encoders).
    public struct Reference: Sendable {
        public let architecture: String
        public let sequences: [[Int32]]
        let outputs: [[Float]]
        let width: Int
    }

    public static func reference(_ float: ModelRunner, sequences: [[Int32]], progress: (Int, Int) -> Void = { _, _ in })
        throws(ModelRunner.Failure) -> Reference
    {
        var outputs: [[Float]] = []
        for (i, s) in sequences.enumerated() {
            var out = try float.run(s)
            if float.descriptor.isDecoder { logSoftmaxRows(&out, width: float.outputWidth) }
            outputs.append(out)
            progress(i + 1, sequences.count)
        }
        return Reference(
            architecture: float.architecture, sequences: sequences, outputs: outputs, width: float.outputWidth)
    }

    public static func evaluate(
        _ model: ModelRunner, against ref: Reference, progress: (Int, Int) -> Void = { _, _ in }
    ) throws(ModelRunner.Failure) -> EvaluationReport {
        var acc = Accumulator()
        for (i, s) in ref.sequences.enumerated() {
            acc.add(
                sequence: s, reference: ref.outputs[i], packed: try model.run(s), architecture: ref.architecture,
                width: ref.width)
            progress(i + 1, ref.sequences.count)
        }
        return acc.report(architecture: ref.architecture)
    }

    /// `evaluate` one sample at a time, so only one sample's float outputs are held (a decoder's
    /// logits for many long samples would not fit).
    public static func compare(
        float: ModelRunner, packed: ModelRunner, sequences: [[Int32]],
        progress: (Int, Int) -> Void = { _, _ in }
    ) throws(ModelRunner.Failure) -> EvaluationReport {
        var acc = Accumulator()
        for (i, s) in sequences.enumerated() {
            var a = try float.run(s)
            if float.descriptor.isDecoder { logSoftmaxRows(&a, width: float.outputWidth) }
            acc.add(
                sequence: s, reference: a, packed: try packed.run(s), architecture: float.architecture,
                width: float.outputWidth)
            progress(i + 1, sequences.count)
        }
        return acc.report(architecture: float.architecture)
    }

    /// Sums over samples; the report divides.
    struct Accumulator {
        var cosines: [Double] = []
        var klSum = 0.0, positions = 0, agree = 0, nllA = 0.0, nllB = 0.0, predicted = 0, maxSample = 0.0, samples = 0
        var nonFiniteFloat = 0, nonFinitePacked = 0

        /// `reference`: log-probabilities (decoders) or the embedding (encoders); `packed`: raw outputs.
        mutating func add(
            sequence s: [Int32], reference a: [Float], packed raw: [Float], architecture: String, width v: Int
        ) {
            samples += 1
            nonFiniteFloat += a.count { !$0.isFinite }
            nonFinitePacked += raw.count { !$0.isFinite }
            if ModelArchitecture.labelled(architecture)?.isDecoder != true {
                let b = raw
                var dot = 0.0, na = 0.0, nb = 0.0
                for j in 0..<a.count {
                    dot += Double(a[j]) * Double(b[j]); na += Double(a[j]) * Double(a[j]);
                    nb += Double(b[j]) * Double(b[j])
                }
                cosines.append(na > 0 && nb > 0 ? dot / (na.squareRoot() * nb.squareRoot()) : 0)
                return
            }
            var b = raw
            logSoftmaxRows(&b, width: v)
            var sampleKL = 0.0
            for t in 0..<s.count {
                let base = t * v
                var kl = 0.0
                var bestA = 0, bestB = 0
                for j in 0..<v {
                    let la = Double(a[base + j]), lb = Double(b[base + j])
                    kl += exp(la) * (la - lb)
                    if a[base + j] > a[base + bestA] { bestA = j }
                    if b[base + j] > b[base + bestB] { bestB = j }
                }
                sampleKL += kl
                if bestA == bestB { agree += 1 }
                if t + 1 < s.count {
                    nllA -= Double(a[base + Int(s[t + 1])])
                    nllB -= Double(b[base + Int(s[t + 1])])
                    predicted += 1
                }
            }
            klSum += sampleKL
            positions += s.count
            maxSample = max(maxSample, sampleKL / Double(s.count))
        }

        func report(architecture: String) -> EvaluationReport {
            if ModelArchitecture.labelled(architecture)?.isDecoder != true {
                return EvaluationReport(
                    architecture: architecture, samples: cosines.count, positions: cosines.count, meanKL: nil,
                    maxSampleKL: nil,
                    top1Agreement: nil, perplexityFloat: nil, perplexityPacked: nil,
                    meanCosine: cosines.reduce(0, +) / Double(max(1, cosines.count)), minimumCosine: cosines.min(),
                    nonFiniteFloat: nonFiniteFloat, nonFinitePacked: nonFinitePacked)
            }
            return EvaluationReport(
                architecture: architecture, samples: samples, positions: positions,
                meanKL: klSum / Double(max(1, positions)),
                maxSampleKL: maxSample, top1Agreement: Double(agree) / Double(max(1, positions)),
                perplexityFloat: exp(nllA / Double(max(1, predicted))),
                perplexityPacked: exp(nllB / Double(max(1, predicted))),
                meanCosine: nil, minimumCosine: nil, nonFiniteFloat: nonFiniteFloat, nonFinitePacked: nonFinitePacked)
        }
    }

    /// Rows of `width` logits to log-probabilities (in double, stored as float).
    static func logSoftmaxRows(_ x: inout [Float], width: Int) {
        for r in 0..<(x.count / width) {
            let base = r * width
            var m = -Float.infinity
            for j in 0..<width { m = max(m, x[base + j]) }
            var sum = 0.0
            for j in 0..<width { sum += exp(Double(x[base + j] - m)) }
            let lse = Double(m) + log(sum)
            for j in 0..<width { x[base + j] = Float(Double(x[base + j]) - lse) }
        }
    }
}
