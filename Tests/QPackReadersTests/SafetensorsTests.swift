import Foundation
import Testing
import QPackBinary
import QPackModel
import QPackTestSupport
@testable import QPackReaders

@Suite struct SafetensorsTests {
    /// Every dtype decodes to exactly the float32 bits numpy converts it to (written by the
    /// PyPI safetensors writer; see Fixtures/generate.py).
    @Test func everyDTypeMatchesNumpy() throws {
        let file = try SafetensorsFile(path: TestPaths.fixture("safetensors/dtypes.safetensors"))
        let expected = try TestPaths.json(TestPaths.fixture("safetensors/dtypes.expected.json"))
        let tensors = expected["tensors"]!.members
        #expect(file.tensors.count == tensors.count)
        for entry in tensors {
            let t = try #require(file.tensor(named: entry.key), "missing \(entry.key)")
            #expect(t.dtype.rawValue == entry.node["dtype"]!.string)
            #expect(t.shape == entry.node["shape"]!.items.map { $0.int! })
            let bits = file.floatValues(of: t).map(\.bitPattern)
            let want = entry.node["f32_bits"]!.items.map { UInt32($0.uint64!) }
            #expect(bits == want, "\(entry.key)")
        }
        #expect(file.metadata.map(\.key) == ["format"])
        #expect(file.metadata.first?.value == "np")
    }

    @Test func everySupportedDTypeIsCovered() throws {
        let file = try SafetensorsFile(path: TestPaths.fixture("safetensors/dtypes.safetensors"))
        #expect(Set(file.tensors.map(\.dtype)) == Set(SafetensorsDType.allCases))
    }

    @Test func tensorBytesAreZeroCopyViewsOfTheFile() throws {
        let path = TestPaths.fixture("safetensors/dtypes.safetensors")
        let file = try SafetensorsFile(path: path)
        let raw = try TestPaths.read(path)
        for t in file.tensors {
            let view = file.data(of: t)
            #expect(Array(view) == Array(raw[(file.dataStart + t.begin)..<(file.dataStart + t.end)]))
        }
    }

    @Test func shardedIndexJoinsItsShards() throws {
        let dir = TestPaths.fixture("safetensors/sharded")
        let sharded = try ShardedSafetensors(indexPath: dir + "/model.safetensors.index.json")
        #expect(
            sharded.shards.map(\.fileName) == ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"])
        #expect(Set(sharded.records.map(\.name)) == ["layer.0.weight", "layer.0.bias", "layer.1.weight"])
        let direct = try SafetensorsFile(path: dir + "/model-00002-of-00002.safetensors")
        let viaIndex = try #require(sharded.location(of: "layer.1.weight"))
        #expect(viaIndex.shard.fileName == "model-00002-of-00002.safetensors")
        #expect(
            viaIndex.shard.floatValues(of: viaIndex.tensor)
                == direct.floatValues(of: direct.tensor(named: "layer.1.weight")!))
        #expect(sharded.metadata.first { $0.key == "total_size" }?.value == "204")  // 4x8 F32 + 8 F16 + 3x5 F32
        let checkpoint = try Checkpoint.open(path: dir + "/model.safetensors.index.json")
        #expect(checkpoint.formatName == "safetensors (sharded)")
        #expect(try checkpoint.floatValues(of: "layer.0.bias")?.count == 8)
    }

    @Test func shardedIndexAllowsSymlinksThatStayInside() throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("qpack-symlink-\(getpid())")
        try? FileManager.default.removeItem(at: tmp)
        try FileManager.default.createDirectory(
            at: tmp.appendingPathComponent("blobs"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        let src = TestPaths.fixture("safetensors/sharded")
        for shard in ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"] {
            try FileManager.default.copyItem(atPath: src + "/" + shard, toPath: tmp.path + "/blobs/" + shard)
            try FileManager.default.createSymbolicLink(
                atPath: tmp.path + "/" + shard, withDestinationPath: "blobs/" + shard)
        }
        try FileManager.default.copyItem(
            atPath: src + "/model.safetensors.index.json", toPath: tmp.path + "/model.safetensors.index.json")
        let sharded = try ShardedSafetensors(indexPath: tmp.path + "/model.safetensors.index.json")
        #expect(sharded.records.count == 3)
    }

    /// F02 and the Hugging Face cache: `<repo>/snapshots/<rev>/` names link into `<repo>/blobs/`
    /// (index and shards alike); they are followed. A link out of the repository's tree is still
    /// refused, and so is `../` out of a directory that is not a snapshot.
    @Test func huggingFaceCacheSnapshotsLinkIntoBlobs() throws {
        let fm = FileManager.default
        let tmp = fm.temporaryDirectory.appendingPathComponent("qpack-hfcache-\(getpid())").path
        try? fm.removeItem(atPath: tmp)
        defer { try? fm.removeItem(atPath: tmp) }
        let repo = tmp + "/hub/models--org--tiny", snapshot = repo + "/snapshots/0123abcd"
        try fm.createDirectory(atPath: repo + "/blobs", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: snapshot, withIntermediateDirectories: true)
        let src = TestPaths.fixture("safetensors/sharded")
        for (i, name) in [
            "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
            "model.safetensors.index.json",
        ].enumerated() {
            try fm.copyItem(atPath: src + "/" + name, toPath: repo + "/blobs/blob\(i)")
            try fm.createSymbolicLink(atPath: snapshot + "/" + name, withDestinationPath: "../../blobs/blob\(i)")
        }
        let sharded = try ShardedSafetensors(indexPath: snapshot + "/model.safetensors.index.json")
        #expect(sharded.records.count == 3)
        #expect(try Checkpoint.open(path: snapshot + "/model.safetensors.index.json").records.count == 3)
        // A shard linked outside the repository's tree.
        let outside = tmp + "/elsewhere.safetensors"
        try fm.copyItem(atPath: src + "/model-00002-of-00002.safetensors", toPath: outside)
        try fm.removeItem(atPath: snapshot + "/model-00002-of-00002.safetensors")
        try fm.createSymbolicLink(atPath: snapshot + "/model-00002-of-00002.safetensors", withDestinationPath: outside)
        #expect {
            try ShardedSafetensors(indexPath: snapshot + "/model.safetensors.index.json")
        } throws: { ($0 as? ReaderError)?.detail.contains("outside the cache tree") == true }
        // The same blobs link from a directory that is not a snapshot: refused.
        let plain = tmp + "/hub/models--org--tiny/plain"
        try fm.createDirectory(atPath: plain, withIntermediateDirectories: true)
        for (i, name) in ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"].enumerated() {
            try fm.createSymbolicLink(atPath: plain + "/" + name, withDestinationPath: "../blobs/blob\(i)")
        }
        try fm.copyItem(atPath: src + "/model.safetensors.index.json", toPath: plain + "/model.safetensors.index.json")
        #expect {
            try ShardedSafetensors(indexPath: plain + "/model.safetensors.index.json")
        } throws: { ($0 as? ReaderError)?.detail.contains("outside the model directory") == true }
    }

    @Test func zeroSizeTensorsAreLegal() throws {
        let file = try SafetensorsFile(path: TestPaths.fixture("safetensors/zero-size-many.safetensors"))
        #expect(file.tensors.count == 1000)
        #expect(file.tensors.allSatisfy { $0.byteCount == 0 && $0.elementCount == 0 })
    }

    @Test func leadingAndTrailingHeaderWhitespaceIsAccepted() throws {
        let header = Array(#"  {"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}    "#.utf8)
        let bytes = withUnsafeBytes(of: UInt64(header.count).littleEndian, Array.init) + header + [0, 0, 0x80, 0x3F]
        let file = try SafetensorsFile(mapped: MappedFile(copying: bytes, path: "padded.safetensors"))
        #expect(file.floatValues(of: file.tensors[0]) == [1.0])
    }

    /// S27: the tensor-count cap holds even when the header fits its byte cap.
    @Test func tensorCountCapIsEnforced() throws {
        var limits = SafetensorsFile.Limits()
        limits.maxTensors = 1000
        let entries = (0...1000).map { #""t\#($0)":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}"# }
        let header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        let bytes = withUnsafeBytes(of: UInt64(header.count).littleEndian, Array.init) + header
        #expect {
            try SafetensorsFile(mapped: MappedFile(copying: bytes, path: "many.safetensors"), limits: limits)
        } throws: { ($0 as? ReaderError)?.detail.contains("tensors exceed the limit of 1000 tensors") == true }
    }
}
