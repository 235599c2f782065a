import QPackModel

/// One tensor of a checkpoint as the planner sees it: names, shapes and types only.
public struct PlanInput: Sendable, Hashable {
    public let name: String
    public let sourceType: String
    /// Shape in the source format's order.
    public let shape: [Int]
    public let elementCount: Int
    public let byteCount: Int
    /// GGUF order (`ne[0]` = row length first) rather than row-major outermost first.
    public let ggmlOrder: Bool
    /// The reader can decode the values to float (float dtypes, dequantizable GGUF types).
    public let decodable: Bool

    public init(
        name: String, sourceType: String, shape: [Int], elementCount: Int, byteCount: Int, ggmlOrder: Bool,
        decodable: Bool
    ) {
        self.name = name
        self.sourceType = sourceType
        self.shape = shape
        self.elementCount = elementCount
        self.byteCount = byteCount
        self.ggmlOrder = ggmlOrder
        self.decodable = decodable
    }

    /// (rows N, columns K) for a 2-D tensor in nxk orientation.
    public var matrix: (rows: Int, columns: Int)? {
        guard shape.count == 2 else { return nil }
        return ggmlOrder ? (shape[1], shape[0]) : (shape[0], shape[1])
    }
}

public struct Diagnostic: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable, Codable { case error, warning, note }
    public let severity: Severity
    public let tensor: String?
    public let rule: String?
    public let message: String

    /// "warning: tensor 'x': message (rule 'r')".
    public var description: String { severity.rawValue + ": " + detail }

    /// The message without its level, for callers that print the level themselves.
    public var detail: String {
        var s = ""
        if let tensor { s += "tensor '\(tensor)': " }
        s += message
        if let rule { s += " (rule '\(rule)')" }
        return s
    }
}

/// What the planner decided for one tensor, and why.
public struct PlanEntry: Sendable, Hashable, Codable {
    public let name: String
    public let role: TensorRole
    public let layer: Int?
    /// The tensor's canonical place in its architecture's graph (`attention.query.weight`), nil
    /// when the architecture does not know it.
    public var slot: String? = nil
    public let sourceType: String
    public let shape: [Int]
    /// [N, K] for matrices.
    public let matrix: [Int]?
    public let parameters: Int
    public let scheme: WeightScheme
    /// The scheme the rule asked for, when a fallback replaced it.
    public let requestedScheme: WeightScheme?
    public let fallbackReason: String?
    public let rule: String
    public let why: String?
    /// The scale search (`absmax`, `mse`, `importance`) and NaN/Inf policy (`error`, `zero`):
    /// the rule's, or the command line's override once applied (`QuantPlan.applying`).
    public var search: SearchMethod
    public var nonFinite: NonFinitePolicy
    /// KleidiAI layout and tile, for quantized schemes.
    public let layout: String?
    public let tile: KleidiAITileSpec?
    /// Bytes this tensor will occupy in the container (packed size for quantized schemes).
    public let storedBytes: Int
    /// True when the stored values are exactly the source values.
    public let lossless: Bool
    public let note: String?
    /// Activation quantization of quantized linears: "dynamic", or "static" with its observer
    /// (e.g. "static:percentile(99.99)"); "none" for float tensors.
    public var activations: ActivationPlan = .none
    /// Static linears only: the smoothing strength α (SmoothQuant; Formats/qpack-container.md
    /// §4.5.2), nil for none.
    public var smoothing: Double? = nil
    /// Set when a budget search changed this tensor's scheme (`convert --max-kl` ...).
    public var promotion: Promotion? = nil
}

public struct KleidiAITileSpec: Sendable, Hashable, Codable {
    public let nr: Int
    public let kr: Int
    public let sr: Int
    public let kernels: [String]
}

public struct SchemeCoverage: Sendable, Hashable, Codable {
    public let scheme: String
    public let tensors: Int
    public let parameters: Int
    public let bytes: Int
    public let bitsPerWeight: Double
}

/// The whole plan: one entry per tensor, in checkpoint order, plus diagnostics and coverage.
public struct QuantPlan: Sendable, Hashable, Codable {
    public let profile: String
    /// The supported architecture the graphs run this model as; nil when it is not runnable.
    public let architecture: String?
    /// False when converted with --allow-unsupported despite an architecture check error.
    public let runnable: Bool
    public let rules: String
    public let target: KernelTarget
    public var entries: [PlanEntry]
    public let diagnostics: [Diagnostic]
    public let coverage: [SchemeCoverage]
    public let totalTensors: Int
    public let totalParameters: Int
    public let sourceBytes: Int
    public let expectedTensorBytes: Int
    public let bitsPerWeight: Double

    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    /// The plan with command-line overrides of every rule's NaN policy and scale search written
    /// into its entries, so what the manifest records is what the encoder does.
    public func applying(nonFinite: NonFinitePolicy?, search: SearchMethod?) -> QuantPlan {
        var p = self
        p.entries = entries.map { e in
            var e = e
            if let nonFinite { e.nonFinite = nonFinite }
            if let search { e.search = search }
            return e
        }
        return p
    }
}

/// How a tensor's inputs are quantized, as planned: `none` for float tensors, `dynamic` (per row
/// at run time) or `static` with the observer that chooses the range from calibration
/// (`minmax`, `percentile(99.99)`, `entropy`, `mse`). Encoded as `none`, `dynamic` or
/// `static:<observer>` (the plan JSON's `activations`).
public enum ActivationPlan: Sendable, Hashable, Codable, CustomStringConvertible {
    case none
    case dynamic
    case `static`(observer: String)

    public var isStatic: Bool { if case .static = self { return true } else { return false } }

    /// The static observer, nil otherwise.
    public var observer: String? { if case let .static(o) = self { return o } else { return nil } }

    public var description: String {
        switch self {
        case .none: return "none"
        case .dynamic: return "dynamic"
        case let .static(o): return "static:" + o
        }
    }

    public init?(_ text: String) {
        switch text {
        case "none": self = .none
        case "dynamic": self = .dynamic
        default:
            guard text.hasPrefix("static:"), text.count > "static:".count else { return nil }
            self = .static(observer: String(text.dropFirst("static:".count)))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let text = try c.decode(String.self)
        guard let v = ActivationPlan(text) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "unknown activation plan '\(text)'")
        }
        self = v
    }
}
