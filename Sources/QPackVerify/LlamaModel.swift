import CQPackRuntime
import QPackBinary
import QPackContainer
import QPackConvert
import QPackModel
import QPackReaders

/// A Llama decoder (GGUF or Hugging Face tensor names) ready for the C runtime, with float weights from the
/// source checkpoint or packed weights from a `.qpack` file. Owns every buffer it points into.
public final class LlamaModel {
    public struct Config: Sendable {
        public let hidden, heads, kvHeads, layers, vocab, maxPositions: Int
        public let normEps, ropeBase: Float
        public let naming: Naming
        /// Inverse RoPE frequencies after the config's rope scaling; nil: base^(-2i/head_dim).
        public let ropeInvFreq: [Double]?
        /// The config ties the head to the embeddings (a head tensor, if any, is then unused).
        public let tiedByConfig: Bool
        public var headDim: Int { hidden / heads }
    }

    /// A checkpoint's naming convention and how its q/k rows pair up for RoPE; tensor names come
    /// from the Llama descriptor (`ModelArchitecture.llama`).
    public struct Naming: Sendable, Equatable {
        public let convention: TensorNaming
        /// GGUF permutes q/k rows so pairs are adjacent; Hugging Face pairs the two halves.
        public let ropeHalfSplit: Bool

        public static let gguf = Naming(convention: .gguf, ropeHalfSplit: false)
        public static let huggingFace = Naming(convention: .huggingFace, ropeHalfSplit: true)

        /// The source name of the tensor in `slot` (in `layer`).
        public func name(_ slot: String, layer: Int? = nil) -> String {
            ModelArchitecture.llama.tensorName(slot, layer: layer, naming: convention)
        }

        /// The head's short name in reports (`output` or `lm_head`).
        public var headName: String { String(name("output.weight").dropLast(".weight".count)) }
    }

    /// The descriptor's slots of the graph's seven linears, in the observer's order.
    static let linearSlots = [
        "attention.query", "attention.key", "attention.value", "attention.output", "ffn.gate", "ffn.up", "ffn.down",
    ]

    public let config: Config
    private let pinned = PinnedBuffers()
    private let layers: UnsafeMutablePointer<qp_llama_layer>
    private var ropeInvFreq: UnsafeMutablePointer<Double>?
    public private(set) var model = qp_llama()
    /// Models whose buffers a mixed model points into.
    private var retained: [AnyObject] = []

    public static func config(from file: ContainerFile) throws(BERTModel.LoadError) -> Config {
        try config(from: ModelDescription(container: file))
    }

    public static func config(from file: ModelDescription) throws(BERTModel.LoadError) -> Config {
        if let why = file.notRunnableReason { throw BERTModel.LoadError(description: why) }
        guard file.architecture == "llama" else {
            throw BERTModel.LoadError(description: "\(file.fileName): not a llama model")
        }
        let h = file.hyperparameters
        func fail(_ k: String, _ why: String) -> BERTModel.LoadError {
            BERTModel.LoadError(description: "\(file.fileName): hyperparameter '\(k)' \(why)")
        }
        func int(_ k: String) throws(BERTModel.LoadError) -> Int {
            guard let v = h?[k]?.value.exactUInt64, v <= 1 << 31 else { throw fail(k, "missing or not a count") }
            return Int(v)
        }
        func float(_ k: String, default d: Float? = nil) throws(BERTModel.LoadError) -> Float {
            guard let n = h?[k] else {
                if let d { return d }
                throw fail(k, "missing")
            }
            guard let v = n.double.map(Float.init), v.isFinite else { throw fail(k, "not a finite number") }
            return v
        }
        if file.model?["source_format"]?.string == "gguf" {
            let c = Config(
                hidden: try int("embedding_length"), heads: try int("attention.head_count"),
                kvHeads: h?["attention.head_count_kv"] == nil
                    ? try int("attention.head_count") : try int("attention.head_count_kv"),
                layers: try int("block_count"), vocab: try int("vocab_size"), maxPositions: try int("context_length"),
                normEps: try float("attention.layer_norm_rms_epsilon"),
                ropeBase: try float("rope.freq_base", default: 10000),
                naming: .gguf, ropeInvFreq: nil, tiedByConfig: false)
            try checkHeads(c, file.fileName)
            if h?["attention.key_length"] != nil, try int("attention.key_length") != c.headDim {
                throw fail("attention.key_length", "differs from embedding_length / head_count (not supported)")
            }
            switch h?["rope.scaling.type"]?.string {
            case nil, "none": return c
            case "linear":
                let factor = try float("rope.scaling.factor")
                guard factor > 0 else { throw fail("rope.scaling.factor", "must be positive") }
                return Config(
                    hidden: c.hidden, heads: c.heads, kvHeads: c.kvHeads, layers: c.layers, vocab: c.vocab,
                    maxPositions: c.maxPositions,
                    normEps: c.normEps, ropeBase: c.ropeBase, naming: .gguf,
                    ropeInvFreq: RopeFrequencies.linear(
                        base: Double(c.ropeBase), headDim: c.headDim, factor: Double(factor)), tiedByConfig: false)
            case let t?: throw fail("rope.scaling.type", "'\(t)' is not supported (none and linear are)")
            }
        }
        // Hugging Face config.json members.
        let heads = try int("num_attention_heads")
        let c0 = Config(
            hidden: try int("hidden_size"), heads: heads,
            kvHeads: h?["num_key_value_heads"] == nil ? heads : try int("num_key_value_heads"),
            layers: try int("num_hidden_layers"), vocab: try int("vocab_size"),
            maxPositions: try int("max_position_embeddings"),
            normEps: try float("rms_norm_eps"), ropeBase: try float("rope_theta", default: 10000), naming: .huggingFace,
            ropeInvFreq: nil, tiedByConfig: h?["tie_word_embeddings"]?.bool ?? false)
        try checkHeads(c0, file.fileName)
        if h?["head_dim"] != nil, try int("head_dim") != c0.headDim {
            throw fail("head_dim", "differs from hidden_size / num_attention_heads (not supported)")
        }
        if let act = h?["hidden_act"]?.string, act != "silu" {
            throw fail("hidden_act", "'\(act)' is not supported (silu is)")
        }
        for k in ["attention_bias", "mlp_bias"] where h?[k]?.bool == true {
            throw fail(k, "true is not supported (no biases in the llama graph)")
        }
        let inv: [Double]?
        do {
            inv = try RopeFrequencies.huggingFace(
                base: Double(c0.ropeBase), headDim: c0.headDim, scaling: h?["rope_scaling"])
        } catch { throw fail("rope_scaling", error.description) }
        return Config(
            hidden: c0.hidden, heads: c0.heads, kvHeads: c0.kvHeads, layers: c0.layers, vocab: c0.vocab,
            maxPositions: c0.maxPositions,
            normEps: c0.normEps, ropeBase: c0.ropeBase, naming: .huggingFace, ropeInvFreq: inv,
            tiedByConfig: c0.tiedByConfig)
    }

    static func checkHeads(_ c: Config, _ file: String) throws(BERTModel.LoadError) {
        guard c.heads > 0, c.kvHeads > 0, c.hidden % c.heads == 0, c.heads % c.kvHeads == 0, c.headDim % 2 == 0 else {
            throw BERTModel.LoadError(
                description:
                    "\(file): \(c.heads) heads and \(c.kvHeads) key/value heads do not divide a hidden size of \(c.hidden) into even head sizes"
            )
        }
    }

    private init(config: Config) {
        self.config = config
        layers = .allocate(capacity: config.layers)
        layers.initialize(repeating: qp_llama_layer(), count: config.layers)
    }

    deinit {
        layers.deinitialize(count: config.layers)
        layers.deallocate()
        ropeInvFreq?.deallocate()
    }

    private func keep(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawPointer { pinned.keep(bytes) }
    private func keep(_ floats: [Float]) -> UnsafePointer<Float> { pinned.keep(floats) }

    public static func float(from checkpoint: Checkpoint, config: Config) throws(BERTModel.LoadError) -> LlamaModel {
        try float(from: FloatReference(checkpoint: checkpoint, path: ""), config: config)
    }

    public static func float(from reference: FloatReference, config: Config) throws(BERTModel.LoadError) -> LlamaModel {
        let m = LlamaModel(config: config)
        func values(_ name: String) throws(BERTModel.LoadError) -> [Float] {
            let v: [Float]?
            do { v = try reference.floatValues(of: name) } catch { throw BERTModel.LoadError(description: "\(error)") }
            guard let v else { throw BERTModel.LoadError(description: "source has no tensor '\(name)'") }
            return v
        }
        func linear(_ name: String, _ k: Int) throws(BERTModel.LoadError) -> qp_linear {
            let w = try values(name)
            return qp_linear(
                kind: QP_WEIGHT_F32, n: w.count / k, k: k, bl: 0, tile: qp_matmul_tile(),
                weights: UnsafeRawPointer(m.keep(w)), bias: nil, activation: QP_ACTIVATION_DYNAMIC, activation_min: 0,
                activation_max: 0, activation_divisor: nil, pool: nil)
        }
        try m.assemble(
            linear: linear, vector: { n throws(BERTModel.LoadError) in m.keep(try values(n)) },
            has: { reference.has($0) })
        return m
    }

    /// The packed model of a `.qpack`, built by the C runtime's loader (`qp_model_open`: tensors
    /// by slot, hyperparameters from model.config, every relation checked), as a C app gets it.
    public static func packed(from file: ContainerFile, config: Config) throws(BERTModel.LoadError) -> LlamaModel {
        let handle = try RuntimeModelHandle(path: file.path)
        guard let graph = qp_model_llama(handle.pointer)?.pointee else {
            throw BERTModel.LoadError(description: "\(file.fileName): not a llama model")
        }
        guard graph.hidden == config.hidden, graph.heads == config.heads, graph.kv_heads == config.kvHeads,
            graph.layers == config.layers, graph.vocab == config.vocab
        else {
            throw BERTModel.LoadError(
                description: "\(file.fileName): model.config disagrees with the source hyperparameters")
        }
        let m = LlamaModel(config: config)
        m.retained = [handle]
        m.model = graph
        for i in 0..<config.layers { m.layers[i] = graph.layer[i] }
        m.model.layer = UnsafePointer(m.layers)
        return m
    }

    private func assemble(
        linear: (String, Int) throws(BERTModel.LoadError) -> qp_linear,
        vector: (String) throws(BERTModel.LoadError) -> UnsafePointer<Float>,
        has: (String) -> Bool
    ) throws(BERTModel.LoadError) {
        let c = config
        model.hidden = c.hidden
        model.heads = c.heads
        model.kv_heads = c.kvHeads
        model.layers = c.layers
        model.vocab = c.vocab
        model.max_positions = c.maxPositions
        model.norm_eps = c.normEps
        model.rope_base = c.ropeBase
        let names = c.naming
        model.rope_half_split = names.ropeHalfSplit ? 1 : 0
        // GGUF stores Llama 3.1 rope scaling as per-frequency divisors in a tensor; no test
        // material has one, so the graph refuses it rather than run it untested.
        if names == .gguf, has(names.name("rope.freqs")) {
            throw BERTModel.LoadError(
                description:
                    "tensor '\(names.name("rope.freqs"))' (GGUF llama3 rope scaling) is not supported by the runtime graph"
            )
        }
        if let inv = c.ropeInvFreq {
            let p = UnsafeMutablePointer<Double>.allocate(capacity: inv.count)
            p.initialize(from: inv, count: inv.count)
            ropeInvFreq = p
            model.rope_inv_freq = UnsafePointer(p)
        }
        // Tensors by slot; their names come from the Llama descriptor.
        model.token_embeddings = try linear(names.name("token_embeddings"), c.hidden)
        // A tied head reuses the embedding table as the output linear.
        let head = names.name("output.weight")
        model.output = !c.tiedByConfig && has(head) ? try linear(head, c.hidden) : model.token_embeddings
        model.output_norm = try vector(names.name("output_norm.weight"))
        for i in 0..<c.layers {
            // The graph has no biases; refuse a checkpoint that has them rather than drop them.
            for slot in Self.linearSlots where has(names.name(slot + ".bias", layer: i)) {
                throw BERTModel.LoadError(
                    description:
                        "tensor '\(names.name(slot + ".bias", layer: i))': linear biases are not supported in the llama graph"
                )
            }
            var L = qp_llama_layer()
            func weight(_ which: Int) -> String { names.name(Self.linearSlots[which] + ".weight", layer: i) }
            L.query = try linear(weight(0), c.hidden)
            L.key = try linear(weight(1), c.hidden)
            L.value = try linear(weight(2), c.hidden)
            L.attention_output = try linear(weight(3), c.hidden)
            L.gate = try linear(weight(4), c.hidden)
            L.up = try linear(weight(5), c.hidden)
            L.down = try linear(weight(6), L.gate.n)
            L.attention_norm = try vector(names.name("attention_norm.weight", layer: i))
            L.ffn_norm = try vector(names.name("ffn_norm.weight", layer: i))
            layers[i] = L
        }
        model.layer = UnsafePointer(layers)
    }

    /// Weight tensor name of linear `which` of `layer` (7: the head, the embeddings when tied).
    public func weightName(layer: Int, which: Int) -> String {
        let names = config.naming
        if which == 7 { return names.name(tiedHead ? "token_embeddings" : "output.weight") }
        return names.name(Self.linearSlots[which] + ".weight", layer: layer)
    }

    /// Linear `which` of `layer` as reports name it (the head: `output` or `lm_head`).
    public func reportName(layer: Int, which: Int) -> String {
        which == 7 ? config.naming.headName : String(weightName(layer: layer, which: which).dropLast(".weight".count))
    }

    public var tiedHead: Bool { model.output.weights == model.token_embeddings.weights }

    /// Every linear's weight name, layer by layer, then the head.
    public var linearWeightNames: [String] {
        (0..<config.layers).flatMap { l in (0..<7).map { weightName(layer: l, which: $0) } } + [
            weightName(layer: config.layers, which: 7)
        ]
    }

    /// A model that takes linear `name` from `variants[choose(name)]` (the same architecture and
    /// configuration), and everything else from this one. It keeps the models alive.
    public func mixing(_ variants: [LlamaModel], choose: (String) -> Int?) -> LlamaModel {
        let m = LlamaModel(config: config)
        m.retained = [self] + variants
        m.model = model
        for i in 0..<config.layers {
            var L = layers[i]
            func pick(_ which: Int, _ l: inout qp_linear) {
                if let v = choose(weightName(layer: i, which: which)) { l = variants[v].linear(layer: i, which: which) }
            }
            pick(0, &L.query); pick(1, &L.key); pick(2, &L.value); pick(3, &L.attention_output)
            pick(4, &L.gate); pick(5, &L.up); pick(6, &L.down)
            m.layers[i] = L
        }
        m.model.layer = UnsafePointer(m.layers)
        if let v = choose(weightName(layer: config.layers, which: 7)) {
            m.model.output = variants[v].model.output
            if tiedHead { m.model.token_embeddings = variants[v].model.token_embeddings }
        }
        return m
    }

    /// Linear `which` of a layer (7: the head).
    public func linear(layer: Int, which: Int) -> qp_linear {
        if which == 7 { return model.output }
        let L = layers[layer]
        return [L.query, L.key, L.value, L.attention_output, L.gate, L.up, L.down][which]
    }

    /// Logits of every position (count x vocab).
    public func logits(_ ids: [Int32]) -> [Float]? {
        var out = [Float](repeating: 0, count: ids.count * config.vocab)
        var m = model
        let st = ids.withUnsafeBufferPointer { i in
            out.withUnsafeMutableBufferPointer { qp_llama_logits(&m, i.baseAddress, i.count, $0.baseAddress, nil, nil) }
        }
        return st == QP_OK ? out : nil
    }

    /// Logits of every position, fed to one session `chunk` tokens per step (through the KV cache).
    public func logitsThroughCache(_ ids: [Int32], chunk: Int) -> [Float]? {
        guard !ids.isEmpty, chunk > 0 else { return nil }
        var m = model
        var session = qp_llama_session()
        guard qp_llama_session_init(&session, &m, ids.count, min(chunk, ids.count)) == QP_OK else { return nil }
        defer { qp_llama_session_free(&session) }
        var out = [Float](repeating: 0, count: ids.count * config.vocab)
        for start in stride(from: 0, to: ids.count, by: chunk) {
            let part = Array(ids[start..<min(start + chunk, ids.count)])
            let st = part.withUnsafeBufferPointer { i in
                out.withUnsafeMutableBufferPointer {
                    qp_llama_session_step(
                        &session, i.baseAddress, i.count, $0.baseAddress! + start * config.vocab, nil, nil)
                }
            }
            guard st == QP_OK else { return nil }
        }
        return out
    }

    /// Greedy continuation of `ids` by `steps` tokens: the prompt in one step, then one token per
    /// step over the session's KV cache (stops early at the model's context length).
    public func greedy(_ ids: [Int32], steps: Int) -> [Int32] {
        guard !ids.isEmpty, steps > 0 else { return [] }
        var m = model
        let capacity = min(ids.count + steps, config.maxPositions)
        guard ids.count < capacity else { return [] }
        var session = qp_llama_session()
        guard qp_llama_session_init(&session, &m, capacity, ids.count) == QP_OK else { return [] }
        defer { qp_llama_session_free(&session) }
        var out: [Int32] = []
        var logits = [Float](repeating: 0, count: ids.count * config.vocab)
        var input = ids
        while session.length < capacity {
            let st = input.withUnsafeBufferPointer { i in
                logits.withUnsafeMutableBufferPointer {
                    qp_llama_session_step(&session, i.baseAddress, i.count, $0.baseAddress, nil, nil)
                }
            }
            guard st == QP_OK else { break }
            let last = logits[((input.count - 1) * config.vocab)..<(input.count * config.vocab)]
            let best = Int32(last.indices.max { last[$0] < last[$1] }! - (input.count - 1) * config.vocab)
            out.append(best)
            if out.count == steps { break }
            input = [best]
        }
        return out
    }

    /// Greedy continuation recomputing the whole sequence per token, without the cache: the
    /// independent path the cached one is tested against.
    public func greedyWithoutCache(_ ids: [Int32], steps: Int) -> [Int32] {
        var seq = ids
        for _ in 0..<steps where seq.count < config.maxPositions {
            guard let l = logits(seq) else { break }
            let last = l[((seq.count - 1) * config.vocab)...]
            let best = last.indices.max { last[$0] < last[$1] }!
            seq.append(Int32(best - (seq.count - 1) * config.vocab))
        }
        return Array(seq.dropFirst(ids.count))
    }
}
