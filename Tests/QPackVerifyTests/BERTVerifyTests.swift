import CQPackRuntime
import Foundation
import Testing
import QPackBinary
import QPackModel
import QPackTestSupport
@testable import QPackContainer
@testable import QPackConvert
@testable import QPackPlanning
@testable import QPackReaders
@testable import QPackTokenizers
@testable import QPackVerify

/// MiniLM through the C runtime: the float path reproduces an independent numpy implementation
/// of sentence-transformers' embeddings; the default conversion (int8 linears for encoders)
/// stays within cosine 0.99 of it, and per-layer errors rank the int8 layers above the f16 attention output.
@Suite(.enabled(if: TestPaths.runModelTests, "real models absent"), .serialized)
struct BERTVerifyTests {
    static func converted() throws -> (ContainerFile, String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qpack-verify-\(getpid())").path
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let out = dir + "/minilm.qpack"
        if !FileManager.default.fileExists(atPath: out) {
            let checkpoint = try Checkpoint.open(path: TestPaths.miniLMPath)
            let plan = Planner.plan(checkpoint.planInputs, rules: DefaultRules.ruleSet, target: .neonI8mm)
            _ = try Converter.convert(
                checkpoint, path: TestPaths.miniLMPath, plan: plan, rules: DefaultRules.ruleSet, output: out,
                options: ConvertOptions(target: .neonI8mm, jobs: 2, force: true))
        }
        return (try ContainerFile(path: out), dir)
    }

    static func samples() throws -> [(text: String, ids: [Int32], embedding: [Float])] {
        try TestPaths.json(TestPaths.fixture("verify/minilm.expected.json"))["sentences"]!.items.map {
            (
                $0["text"]!.string!, $0["ids"]!.items.map { Int32($0.int!) },
                $0["embedding"]!.items.map { Float($0.double!) }
            )
        }
    }

    @Test func floatPathReproducesTheNumpyReference() throws {
        let reference = try FloatReference(
            checkpoint: Checkpoint.open(path: TestPaths.miniLMPath), path: TestPaths.miniLMPath
        ).model()
        let vocab = try String(
            contentsOfFile: TestPaths.modelsDirectory + "/all-MiniLM-L6-v2/vocab.txt", encoding: .utf8)
        let tokenizer = try WordPieceTokenizer(vocab: vocab)
        let samples = try Self.samples()
        #expect(samples.count >= 15)
        for s in samples {
            #expect(tokenizer.encode(s.text).map(Int32.init) == s.ids, "\(s.text)")
            let run = reference.forward(s.ids)
            #expect(run.status == QP_OK)
            let out = run.output
            let cos = ErrorMetrics(reference: s.embedding, values: out).cosine
            #expect(cos > 0.99999, "\(s.text): cosine \(cos)")
        }
    }

    @Test func defaultConversionStaysCloseAndNamesTheWorstLayer() throws {
        let (file, _) = try Self.converted()
        let reference = try FloatReference(
            checkpoint: Checkpoint.open(path: TestPaths.miniLMPath), path: TestPaths.miniLMPath
        ).model()
        let packed = try RuntimeModel(path: file.path)
        let report = try Verifier.verifyEncoder(
            container: file, reference: reference, packed: packed,
            samples: Self.samples().map { ($0.text, $0.ids) })
        // The target: every committed sentence at cosine >= 0.99 against the float path.
        for s in report.samples { #expect(s.cosine >= 0.99, "\(s.text): \(s.cosine)") }
        #expect(report.samples.count == (try Self.samples()).count)
        #expect(report.layers.count == 36)
        let worst = try #require(report.layers.first)
        #expect(worst.relativeRMSE >= report.layers.last!.relativeRMSE)
        #expect(worst.rule == "encoder-linear-int8" || worst.rule == "attention-output-f16")
        // int8 layers are measurably worse than the f16 attention output.
        let f16 = report.layers.filter { $0.scheme == "f16" }, int8 = report.layers.filter { $0.scheme == "qsi8cx" }
        #expect(f16.count == 6 && int8.count == 30)
        #expect(f16.map(\.relativeRMSE).max()! < int8.map(\.relativeRMSE).min()!)
        #expect(int8.allSatisfy { $0.execution == "qai8dxp x qsi8cxp" } && f16.allSatisfy { $0.execution == "f16" })
    }

    /// `qai4c32` (asymmetric int4 from float weights) on every linear: within its scheme's bound
    /// element by element, run by the qsi8d32p x qai4c32p kernels, between int4 and int8 in error.
    @Test func asymmetricInt4RunsThroughItsKernelsWithinItsBound() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qpack-qai4-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let rules = try RuleSet.parse(
            String(contentsOfFile: TestPaths.fixture("rules/all-qai4.yaml"), encoding: .utf8), origin: "all-qai4.yaml")
        let checkpoint = try Checkpoint.open(path: TestPaths.miniLMPath)
        let plan = Planner.plan(checkpoint.planInputs, rules: rules, target: .neonDotprod)
        #expect(plan.entries.filter { $0.scheme == .qai4c32 }.count == 37)  // 36 linears and the pooler
        _ = try Converter.convert(
            checkpoint, path: TestPaths.miniLMPath, plan: plan, rules: rules, output: dir + "/q.qpack",
            options: ConvertOptions(target: .neonDotprod, jobs: 2, force: true))
        let file = try ContainerFile(path: dir + "/q.qpack")
        let checks = try LayoutCheck.run(file, source: checkpoint)
        #expect(!checks.isEmpty && checks.allSatisfy { $0.violations == 0 })
        let report = try Verifier.verifyEncoder(
            container: file, reference: try FloatReference(checkpoint: checkpoint, path: TestPaths.miniLMPath).model(),
            packed: try RuntimeModel(path: file.path), samples: Self.samples().map { ($0.text, $0.ids) })
        #expect(report.layers.count == 36)
        #expect(report.layers.allSatisfy { $0.scheme == "qai4c32" && $0.execution == "qsi8d32pscalef32 x qai4c32p" })
        // Measured 0.970 mean (docs/accuracy.md); symmetric int4 is lower, int8 above 0.99.
        #expect(report.meanCosine > 0.95 && report.meanCosine < 0.995, "mean cosine \(report.meanCosine)")
    }
}
