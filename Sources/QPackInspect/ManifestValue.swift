import QPackBinary

/// A scalar of a manifest as `inspect --json` shows it: counts as integers, numbers as numbers,
/// flags as booleans; objects and arrays (such as `rope_scaling`) as compact text.
public enum ManifestValue: Sendable, Equatable, Codable, CustomStringConvertible {
    case integer(Int64)
    /// The number and its lexeme in the manifest (text output shows the lexeme).
    case number(Double, lexeme: String)
    case flag(Bool)
    case text(String)

    init(_ node: JSONNode) {
        switch node.value {
        case let .number(lexeme):
            if let i = Int64(lexeme) {
                self = .integer(i)
            } else {
                self = .number(Double(lexeme) ?? .nan, lexeme: lexeme)
            }
        case let .bool(b): self = .flag(b)
        case let .string(s): self = .text(s)
        case .null: self = .text("null")
        case let .object(ms):
            self = .text("{" + ms.map { "\($0.key): \(ManifestValue($0.node))" }.joined(separator: ", ") + "}")
        case let .array(a): self = .text("[" + a.map { ManifestValue($0).description }.joined(separator: ", ") + "]")
        }
    }

    public var description: String {
        switch self {
        case let .integer(i): return String(i)
        case let .number(_, lexeme): return lexeme
        case let .flag(b): return b ? "true" : "false"
        case let .text(s): return s
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case let .integer(i): try c.encode(i)
        case let .number(d, _): try c.encode(d)
        case let .flag(b): try c.encode(b)
        case let .text(s): try c.encode(s)
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let i = try? c.decode(Int64.self) {
            self = .integer(i)
        } else if let b = try? c.decode(Bool.self) {
            self = .flag(b)
        } else if let d = try? c.decode(Double.self) {
            self = .number(d, lexeme: "\(d)")
        } else {
            self = .text(try c.decode(String.self))
        }
    }
}
