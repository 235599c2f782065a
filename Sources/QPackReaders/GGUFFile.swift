import QPackBinary
import QPackModel

/// A GGUF file (versions 2 and 3), validated completely when opened: header, every metadata
/// value, tensor infos, alignment and the exact layout of the data section. Tensor bytes are
/// accessed from the mapping without copying.
public final class GGUFFile: Sendable {
    public struct Limits: Sendable {
        public var maxTensors = 1_000_000
        public var maxKeyValues = 1_000_000
        public var maxKeyBytes = 65_535
        /// ggml needs names shorter than 64 bytes (it stores a NUL); the spec says at most 64.
        public var maxTensorNameBytes = 63
        public var maxStringBytes = 16 << 20
        public var maxArrayElements = 16 << 20
        public var maxArrayDepth = 4
        public var maxMetadataBytes = 64 << 20
        public var maxAlignment = 1 << 16
        public var maxDimensions = 4
        public init() {}
    }

    public static let magic: [UInt8] = [0x47, 0x47, 0x55, 0x46]  // "GGUF"

    public let path: String
    public let fileName: String
    public let fileSize: Int
    public let version: UInt32
    public let metadata: [GGUFKeyValue]
    public let tensors: [GGUFTensorInfo]
    public let alignment: Int
    /// Absolute offset of the data section.
    public let dataStart: Int
    private let keyIndex: [String: Int]
    private let tensorIndex: [String: Int]
    let file: MappedFile

    public convenience init(path: String, limits: Limits = Limits()) throws(ReaderError) {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch {
            throw ReaderError(.io, file: path.baseName, subject: "file", offset: nil, error.description)
        }
        try self.init(mapped: file, limits: limits)
    }

    public init(mapped file: MappedFile, limits: Limits = Limits()) throws(ReaderError) {
        self.file = file
        self.path = file.path
        self.fileName = file.path.baseName
        self.fileSize = file.size
        var parser = GGUFParser(file: file, limits: limits)
        let parsed = try parser.parse()
        self.version = parsed.version
        self.metadata = parsed.metadata
        self.tensors = parsed.tensors
        self.alignment = parsed.alignment
        self.dataStart = parsed.dataStart
        var keys: [String: Int] = [:]
        for (i, kv) in parsed.metadata.enumerated() { keys[kv.key] = i }
        self.keyIndex = keys
        var names: [String: Int] = [:]
        for (i, t) in parsed.tensors.enumerated() { names[t.name] = i }
        self.tensorIndex = names
    }

    // MARK: metadata access (type-checked: a value of another type is an error, never a cast)

    public func value(_ key: String) -> GGUFValue? {
        keyIndex[key].map { metadata[$0].value }
    }

    public func keyValue(_ key: String) -> GGUFKeyValue? {
        keyIndex[key].map { metadata[$0] }
    }

    /// A string value; throws if present with another type or not valid UTF-8.
    public func string(_ key: String) throws(ReaderError) -> String? {
        guard let kv = keyValue(key) else { return nil }
        guard case let .string(s) = kv.value else { throw typeError(kv, expected: "string") }
        guard let text = s.text else {
            throw ReaderError(
                .malformed, file: fileName, subject: "metadata '\(key)'", offset: kv.offset, "value is not valid UTF-8")
        }
        return text
    }

    /// An integer value of any integer type; throws if present with another type.
    public func integer(_ key: String) throws(ReaderError) -> Int64? {
        guard let kv = keyValue(key) else { return nil }
        guard let v = kv.value.integer else { throw typeError(kv, expected: "integer") }
        return v
    }

    /// An array value; throws if present with another type or another element type.
    public func array(_ key: String, of elementType: GGUFValueType? = nil) throws(ReaderError) -> GGUFArray? {
        guard let kv = keyValue(key) else { return nil }
        guard case let .array(a) = kv.value else { throw typeError(kv, expected: "array") }
        if let elementType, a.elementType != elementType {
            throw typeError(kv, expected: "array of \(elementType.name), found array of \(a.elementType.name)")
        }
        return a
    }

    private func typeError(_ kv: GGUFKeyValue, expected: String) -> ReaderError {
        ReaderError(
            .malformed, file: fileName, subject: "metadata '\(kv.key)'", offset: kv.offset,
            "expected \(expected), found \(kv.value.type.name)")
    }

    /// The i-th string of a string array (bytes preserved).
    public func string(at i: Int, of array: GGUFArray) -> GGUFString {
        precondition(array.elementType == .string && i >= 0 && i < array.count)
        let off = array.stringOffsets[i]
        let len = Int(file.bytes.loadUnaligned(fromByteOffset: off, as: UInt64.self).littleEndian)
        return GGUFString(bytes: Array(file.bytes(offset: off + 8, count: len)))
    }

    /// The element bytes of a fixed-size array, from the mapping.
    public func payload(of array: GGUFArray) -> UnsafeRawBufferPointer {
        file.bytes(offset: array.payloadOffset, count: array.payloadLength)
    }

    // MARK: tensors

    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    public func fileOffset(of t: GGUFTensorInfo) -> Int { dataStart + t.relativeOffset }

    /// The tensor's bytes, straight from the mapping.
    public func data(of t: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        file.bytes(offset: dataStart + t.relativeOffset, count: t.byteCount)
    }

    public func releasePages(of t: GGUFTensorInfo) {
        file.release(offset: dataStart + t.relativeOffset, count: t.byteCount)
    }

    /// The tensor dequantized to Float, bit-identical to gguf-py's `dequantize`.
    public func floatValues(of t: GGUFTensorInfo) throws(ReaderError) -> [Float] {
        guard t.type.isDequantizable else {
            throw ReaderError(
                .unsupported, file: fileName, subject: "tensor '\(t.name)'", offset: t.infoOffset,
                "unsupported tensor type \(t.type.name) (id \(t.type.id)) for dequantization")
        }
        return GGUFDequantizer.dequantize(data(of: t), type: t.type, count: t.elementCount)
    }

    public var records: [TensorRecord] {
        tensors.map {
            TensorRecord(
                name: $0.name, typeName: $0.type.name, shape: $0.dimensions, elementCount: $0.elementCount,
                byteCount: $0.byteCount, fileOffset: dataStart + $0.relativeOffset, file: fileName)
        }
    }
}
