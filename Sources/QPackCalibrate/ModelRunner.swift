import CQPackRuntime
import QPackContainer
import QPackModel
import QPackConvert
import QPackReaders
import QPackTokenizers
import QPackVerify

/// One model graph behind one interface, whatever its architecture: text to token ids, ids to
/// outputs (the pooled embedding of an encoder, the logits of every position of a decoder),
/// with an observer on every linear layer named by its weight tensor.
/// Immutable once built (the graphs only read their weights; every run allocates its own
/// activations), so one runner may run on several threads at once.
public final class ModelRunner: @unchecked Sendable {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// The graph, as the C runtime built it.
    public let model: RuntimeModel
    private let tokenize: (String) -> [Int32]
    public let maxPositions: Int
    /// Why text cannot be tokenized exactly (an unsupported pre-tokenizer), or nil; token ids
    /// still run.
    public let textRefusal: String?

    /// After every linear: its weight name, rows m, columns (k in, n out), input m×k, output m×n.
    public typealias Observer = (
        _ name: String, _ m: Int, _ k: Int, _ n: Int, _ input: UnsafePointer<Float>, _ output: UnsafePointer<Float>
    ) -> Void

    init(model: RuntimeModel, tokenize: @escaping (String) -> [Int32], textRefusal: String? = nil) {
        self.model = model
        self.tokenize = tokenize
        maxPositions = model.maxPositions
        self.textRefusal = textRefusal
    }

    /// The architecture the graph runs.
    public var descriptor: ModelArchitecture { ModelArchitecture.labelled(model.architecture) ?? .llama }

    public var architecture: String { model.architecture }

    /// Outputs per run: hidden floats (encoder) or vocabulary logits per position (decoder).
    public var outputWidth: Int { model.isDecoder ? model.vocabularySize : model.hidden }

    /// Token ids must be below this.
    public var vocabularySize: Int { model.vocabularySize }

    public var linearWeightNames: [String] { model.linearWeightNames }

    /// The tokenizer's ids (with the decoder's BOS when the model adds one), cut to `limit`.
    public func encode(_ text: String, limit: Int? = nil) -> [Int32] {
        Array(tokenize(text).prefix(min(limit ?? maxPositions, maxPositions)))
    }

    /// The same tokenizer over another graph (a packed or mixed model of the same source).
    public func with(model: RuntimeModel) -> ModelRunner {
        ModelRunner(model: model, tokenize: tokenize, textRefusal: textRefusal)
    }

    /// Runs `ids`; returns the pooled embedding (encoder) or every position's logits (decoder).
    public func run(_ ids: [Int32], observer: Observer? = nil) throws(Failure) -> [Float] {
        guard !ids.isEmpty else { throw Failure(description: "empty sample") }
        let names = model.linearWeightNames
        let linears = observer == nil ? [] : names.indices.map { model.linear($0) }
        let r = model.forward(
            ids,
            observer: observer.map { f in
                { index, rows, input, output in f(names[index], rows, linears[index].k, linears[index].n, input, output)
                }
            })
        guard r.status == QP_OK else {
            throw Failure(description: "runtime error: \(String(cString: qp_status_string(r.status)))")
        }
        return r.output
    }

    /// A model whose linear `name` comes from `variants[choose(name)]` (same source and
    /// configuration), everything else from this one.
    public func mixing(_ variants: [ModelRunner], choose: (String) -> Int?) throws(Failure) -> ModelRunner {
        do { return with(model: try model.mixing(variants.map(\.model), choose: choose)) } catch {
            throw Failure(description: error.description)
        }
    }

    // MARK: building

    /// The float model of a source checkpoint, or of the float copy a container carries.
    public static func float(description: ModelDescription, reference: FloatReference, threads: Int = 1) throws(Failure)
        -> ModelRunner
    {
        try build(description) { () throws(RuntimeModel.LoadError) in try reference.model(threads: threads) }
    }

    /// The packed model of a `.qpack` file.
    public static func packed(_ file: ContainerFile, threads: Int = 1) throws(Failure) -> ModelRunner {
        try build(ModelDescription(container: file)) { () throws(RuntimeModel.LoadError) in
            try RuntimeModel(path: file.path, options: qp_model_options(variant: QP_VARIANT_AUTO, threads: threads))
        }
    }

    /// The graph the runtime builds, with the description's tokenizer.
    static func build(_ d: ModelDescription, model: () throws(RuntimeModel.LoadError) -> RuntimeModel) throws(Failure)
        -> ModelRunner
    {
        if let why = d.notRunnableReason { throw Failure(description: why) }
        do {
            let m = try model()
            guard let arch = ModelArchitecture.labelled(m.architecture) else {
                throw Failure(description: "\(d.fileName): architecture '\(m.architecture)' has no runtime graph")
            }
            // Token ids need no tokenizer: a file without one runs ids and refuses text.
            var refusal: String?
            var tokenize: (String) -> [Int32] = { _ in [] }
            do { tokenize = try arch.isDecoder ? bpe(d) : wordPiece(d) } catch {
                refusal = "no tokenizer to encode text (\(error)); give token ids"
            }
            if refusal == nil, arch.isDecoder {
                do { try DecoderVerifier.checkEncodesText(d) } catch { refusal = error.description }
            }
            return ModelRunner(model: m, tokenize: tokenize, textRefusal: refusal)
        } catch let e as Failure { throw e } catch { throw Failure(description: "\(error)") }
    }

    static func wordPiece(_ d: ModelDescription) throws -> (String) -> [Int32] {
        let vocab = try d.section("tokenizer.vocab")
        let t = try WordPieceTokenizer(vocab: vocab)
        return { t.encode($0).map(Int32.init) }
    }

    static func bpe(_ d: ModelDescription) throws -> (String) -> [Int32] {
        let t = try DecoderVerifier.tokenizer(from: d)
        return { t.encode($0, special: true).map(Int32.init) }
    }
}

extension ModelRunner.Failure: QPackFailure {
    public var failureKind: FailureKind { .malformed }
}
