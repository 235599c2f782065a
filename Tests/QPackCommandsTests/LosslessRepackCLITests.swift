import Foundation
import Testing
import QPackBinary
import QPackTestSupport

/// `qpack verify` on a Q4_0 copy of SmolLM2 (written by gguf-py): converted with q4_0-repack by
/// default, every repacked linear runs through the qsi8d32p x qsi4c32p kernels, KL stated.
@Suite(.enabled(if: TestPaths.runModelTests, "real models absent"))
struct LosslessRepackCLITests {
    @Test func q4_0CopyVerifiesThroughTheQsi8d32pKernels() throws {
        let dir = try scratchDirectory("q4_0-repack")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/q4_0.qpack", source = TestPaths.smolLMQ4_0Path
        let plan = try CLI.run(["plan", source])
        #expect(plan.status == 0 && plan.stdout.contains("Q4_0 lossless"), "\(plan.stdout)")
        #expect(try CLI.run(["convert", source, "-o", out, "--quiet"]).status == 0)
        let r = try CLI.run(["verify", out, "--source", source, "--run-sample", "The capital of France is", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try StrictJSONParser.parse(Array(r.stdout.utf8))
        let rows = try #require(doc["layers"]?.items).filter { $0["scheme"]?.string == "q4_0-repack" }
        #expect(rows.count == 180)
        #expect(rows.allSatisfy { $0["execution"]?.string == "qsi8d32p x qsi4c32pscalef16" })
        #expect(rows.allSatisfy { ($0["relative_rmse"]?.double ?? 0) > 0 }, "activations are quantized per block")
        let kl = try #require(doc["samples"]?.items.first?["mean_kl"]?.double)
        #expect(kl > 0 && kl < 0.1, "mean KL \(kl)")
        let text = try CLI.run(["verify", out, "--source", source, "--run-sample", "The capital of France is"])
        #expect(text.stdout.contains("RUN AS") && text.stdout.contains("qsi8d32p x qsi4c32pscalef16"))
    }
}
