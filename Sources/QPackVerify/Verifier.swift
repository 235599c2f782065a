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
        /// Embedding values that were NaN or infinite, per model (any fails verification).
        public let nonFiniteFloat: Int
        public let nonFinitePacked: Int
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

    /// Encoders: pooled-embedding cosine per sample, and per-linear errors.
    public static func verifyEncoder(
        container: ContainerFile, reference: RuntimeModel, packed: RuntimeModel,
        samples: [(text: String, ids: [Int32])]
    ) throws(Failure) -> VerifyReport {
        try sameGraph(reference, packed, container)
        let errors = LayerErrors(reference: reference)
        var results: [VerifyReport.Sample] = []
        var floatRows: [Float] = [], packedRows: [Float] = []
        for s in samples {
            let a = reference.forward(s.ids), b = packed.forward(s.ids, observer: errors.observer)
            guard a.status == QP_OK, b.status == QP_OK else {
                throw Failure(
                    description:
                        "runtime error on sample \"\(s.text)\": \(String(cString: qp_status_string(a.status == QP_OK ? b.status : a.status)))"
                )
            }
            results.append(
                .init(
                    text: s.text, tokens: s.ids.count,
                    cosine: ErrorMetrics(reference: a.output, values: b.output).cosine,
                    nonFiniteFloat: a.output.count { !$0.isFinite }, nonFinitePacked: b.output.count { !$0.isFinite }))
            floatRows += a.output
            packedRows += b.output
        }
        let cosines = results.map(\.cosine)
        var report = VerifyReport(
            architecture: packed.architecture, samples: results, minimumCosine: cosines.min() ?? 1,
            meanCosine: cosines.reduce(0, +) / Double(max(cosines.count, 1)), layers: errors.report(container))
        let shape = [results.count, reference.hidden]
        report.outputs = [
            OutputTensor(name: "float.embeddings", shape: shape, values: floatRows),
            OutputTensor(name: "packed.embeddings", shape: shape, values: packedRows),
        ]
        return report
    }

    /// The float and packed models must be the same graph (the float one comes from the source).
    static func sameGraph(_ a: RuntimeModel, _ b: RuntimeModel, _ container: ContainerFile) throws(Failure) {
        let x = a.description, y = b.description
        guard a.architecture == b.architecture, x.hidden == y.hidden, x.layers == y.layers, x.heads == y.heads,
            x.kv_heads == y.kv_heads, x.ffn == y.ffn, x.vocab == y.vocab, a.linearWeightNames == b.linearWeightNames
        else {
            throw Failure(
                description:
                    "\(container.fileName): the packed model's graph (\(b.architecture), \(y.layers) layers, hidden \(y.hidden)) "
                    + "is not the source's (\(a.architecture), \(x.layers) layers, hidden \(x.hidden))")
        }
    }
}

extension Verifier.Failure: QPackFailure {
    public var failureKind: FailureKind { .malformed }
}
