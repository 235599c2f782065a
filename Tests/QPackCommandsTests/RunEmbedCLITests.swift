import Foundation
import Testing
import QPackBinary
import QPackTestSupport

/// `qpack run` and `qpack embed`: the C runtime's model API (qp_model_open) end to end, giving
/// what verify's Swift path gives.
@Suite(.enabled(if: TestPaths.runModelTests, "real models absent"), .serialized)
struct RunEmbedCLITests {
    @Test func runContinuesAsVerifyAndSamplesFromASeed() throws {
        let dir = try scratchDirectory("run")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/s.qpack", prompt = "The capital of France is"
        #expect(try CLI.run(["convert", TestPaths.smolLMPath, "-o", out, "--quiet"]).status == 0)
        let verify = try CLI.run([
            "verify", out, "--source", TestPaths.smolLMPath, "--run-sample", prompt, "--continuation", "8", "--json",
        ])
        let packed = try #require(
            StrictJSONParser.parse(Array(verify.stdout.utf8))["samples"]?.items.first?["continuation_packed"]?.string)
        let greedy = try CLI.run(["run", out, "--prompt", prompt, "--max-tokens", "8"])
        #expect(greedy.status == 0, "\(greedy.stderr)")
        #expect(greedy.stdout == packed && packed.hasPrefix(" Paris"), "run: \(greedy.stdout), verify: \(packed)")
        #expect(greedy.stderr.contains("time to first token") && greedy.stderr.contains("tokens/s"))
        let sample = [
            "run", out, "--prompt", "Once upon a time", "--max-tokens", "12", "--temperature", "0.9", "--seed",
        ]
        let a = try CLI.run(sample + ["7", "--quiet"]), b = try CLI.run(sample + ["7", "--quiet"])
        #expect(a.status == 0 && a.stdout == b.stdout && !a.stdout.isEmpty && a.stderr.isEmpty)
        let others = try (1...4).map { try CLI.run(sample + [String($0), "--quiet"]).stdout }
        #expect(Set(others + [a.stdout]).count > 1, "every seed gave the same text")
        #expect(try CLI.run(["run", out, "--prompt", prompt, "--top-p", "1.5"]).status == 64)
        #expect(try CLI.run(["embed", out, "text"]).status == 64)
        // A threshold of the other kind of model would never be checked: refused, not passed.
        let wrong = try CLI.run([
            "verify", out, "--source", TestPaths.smolLMPath, "--run-sample", prompt, "--min-cosine", "0.9",
        ])
        #expect(wrong.status == 64 && wrong.stderr.contains("--min-cosine applies to encoders"))
    }

    @Test func embedGivesVerifysPackedEmbedding() throws {
        let dir = try scratchDirectory("embed")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/m.qpack", tensors = dir + "/out.safetensors", text = "A man is eating food."
        #expect(try CLI.run(["convert", TestPaths.miniLMPath, "-o", out, "--quiet"]).status == 0)
        let r = try CLI.run([
            "verify", out, "--source", TestPaths.miniLMPath, "--run-sample", text, "--output", tensors,
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let bytes = try TestPaths.read(tensors)
        let headerLength = Int(bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        let entry = try #require(StrictJSONParser.parse(Array(bytes[8..<(8 + headerLength)]))["packed.embeddings"])
        let start = 8 + headerLength + entry["data_offsets"]!.items[0].int!
        let verified = (0..<384).map { i in
            Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[start + 4 * i + $1]) << (8 * $1) })
        }
        let embed = try CLI.run(["embed", out, text, "Another sentence.", "--json"])
        #expect(embed.status == 0, "\(embed.stderr)")
        let rows = try #require(StrictJSONParser.parse(Array(embed.stdout.utf8))["embeddings"]?.items)
        #expect(rows.count == 2 && rows[0]["text"]?.string == text && rows[0]["tokens"]?.int == 8)
        let values = rows[0]["embedding"]!.items.compactMap { $0.double.map(Float.init) }
        #expect(values == verified, "qpack embed differs from verify's packed embedding")
        let plain = try CLI.run(["embed", out, text])
        #expect(plain.stdout.split(separator: "\n").first?.split(separator: " ").compactMap { Float($0) } == verified)
        #expect(try CLI.run(["run", out, "--prompt", "x"]).status == 64)
        let wrong = try CLI.run([
            "verify", out, "--source", TestPaths.miniLMPath, "--run-sample", text, "--max-kl", "0.5",
        ])
        #expect(wrong.status == 64 && wrong.stderr.contains("--max-kl applies to decoders"))
    }
}
