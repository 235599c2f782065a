import QPackModel

/// One rule of a rules file: which tensors it matches and what it gives them.
public struct Rule: Sendable, Hashable, Codable {
    public struct Match: Sendable, Hashable, Codable {
        /// Shell-style globs on the tensor name (any may match).
        public var names: [String] = []
        /// A regular expression on the whole tensor name.
        public var regex: String?
        /// Roles (any may match).
        public var roles: [TensorRole] = []
        /// Inclusive layer ranges (any may match); tensors without a layer never match.
        public var layers: [ClosedRange<Int>] = []
        /// Built-in architecture profiles (any may match); an unrecognised checkpoint never matches.
        public var architectures: [String] = []
        /// The source tensor's stored type (`Q4_0`, `Q4_1`, `F32`, `BF16`...; any may match).
        public var sourceTypes: [String] = []

        public init() {}

        public var isEmpty: Bool {
            names.isEmpty && regex == nil && roles.isEmpty && layers.isEmpty && architectures.isEmpty
                && sourceTypes.isEmpty
        }
    }

    public var name: String
    public var match: Match
    public var scheme: WeightScheme
    /// Used when the tensor's shape does not fit `scheme` (shown in the plan).
    public var fallback: WeightScheme?
    public var search: SearchMethod?
    public var nonFinite: NonFinitePolicy?
    /// Activation quantization of a quantized linear: "dynamic" (per row at run time) or
    /// "static" (one range from calibration); nil leaves it to `convert --mode`.
    public var activations: String?
    /// Static range observer (minmax, percentile, entropy, mse) and its percentile.
    public var observer: String?
    public var percentile: Double?
    /// Smoothing strength α in (0, 1] for static activations (needs observer minmax).
    public var smooth: Double?
    /// Why the rule exists, shown by `qpack plan`.
    public var why: String?
    /// Line of the rule in its file (1-based), for messages.
    public var line: Int?

    public init(
        name: String, match: Match, scheme: WeightScheme, fallback: WeightScheme? = nil, search: SearchMethod? = nil,
        nonFinite: NonFinitePolicy? = nil, activations: String? = nil, observer: String? = nil,
        percentile: Double? = nil,
        smooth: Double? = nil, why: String? = nil, line: Int? = nil
    ) {
        self.name = name
        self.match = match
        self.scheme = scheme
        self.fallback = fallback
        self.search = search
        self.nonFinite = nonFinite
        self.activations = activations
        self.observer = observer
        self.percentile = percentile
        self.smooth = smooth
        self.why = why
        self.line = line
    }
}

/// A parsed rules file (schema in Formats/qpack-rules.md).
public struct RuleSet: Sendable, Hashable {
    public static let version = 1
    public var rules: [Rule]
    /// The text it was parsed from (recorded in the container's provenance).
    public var text: String
    /// Where it came from: a path, or `built-in default`.
    public var origin: String

    public init(rules: [Rule], text: String, origin: String) {
        self.rules = rules
        self.text = text
        self.origin = origin
    }
}
