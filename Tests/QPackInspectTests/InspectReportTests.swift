import Testing
import QPackTestSupport
import QPackBinary
@testable import QPackInspect
@testable import QPackReaders

@Suite struct InspectReportTests {
    @Test func ggufReportCarriesModelAndTokenizerFacts() throws {
        let path = TestPaths.fixture("gguf/metadata.gguf")
        let report = try InspectReport.build(path: path, checkpoint: Checkpoint.open(path: path))
        #expect(report.format == "gguf")
        #expect(report.version == 3)
        #expect(report.model?.architecture == "testarch")
        #expect(report.tokenizer?.model == "gpt2")
        #expect(report.tokenizer?.tokens == 4)
        #expect(report.tokenizer?.merges == 1)
        // SHA-256 of the template text, computed independently with Python's hashlib.
        #expect(
            report.tokenizer?.chatTemplateSHA256 == "b4df99e96cc5bceeff21054559de001583b472af4e765411e7772bc5ebf573f6")
        let template = report.metadata.first { $0.key == "tokenizer.chat_template" }
        #expect(template?.value.contains("__class__") == false)  // never shown, only its digest
        #expect(report.metadata.first { $0.key == "test.array.nested" }?.value == "[2 x array]")
    }

    @Test func typeHistogramAddsUp() throws {
        let path = TestPaths.fixture("gguf/types.gguf")
        let report = try InspectReport.build(path: path, checkpoint: Checkpoint.open(path: path))
        #expect(report.types.count == 14)
        #expect(report.types.reduce(0) { $0 + $1.tensors } == report.tensorCount)
        #expect(report.types.reduce(0) { $0 + $1.parameters } == report.parameterCount)
        #expect(report.types.reduce(0) { $0 + $1.bytes } == report.tensorBytes)
        #expect(report.parameterCount == 14 * 3 * 512)
    }

    @Test func globsSelectTensors() throws {
        let path = TestPaths.fixture("gguf/types.gguf")
        var options = InspectReport.Options()
        options.filters = [NameGlob("t.q?_k"), NameGlob("t.f32")]
        let report = try InspectReport.build(path: path, checkpoint: Checkpoint.open(path: path), options: options)
        #expect(report.tensors.map(\.name) == ["t.f32", "t.q2_k", "t.q3_k", "t.q4_k", "t.q5_k", "t.q6_k", "t.q8_k"])
        #expect(report.tensorCount == 14)
        #expect(NameGlob("blk.*.attn_q.weight").matches("blk.12.attn_q.weight"))
        #expect(!NameGlob("blk.*.attn_q.weight").matches("blk.12.attn_k.weight"))
    }

    @Test func safetensorsReportReadsConfigBesideIt() throws {
        let path = TestPaths.fixture("safetensors/sharded/model.safetensors.index.json")
        let report = try InspectReport.build(path: path, checkpoint: Checkpoint.open(path: path))
        #expect(report.format == "safetensors-sharded")
        #expect(report.files.count == 3)
        #expect(report.model == nil)  // no config.json there
        #expect(report.tensorCount == 3)
    }

    @Test(.enabled(if: TestPaths.runModelTests))
    func miniLMStatisticsMatchNumpy() throws {
        let expected = try TestPaths.json(TestPaths.fixture("real-models/expected.json"))["minilm"]!["stats"]!
        var options = InspectReport.Options()
        options.statistics = true
        options.filters = expected.members.map { NameGlob($0.key) }
        let report = try InspectReport.build(
            path: TestPaths.miniLMPath, checkpoint: Checkpoint.open(path: TestPaths.miniLMPath), options: options)
        #expect(report.model?.architecture == "bert")
        #expect(report.model?.blockCount == 6)
        #expect(report.model?.embeddingLength == 384)
        #expect(report.tensors.count == expected.members.count)
        for t in report.tensors {
            let want = expected[t.name]!
            let s = try #require(t.stats)
            #expect(s.count == want["count"]!.int)
            #expect(s.min == want["min"]!.double)
            #expect(s.max == want["max"]!.double)
            #expect(s.absmax == want["absmax"]!.double)
            #expect(s.zeros == want["zeros"]!.int)
            #expect(abs(s.mean! - want["mean"]!.double!) <= 1e-12 * max(1, abs(want["mean"]!.double!)))
            #expect(abs(s.std! - want["std"]!.double!) <= 1e-9 * want["std"]!.double!)
        }
    }
}
