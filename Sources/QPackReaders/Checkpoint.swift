#if canImport(Glibc)
    import Glibc
#endif
import QPackBinary
import QPackModel

/// Any checkpoint qpack reads, opened by path: a safetensors file, a sharded safetensors index,
/// or a GGUF file.
public enum Checkpoint: Sendable {
    case safetensors(SafetensorsFile)
    case sharded(ShardedSafetensors)
    case gguf(GGUFFile)

    /// Opens `path`, choosing the reader by extension (`.gguf`, `.json`, `.safetensors`), or
    /// by the GGUF magic for other names.
    public static func open(path: String) throws(ReaderError) -> Checkpoint {
        let path = try modelPath(path)
        let lower = path.lowercased()
        if lower.hasSuffix(".gguf") { return .gguf(try GGUFFile(path: path)) }
        if lower.hasSuffix(".json") { return .sharded(try ShardedSafetensors(indexPath: path)) }
        if lower.hasSuffix(".safetensors") { return .safetensors(try SafetensorsFile(path: path)) }
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch {
            throw ReaderError(.io, file: path.baseName, subject: "file", offset: nil, error.description)
        }
        if file.size >= 4, Array(file.bytes(offset: 0, count: 4)) == GGUFFile.magic {
            return .gguf(try GGUFFile(mapped: file))
        }
        if let what = notAModel(file, name: lower) {
            throw ReaderError(.unsupported, file: path.baseName, subject: "file", offset: nil, what)
        }
        return .safetensors(try SafetensorsFile(mapped: file))
    }

    /// The checkpoint file `path` names: itself, or for a model directory the model file in it.
    /// Commands resolve their input once, so config.json, the tokenizer files and shards are read
    /// beside the file (a path named as a checkpoint file stays one: a directory there is an I/O
    /// error, 74).
    public static func modelPath(_ path: String) throws(ReaderError) -> String {
        let named = [".gguf", ".json", ".safetensors"].contains { path.lowercased().hasSuffix($0) }
        if !named, let model = try modelInDirectory(path) { return model }
        return path
    }

    /// A Hugging Face-style model directory's checkpoint file: model.safetensors, else
    /// model.safetensors.index.json, else its one .gguf file; nil when `path` is not a directory.
    static func modelInDirectory(_ path: String) throws(ReaderError) -> String? {
        var st = stat()
        guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else { return nil }
        let dir = path.hasSuffix("/") ? String(path.dropLast()) : path
        for name in ["model.safetensors", "model.safetensors.index.json"] where stat(dir + "/" + name, &st) == 0 {
            return dir + "/" + name
        }
        var ggufs: [String] = []
        if let d = opendir(dir) {
            while let entry = readdir(d) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) {
                    String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name.lowercased().hasSuffix(".gguf") { ggufs.append(name) }
            }
            closedir(d)
        }
        ggufs.sort()
        if ggufs.count == 1 { return dir + "/" + ggufs[0] }
        throw ReaderError(
            .unsupported, file: path.baseName, subject: "directory", offset: nil,
            ggufs.isEmpty
                ? "no model in it: expected model.safetensors, model.safetensors.index.json or a .gguf file"
                : "\(ggufs.count) .gguf files (\(ggufs.joined(separator: ", "))): name the one to use")
    }

    /// What a file that is not a checkpoint qpack reads is, in a sentence that says what to do,
    /// or nil when it may be safetensors (an 8-byte header length, then '{').
    static func notAModel(_ file: MappedFile, name: String) -> String? {
        let head = Array(file.bytes(offset: 0, count: min(file.size, 256)))
        if head.count >= 9, head[8] == UInt8(ascii: "{") { return nil }
        if name.hasSuffix(".onnx") || (head.first == 0x08 && head.count > 2 && head[2] == 0x12) {
            return "ONNX models are not supported; export safetensors (e.g. with optimum) or pass a GGUF"
        }
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
            return "a zip archive (a PyTorch .bin/.pt checkpoint?): not supported; save the model as safetensors"
        }
        if head.starts(with: Array("QPACK\r\n\u{1a}".utf8)) {
            return "a .qpack file (already converted): inspect, verify, run or embed it"
        }
        let text = String(decoding: head, as: UTF8.self)
        if text.hasPrefix("{"), text.contains("qpack-calibration") {
            return "a calibration statistics file (.qcal), not a model: give it to convert with --calibration-stats"
        }
        if !head.isEmpty, head.allSatisfy({ $0 == 9 || $0 == 10 || $0 == 13 || ($0 >= 32 && $0 < 127) || $0 >= 0x80 }) {
            return
                "a text file, not a model: give a .safetensors file, a sharded index (.json), a .gguf file or a model directory"
        }
        return nil
    }

    public var formatName: String {
        switch self {
        case .safetensors: return "safetensors"
        case .sharded: return "safetensors (sharded)"
        case .gguf: return "gguf"
        }
    }

    public var records: [TensorRecord] {
        switch self {
        case let .safetensors(f): return f.records
        case let .sharded(s): return s.records
        case let .gguf(g): return g.records
        }
    }

    /// A tensor's values as Float (dequantized for GGUF block types).
    public func floatValues(of name: String) throws(ReaderError) -> [Float]? {
        switch self {
        case let .safetensors(f):
            return f.tensor(named: name).map { f.floatValues(of: $0) }
        case let .sharded(s):
            return s.location(of: name).map { $0.shard.floatValues(of: $0.tensor) }
        case let .gguf(g):
            guard let t = g.tensor(named: name) else { return nil }
            return try g.floatValues(of: t)
        }
    }
}

extension Checkpoint {
    /// The tensor's values as Float a chunk at a time (about `chunk` values, whole GGUF blocks),
    /// so a tensor of any size is read in bounded memory. False when there is no such tensor.
    public func forEachFloatChunk(
        of name: String, chunk: Int = 1 << 20, _ body: (UnsafeBufferPointer<Float>) -> Void
    ) throws(ReaderError) -> Bool {
        let raw: UnsafeRawBufferPointer, count: Int, bytesPer: Int, valuesPer: Int
        let decode: (UnsafeRawBufferPointer, Int) -> [Float]
        switch self {
        case let .safetensors(f):
            guard let t = f.tensor(named: name) else { return false }
            (raw, count, bytesPer, valuesPer) = (f.data(of: t), t.elementCount, t.dtype.byteSize, 1)
            decode = { ElementDecoder.floats(from: $0, dtype: t.dtype, count: $1) }
        case let .sharded(s):
            guard let l = s.location(of: name) else { return false }
            (raw, count, bytesPer, valuesPer) = (
                l.shard.data(of: l.tensor), l.tensor.elementCount, l.tensor.dtype.byteSize, 1
            )
            decode = { ElementDecoder.floats(from: $0, dtype: l.tensor.dtype, count: $1) }
        case let .gguf(g):
            guard let t = g.tensor(named: name) else { return false }
            guard t.type.isDequantizable else {
                _ = try g.floatValues(of: t)  // the reader's own "unsupported type" error
                return false
            }
            (raw, count, bytesPer, valuesPer) = (g.data(of: t), t.elementCount, t.type.typeSize, t.type.blockSize)
            decode = { GGUFDequantizer.dequantize($0, type: t.type, count: $1) }
        }
        // Units are elements (safetensors) or blocks (GGUF); the readers checked that the
        // tensor's bytes are count / valuesPer units.
        let units = count / valuesPer
        let step = max(1, chunk / valuesPer)
        var u = 0
        while u < units {
            let n = min(step, units - u)
            let values = decode(
                UnsafeRawBufferPointer(rebasing: raw[(u * bytesPer)..<((u + n) * bytesPer)]), n * valuesPer)
            values.withUnsafeBufferPointer(body)
            u += n
        }
        return true
    }

    /// The tensor's bytes exactly as stored in its file (zero-copy view of the mapping).
    public func rawBytes(of name: String) -> UnsafeRawBufferPointer? {
        switch self {
        case let .safetensors(f): return f.tensor(named: name).map { f.data(of: $0) }
        case let .sharded(s): return s.location(of: name).map { $0.shard.data(of: $0.tensor) }
        case let .gguf(g): return g.tensor(named: name).map { g.data(of: $0) }
        }
    }

    /// The tensor's stored bytes when they are plain F32, F16 or BF16 values (so `floatValues`
    /// only widens them), for readers that decode as they go; nil for other types.
    public func plainFloats(of name: String) -> (bytes: UnsafeRawBufferPointer, encoding: PlainFloatEncoding)? {
        let type: String
        switch self {
        case let .safetensors(f): guard let t = f.tensor(named: name) else { return nil }; type = t.dtype.rawValue
        case let .sharded(s): guard let l = s.location(of: name) else { return nil }; type = l.tensor.dtype.rawValue
        case let .gguf(g): guard let t = g.tensor(named: name) else { return nil }; type = t.type.name
        }
        let encoding: PlainFloatEncoding
        switch type {
        case "F32": encoding = .f32
        case "F16": encoding = .f16
        case "BF16": encoding = .bf16
        default: return nil
        }
        guard let bytes = rawBytes(of: name) else { return nil }
        return (bytes, encoding)
    }

    /// Drops the tensor's pages from memory after use (see `MappedFile.release`).
    public func release(_ name: String) {
        switch self {
        case let .safetensors(f):
            if let t = f.tensor(named: name) { f.releasePages(of: t) }
        case let .sharded(s):
            if let l = s.location(of: name) { l.shard.releasePages(of: l.tensor) }
        case let .gguf(g):
            if let t = g.tensor(named: name) { g.releasePages(of: t) }
        }
    }

    /// Paths of every file the checkpoint consists of (index first for sharded checkpoints).
    public var filePaths: [String] {
        switch self {
        case let .safetensors(f): return [f.path]
        case let .sharded(s): return [s.indexPath] + s.shards.map(\.path)
        case let .gguf(g): return [g.path]
        }
    }
}
