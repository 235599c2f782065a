/// Builds JSON text deterministically: members in the order they are added, integers exact,
/// floats as the shortest text that reads back to the same value, no NaN or Infinity.
public indirect enum JSONOut: Sendable, Equatable {
    case object([(String, JSONOut)])
    case array([JSONOut])
    case string(String)
    case int(Int)
    case uint64(UInt64)
    case float(Float)
    case double(Double)
    case bool(Bool)
    case null
    /// A number lexeme already validated by `StrictJSONParser`, copied exactly.
    case number(String)

    public static func == (a: JSONOut, b: JSONOut) -> Bool { a.text() == b.text() }

    /// Serialized text; `indent` > 0 pretty-prints.
    public func text(indent: Int = 0) -> String {
        var out = ""
        write(into: &out, indent: indent, level: 0)
        return out
    }

    private func write(into out: inout String, indent: Int, level: Int) {
        let pad = indent > 0 ? "\n" + String(repeating: " ", count: indent * (level + 1)) : ""
        let closePad = indent > 0 ? "\n" + String(repeating: " ", count: indent * level) : ""
        switch self {
        case let .object(members):
            if members.isEmpty { out += "{}"; return }
            out += "{"
            for (i, (k, v)) in members.enumerated() {
                if i > 0 { out += "," }
                out += pad
                out += Self.quote(k)
                out += indent > 0 ? ": " : ":"
                v.write(into: &out, indent: indent, level: level + 1)
            }
            out += closePad + "}"
        case let .array(items):
            if items.isEmpty { out += "[]"; return }
            out += "["
            for (i, v) in items.enumerated() {
                if i > 0 { out += "," }
                out += pad
                v.write(into: &out, indent: indent, level: level + 1)
            }
            out += closePad + "]"
        case let .string(s): out += Self.quote(s)
        case let .int(v): out += String(v)
        case let .uint64(v): out += String(v)
        case let .float(v):
            precondition(v.isFinite, "JSON has no NaN or Infinity")
            out += Self.number("\(v)")
        case let .double(v):
            precondition(v.isFinite, "JSON has no NaN or Infinity")
            out += Self.number("\(v)")
        case let .bool(b): out += b ? "true" : "false"
        case .null: out += "null"
        case let .number(lexeme): out += lexeme
        }
    }

    /// Swift prints whole floats as "1.0" and may print "1e-05"; both are valid JSON numbers.
    private static func number(_ s: String) -> String { s }

    public static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 || u.value == 0x7F {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}

extension JSONOut {
    /// A parsed JSON value written back out unchanged (numbers keep their lexemes, members their
    /// order).
    public init(copying node: JSONNode) {
        switch node.value {
        case let .object(ms): self = .object(ms.map { ($0.key, JSONOut(copying: $0.node)) })
        case let .array(a): self = .array(a.map(JSONOut.init(copying:)))
        case let .string(s): self = .string(s)
        case let .number(n): self = .number(n)
        case let .bool(b): self = .bool(b)
        case .null: self = .null
        }
    }
}
