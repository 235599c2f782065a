import CQPackRuntime
import Foundation
import QPackContainer
import QPackConvert
import QPackModel

/// Runs samples through the float reference and the packed model and measures how far apart
/// they are: end to end (embedding cosine) and per linear layer (the packed layer's output
/// against the float layer's output on the same input).
public struct VerifyReport: Sendable, Codable {
    public struct Sample: Sendable, Codable {
        public let text: String
        public let tokens: Int
        public let cosine: Double
    }

    public struct Layer: Sendable, Codable {
        public let name: String
        public let scheme: String
        public let rule: String
        /// How the runtime ran it (`qsi8d32p x qsi4c32pscalef16`, `f16`, `decoded to f32`).
        public var execution: String = ""
        public let relativeRMSE: Double
        public let snrDB: Double
        public let cosine: Double
    }

    public let architecture: String
    public let samples: [Sample]
    /// Every tensor checked against its source within its scheme's bound.
    public var layoutChecks: [LayoutCheck.Result] = []
    /// Pooled embeddings of every sample, packed and float (for `--output`; not in JSON).
    public var outputs: [OutputTensor] = []

    enum CodingKeys: String, CodingKey {
        case architecture, samples, minimumCosine, meanCosine, layers, layoutChecks
    }
    public let minimumCosine: Double
    public let meanCosine: Double
    /// Sorted worst first (largest relative RMSE).
    public let layers: [Layer]
}

public enum Verifier {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Per-linear error accumulator, fed by the C observer during the packed run.
    final class Accumulator {
        let reference: BERTModel
        var sums: [String: (err: Double, sig: Double, dot: Double, val: Double)] = [:]
        init(reference: BERTModel) { self.reference = reference }

        func observe(layer: Int, which: Int, m: Int, input: UnsafePointer<Float>, output: UnsafePointer<Float>) {
            var l = reference.linear(layer: layer, which: which)
            var ref = [Float](repeating: 0, count: m * l.n)
            _ = ref.withUnsafeMutableBufferPointer { qp_linear_forward(&l, m, input, $0.baseAddress) }
            let key = BERTModel.linearStem(layer: layer, which: which)
            var s = sums[key] ?? (0, 0, 0, 0)
            for i in 0..<(m * l.n) {
                let r = Double(ref[i]), v = Double(output[i])
                s.err += (v - r) * (v - r)
                s.sig += r * r
                s.dot += r * v
                s.val += v * v
            }
            sums[key] = s
        }
    }

    public static func verifyBERT(
        container: ContainerFile, reference: BERTModel, packed: BERTModel,
        samples: [(text: String, ids: [Int32])]
    ) throws(Failure) -> VerifyReport {
        let acc = Accumulator(reference: reference)
        var results: [VerifyReport.Sample] = []
        var floatRows: [Float] = [], packedRows: [Float] = []
        for s in samples {
            var a = [Float](repeating: 0, count: reference.config.hidden), b = a
            var rm = reference.model, pm = packed.model
            let st1 = s.ids.withUnsafeBufferPointer { ids in
                qp_bert_embed(&rm, ids.baseAddress, ids.count, &a, nil, nil)
            }
            let context = Unmanaged.passUnretained(acc).toOpaque()
            let st2 = s.ids.withUnsafeBufferPointer { ids in
                qp_bert_embed(
                    &pm, ids.baseAddress, ids.count, &b,
                    { ctx, layer, which, m, input, output in
                        Unmanaged<Accumulator>.fromOpaque(ctx!).takeUnretainedValue()
                            .observe(layer: layer, which: Int(which), m: m, input: input!, output: output!)
                    }, context)
            }
            guard st1 == QP_OK, st2 == QP_OK else {
                throw Failure(
                    description:
                        "runtime error on sample \"\(s.text)\": \(String(cString: qp_status_string(st1 == QP_OK ? st2 : st1)))"
                )
            }
            results.append(
                .init(text: s.text, tokens: s.ids.count, cosine: ErrorMetrics(reference: a, values: b).cosine))
            floatRows += a
            packedRows += b
        }
        let layers = acc.sums.map { name, s in
            VerifyReport.Layer(
                name: name, scheme: packed.schemes[name] ?? "?", rule: packed.rules[name] ?? "?",
                execution: packed.executions[name] ?? "?", relativeRMSE: s.sig > 0 ? (s.err / s.sig).squareRoot() : 0,
                snrDB: s.err == 0 ? 999 : 10 * log10(s.sig / s.err),
                cosine: s.sig > 0 && s.val > 0 ? s.dot / (s.sig.squareRoot() * s.val.squareRoot()) : 1)
        }.sorted { ($0.relativeRMSE, $0.name) > ($1.relativeRMSE, $1.name) }
        let cosines = results.map(\.cosine)
        var report = VerifyReport(
            architecture: ModelArchitecture.bert.name, samples: results, minimumCosine: cosines.min() ?? 1,
            meanCosine: cosines.reduce(0, +) / Double(max(cosines.count, 1)), layers: layers)
        let shape = [results.count, reference.config.hidden]
        report.outputs = [
            OutputTensor(name: "float.embeddings", shape: shape, values: floatRows),
            OutputTensor(name: "packed.embeddings", shape: shape, values: packedRows),
        ]
        return report
    }
}

extension Verifier.Failure: QPackFailure {
    public var failureKind: FailureKind { .malformed }
}
