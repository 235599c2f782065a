/// One model family qpack can run, as data: its canonical tensor slots, how Hugging Face and
/// GGUF names map to them, which are required, and which hyperparameters its graph needs. The
/// planner, the metadata writer and the graphs read it; adding an architecture adds one value
/// (docs/architecture.md, "adding an architecture").
public struct ModelArchitecture: Sendable, Hashable {
    /// The canonical name recorded in `.qpack` files (`bert`, `llama`).
    public let name: String
    /// Labels checkpoints give this family: config.json `model_type` and GGUF
    /// `general.architecture` values.
    public let labels: [String]
    public let slots: [TensorSlot]
    public let hyperparameters: [HyperparameterSpec]
    /// A prefix some Hugging Face exports put before every name (`bert.`).
    public let optionalPrefix: String?
    /// What the graph computes: next-token logits (a decoder, measured by KL divergence) or a
    /// sentence embedding (an encoder, measured by cosine).
    public let output: Output
    /// The config.json members a `.qpack` manifest copies into `model.hyperparameters`
    /// (Formats/qpack-container.md §4.7).
    public let configMembers: [String]

    public enum Output: String, Sendable, Hashable {
        case logits, embedding
    }

    public init(
        name: String, labels: [String], optionalPrefix: String? = nil, output: Output, slots: [TensorSlot],
        hyperparameters: [HyperparameterSpec], configMembers: [String]
    ) {
        self.name = name
        self.labels = labels
        self.optionalPrefix = optionalPrefix
        self.output = output
        self.slots = slots
        self.hyperparameters = hyperparameters
        self.configMembers = configMembers
    }

    /// Decoders are measured by KL divergence and perplexity, encoders by cosine.
    public var isDecoder: Bool { output == .logits }

    /// Every architecture qpack converts, verifies and runs.
    public static let supported: [ModelArchitecture] = [.bert, .llama]

    public static var supportedNames: String { supported.map(\.name).joined(separator: ", ") }

    /// The supported architecture a checkpoint's label names, or nil.
    public static func labelled(_ label: String) -> ModelArchitecture? {
        supported.first { $0.labels.contains(label) }
    }

    /// The source name of `slot` in layer `layer` under `naming` (nil: the naming has none).
    public func sourceName(of slot: TensorSlot, layer: Int?, naming: TensorNaming) -> String? {
        guard let pattern = slot.names[naming] else { return nil }
        guard let layer else { return pattern }
        return pattern.split(separator: ".", omittingEmptySubsequences: false)
            .map { $0 == "#" ? String(layer) : String($0) }.joined(separator: ".")
    }
}

/// The naming convention of a checkpoint's tensors.
public enum TensorNaming: String, Sendable, Hashable, CaseIterable {
    case huggingFace = "hf"
    case gguf
}

/// A canonical place for a tensor in a model graph (`attention.query.weight` in layer 3), with
/// its source names. `#` in a name pattern stands for the layer number.
public struct TensorSlot: Sendable, Hashable {
    public let name: String
    public let role: TensorRole
    /// One per block rather than one per model.
    public let perLayer: Bool
    /// The graph cannot run without it.
    public let required: Bool
    public let names: [TensorNaming: String]

    public init(_ name: String, _ role: TensorRole, perLayer: Bool, required: Bool, hf: String?, gguf: String?) {
        self.name = name
        self.role = role
        self.perLayer = perLayer
        self.required = required
        var n: [TensorNaming: String] = [:]
        if let hf { n[.huggingFace] = hf }
        if let gguf { n[.gguf] = gguf }
        names = n
    }
}

/// A hyperparameter a graph needs, normalised: its canonical name and type, and where
/// config.json and GGUF (`<arch>.` + key) give it.
public struct HyperparameterSpec: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable { case count, number, flag, text }
    public let name: String
    public let kind: Kind
    public let required: Bool
    public let configKey: String?
    public let ggufKey: String?

    public init(_ name: String, _ kind: Kind, required: Bool, config: String?, gguf: String?) {
        self.name = name
        self.kind = kind
        self.required = required
        configKey = config
        ggufKey = gguf
    }
}
