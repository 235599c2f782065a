import QPackModel
/// A JSON value with the byte offset where it starts, so format errors can point at it.
public struct JSONNode: Sendable, Equatable {
    public let value: JSONValue
    public let offset: Int
}

public struct JSONMember: Sendable, Equatable {
    public let key: String
    public let keyOffset: Int
    public let node: JSONNode
}

public indirect enum JSONValue: Sendable, Equatable {
    case object([JSONMember])
    case array([JSONNode])
    case string(String)
    /// The number's lexeme, kept exact; accessors convert without a detour through Double.
    case number(String)
    case bool(Bool)
    case null

    public var kindName: String {
        switch self {
        case .object: return "object"
        case .array: return "array"
        case .string: return "string"
        case .number: return "number"
        case .bool: return "boolean"
        case .null: return "null"
        }
    }

    /// The exact unsigned integer a number lexeme denotes, or nil for signs, fractions,
    /// exponents and values above UInt64.max.
    public var exactUInt64: UInt64? {
        guard case let .number(lexeme) = self, !lexeme.isEmpty else { return nil }
        var v: UInt64 = 0
        for c in lexeme.utf8 {
            guard c >= 0x30, c <= 0x39 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(c - 0x30))
            if o1 || o2 { return nil }
            v = a
        }
        return v
    }
}

public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    public let offset: Int
    public let message: String
    public var description: String { "at byte \(offset): \(message)" }
}

/// A strict RFC 8259 parser that also rejects what lenient parsers let through: duplicate keys,
/// a byte-order mark, NaN and Infinity, comments, trailing commas, leading zeros, invalid or
/// overlong UTF-8, lone surrogate escapes, trailing bytes other than whitespace, and nesting
/// deeper than `maxDepth`.
public struct StrictJSONParser {
    public let maxDepth: Int
    private let bytes: UnsafeRawBufferPointer
    private var pos = 0
    /// Added to every reported offset (the JSON's position inside its file).
    private let baseOffset: Int

    public static func parse(_ bytes: UnsafeRawBufferPointer, baseOffset: Int = 0, maxDepth: Int = 32) throws(JSONError)
        -> JSONNode
    {
        var p = StrictJSONParser(maxDepth: maxDepth, bytes: bytes, baseOffset: baseOffset)
        p.skipWhitespace()
        let node = try p.parseValue(depth: 1)
        p.skipWhitespace()
        if p.pos != bytes.count {
            throw p.error("unexpected \(p.describeByte(p.pos)) after the end of the JSON value")
        }
        return node
    }

    public static func parse(_ array: [UInt8], baseOffset: Int = 0, maxDepth: Int = 32) throws(JSONError) -> JSONNode {
        let result: Result<JSONNode, JSONError> = array.withUnsafeBytes { raw in
            do throws(JSONError) { return .success(try parse(raw, baseOffset: baseOffset, maxDepth: maxDepth)) } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    private init(maxDepth: Int, bytes: UnsafeRawBufferPointer, baseOffset: Int) {
        self.maxDepth = maxDepth
        self.bytes = bytes
        self.baseOffset = baseOffset
    }

    private func error(_ message: String, at position: Int? = nil) -> JSONError {
        JSONError(offset: baseOffset + (position ?? pos), message: message)
    }

    private func describeByte(_ i: Int) -> String {
        guard i < bytes.count else { return "end of input" }
        let b = bytes[i]
        if b >= 0x21 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
        return "byte 0x" + String(b, radix: 16, uppercase: true).leftPadded(to: 2)
    }

    private mutating func skipWhitespace() {
        while pos < bytes.count {
            switch bytes[pos] {
            case 0x20, 0x09, 0x0A, 0x0D: pos += 1
            default: return
            }
        }
    }

    private mutating func parseValue(depth: Int) throws(JSONError) -> JSONNode {
        guard pos < bytes.count else { throw error("unexpected end of input, expected a value") }
        let start = pos
        switch bytes[pos] {
        case UInt8(ascii: "{"):
            guard depth <= maxDepth else { throw error("nesting deeper than \(maxDepth) levels") }
            return JSONNode(value: try parseObject(depth: depth), offset: baseOffset + start)
        case UInt8(ascii: "["):
            guard depth <= maxDepth else { throw error("nesting deeper than \(maxDepth) levels") }
            return JSONNode(value: try parseArray(depth: depth), offset: baseOffset + start)
        case UInt8(ascii: "\""):
            return JSONNode(value: .string(try parseString()), offset: baseOffset + start)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return JSONNode(value: .number(try parseNumber()), offset: baseOffset + start)
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return JSONNode(value: .bool(true), offset: baseOffset + start)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return JSONNode(value: .bool(false), offset: baseOffset + start)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return JSONNode(value: .null, offset: baseOffset + start)
        case 0xEF:
            throw error("byte-order mark is not allowed in JSON")
        default:
            throw error("unexpected \(describeByte(pos)), expected a value")
        }
    }

    private mutating func expectLiteral(_ word: String) throws(JSONError) {
        for c in word.utf8 {
            guard pos < bytes.count, bytes[pos] == c else {
                throw error("invalid literal, expected '\(word)'")
            }
            pos += 1
        }
    }

    private mutating func parseObject(depth: Int) throws(JSONError) -> JSONValue {
        pos += 1
        var members: [JSONMember] = []
        var seen: Set<String> = []
        skipWhitespace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") {
            pos += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else {
                throw error("unexpected \(describeByte(pos)), expected a string key")
            }
            let keyOffset = pos
            let key = try parseString()
            guard seen.insert(key).inserted else {
                throw error("duplicate key \"\(key)\"", at: keyOffset)
            }
            skipWhitespace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else {
                throw error("unexpected \(describeByte(pos)), expected ':'")
            }
            pos += 1
            skipWhitespace()
            let value = try parseValue(depth: depth + 1)
            members.append(JSONMember(key: key, keyOffset: baseOffset + keyOffset, node: value))
            skipWhitespace()
            guard pos < bytes.count else { throw error("unexpected end of input inside an object") }
            if bytes[pos] == UInt8(ascii: ",") {
                pos += 1
                continue
            }
            if bytes[pos] == UInt8(ascii: "}") {
                pos += 1
                return .object(members)
            }
            throw error("unexpected \(describeByte(pos)), expected ',' or '}'")
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONError) -> JSONValue {
        pos += 1
        var items: [JSONNode] = []
        skipWhitespace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") {
            pos += 1
            return .array(items)
        }
        while true {
            skipWhitespace()
            items.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            guard pos < bytes.count else { throw error("unexpected end of input inside an array") }
            if bytes[pos] == UInt8(ascii: ",") {
                pos += 1
                continue
            }
            if bytes[pos] == UInt8(ascii: "]") {
                pos += 1
                return .array(items)
            }
            throw error("unexpected \(describeByte(pos)), expected ',' or ']'")
        }
    }

    private mutating func parseNumber() throws(JSONError) -> String {
        let start = pos
        if bytes[pos] == UInt8(ascii: "-") { pos += 1 }
        guard pos < bytes.count, isDigit(bytes[pos]) else { throw error("invalid number", at: start) }
        if bytes[pos] == UInt8(ascii: "0") {
            pos += 1
            if pos < bytes.count, isDigit(bytes[pos]) { throw error("number with a leading zero", at: start) }
        } else {
            while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
            pos += 1
            guard pos < bytes.count, isDigit(bytes[pos]) else {
                throw error("invalid number: no digits after '.'", at: start)
            }
            while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
            pos += 1
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            guard pos < bytes.count, isDigit(bytes[pos]) else {
                throw error("invalid number: no digits in exponent", at: start)
            }
            while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
    }

    @inline(__always) private func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    private mutating func parseString() throws(JSONError) -> String {
        let start = pos
        pos += 1
        var scalars = String.UnicodeScalarView()
        while true {
            guard pos < bytes.count else { throw error("unterminated string", at: start) }
            let b = bytes[pos]
            if b == UInt8(ascii: "\"") {
                pos += 1
                return String(scalars)
            }
            if b == UInt8(ascii: "\\") {
                scalars.append(try parseEscape())
                continue
            }
            if b < 0x20 { throw error("unescaped control character 0x\(String(b, radix: 16)) in string") }
            scalars.append(try decodeUTF8Scalar())
        }
    }

    private mutating func parseEscape() throws(JSONError) -> Unicode.Scalar {
        let escStart = pos
        pos += 1
        guard pos < bytes.count else { throw error("unterminated escape", at: escStart) }
        let c = bytes[pos]
        pos += 1
        switch c {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let first = try parseHex4(escStart)
            if (0xD800...0xDBFF).contains(first) {
                guard pos + 1 < bytes.count, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u")
                else {
                    throw error("lone surrogate \\u\(String(first, radix: 16)) in string", at: escStart)
                }
                pos += 2
                let second = try parseHex4(escStart)
                guard (0xDC00...0xDFFF).contains(second) else {
                    throw error("lone surrogate \\u\(String(first, radix: 16)) in string", at: escStart)
                }
                let v = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                return Unicode.Scalar(v)!
            }
            if (0xDC00...0xDFFF).contains(first) {
                throw error("lone surrogate \\u\(String(first, radix: 16)) in string", at: escStart)
            }
            return Unicode.Scalar(first)!
        default:
            throw error("invalid escape '\\\(Character(Unicode.Scalar(c)))'", at: escStart)
        }
    }

    private mutating func parseHex4(_ escStart: Int) throws(JSONError) -> UInt32 {
        guard pos + 4 <= bytes.count else { throw error("truncated \\u escape", at: escStart) }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[pos]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw error("invalid hex digit in \\u escape", at: escStart)
            }
            v = v << 4 | d
            pos += 1
        }
        return v
    }

    /// Decodes one UTF-8 sequence, rejecting overlong forms, surrogates and values past U+10FFFF.
    private mutating func decodeUTF8Scalar() throws(JSONError) -> Unicode.Scalar {
        let start = pos
        let b0 = bytes[pos]
        if b0 < 0x80 {
            pos += 1
            return Unicode.Scalar(b0)
        }
        let count: Int
        var v: UInt32
        let minimum: UInt32
        switch b0 {
        case 0xC2...0xDF: count = 2; v = UInt32(b0 & 0x1F); minimum = 0x80
        case 0xE0...0xEF: count = 3; v = UInt32(b0 & 0x0F); minimum = 0x800
        case 0xF0...0xF4: count = 4; v = UInt32(b0 & 0x07); minimum = 0x10000
        default: throw error("invalid UTF-8 lead byte 0x\(String(b0, radix: 16, uppercase: true))")
        }
        guard pos + count <= bytes.count else { throw error("truncated UTF-8 sequence") }
        for i in 1..<count {
            let b = bytes[pos + i]
            guard b & 0xC0 == 0x80 else { throw error("invalid UTF-8 continuation byte", at: pos + i) }
            v = v << 6 | UInt32(b & 0x3F)
        }
        guard v >= minimum, v <= 0x10FFFF, !(0xD800...0xDFFF).contains(v), let scalar = Unicode.Scalar(v) else {
            throw error("invalid UTF-8 sequence (overlong, surrogate or out of range)", at: start)
        }
        pos += count
        return scalar
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}

extension JSONError: QPackFailure {
    public var failureKind: FailureKind { .malformed }
}
