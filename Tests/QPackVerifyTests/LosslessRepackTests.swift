import CQPackRuntime
import Foundation
import Testing
import QPackBinary
import QPackContainer
import QPackModel
import QPackPlanning
import QPackReaders
import QPackTestSupport
@testable import QPackConvert
@testable import QPackVerify

/// GGUF Q4_0 and Q4_1 sources converted with the default rules: repacked exactly into KleidiAI's
/// qsi4c32pscalef16 / qai4c32p layouts and run by the qsi8d32p kernels (never decoded to float).
@Suite(.enabled(if: TestPaths.runModelTests, "real models absent"), .serialized)
struct LosslessRepackTests {
    /// Every Q4_1 tensor of SmolLM2 decodes from the packed layout to exactly gguf-py's values
    /// (checksums of gguf-py's dequantization, Fixtures/real-models/expected.json).
    @Test func everyQ4_1TensorDecodesToGGUFPyValues() throws {
        let file = try LlamaTests.container()
        let want = try TestPaths.json(TestPaths.fixture("real-models/expected.json"))["smollm2"]!["tensors"]!
        var checked = 0
        for t in file.tensors where want[t.name]?["type"]?.string == "Q4_1" {
            if t.role == "attention_output" {
                #expect(t.scheme == .f16, "\(t.name)")  // the mission's rule keeps its place
                continue
            }
            #expect(t.scheme == .q4_1Repack && t.layout?.id == "qai4c32p", "\(t.name)")
            let values = try ContainerTensorDecoder.floats(t, in: file)
            #expect(WeightedChecksum.of(values) == want[t.name]!["checksum"]!.uint64, "\(t.name)")
            checked += 1
        }
        #expect(checked == 180)
    }

    /// The packed model's linears are the packed layouts themselves: the runtime runs them with
    /// the qsi8d32p kernels (f16 attention output, f16 head from the Q8_0 embeddings).
    @Test func q4_1LinearsRunPacked() throws {
        let file = try LlamaTests.container()
        let packed = try RuntimeModel(path: file.path)
        let layer = packed.decoderGraph!.layer[0]
        for l in [layer.query, layer.key, layer.value, layer.gate, layer.up, layer.down] {
            #expect(l.kind == QP_WEIGHT_QAI4C32P && l.bl == 32 && l.tile.nr == 4)
        }
        #expect(layer.attention_output.kind == QP_WEIGHT_F16)
        #expect(packed.decoderGraph!.output.kind == QP_WEIGHT_F16)
        #expect(file.tensor(named: "blk.0.ffn_up.weight")?.execution == "qsi8d32pscalef32 x qai4c32p")
    }

    /// The default conversion keeps the float model's answer and its greedy continuation.
    @Test func q4_1DefaultConversionKeepsTheContinuation() throws {
        let file = try LlamaTests.container()
        let reference = try FloatReference(
            checkpoint: Checkpoint.open(path: TestPaths.smolLMPath), path: TestPaths.smolLMPath
        ).model()
        let packed = try RuntimeModel(path: file.path)
        let ids = try TestPaths.json(TestPaths.fixture("verify/smollm2.expected.json"))["ids"]!.items.map {
            Int32($0.int!)
        }
        #expect(packed.greedy(ids, steps: 8) == reference.greedy(ids, steps: 8))
    }

    /// A Q4_0 copy of SmolLM2 written by gguf-py converts with q4_0-repack by default; the packed
    /// layout decodes to the source's Q4_0 values bit for bit and runs packed.
    @Test func q4_0CopyRepacksExactlyAndRunsPacked() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qpack-q4_0-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = TestPaths.smolLMQ4_0Path
        let checkpoint = try Checkpoint.open(path: source)
        let plan = Planner.plan(checkpoint.planInputs, rules: DefaultRules.ruleSet, target: .neonI8mm)
        _ = try Converter.convert(
            checkpoint, path: source, plan: plan, rules: DefaultRules.ruleSet, output: dir + "/q.qpack",
            options: ConvertOptions(target: .neonI8mm, jobs: 2, force: true))
        let file = try ContainerFile(path: dir + "/q.qpack")
        var repacked = 0
        for t in file.tensors where t.scheme == .q4_0Repack {
            #expect(t.layout?.id == "qsi4c32pscalef16" && t.layout?.nr == 4 && t.layout?.kr == 16)
            #expect(try ContainerTensorDecoder.floats(t, in: file) == checkpoint.floatValues(of: t.name)!, "\(t.name)")
            repacked += 1
        }
        #expect(repacked == 180)
        let packed = try RuntimeModel(path: file.path)
        #expect(packed.decoderGraph!.layer[5].down.kind == QP_WEIGHT_QSI4C32PSCALEF16)
        #expect(file.tensor(named: "blk.5.ffn_down.weight")?.execution == "qsi8d32p x qsi4c32pscalef16")
    }
}
