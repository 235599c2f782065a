/// How one tensor is stored in a `.qpack` file, named in KleidiAI's vocabulary.
public enum WeightScheme: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Float kept as float32 / float16 / bfloat16.
    case f32, f16, bf16
    /// The source bytes unchanged (integer buffers such as `position_ids`).
    case keep
    /// Symmetric int4 per block of `blockLength` (32, 64, 128, 256) along K, bf16 scales.
    case qsi4c32(blockLength: Int)
    /// Symmetric int4 per output channel, f32 scales.
    case qsi4cx
    /// Symmetric int8 per output channel (per row for embeddings), f32 scales.
    case qsi8cx
    /// Asymmetric int4 per block of 32 along K: an f32 scale and an f32 offset per block.
    case qai4c32
    /// A GGUF block type's blocks moved bit for bit into the KleidiAI layout family that holds
    /// them (lossless), named `<type>-repack` (`q4_0-repack`). Which types have such a family is
    /// QPackPacking's `LayoutFamily` registry's business.
    case repack(source: String)

    /// GGUF Q4_0 blocks in KleidiAI's f16-scale int4 layout.
    public static let q4_0Repack = WeightScheme.repack(source: "Q4_0")
    /// GGUF Q4_1 blocks in KleidiAI's asymmetric int4 layout (scale d, offset m + 8d).
    public static let q4_1Repack = WeightScheme.repack(source: "Q4_1")

    public var description: String { name }

    public var name: String {
        switch self {
        case .f32: return "f32"
        case .f16: return "f16"
        case .bf16: return "bf16"
        case .keep: return "keep"
        case let .qsi4c32(bl): return bl == 32 ? "qsi4c32" : "qsi4c32b\(bl)"
        case .qsi4cx: return "qsi4cx"
        case .qsi8cx: return "qsi8cx"
        case .qai4c32: return "qai4c32"
        case let .repack(source): return source.lowercased() + "-repack"
        }
    }

    /// Parses a scheme name: `f32`, `f16`, `bf16`, `keep`, `qsi4c32` (blocks of 32),
    /// `qsi4c32b64`/`b128`/`b256`, `qsi4cx`, `qsi8cx`, `q4_0-repack`.
    public init?(name: String) {
        switch name {
        case "f32": self = .f32
        case "f16": self = .f16
        case "bf16": self = .bf16
        case "keep": self = .keep
        case "qsi4c32", "qsi4c32b32": self = .qsi4c32(blockLength: 32)
        case "qsi4c32b64": self = .qsi4c32(blockLength: 64)
        case "qsi4c32b128": self = .qsi4c32(blockLength: 128)
        case "qsi4c32b256": self = .qsi4c32(blockLength: 256)
        case "qsi4cx": self = .qsi4cx
        case "qsi8cx": self = .qsi8cx
        case "qai4c32": self = .qai4c32
        default:
            // `<ggml type>-repack`: lowercase letters, digits and underscores before the suffix.
            guard name.hasSuffix("-repack"), name.count > "-repack".count,
                name.dropLast("-repack".count).allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }
                )
            else { return nil }
            self = .repack(source: name.dropLast("-repack".count).uppercased())
        }
    }

    public static let allNames = [
        "f32", "f16", "bf16", "keep", "qsi4c32", "qsi4c32b64", "qsi4c32b128", "qsi4c32b256",
        "qsi4cx", "qai4c32", "qsi8cx", "q4_0-repack", "q4_1-repack", "q4_k-repack",
    ]

    /// Where the scheme sorts in summaries: the order of `allNames`, then other repacks by name,
    /// so a summary's order never depends on the order of the tensors.
    public var summaryRank: (Int, String) {
        (WeightScheme.allNames.firstIndex(of: name) ?? WeightScheme.allNames.count, name)
    }

    public var isQuantized: Bool {
        switch self {
        case .qsi4c32, .qsi4cx, .qsi8cx, .qai4c32, .repack: return true
        default: return false
        }
    }

    /// A lossless repack of a GGUF block type (`<type>-repack`).
    public var isRepack: Bool {
        if case .repack = self { return true }
        return false
    }

    /// Needs a matrix (N rows x K columns).
    public var needsMatrix: Bool { isQuantized }
}

extension WeightScheme {
    /// Encoded as its name (`"qsi4c32"`, `"f16"`...).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(name)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let v = WeightScheme(name: s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "unknown scheme '\(s)'")
        }
        self = v
    }
}
