import CQPackRuntime
import QPackBinary
import QPackContainer
import QPackConvert
import QPackReaders
import QPackModel

/// A BERT encoder ready for the C runtime: weights either decoded to float from the source
/// checkpoint (the reference) or taken packed from a `.qpack` file. Owns every buffer the C
/// structs point into.
public final class BERTModel {
    public struct Config: Sendable {
        public let hidden, heads, intermediate, layers, maxPositions: Int
        public let normEps: Float
    }

    public let config: Config
    private let pinned = PinnedBuffers()
    private let layers: UnsafeMutablePointer<qp_bert_layer>
    public private(set) var model = qp_bert()
    /// Rule that chose each linear's scheme, by (layer, which), for reports.
    public private(set) var rules: [String: String] = [:]
    public private(set) var schemes: [String: String] = [:]
    /// How the runtime runs each linear (`ContainerFile.Tensor.execution`).
    public private(set) var executions: [String: String] = [:]
    /// Models whose buffers a mixed model points into.
    private var retained: [AnyObject] = []

    public func weightName(layer: Int, which: Int) -> String {
        Self.linearStem(layer: layer, which: which) + ".weight"
    }

    /// Linear `which` (0 query ... 5 output) of `layer`, named as the source names it.
    static func linearStem(layer: Int, which: Int) -> String {
        ModelArchitecture.bert.linearStem(linearSlots[which], layer: layer, naming: .huggingFace)
    }

    public var linearWeightNames: [String] {
        (0..<config.layers).flatMap { l in (0..<6).map { weightName(layer: l, which: $0) } }
    }

    /// A model that takes linear `name` from `variants[choose(name)]`, everything else from this one.
    public func mixing(_ variants: [BERTModel], choose: (String) -> Int?) -> BERTModel {
        let m = BERTModel(config: config)
        m.retained = [self] + variants
        m.model = model
        for i in 0..<config.layers {
            var L = layers[i]
            func pick(_ which: Int, _ l: inout qp_linear) {
                if let v = choose(weightName(layer: i, which: which)) { l = variants[v].linear(layer: i, which: which) }
            }
            pick(0, &L.query); pick(1, &L.key); pick(2, &L.value); pick(3, &L.attention_output);
            pick(4, &L.intermediate); pick(5, &L.output)
            m.layers[i] = L
        }
        m.model.layer = UnsafePointer(m.layers)
        return m
    }

    /// The descriptor's slots of the graph's six linears, in the observer's order.
    static let linearSlots = [
        "attention.query", "attention.key", "attention.value", "attention.output", "ffn.up", "ffn.down",
    ]

    public struct LoadError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Hyperparameters from the container manifest (as written from config.json).
    public static func config(from file: ContainerFile) throws(LoadError) -> Config {
        try config(from: ModelDescription(container: file))
    }

    public static func config(from file: ModelDescription) throws(LoadError) -> Config {
        func int(_ k: String) throws(LoadError) -> Int {
            guard let v = file.hyperparameters?[k]?.value.exactUInt64 else {
                throw LoadError(description: "\(file.fileName): model hyperparameter '\(k)' missing")
            }
            return Int(v)
        }
        if let why = file.notRunnableReason { throw LoadError(description: why) }
        guard file.architecture == "bert" else {
            throw LoadError(
                description: "\(file.fileName): not a BERT encoder (architecture \(file.architecture ?? "unknown"))")
        }
        var eps: Float = 1e-12
        if case let .number(n)? = file.hyperparameters?["layer_norm_eps"]?.value, let e = Float(n) { eps = e }
        return Config(
            hidden: try int("hidden_size"), heads: try int("num_attention_heads"),
            intermediate: try int("intermediate_size"),
            layers: try int("num_hidden_layers"), maxPositions: try int("max_position_embeddings"), normEps: eps)
    }

    private init(config: Config) {
        self.config = config
        layers = .allocate(capacity: config.layers)
        layers.initialize(repeating: qp_bert_layer(), count: config.layers)
    }

    deinit {
        layers.deinitialize(count: config.layers)
        layers.deallocate()
    }

    private func keep(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawPointer { pinned.keep(bytes) }
    private func keep(_ floats: [Float]) -> UnsafePointer<Float> { pinned.keep(floats) }

    /// Float reference from the source checkpoint (F32/F16/BF16 decoded to float32).
    public static func float(from checkpoint: Checkpoint, config: Config) throws(LoadError) -> BERTModel {
        try float(from: FloatReference(checkpoint: checkpoint, path: ""), config: config)
    }

    public static func float(from reference: FloatReference, config: Config) throws(LoadError) -> BERTModel {
        let m = BERTModel(config: config)
        func values(_ name: String) throws(LoadError) -> [Float] {
            let v: [Float]?
            do { v = try reference.floatValues(of: name) } catch { throw LoadError(description: "\(error)") }
            guard let v else { throw LoadError(description: "source checkpoint has no tensor '\(name)'") }
            return v
        }
        func linear(_ prefix: String, n wanted: Int, k: Int) throws(LoadError) -> qp_linear {
            let w = try values(prefix + ".weight")
            // n < 0: a table whose row count comes from the tensor.
            let n = wanted < 0 ? w.count / k : wanted
            guard w.count == n * k else {
                throw LoadError(description: "'\(prefix).weight' has \(w.count) values, expected \(n)x\(k)")
            }
            let bias = try? values(prefix + ".bias")
            return qp_linear(
                kind: QP_WEIGHT_F32, n: n, k: k, bl: 0, tile: qp_matmul_tile(), weights: UnsafeRawPointer(m.keep(w)),
                bias: bias.map { m.keep($0) }, activation: QP_ACTIVATION_DYNAMIC, activation_min: 0, activation_max: 0,
                activation_divisor: nil, pool: nil)
        }
        try m.assemble(linear: linear, vector: { name throws(LoadError) in m.keep(try values(name)) })
        return m
    }

    /// The packed model from a `.qpack` file.
    /// The packed model of a `.qpack`, built by the C runtime's loader (`qp_model_open`: tensors
    /// by slot, hyperparameters from model.config, every relation checked), as a C app gets it.
    public static func packed(from file: ContainerFile, config: Config) throws(LoadError) -> BERTModel {
        let handle = try RuntimeModelHandle(path: file.path)
        guard let graph = qp_model_bert(handle.pointer)?.pointee else {
            throw LoadError(description: "\(file.fileName): not a BERT encoder")
        }
        guard graph.hidden == config.hidden, graph.heads == config.heads, graph.layers == config.layers,
            graph.intermediate == config.intermediate
        else {
            throw LoadError(description: "\(file.fileName): model.config disagrees with the source hyperparameters")
        }
        let m = BERTModel(config: config)
        m.retained = [handle]
        m.model = graph
        for i in 0..<config.layers {
            m.layers[i] = graph.layer[i]
            for which in 0..<6 {
                let prefix = linearStem(layer: i, which: which)
                guard let t = file.tensor(named: prefix + ".weight") else { continue }
                m.rules[prefix] = t.rule
                m.schemes[prefix] = t.scheme.name
                m.executions[prefix] = t.execution
            }
        }
        m.model.layer = UnsafePointer(m.layers)
        return m
    }

    private func assemble(
        linear: (String, Int, Int) throws(LoadError) -> qp_linear,
        vector: (String) throws(LoadError) -> UnsafePointer<Float>
    ) throws(LoadError) {
        let c = config
        model.hidden = c.hidden
        model.heads = c.heads
        model.intermediate = c.intermediate
        model.layers = c.layers
        model.max_positions = c.maxPositions
        model.norm_eps = c.normEps
        // Embedding tables are row lookups: n = rows, k = hidden.
        // Tensors by slot; their names come from the BERT descriptor.
        let a = ModelArchitecture.bert
        func name(_ slot: String, _ layer: Int? = nil) -> String {
            a.tensorName(slot, layer: layer, naming: .huggingFace)
        }
        model.word_embeddings = try table(name("token_embeddings"), linear)
        model.position_embeddings = try table(name("position_embeddings"), linear)
        model.token_type_embeddings = try table(name("token_type_embeddings"), linear)
        model.embedding_norm_weight = try vector(name("embeddings_norm.weight"))
        model.embedding_norm_bias = try vector(name("embeddings_norm.bias"))
        for i in 0..<c.layers {
            var L = qp_bert_layer()
            let shapes = [
                (c.hidden, c.hidden), (c.hidden, c.hidden), (c.hidden, c.hidden), (c.hidden, c.hidden),
                (c.intermediate, c.hidden), (c.hidden, c.intermediate),
            ]
            var each: [qp_linear] = []
            for (which, (n, k)) in shapes.enumerated() {
                each.append(try linear(Self.linearStem(layer: i, which: which), n, k))
            }
            (L.query, L.key, L.value, L.attention_output, L.intermediate, L.output) = (
                each[0], each[1], each[2], each[3], each[4], each[5]
            )
            L.attention_norm_weight = try vector(name("attention_norm.weight", i))
            L.attention_norm_bias = try vector(name("attention_norm.bias", i))
            L.output_norm_weight = try vector(name("ffn_norm.weight", i))
            L.output_norm_bias = try vector(name("ffn_norm.bias", i))
            layers[i] = L
        }
        model.layer = UnsafePointer(layers)
    }

    /// An embedding table: rows from the tensor itself, `hidden` columns.
    private func table(_ name: String, _ linear: (String, Int, Int) throws(LoadError) -> qp_linear) throws(LoadError)
        -> qp_linear
    {
        try linear(String(name.dropLast(".weight".count)), -1, config.hidden)
    }

    /// The layer's linear `which` (0 query ... 5 output).
    public func linear(layer: Int, which: Int) -> qp_linear {
        let L = layers[layer]
        switch which {
        case 0: return L.query
        case 1: return L.key
        case 2: return L.value
        case 3: return L.attention_output
        case 4: return L.intermediate
        default: return L.output
        }
    }
}

extension BERTModel.LoadError: QPackFailure {
    public var failureKind: FailureKind { .malformed }
}
