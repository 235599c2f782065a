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
        return .safetensors(try SafetensorsFile(mapped: file))
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
