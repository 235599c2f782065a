import QPackModel

/// GGUF metadata value types, by their on-disk ids.
public enum GGUFValueType: UInt32, Sendable, CaseIterable {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7
    case string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12

    /// Bytes of one element of a fixed-size type; nil for string and array.
    public var fixedSize: Int? {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .uint16, .int16: return 2
        case .uint32, .int32, .float32: return 4
        case .uint64, .int64, .float64: return 8
        case .string, .array: return nil
        }
    }

    /// The smallest number of bytes one element can occupy (for bounding counts before allocating).
    public var minimumSize: Int {
        switch self {
        case .string: return 8
        case .array: return 12
        default: return fixedSize!
        }
    }

    public var name: String {
        switch self {
        case .uint8: return "u8"
        case .int8: return "i8"
        case .uint16: return "u16"
        case .int16: return "i16"
        case .uint32: return "u32"
        case .int32: return "i32"
        case .float32: return "f32"
        case .bool: return "bool"
        case .string: return "string"
        case .array: return "array"
        case .uint64: return "u64"
        case .int64: return "i64"
        case .float64: return "f64"
        }
    }
}

/// A GGUF string: raw bytes, preserved exactly (opaque values need not be UTF-8).
public struct GGUFString: Sendable, Hashable {
    public let bytes: [UInt8]
    /// The text, if the bytes are valid UTF-8.
    public var text: String? { String(validating: bytes, as: UTF8.self) }
    /// The text with invalid sequences replaced, for display only.
    public var displayText: String { String(decoding: bytes, as: UTF8.self) }
}

/// A GGUF array, kept as a validated byte range of the mapped file rather than decoded, so a huge
/// vocabulary costs nothing until asked for.
public struct GGUFArray: Sendable {
    public let elementType: GGUFValueType
    public let count: Int
    /// Absolute file offset of the first element and the length of all elements.
    public let payloadOffset: Int
    public let payloadLength: Int
    /// For string arrays: absolute offset of each string's length prefix.
    let stringOffsets: [Int]
    /// For arrays of arrays: the nested arrays.
    public let nested: [GGUFArray]
}

public enum GGUFValue: Sendable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case float32(Float), bool(Bool), string(GGUFString), array(GGUFArray)
    case uint64(UInt64), int64(Int64), float64(Double)

    public var type: GGUFValueType {
        switch self {
        case .uint8: return .uint8
        case .int8: return .int8
        case .uint16: return .uint16
        case .int16: return .int16
        case .uint32: return .uint32
        case .int32: return .int32
        case .float32: return .float32
        case .bool: return .bool
        case .string: return .string
        case .array: return .array
        case .uint64: return .uint64
        case .int64: return .int64
        case .float64: return .float64
        }
    }

    /// Any integer type as an Int64, if it fits.
    public var integer: Int64? {
        switch self {
        case let .uint8(v): return Int64(v)
        case let .int8(v): return Int64(v)
        case let .uint16(v): return Int64(v)
        case let .int16(v): return Int64(v)
        case let .uint32(v): return Int64(v)
        case let .int32(v): return Int64(v)
        case let .uint64(v): return v <= UInt64(Int64.max) ? Int64(v) : nil
        case let .int64(v): return v
        default: return nil
        }
    }
}

/// One key-value pair of GGUF metadata.
public struct GGUFKeyValue: Sendable {
    public let key: String
    /// Offset of the key's length prefix.
    public let offset: Int
    public let value: GGUFValue
}

/// One GGUF tensor info, validated.
public struct GGUFTensorInfo: Sendable {
    public let name: String
    /// ggml order: `dimensions[0]` is the fastest-varying (row length).
    public let dimensions: [Int]
    public let type: GGMLType
    /// Offset relative to the data section, as stored.
    public let relativeOffset: Int
    public let elementCount: Int
    public let byteCount: Int
    /// Offset of the info record in the file.
    public let infoOffset: Int
}
