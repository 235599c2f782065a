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
    public enum Graph {
        case bert(BERTModel)
        case llama(LlamaModel)
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public let graph: Graph
    private let tokenize: (String) -> [Int32]
    public let maxPositions: Int
    /// Why text cannot be tokenized exactly (an unsupported pre-tokenizer), or nil; token ids
    /// still run.
    public let textRefusal: String?

    /// After every linear: its weight name, rows m, columns (k in, n out), input m×k, output m×n.
    public typealias Observer = (
        _ name: String, _ m: Int, _ k: Int, _ n: Int, _ input: UnsafePointer<Float>, _ output: UnsafePointer<Float>
    ) -> Void

    init(graph: Graph, tokenize: @escaping (String) -> [Int32], maxPositions: Int, textRefusal: String? = nil) {
        self.graph = graph
        self.tokenize = tokenize
        self.maxPositions = maxPositions
        self.textRefusal = textRefusal
    }

    /// The architecture the graph runs.
    public var descriptor: ModelArchitecture {
        if case .bert = graph { return .bert }
        return .llama
    }

    public var architecture: String { descriptor.name }

    /// Outputs per run: hidden floats (encoder) or vocabulary logits per position (decoder).
    public var outputWidth: Int {
        switch graph {
        case let .bert(b): return b.config.hidden
        case let .llama(l): return l.config.vocab
        }
    }

    /// Token ids must be below this.
    public var vocabularySize: Int {
        switch graph {
        case let .bert(b): return b.model.word_embeddings.n
        case let .llama(l): return l.config.vocab
        }
    }

    public var linearWeightNames: [String] {
        switch graph {
        case let .bert(b): return b.linearWeightNames
        case let .llama(l): return l.linearWeightNames
        }
    }

    /// The tokenizer's ids (with the decoder's BOS when the model adds one), cut to `limit`.
    public func encode(_ text: String, limit: Int? = nil) -> [Int32] {
        Array(tokenize(text).prefix(min(limit ?? maxPositions, maxPositions)))
    }

    /// The same tokenizer over another graph (a packed or mixed model of the same source).
    public func with(graph: Graph) -> ModelRunner {
        ModelRunner(graph: graph, tokenize: tokenize, maxPositions: maxPositions, textRefusal: textRefusal)
    }

    /// Runs `ids`; returns the pooled embedding (encoder) or every position's logits (decoder).
    public func run(_ ids: [Int32], observer: Observer? = nil) throws(Failure) -> [Float] {
        guard !ids.isEmpty else { throw Failure(description: "empty sample") }
        final class Box {
            let f: Observer
            let names: (Int, Int) -> (String, qp_linear)
            init(_ f: @escaping Observer, _ n: @escaping (Int, Int) -> (String, qp_linear)) { self.f = f; names = n }
        }
        let callback: qp_linear_observer? =
            observer == nil
            ? nil
            : { ctx, layer, which, m, input, output in
                let b = Unmanaged<Box>.fromOpaque(ctx!).takeUnretainedValue()
                let (name, l) = b.names(layer, Int(which))
                b.f(name, m, l.k, l.n, input!, output!)
            }
        var status = QP_OK
        var out: [Float]
        switch graph {
        case let .bert(b):
            let box = observer.map { Box($0, { (b.weightName(layer: $0, which: $1), b.linear(layer: $0, which: $1)) }) }
            out = [Float](repeating: 0, count: b.config.hidden)
            var m = b.model
            let ctx = box.map { Unmanaged.passUnretained($0).toOpaque() }
            status = ids.withUnsafeBufferPointer { i in
                out.withUnsafeMutableBufferPointer {
                    qp_bert_embed(&m, i.baseAddress, i.count, $0.baseAddress, callback, ctx)
                }
            }
            withExtendedLifetime(box) {}
        case let .llama(l):
            let box = observer.map { Box($0, { (l.weightName(layer: $0, which: $1), l.linear(layer: $0, which: $1)) }) }
            out = [Float](repeating: 0, count: ids.count * l.config.vocab)
            var m = l.model
            let ctx = box.map { Unmanaged.passUnretained($0).toOpaque() }
            status = ids.withUnsafeBufferPointer { i in
                out.withUnsafeMutableBufferPointer {
                    qp_llama_logits(&m, i.baseAddress, i.count, $0.baseAddress, callback, ctx)
                }
            }
            withExtendedLifetime(box) {}
        }
        guard status == QP_OK else {
            throw Failure(description: "runtime error: \(String(cString: qp_status_string(status)))")
        }
        return out
    }

    /// A model whose linear `name` comes from `variants[choose(name)]` (same source and
    /// configuration), everything else from this one.
    public func mixing(_ variants: [ModelRunner], choose: (String) -> Int?) throws(Failure) -> ModelRunner {
        switch graph {
        case let .bert(b):
            var vs: [BERTModel] = []
            for v in variants {
                guard case let .bert(x) = v.graph else { throw Failure(description: "cannot mix architectures") };
                vs.append(x)
            }
            return with(graph: .bert(b.mixing(vs, choose: choose)))
        case let .llama(l):
            var vs: [LlamaModel] = []
            for v in variants {
                guard case let .llama(x) = v.graph else { throw Failure(description: "cannot mix architectures") };
                vs.append(x)
            }
            return with(graph: .llama(l.mixing(vs, choose: choose)))
        }
    }

    // MARK: building

    /// The float model of a source checkpoint, or of the float copy a container carries.
    public static func float(description: ModelDescription, reference: FloatReference) throws(Failure) -> ModelRunner {
        try build(
            description, bert: { try BERTModel.float(from: reference, config: $0) },
            llama: { try LlamaModel.float(from: reference, config: $0) })
    }

    /// The packed model of a `.qpack` file.
    public static func packed(_ file: ContainerFile) throws(Failure) -> ModelRunner {
        try build(
            ModelDescription(container: file), bert: { try BERTModel.packed(from: file, config: $0) },
            llama: { try LlamaModel.packed(from: file, config: $0) })
    }

    /// The graph the description's architecture names, with its tokenizer.
    static func build(
        _ d: ModelDescription, bert: (BERTModel.Config) throws -> BERTModel,
        llama: (LlamaModel.Config) throws -> LlamaModel
    ) throws(Failure) -> ModelRunner {
        do {
            switch d.architecture.flatMap(ModelArchitecture.labelled) {
            case ModelArchitecture.bert?:
                let config = try BERTModel.config(from: d)
                return ModelRunner(
                    graph: .bert(try bert(config)), tokenize: try wordPiece(d), maxPositions: config.maxPositions)
            case ModelArchitecture.llama?:
                let config = try LlamaModel.config(from: d)
                var refusal: String?
                do { try DecoderVerifier.checkEncodesText(d) } catch { refusal = error.description }
                return ModelRunner(
                    graph: .llama(try llama(config)), tokenize: try bpe(d), maxPositions: config.maxPositions,
                    textRefusal: refusal)
            default:
                throw Failure(
                    description:
                        "\(d.fileName): architecture '\(d.architecture ?? "unknown")' has no runtime graph (bert and llama do)"
                )
            }
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
