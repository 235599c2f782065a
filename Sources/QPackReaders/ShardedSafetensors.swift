#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
import QPackBinary
import QPackModel

/// A sharded safetensors checkpoint: `*.safetensors.index.json` with a `weight_map` from tensor
/// names to shard files in the same directory.
///
/// Shard names must be plain base names (`^[A-Za-z0-9._-]+\.safetensors$`) and must resolve
/// (following symlinks, as Hugging Face caches use them) to a file inside the index's directory.
/// Every listed tensor must be in its shard and every shard tensor must be listed for that shard.
public final class ShardedSafetensors: Sendable {
    public let indexPath: String
    public let indexName: String
    /// The index's `metadata` object, values rendered as text.
    public let metadata: [(key: String, value: String)]
    /// Shards in sorted name order.
    public let shards: [SafetensorsFile]
    /// Where each tensor lives: shard index and entry.
    private let locations: [String: (shard: Int, tensor: SafetensorsTensor)]
    /// Tensor names in shard order, then header order.
    public let tensorOrder: [String]

    public static let maxIndexBytes = 64 << 20

    public init(indexPath: String, limits: SafetensorsFile.Limits = .init()) throws(ReaderError) {
        let indexName = indexPath.baseName
        self.indexPath = indexPath
        self.indexName = indexName
        func fail(_ subject: String, _ offset: Int?, _ detail: String) -> ReaderError {
            ReaderError(.malformed, file: indexName, subject: subject, offset: offset, detail)
        }
        let file: MappedFile
        do { file = try MappedFile(path: indexPath) } catch {
            throw ReaderError(.io, file: indexName, subject: "file", offset: nil, error.description)
        }
        guard file.size <= Self.maxIndexBytes else {
            throw fail("index", 0, "index of \(file.size) bytes exceeds the limit of \(Self.maxIndexBytes)")
        }
        let root: JSONNode
        do { root = try StrictJSONParser.parse(file.bytes) } catch { throw fail("index", error.offset, error.message) }
        guard case let .object(top) = root.value else {
            throw fail("index", root.offset, "must be a JSON object, found \(root.value.kindName)")
        }
        var metadata: [(key: String, value: String)] = []
        var weightMap: [JSONMember]?
        for m in top {
            switch m.key {
            case "metadata":
                guard case let .object(entries) = m.node.value else {
                    throw fail("metadata", m.node.offset, "must be an object, found \(m.node.value.kindName)")
                }
                for e in entries {
                    switch e.node.value {
                    case let .string(s): metadata.append((e.key, s))
                    case let .number(n): metadata.append((e.key, n))
                    case let .bool(b): metadata.append((e.key, b ? "true" : "false"))
                    default: metadata.append((e.key, e.node.value.kindName))
                    }
                }
            case "weight_map":
                guard case let .object(entries) = m.node.value else {
                    throw fail("weight_map", m.node.offset, "must be an object, found \(m.node.value.kindName)")
                }
                weightMap = entries
            default:
                continue  // other top-level keys carry no meaning for reading
            }
        }
        guard let weightMap else { throw fail("weight_map", root.offset, "missing 'weight_map'") }
        guard weightMap.count <= limits.maxTensors else {
            throw fail(
                "weight_map", root.offset, "\(weightMap.count) entries exceed the limit of \(limits.maxTensors) tensors"
            )
        }

        let directory = Self.directory(of: indexPath)
        guard let realDirectory = Self.realPath(directory) else {
            throw ReaderError(.io, file: indexName, subject: "directory", offset: nil, "cannot resolve '\(directory)'")
        }
        // Where a shard may resolve (F02): the index's directory, or for an index in a Hugging
        // Face cache snapshot (`<repo>/snapshots/<revision>/`) the repository's cache tree, whose
        // `blobs/` the snapshot's links point into.
        var allowedRoot = realDirectory
        if let cacheRepository = Self.cacheRepository(ofSnapshot: realDirectory) { allowedRoot = cacheRepository }
        var shardOf: [String: String] = [:]
        var order: [String] = []
        var shardNames: Set<String> = []
        var entryOffset: [String: Int] = [:]
        var firstMention: [String: Int] = [:]
        for e in weightMap {
            if let problem = TensorNameRules.problem(with: e.key) {
                throw fail("weight_map", e.keyOffset, problem)
            }
            guard case let .string(shard) = e.node.value else {
                throw fail(
                    "weight_map '\(e.key)'", e.node.offset, "shard must be a string, found \(e.node.value.kindName)")
            }
            guard Self.isPlainShardName(shard) else {
                throw fail(
                    "weight_map '\(e.key)'", e.node.offset,
                    "shard name '\(shard)' must be a plain file name matching [A-Za-z0-9._-]+.safetensors")
            }
            shardNames.insert(shard)
            shardOf[e.key] = shard
            entryOffset[e.key] = e.keyOffset
            if firstMention[shard] == nil { firstMention[shard] = e.node.offset }
            order.append(e.key)
        }

        var shards: [SafetensorsFile] = []
        var locations: [String: (shard: Int, tensor: SafetensorsTensor)] = [:]
        var total = 0
        for shardName in shardNames.sorted() {
            let shardPath = directory + "/" + shardName
            guard let real = Self.realPath(shardPath) else {
                throw fail(
                    "weight_map", firstMention[shardName], "shard '\(shardName)' does not exist next to the index")
            }
            guard real.hasPrefix(allowedRoot == "/" ? "/" : allowedRoot + "/") else {
                throw fail(
                    "weight_map", firstMention[shardName],
                    "shard '\(shardName)' resolves to '\(real)', outside "
                        + (allowedRoot == realDirectory ? "the model directory" : "the cache tree '\(allowedRoot)'"))
            }
            let shard = try SafetensorsFile(path: shardPath, limits: limits)
            total += shard.tensors.count
            guard total <= limits.maxTensors else {
                throw ReaderError(
                    .malformed, file: shardName, subject: "header", offset: 8,
                    "the shards hold more than \(limits.maxTensors) tensors")
            }
            for t in shard.tensors {
                guard let listed = shardOf[t.name] else {
                    throw ReaderError(
                        .malformed, file: shardName, subject: "tensor '\(t.name)'", offset: t.entryOffset,
                        "tensor is not listed in \(indexName)")
                }
                guard listed == shardName else {
                    throw ReaderError(
                        .malformed, file: shardName, subject: "tensor '\(t.name)'", offset: t.entryOffset,
                        "\(indexName) maps this tensor to '\(listed)'")
                }
                locations[t.name] = (shards.count, t)
            }
            shards.append(shard)
        }
        for name in order where locations[name] == nil {
            throw fail("weight_map '\(name)'", entryOffset[name], "tensor is missing from shard '\(shardOf[name]!)'")
        }
        self.metadata = metadata
        self.shards = shards
        self.locations = locations
        self.tensorOrder = shards.flatMap { $0.tensors.map(\.name) }
    }

    static func isPlainShardName(_ s: String) -> Bool {
        guard s.hasSuffix(".safetensors"), s.utf8.count > ".safetensors".utf8.count, s.utf8.count <= 255 else {
            return false
        }
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                continue
            default:
                return false
            }
        }
        return !s.hasPrefix(".")
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let d = String(path[..<slash])
        return d.isEmpty ? "/" : d
    }

    /// `<repo>` for a resolved directory `<repo>/snapshots/<revision>` (the Hugging Face cache
    /// layout), else nil.
    static func cacheRepository(ofSnapshot directory: String) -> String? {
        let parts = directory.split(separator: "/", omittingEmptySubsequences: true)
        guard parts.count >= 3, parts[parts.count - 2] == "snapshots" else { return nil }
        return "/" + parts.dropLast(2).joined(separator: "/")
    }

    static func realPath(_ path: String) -> String? {
        guard let r = realpath(path, nil) else { return nil }
        defer { free(r) }
        return String(cString: r)
    }

    public func location(of name: String) -> (shard: SafetensorsFile, tensor: SafetensorsTensor)? {
        locations[name].map { (shards[$0.shard], $0.tensor) }
    }

    public var records: [TensorRecord] { shards.flatMap(\.records) }
}
