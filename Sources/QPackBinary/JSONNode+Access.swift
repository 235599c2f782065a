/// Read access to parsed JSON: members by key, items, typed values (nil when absent or mistyped).
extension JSONNode {
    public subscript(key: String) -> JSONNode? {
        guard case let .object(members) = value else { return nil }
        return members.first { $0.key == key }?.node
    }

    public var members: [JSONMember] {
        if case let .object(m) = value { return m }
        return []
    }

    public var items: [JSONNode] {
        if case let .array(a) = value { return a }
        return []
    }

    public var string: String? {
        if case let .string(s) = value { return s }
        return nil
    }

    public var uint64: UInt64? { value.exactUInt64 }

    public var int: Int? {
        guard case let .number(lexeme) = value else { return nil }
        return Int(lexeme)
    }

    public var double: Double? {
        guard case let .number(lexeme) = value else { return nil }
        return Double(lexeme)
    }

    public var bool: Bool? {
        if case let .bool(b) = value { return b }
        return nil
    }

    public var isNull: Bool { value == .null }
}
