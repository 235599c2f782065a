import QPackBinary
import QPackModel

/// Validating parser behind `GGUFFile`. Every count is bounded by both a limit and the bytes left
/// before anything is allocated; every size is computed with checked arithmetic.
struct GGUFParser {
    struct Parsed {
        var version: UInt32
        var metadata: [GGUFKeyValue]
        var tensors: [GGUFTensorInfo]
        var alignment: Int
        var dataStart: Int
    }

    let file: MappedFile
    let limits: GGUFFile.Limits
    let fileName: String
    var cursor: ByteCursor
    /// Where the key-value section started, for the metadata size cap.
    var metadataStart = 0

    init(file: MappedFile, limits: GGUFFile.Limits) {
        self.file = file
        self.limits = limits
        self.fileName = file.path.baseName
        self.cursor = ByteCursor(file.bytes)
    }

    func fail(_ subject: String, _ offset: Int?, _ detail: String) -> ReaderError {
        ReaderError(.malformed, file: fileName, subject: subject, offset: offset, detail)
    }

    func truncated(_ subject: String, _ e: ByteCursor.OutOfBounds) -> ReaderError {
        fail(subject, e.offset, "file ends early: \(e.needed) bytes needed, \(e.available) left")
    }

    mutating func parse() throws(ReaderError) -> Parsed {
        guard file.size >= 4 else {
            throw fail("magic", 0, "file of \(file.size) bytes is too small to be GGUF")
        }
        let magic = Array(file.bytes(offset: 0, count: 4))
        guard magic == GGUFFile.magic else {
            let hex = magic.map { String($0, radix: 16).leftPadded2 }.joined(separator: " ")
            throw fail("magic", 0, "bad magic \(hex), expected 47 47 55 46 ('GGUF')")
        }
        cursor = ByteCursor(file.bytes, offset: 4)
        let version = try read(UInt32.self, "version")
        switch version {
        case 2, 3: break
        case 1:
            throw ReaderError(
                .unsupported, file: fileName, subject: "version", offset: 4,
                "GGUF version 1 is not supported (use version 2 or 3)")
        case 0x0200_0000, 0x0300_0000:
            throw ReaderError(
                .unsupported, file: fileName, subject: "version", offset: 4,
                "big-endian GGUF (version bytes \(version.byteSwapped) byte-swapped) is not supported")
        default: throw fail("version", 4, "unsupported GGUF version \(version) (qpack reads 2 and 3)")
        }
        let countsOffset = cursor.offset
        let nTensors64 = try read(UInt64.self, "tensor_count")
        let nKV64 = try read(UInt64.self, "kv_count")
        // Bound counts by the limits and by the smallest record that could follow.
        guard nTensors64 <= UInt64(limits.maxTensors), Int(nTensors64) <= cursor.remaining / 24 else {
            throw fail(
                "tensor_count", countsOffset,
                "tensor count \(nTensors64) exceeds the limit of \(limits.maxTensors) or what \(cursor.remaining) remaining bytes can hold"
            )
        }
        guard nKV64 <= UInt64(limits.maxKeyValues), Int(nKV64) <= cursor.remaining / 14 else {
            throw fail(
                "kv_count", countsOffset + 8,
                "key-value count \(nKV64) exceeds the limit of \(limits.maxKeyValues) or what \(cursor.remaining) remaining bytes can hold"
            )
        }
        let nTensors = Int(nTensors64), nKV = Int(nKV64)

        metadataStart = cursor.offset
        var metadata: [GGUFKeyValue] = []
        metadata.reserveCapacity(nKV)
        var seenKeys: Set<String> = []
        for _ in 0..<nKV {
            let kvOffset = cursor.offset
            let key = try readKey()
            guard seenKeys.insert(key).inserted else { throw fail("metadata '\(key)'", kvOffset, "duplicate key") }
            let typeOffset = cursor.offset
            let rawType = try read(UInt32.self, "metadata '\(key)' type")
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw fail("metadata '\(key)'", typeOffset, "unknown value type \(rawType)")
            }
            let value = try readValue(type, subject: "metadata '\(key)'", depth: 0)
            metadata.append(GGUFKeyValue(key: key, offset: kvOffset, value: value))
        }

        var alignment = 32
        if let kv = metadata.first(where: { $0.key == "general.alignment" }) {
            guard case let .uint32(a) = kv.value else {
                throw fail("metadata 'general.alignment'", kv.offset, "must be u32, found \(kv.value.type.name)")
            }
            guard a >= 8, a & (a - 1) == 0, a % 8 == 0, Int(a) <= limits.maxAlignment else {
                throw fail(
                    "metadata 'general.alignment'", kv.offset,
                    "alignment \(a) must be a power of two, a multiple of 8 and at most \(limits.maxAlignment)")
            }
            alignment = Int(a)
        }

        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(nTensors)
        var seenNames: Set<String> = []
        for _ in 0..<nTensors {
            let info = try readTensorInfo()
            guard seenNames.insert(info.name).inserted else {
                throw fail("tensor '\(info.name)'", info.infoOffset, "duplicate tensor name")
            }
            tensors.append(info)
        }

        let headerEnd = cursor.offset
        guard let dataStart = Checked.alignUp(headerEnd, to: alignment) else {
            throw fail("data section", headerEnd, "data section offset overflows")
        }
        // Tensors must sit back to back in order, each at the padded end of the previous one.
        var running = 0
        var unpaddedEnd = dataStart
        for t in tensors {
            guard t.relativeOffset == running else {
                let what =
                    t.relativeOffset % alignment != 0
                    ? "is not aligned to \(alignment)"
                    : (t.relativeOffset > running ? "leaves a gap" : "overlaps the previous tensor")
                throw fail(
                    "tensor '\(t.name)'", t.infoOffset, "data offset \(t.relativeOffset) \(what) (expected \(running))")
            }
            guard let end = Checked.add(running, t.byteCount), let padded = Checked.alignUp(end, to: alignment),
                let absEnd = Checked.add(dataStart, end)
            else {
                throw fail("tensor '\(t.name)'", t.infoOffset, "data range overflows")
            }
            unpaddedEnd = absEnd
            running = padded
        }
        // No tensors, no data section: a header-only file ends anywhere after its metadata.
        if let last = tensors.last, unpaddedEnd > file.size {
            throw fail(
                "tensor '\(last.name)'", last.infoOffset,
                "data ends at \(unpaddedEnd) but the file has \(file.size) bytes (truncated)")
        }
        let paddedEnd = tensors.isEmpty ? max(headerEnd, min(dataStart, file.size)) : dataStart + running
        guard file.size <= max(paddedEnd, unpaddedEnd) else {
            throw fail(
                "data section", max(paddedEnd, unpaddedEnd),
                "\(file.size - max(paddedEnd, unpaddedEnd)) bytes follow the last tensor")
        }
        return Parsed(
            version: version, metadata: metadata, tensors: tensors, alignment: alignment, dataStart: dataStart)
    }

    // MARK: primitives

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ subject: String) throws(ReaderError) -> T {
        do { return try cursor.readLE(T.self) } catch { throw truncated(subject, error) }
    }

    /// Checks that the metadata section stays under its cap after consuming `count` more bytes.
    func checkMetadataBudget(_ count: Int, _ subject: String) throws(ReaderError) {
        let used = cursor.offset - metadataStart
        guard count <= limits.maxMetadataBytes - used else {
            throw fail(subject, cursor.offset, "metadata exceeds the limit of \(limits.maxMetadataBytes) bytes")
        }
    }

    /// Reads a length-prefixed string's bytes, bounded by `maxBytes` and the bytes left.
    mutating func readStringBytes(_ subject: String, maxBytes: Int) throws(ReaderError) -> UnsafeRawBufferPointer {
        let at = cursor.offset
        let length = try read(UInt64.self, subject)
        guard length <= UInt64(maxBytes) else {
            throw fail(subject, at, "string length \(length) exceeds the limit of \(maxBytes) bytes")
        }
        guard Int(length) <= cursor.remaining else {
            throw fail(subject, at, "string length \(length) exceeds the \(cursor.remaining) bytes left")
        }
        do { return try cursor.readBytes(Int(length)) } catch { throw truncated(subject, error) }
    }

    mutating func readKey() throws(ReaderError) -> String {
        let at = cursor.offset
        let raw = try readStringBytes("metadata key", maxBytes: limits.maxKeyBytes)
        guard !raw.isEmpty else { throw fail("metadata key", at, "empty key") }
        guard Self.isValidKey(raw) else {
            let shown = String(decoding: raw.prefix(80), as: UTF8.self)
            throw fail("metadata key", at, "key '\(shown)' is not lower_snake_case ASCII separated by dots")
        }
        return String(decoding: raw, as: UTF8.self)
    }

    static func isValidKey(_ raw: UnsafeRawBufferPointer) -> Bool {
        var partLength = 0
        for c in raw {
            switch c {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
                partLength += 1
            case UInt8(ascii: "."):
                if partLength == 0 { return false }
                partLength = 0
            default:
                return false
            }
        }
        return partLength > 0
    }

    mutating func readValue(_ type: GGUFValueType, subject: String, depth: Int) throws(ReaderError) -> GGUFValue {
        let at = cursor.offset
        switch type {
        case .uint8: return .uint8(try read(UInt8.self, subject))
        case .int8: return .int8(try read(Int8.self, subject))
        case .uint16: return .uint16(try read(UInt16.self, subject))
        case .int16: return .int16(try read(Int16.self, subject))
        case .uint32: return .uint32(try read(UInt32.self, subject))
        case .int32: return .int32(try read(Int32.self, subject))
        case .uint64: return .uint64(try read(UInt64.self, subject))
        case .int64: return .int64(try read(Int64.self, subject))
        case .float32: return .float32(Float(bitPattern: try read(UInt32.self, subject)))
        case .float64: return .float64(Double(bitPattern: try read(UInt64.self, subject)))
        case .bool:
            let b = try read(UInt8.self, subject)
            guard b <= 1 else { throw fail(subject, at, "bool byte \(b) is neither 0 nor 1") }
            return .bool(b == 1)
        case .string:
            let raw = try readStringBytes(subject, maxBytes: limits.maxStringBytes)
            try checkMetadataBudget(0, subject)
            return .string(GGUFString(bytes: Array(raw)))
        case .array:
            return .array(try readArray(subject: subject, depth: depth + 1))
        }
    }

    mutating func readArray(subject: String, depth: Int) throws(ReaderError) -> GGUFArray {
        let at = cursor.offset
        guard depth <= limits.maxArrayDepth else {
            throw fail(subject, at, "arrays nested deeper than \(limits.maxArrayDepth) levels")
        }
        let rawType = try read(UInt32.self, subject)
        guard let elementType = GGUFValueType(rawValue: rawType) else {
            throw fail(subject, at, "unknown array element type \(rawType)")
        }
        let countOffset = cursor.offset
        let count64 = try read(UInt64.self, subject)
        guard count64 <= UInt64(limits.maxArrayElements) else {
            throw fail(
                subject, countOffset, "array of \(count64) elements exceeds the limit of \(limits.maxArrayElements)")
        }
        let count = Int(count64)
        guard count <= cursor.remaining / elementType.minimumSize else {
            throw fail(
                subject, countOffset,
                "array of \(count) \(elementType.name) elements cannot fit in the \(cursor.remaining) bytes left")
        }
        try checkMetadataBudget(count * elementType.minimumSize, subject)
        let payloadOffset = cursor.offset
        var stringOffsets: [Int] = []
        var nested: [GGUFArray] = []
        if let size = elementType.fixedSize {
            let payload: UnsafeRawBufferPointer
            do { payload = try cursor.readBytes(count * size) } catch { throw truncated(subject, error) }
            if elementType == .bool, let i = payload.firstIndex(where: { $0 > 1 }) {
                throw fail(subject, payloadOffset + i, "bool byte \(payload[i]) at element \(i) is neither 0 nor 1")
            }
        } else if elementType == .string {
            stringOffsets.reserveCapacity(count)
            for _ in 0..<count {
                stringOffsets.append(cursor.offset)
                _ = try readStringBytes(subject, maxBytes: limits.maxStringBytes)
            }
            try checkMetadataBudget(0, subject)
        } else {
            nested.reserveCapacity(count)
            for _ in 0..<count {
                nested.append(try readArray(subject: subject, depth: depth + 1))
            }
        }
        return GGUFArray(
            elementType: elementType, count: count, payloadOffset: payloadOffset,
            payloadLength: cursor.offset - payloadOffset, stringOffsets: stringOffsets, nested: nested)
    }

    mutating func readTensorInfo() throws(ReaderError) -> GGUFTensorInfo {
        let infoOffset = cursor.offset
        let rawName = try readStringBytes("tensor name", maxBytes: max(limits.maxTensorNameBytes, 1 << 16))
        guard let name = String(validating: rawName, as: UTF8.self) else {
            throw fail("tensor name", infoOffset, "tensor name is not valid UTF-8")
        }
        guard rawName.count <= limits.maxTensorNameBytes else {
            throw fail(
                "tensor '\(name)'", infoOffset,
                "tensor name of \(rawName.count) bytes exceeds the limit of \(limits.maxTensorNameBytes)")
        }
        if let problem = TensorNameRules.problem(with: name) {
            throw fail("tensor name", infoOffset, problem)
        }
        let subject = "tensor '\(name)'"
        let dimsOffset = cursor.offset
        let nDims = try read(UInt32.self, subject)
        guard nDims >= 1, nDims <= UInt32(limits.maxDimensions) else {
            throw fail(subject, dimsOffset, "n_dims \(nDims) is outside 1...\(limits.maxDimensions)")
        }
        var dims: [Int] = []
        for i in 0..<Int(nDims) {
            let at = cursor.offset
            let d = try read(UInt64.self, subject)
            guard d <= UInt64(Int64.max) else {
                throw fail(subject, at, "dimension \(i) is negative (\(Int64(bitPattern: d)))")
            }
            dims.append(Int(d))
        }
        let typeOffset = cursor.offset
        let rawType = try read(UInt32.self, subject)
        guard let type = GGMLType.withID(rawType) else {
            throw fail(subject, typeOffset, "unknown ggml type \(rawType)")
        }
        let offsetAt = cursor.offset
        let rawOffset = try read(UInt64.self, subject)
        guard let relativeOffset = Checked.int(rawOffset) else {
            throw fail(subject, offsetAt, "data offset \(rawOffset) is out of range")
        }
        guard let elements = Checked.product(dims) else {
            throw fail(subject, dimsOffset, "shape \(dims) overflows 64-bit arithmetic")
        }
        guard dims[0] % type.blockSize == 0 else {
            throw fail(
                subject, dimsOffset,
                "row length \(dims[0]) is not a multiple of the \(type.name) block size \(type.blockSize)")
        }
        guard let bytes = Checked.product([dims[0] / type.blockSize, type.typeSize] + dims.dropFirst()) else {
            throw fail(subject, dimsOffset, "byte size of shape \(dims) x \(type.name) overflows 64-bit arithmetic")
        }
        return GGUFTensorInfo(
            name: name, dimensions: dims, type: type, relativeOffset: relativeOffset,
            elementCount: elements, byteCount: bytes, infoOffset: infoOffset)
    }
}

extension String {
    var leftPadded2: String { count >= 2 ? self : "0" + self }
}
