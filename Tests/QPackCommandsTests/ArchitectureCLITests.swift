import Foundation
import QPackBinary
import QPackModel
import QPackTestSupport
import Testing

/// Checkpoints qpack cannot run are refused by `plan` and `convert` (exit 65, naming the
/// architecture or the tensors), converted only with --allow-unsupported, and then refused by
/// `verify`. The fixtures are tiny, well-formed files written by gguf-py and safetensors.
@Suite struct ArchitectureCLITests {
    static let unsupported: [(path: String, label: String, source: String)] = [
        ("architectures/gemma3.gguf", "gemma3", "general.architecture"),
        ("architectures/qwen2/model.safetensors", "qwen2", "config.json model_type"),
    ]

    @Test(arguments: unsupported)
    func unsupportedArchitectureIsRefusedUnlessAllowed(_ c: (path: String, label: String, source: String)) throws {
        let dir = try scratchDirectory("arch")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = TestPaths.fixture(c.path)
        let plan = try CLI.run(["plan", model])
        #expect(plan.status == 65)
        #expect(plan.stderr.contains("architecture '\(c.label)'") && plan.stderr.contains(c.source))
        #expect(plan.stderr.contains("supported: bert, llama"), "\(plan.stderr)")
        #expect(
            !plan.stderr.contains("error: error:") && plan.stderr.components(separatedBy: "error:").count == 2,
            "level printed once: \(plan.stderr)")

        let out = dir + "/m.qpack"
        let refused = try CLI.run(["convert", model, "-o", out])
        #expect(refused.status == 65 && refused.stderr.contains("architecture '\(c.label)'"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty, "no output when refused")

        let allowed = try CLI.run(["convert", model, "-o", out, "--allow-unsupported", "--quiet"])
        #expect(allowed.status == 0, "\(allowed.stderr)")
        let inspected = try CLI.run(["inspect", out, "--json"])
        let doc = try #require(try StrictJSONParser.parse(Array(inspected.stdout.utf8))["inputs"]?.items.first)
        #expect(doc["architecture"]?.string == c.label)
        #expect(doc["runnable"]?.bool == false)
        #expect(try CLI.run(["inspect", out]).stdout.contains("not runnable"))

        let verify = try CLI.run(["verify", out, "--source", model, "--run-sample", "hello"])
        #expect(verify.status == 65)
        #expect(
            verify.stderr.contains("--allow-unsupported") && verify.stderr.contains("cannot run"), "\(verify.stderr)")
    }

    /// One shard of a sharded BERT lacks tensors its graph needs: refused, naming them (the
    /// config's two layers tell which), and pointing at the index; the index itself converts.
    @Test func oneShardIsRefusedNamingTheMissingTensors() throws {
        let dir = try scratchDirectory("shard")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try CLI.run([
            "convert", TestPaths.fixture("architectures/bert-sharded/model-00001-of-00002.safetensors"), "-o",
            dir + "/a.qpack",
        ])
        #expect(first.status == 65)
        #expect(first.stderr.contains("16 tensors the bert graph needs are missing"), "\(first.stderr)")
        #expect(first.stderr.contains("'encoder.layer.1.attention.self.query.weight'"))
        #expect(first.stderr.contains("one shard of model.safetensors.index.json"))
        let second = try CLI.run([
            "plan", TestPaths.fixture("architectures/bert-sharded/model-00002-of-00002.safetensors"),
        ])
        #expect(
            second.status == 65 && second.stderr.contains("'embeddings.word_embeddings.weight'"), "\(second.stderr)")
        let whole = try CLI.run([
            "convert", TestPaths.fixture("architectures/bert-sharded/model.safetensors.index.json"), "-o",
            dir + "/b.qpack", "-q",
        ])
        #expect(whole.status == 0, "\(whole.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["b.qpack"])
    }

    /// Every tensor of a supported model is written with its slot (container 1.1), so readers
    /// need no naming convention: the sharded BERT's slots are the ones its names map to.
    @Test func everyTensorRecordsItsSlot() throws {
        let dir = try scratchDirectory("slots")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/b.qpack"
        #expect(
            try CLI.run([
                "convert", TestPaths.fixture("architectures/bert-sharded/model.safetensors.index.json"), "-o", out,
                "-q",
            ]).status == 0)
        let file = try [UInt8](Data(contentsOf: URL(fileURLWithPath: out)))
        func u64(_ at: Int) -> Int { (0..<8).reduce(0) { $0 | Int(file[at + $1]) << (8 * $1) } }
        #expect(file[10] == 1 && file[11] == 0, "minor version 1")
        let manifest = try StrictJSONParser.parse(Array(file[u64(16)..<(u64(16) + u64(24))]))
        let tensors = try #require(manifest["tensors"]?.items)
        #expect(manifest["model"]?["runnable"] == nil)
        let slots = Dictionary(uniqueKeysWithValues: tensors.map { ($0["name"]?.string ?? "", $0["slot"]?.string) })
        #expect(slots["embeddings.word_embeddings.weight"] == "token_embeddings")
        #expect(slots["encoder.layer.1.intermediate.dense.weight"] == "ffn.up.weight")
        #expect(slots["encoder.layer.0.attention.output.LayerNorm.bias"] == "attention_norm.bias")
        #expect(slots["pooler.dense.weight"] == "pooler.weight")
        #expect(slots.values.allSatisfy { $0 != nil })
        // inspect --json gives hyperparameters as numbers, and the normalised config.
        let inspected = try CLI.run(["inspect", out, "--json"])
        let doc = try #require(try StrictJSONParser.parse(Array(inspected.stdout.utf8))["inputs"]?.items.first)
        #expect(doc["hyperparameters"]?["hidden_size"]?.value == .number("32"))
        #expect(doc["hyperparameters"]?["hidden_act"]?.string == "gelu")
        #expect(doc["config"]?["layers"]?.value == .number("2") && doc["config"]?["heads"]?.int == 2)
    }

    /// The slot table of Formats/qpack-container.md §4.7.1 is the descriptors' table, row by row.
    @Test func specSlotTableMatchesTheDescriptors() throws {
        let spec = String(
            decoding: try TestPaths.read(TestPaths.repoRoot + "/Formats/qpack-container.md"), as: UTF8.self)
        let rows = spec.split(separator: "\n").filter { $0.hasPrefix("| `bert` |") || $0.hasPrefix("| `llama` |") }.map
        { line in
            line.split(separator: "|").map {
                $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "`", with: "")
            }
        }
        var expected: [[String]] = []
        for a in ModelArchitecture.supported {
            for s in a.slots {
                expected.append([
                    a.name, s.name, s.perLayer ? "yes" : "no", s.required ? "yes" : "no",
                    s.names[.huggingFace] ?? "—", s.names[.gguf] ?? "—",
                ])
            }
        }
        #expect(rows == expected)
    }
}

/// Every failure is reported once, as `qpack: error: <message>` (no second level inside the
/// message), with the exit code of its kind: 74 unreadable, 65 malformed or unsupported, 64 usage.
@Suite struct ErrorReportingCLITests {
    static let cases: [(args: [String], status: Int32)] = [
        (["inspect", "/nonexistent/model.gguf"], 74),
        (["plan", "/nonexistent/model.safetensors"], 74),
        (["inspect", TestPaths.fixture("malformed/G01-bad-magic.gguf")], 65),
        (["plan", TestPaths.fixture("malformed/S01-too-small.safetensors")], 65),
        (["plan", TestPaths.fixture("architectures/gemma3.gguf")], 65),
        (["plan", TestPaths.fixture("gguf/types.gguf"), "--allow-unsupported", "--strict"], 65),
        (
            ["convert", TestPaths.fixture("gguf/types.gguf"), "-o", "/nonexistent-dir/x.qpack", "--allow-unsupported"],
            74
        ),
        (["calibrate", "--merge", "/nonexistent/a.qcal", "/nonexistent/b.qcal", "-o", "/tmp/never.qcal"], 74),
    ]

    @Test(arguments: cases)
    func oneLevelOneFormatOneCode(_ c: (args: [String], status: Int32)) throws {
        let r = try CLI.run(c.args)
        #expect(r.status == c.status, "\(c.args): \(r.stderr)")
        let lines = r.stderr.split(separator: "\n").filter { $0.contains("error") }
        #expect(!lines.isEmpty)
        for line in lines {
            #expect(line.hasPrefix("qpack: error: "), "\(line)")
            #expect(line.components(separatedBy: "error:").count == 2, "level printed once: \(line)")
        }
    }
}

/// The normalised config takes what config.json gives, typed: a null is "not given", a value of
/// the wrong type stops the conversion (65) naming the key.
@Suite struct ConfigTypingCLITests {
    func copyOfShardedBERT(_ label: String, editing edit: (inout String) -> Void) throws -> String {
        let dir = try scratchDirectory(label)
        let source = TestPaths.fixture("architectures/bert-sharded")
        for f in try FileManager.default.contentsOfDirectory(atPath: source) {
            try FileManager.default.copyItem(atPath: source + "/" + f, toPath: dir + "/" + f)
        }
        var config = try String(contentsOfFile: dir + "/config.json", encoding: .utf8)
        edit(&config)
        try config.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
        return dir
    }

    @Test func nullIsNotGivenAndAWrongTypeIsAnError() throws {
        let withNull = try copyOfShardedBERT("null") {
            $0 = $0.replacingOccurrences(
                of: "\"hidden_act\": \"gelu\"", with: "\"hidden_act\": \"gelu\", \"pad_token_id\": null")
        }
        defer { try? FileManager.default.removeItem(atPath: withNull) }
        let ok = try CLI.run(["convert", withNull + "/model.safetensors.index.json", "-o", withNull + "/m.qpack", "-q"])
        #expect(ok.status == 0, "\(ok.stderr)")
        let wrong = try copyOfShardedBERT("wrong") {
            $0 = $0.replacingOccurrences(of: "\"hidden_size\": 32", with: "\"hidden_size\": \"32\"")
        }
        defer { try? FileManager.default.removeItem(atPath: wrong) }
        let bad = try CLI.run(["convert", wrong + "/model.safetensors.index.json", "-o", wrong + "/m.qpack"])
        #expect(
            bad.status == 65 && bad.stderr.contains("hyperparameter 'hidden_size' has the wrong type"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: wrong + "/m.qpack"))
    }
}
