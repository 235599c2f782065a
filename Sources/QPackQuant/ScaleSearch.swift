import QPackModel
/// How a block's (or channel's) scale is chosen.
public enum ScaleSearch: Sendable, Hashable, Codable {
    /// Round to nearest with scale = absmax / qmax: KleidiAI's reference rule
    /// (`test/reference/quantize.cpp`), bit for bit.
    case absmax
    /// Clip search: for each ratio α of `ratios`, scale = α·absmax/qmax rounded to the stored scale
    /// type, codes rounded to nearest; keep the α with the least squared error (the first on
    /// ties, so α = 1 wins when clipping does not help). Never worse than absmax in that error.
    /// The error is float32: d = fma(−q, s, x), summed as fma(d, d, sum) in eight interleaved
    /// partial sums (element i into sum i mod 8) added in order (`qp_sq_error_f32`).
    case mse(ratios: [Float])
    /// The clip search with each element's squared error weighted by the importance of its
    /// input channel (mean x² from calibration), over `importanceRatios`, each candidate also
    /// refitted by weighted least squares for its codes; the weights come with the call. Where
    /// the weights of a group are all zero it falls back to `mse`.
    case importance(ratios: [Float])

    /// α = 1.14 − 0.015·i, i = 0…39 (1.14 … 0.555): wider than the plain grid, since a weighted
    /// error can prefer more clipping, and above 1 where the −8 code serves the largest value.
    public static let importanceRatios: [Float] = (0..<40).map { 1.14 - 0.015 * Float($0) }

    /// The documented default grid: α = 1 − 0.02·i, i = 0…15 (1.00, 0.98, …, 0.70).
    public static let defaultRatios: [Float] = (0..<16).map { 1 - 0.02 * Float($0) }

    public static let `default` = ScaleSearch.mse(ratios: defaultRatios)

    public var name: String {
        switch self {
        case .absmax: return "absmax"
        case .mse: return "mse"
        case .importance: return "importance"
        }
    }
}

extension ScaleSearch {
    /// The method's name in rules, plans and manifests.
    public var method: SearchMethod {
        switch self {
        case .absmax: return .absmax
        case .mse: return .mse
        case .importance: return .importance
        }
    }

    /// The search a method names, with the documented grids.
    public init(_ method: SearchMethod) {
        switch method {
        case .absmax: self = .absmax
        case .mse: self = .default
        case .importance: self = .importance(ratios: ScaleSearch.importanceRatios)
        }
    }
}

public struct QuantizationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Flat index of the offending element (row-major).
    public let index: Int
    public let value: Float

    public init(index: Int, value: Float) {
        self.index = index
        self.value = value
    }

    public var description: String {
        "non-finite value \(value) at element \(index) (use --nan=zero to replace such values by 0)"
    }

    public static func == (a: Self, b: Self) -> Bool { a.index == b.index && a.value.bitPattern == b.value.bitPattern }
}

extension QuantizationError: QPackFailure {
    public var failureKind: FailureKind { .malformed }
}
