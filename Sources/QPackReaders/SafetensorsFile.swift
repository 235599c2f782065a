import QPackBinary
import QPackModel

/// One tensor entry of a safetensors header, validated.
public struct SafetensorsTensor: Sendable, Hashable {
    public let name: String
    public let dtype: SafetensorsDType
    public let shape: [Int]
    /// `data_offsets`, relative to the start of the data region.
    public let begin: Int
    public let end: Int
    public let elementCount: Int
    /// Offset of the entry's key in the file (for error messages about it).
    public let entryOffset: Int

    public var byteCount: Int { end - begin }
}

/// A safetensors file, validated completely when opened, with zero-copy access to tensor bytes.
///
/// Validation follows the safetensors format and is stricter where qpack's bad-input checklist
/// says so: duplicate keys, unknown entry fields, non-contiguous or trailing data, header size
/// and tensor count caps, and tensor names are all rejected.
public final class SafetensorsFile: Sendable {
    public struct Limits: Sendable {
        public var maxHeaderBytes = 16 << 20
        public var maxTensors = 1_000_000
        public var maxRank = 8
        public init() {}
    }

    public let path: String
    public let fileName: String
    public let fileSize: Int
    public let headerSize: Int
    /// `__metadata__` entries in header order.
    public let metadata: [(key: String, value: String)]
    /// Tensors in header order.
    public let tensors: [SafetensorsTensor]
    private let index: [String: Int]
    private let file: MappedFile

    /// Start of the data region in the file.
    public var dataStart: Int { 8 + headerSize }

    public convenience init(path: String, limits: Limits = Limits()) throws(ReaderError) {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch {
            throw ReaderError(.io, file: path.baseName, subject: "file", offset: nil, error.description)
        }
        try self.init(mapped: file, limits: limits)
    }

    public init(mapped file: MappedFile, limits: Limits = Limits()) throws(ReaderError) {
        let name = file.path.baseName
        func fail(_ subject: String, _ offset: Int?, _ detail: String) -> ReaderError {
            ReaderError(.malformed, file: name, subject: subject, offset: offset, detail)
        }
        self.file = file
        self.path = file.path
        self.fileName = name
        self.fileSize = file.size

        guard file.size >= 8 else {
            throw fail("header length", 0, "file of \(file.size) bytes is too small to hold the 8-byte header length")
        }
        let rawLength = file.bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian
        guard rawLength > 0 else {
            throw fail("header length", 0, "header length is 0 (the header must be a JSON object)")
        }
        guard rawLength <= UInt64(limits.maxHeaderBytes) else {
            throw fail(
                "header length", 0, "header length \(rawLength) exceeds the limit of \(limits.maxHeaderBytes) bytes")
        }
        let headerLength = Int(rawLength)
        guard headerLength <= file.size - 8 else {
            throw fail("header length", 0, "header length \(headerLength) exceeds the \(file.size - 8) bytes after it")
        }
        self.headerSize = headerLength

        let root: JSONNode
        do {
            root = try StrictJSONParser.parse(file.bytes(offset: 8, count: headerLength), baseOffset: 8)
        } catch {
            throw fail("header", error.offset, error.message)
        }
        guard case let .object(members) = root.value else {
            throw fail("header", root.offset, "header must be a JSON object, found \(root.value.kindName)")
        }
        let tensorCount = members.count - (members.contains { $0.key == "__metadata__" } ? 1 : 0)
        guard tensorCount <= limits.maxTensors else {
            throw fail("header", root.offset, "\(tensorCount) tensors exceed the limit of \(limits.maxTensors) tensors")
        }

        var metadata: [(key: String, value: String)] = []
        var tensors: [SafetensorsTensor] = []
        tensors.reserveCapacity(members.count)
        for member in members {
            if member.key == "__metadata__" {
                metadata = try Self.parseMetadata(member, fail: fail)
                continue
            }
            tensors.append(try Self.parseEntry(member, fileName: name, limits: limits, fail: fail))
        }

        // Data must be one contiguous run from 0, in any header order: sort by range and walk it.
        let dataLength = file.size - 8 - headerLength
        let byRange = tensors.sorted { ($0.begin, $0.end, $0.entryOffset) < ($1.begin, $1.end, $1.entryOffset) }
        var expected = 0
        var previous: SafetensorsTensor?
        for t in byRange {
            if t.begin != expected {
                let subject = "tensor '\(t.name)'"
                if t.begin > expected {
                    throw fail(
                        subject, t.entryOffset,
                        "data_offsets [\(t.begin), \(t.end)] leave a gap: the previous tensor ends at \(expected)")
                }
                let other = previous.map { " (tensor '\($0.name)' [\($0.begin), \($0.end)])" } ?? ""
                throw fail(
                    subject, t.entryOffset, "data_offsets [\(t.begin), \(t.end)] overlap the previous tensor\(other)")
            }
            expected = t.end
            previous = t
        }
        if expected > dataLength {
            let last = byRange.last!
            throw fail(
                "tensor '\(last.name)'", last.entryOffset,
                "data_offsets end at \(expected) but the file holds only \(dataLength) data bytes (truncated)")
        }
        if expected < dataLength {
            throw fail("data", 8 + headerLength + expected, "\(dataLength - expected) bytes follow the last tensor")
        }

        self.metadata = metadata
        self.tensors = tensors
        var index: [String: Int] = [:]
        for (i, t) in tensors.enumerated() { index[t.name] = i }
        self.index = index
    }

    private static func parseMetadata(_ member: JSONMember, fail: (String, Int?, String) -> ReaderError)
        throws(ReaderError) -> [(key: String, value: String)]
    {
        guard case let .object(entries) = member.node.value else {
            throw fail(
                "__metadata__", member.node.offset, "must be an object of strings, found \(member.node.value.kindName)")
        }
        var out: [(key: String, value: String)] = []
        for e in entries {
            guard case let .string(s) = e.node.value else {
                throw fail(
                    "__metadata__ '\(e.key)'", e.node.offset, "value must be a string, found \(e.node.value.kindName)")
            }
            out.append((e.key, s))
        }
        return out
    }

    private static func parseEntry(
        _ member: JSONMember, fileName: String, limits: Limits, fail: (String, Int?, String) -> ReaderError
    ) throws(ReaderError) -> SafetensorsTensor {
        let name = member.key
        if let problem = TensorNameRules.problem(with: name) {
            throw fail("tensor name", member.keyOffset, problem)
        }
        let subject = "tensor '\(name)'"
        guard case let .object(fields) = member.node.value else {
            throw fail(subject, member.node.offset, "entry must be an object, found \(member.node.value.kindName)")
        }
        var dtypeNode: JSONNode?, shapeNode: JSONNode?, offsetsNode: JSONNode?
        for f in fields {
            switch f.key {
            case "dtype": dtypeNode = f.node
            case "shape": shapeNode = f.node
            case "data_offsets": offsetsNode = f.node
            default: throw fail(subject, f.keyOffset, "unknown field '\(f.key)' (allowed: dtype, shape, data_offsets)")
            }
        }
        guard let dtypeNode else { throw fail(subject, member.node.offset, "missing field 'dtype'") }
        guard let shapeNode else { throw fail(subject, member.node.offset, "missing field 'shape'") }
        guard let offsetsNode else { throw fail(subject, member.node.offset, "missing field 'data_offsets'") }

        guard case let .string(dtypeName) = dtypeNode.value else {
            throw fail(subject, dtypeNode.offset, "dtype must be a string, found \(dtypeNode.value.kindName)")
        }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            if SafetensorsDType.knownUnsupported.contains(dtypeName) {
                throw ReaderError(
                    .unsupported, file: fileName, subject: subject, offset: dtypeNode.offset,
                    "unsupported dtype \(dtypeName)")
            }
            throw fail(subject, dtypeNode.offset, "unknown dtype '\(dtypeName)'")
        }

        guard case let .array(dims) = shapeNode.value else {
            throw fail(subject, shapeNode.offset, "shape must be an array, found \(shapeNode.value.kindName)")
        }
        guard dims.count <= limits.maxRank else {
            throw fail(subject, shapeNode.offset, "rank \(dims.count) exceeds the limit of \(limits.maxRank)")
        }
        var shape: [Int] = []
        for d in dims {
            guard let u = d.value.exactUInt64, let v = Checked.int(u) else {
                throw fail(
                    subject, d.offset,
                    "shape element must be a non-negative integer below 2^63, found \(Self.describe(d.value))")
            }
            shape.append(v)
        }
        guard let elements = Checked.product(shape), let bytes = Checked.mul(elements, dtype.byteSize) else {
            throw fail(subject, shapeNode.offset, "shape \(shape) x \(dtypeName) overflows 64-bit arithmetic")
        }

        guard case let .array(offs) = offsetsNode.value, offs.count == 2 else {
            throw fail(subject, offsetsNode.offset, "data_offsets must be an array of two integers")
        }
        guard let b64 = offs[0].value.exactUInt64, let e64 = offs[1].value.exactUInt64,
            let begin = Checked.int(b64), let end = Checked.int(e64)
        else {
            throw fail(
                subject, offsetsNode.offset,
                "data_offsets must be non-negative integers below 2^63, found [\(Self.describe(offs[0].value)), \(Self.describe(offs[1].value))]"
            )
        }
        guard end >= begin else {
            throw fail(subject, offsetsNode.offset, "data_offsets [\(begin), \(end)] end before they begin")
        }
        guard end - begin == bytes else {
            throw fail(
                subject, offsetsNode.offset,
                "data_offsets [\(begin), \(end)] do not match shape \(shape) x \(dtypeName) (\(bytes) bytes)")
        }
        return SafetensorsTensor(
            name: name, dtype: dtype, shape: shape, begin: begin, end: end, elementCount: elements,
            entryOffset: member.keyOffset)
    }

    private static func describe(_ v: JSONValue) -> String {
        switch v {
        case let .number(lexeme): return lexeme
        case let .string(s): return "\"\(s)\""
        default: return v.kindName
        }
    }

    // MARK: access

    public func tensor(named name: String) -> SafetensorsTensor? {
        index[name].map { tensors[$0] }
    }

    /// The tensor's bytes, straight from the mapping. Valid while this object is alive.
    public func data(of tensor: SafetensorsTensor) -> UnsafeRawBufferPointer {
        file.bytes(offset: dataStart + tensor.begin, count: tensor.byteCount)
    }

    public func releasePages(of tensor: SafetensorsTensor) {
        file.release(offset: dataStart + tensor.begin, count: tensor.byteCount)
    }

    /// The tensor's values as Float. F16 and BF16 convert exactly; F64 rounds to nearest even;
    /// integers convert as `Float(Int)` does; BOOL gives 0 and 1.
    public func floatValues(of tensor: SafetensorsTensor) -> [Float] {
        ElementDecoder.floats(from: data(of: tensor), dtype: tensor.dtype, count: tensor.elementCount)
    }

    public var records: [TensorRecord] {
        tensors.map {
            TensorRecord(
                name: $0.name, typeName: $0.dtype.rawValue, shape: $0.shape, elementCount: $0.elementCount,
                byteCount: $0.byteCount, fileOffset: dataStart + $0.begin, file: fileName)
        }
    }
}
