import Foundation
import Testing
import QPackBinary
import QPackContainer
import QPackTestSupport

/// Runs the built `qpack` executable as a user would and checks exit codes, messages and output.
enum CLI {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// Runs qpack with `arguments`. A leading `--sh-ulimit-f N` runs it under `ulimit -f N`
    /// (a file-size limit in KiB), which makes writes fail with EFBIG like a full disk.
    static func run(_ arguments: [String]) throws -> Result {
        let process = Process()
        if arguments.first == "--sh-ulimit-f" {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments =
                ["-c", "ulimit -f \(arguments[1]); exec \"$0\" \"$@\"", TestPaths.qpackBinary] + arguments.dropFirst(2)
        } else {
            process.executableURL = URL(fileURLWithPath: TestPaths.qpackBinary)
            process.arguments = arguments
        }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes before waiting so a large output cannot block the child.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }
}

@Suite struct CLITests {
    @Test func binaryIsBuilt() {
        #expect(
            FileManager.default.isExecutableFile(atPath: TestPaths.qpackBinary), "run `swift build` before `swift test`"
        )
    }

    @Test func helpVersionAndCompletion() throws {
        let help = try CLI.run(["--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("inspect"))
        let sub = try CLI.run(["help", "inspect"])
        #expect(sub.status == 0)
        #expect(sub.stdout.contains("--stats"))
        let version = try CLI.run(["--version"])
        #expect(version.status == 0 && version.stdout.hasPrefix("0.1.0"))
        let libs = try CLI.run(["version"])
        #expect(libs.stdout.contains("libzstd 1.") && libs.stdout.contains("json-c 0."))
        let completion = try CLI.run(["--generate-completion-script", "bash"])
        #expect(completion.status == 0 && completion.stdout.contains("_qpack"))
    }

    @Test(arguments: [
        ["inspect"],
        ["inspect", "--bins", "0", "x.gguf"],
        ["frobnicate"],
        ["inspect", "--no-such-flag", "x.gguf"],
    ])
    func usageErrorsExit64(_ arguments: [String]) throws {
        let r = try CLI.run(arguments)
        #expect(r.status == 64, "\(r.stderr)")
        #expect(!r.stderr.isEmpty)
    }

    @Test func unknownTensorNameIsAUsageError() throws {
        let r = try CLI.run(["inspect", TestPaths.fixture("gguf/types.gguf"), "--tensor", "nope"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("no tensor named 'nope'"))
    }

    @Test func missingFileIsAnIOError() throws {
        let r = try CLI.run(["inspect", "/nonexistent/model.safetensors"])
        #expect(r.status == 74)
        #expect(
            r.stderr.hasPrefix("qpack: error: model.safetensors: file: /nonexistent/model.safetensors: cannot open"))
    }

    static let malformed: [(file: String, kind: String)] = {
        guard let doc = try? TestPaths.json(TestPaths.fixture("malformed/expected.json")) else { return [] }
        return doc["cases"]!.items.filter { $0["generated"]?.bool != true }.map {
            ($0["file"]!.string!, $0["kind"]!.string!)
        }
    }()

    /// Every malformed fixture: exit 65 (74 for what cannot be opened), one error line naming the
    /// file, nothing on stdout, no crash.
    @Test func malformedInputsExit65() throws {
        #expect(Self.malformed.count >= 40)
        for c in Self.malformed {
            let r = try CLI.run(["inspect", TestPaths.fixture("malformed/" + c.file)])
            #expect(r.status == (c.kind == "io" ? 74 : 65), "\(c.file): \(r.status) \(r.stderr)")
            let name = c.file.split(separator: "/").last.map(String.init)!
            let shown = c.file.hasSuffix(".json") ? "" : name
            #expect(r.stderr.hasPrefix("qpack: error: " + shown), "\(c.file): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(c.file)")
            if c.kind != "io" { #expect(r.stderr.contains(" at offset "), "\(c.file): \(r.stderr)") }
            #expect(r.stdout.isEmpty, "\(c.file)")
        }
    }

    @Test(arguments: [
        "safetensors/dtypes.safetensors", "gguf/types.gguf", "gguf/metadata.gguf",
        "safetensors/sharded/model.safetensors.index.json",
    ])
    func textOutputFitsEightyColumns(_ fixture: String) throws {
        let r = try CLI.run(["inspect", TestPaths.fixture(fixture), "--stats"])
        #expect(r.status == 0, "\(r.stderr)")
        for line in r.stdout.split(separator: "\n") where !line.hasPrefix("/") {
            #expect(line.count <= 80, "\(line.count) columns: \(line)")
        }
    }

    @Test func jsonFollowsTheDocumentedSchema() throws {
        let r = try CLI.run([
            "inspect", "--json", TestPaths.fixture("safetensors/dtypes.safetensors"),
            TestPaths.fixture("gguf/types.gguf"),
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try StrictJSONParser.parse(Array(r.stdout.utf8))
        #expect(doc["schema"]?.string == "qpack-inspect/1")
        let inputs = doc["inputs"]!.items
        #expect(inputs.count == 2)
        #expect(inputs[0]["format"]?.string == "safetensors")
        #expect(inputs[0]["tensor_count"]?.int == 12)
        #expect(inputs[1]["format"]?.string == "gguf")
        #expect(inputs[1]["version"]?.int == 3)
        let first = inputs[1]["tensors"]!.items[0]
        for key in ["name", "type", "shape", "parameters", "bytes", "offset", "file"] {
            #expect(first[key] != nil, "tensor field \(key)")
        }
        for key in ["path", "files", "file_bytes", "parameter_count", "tensor_bytes", "types", "metadata", "warnings"] {
            #expect(inputs[1][key] != nil, "report field \(key)")
        }
    }

    @Test func outputIsDeterministic() throws {
        let args = ["inspect", "--json", "--stats", TestPaths.fixture("gguf/types.gguf")]
        #expect(try CLI.run(args).stdout == CLI.run(args).stdout)
    }

    @Test(.enabled(if: TestPaths.runModelTests))
    func realModelsInspectAndStatsMatchReferences() throws {
        let mini = try CLI.run(["inspect", TestPaths.miniLMPath])
        #expect(mini.status == 0, "\(mini.stderr)")
        #expect(mini.stdout.contains("Tensors (104):"))
        #expect(mini.stdout.contains("bert (BertModel)"))
        let smol = try CLI.run(["inspect", TestPaths.smolLMPath, "--filter", "blk.0.*", "--json"])
        #expect(smol.status == 0, "\(smol.stderr)")
        let report = try StrictJSONParser.parse(Array(smol.stdout.utf8))["inputs"]!.items[0]
        #expect(report["tensor_count"]?.int == 272)
        #expect(report["tensors"]?.items.count == 9)
        #expect(report["model"]?["architecture"]?.string == "llama")
        #expect(report["model"]?["block_count"]?.int == 30)
        #expect(report["model"]?["embedding_length"]?.int == 576)
        #expect(report["tokenizer"]?["tokens"]?.int == 49152)
        for path in [TestPaths.miniLMPath, TestPaths.smolLMPath] {
            for line in try CLI.run(["inspect", path]).stdout.split(separator: "\n") where !line.hasPrefix("/") {
                #expect(line.count <= 80, "\(line)")
            }
        }
        let stats = try CLI.run([
            "inspect", TestPaths.smolLMPath, "--tensor", "blk.0.attn_q.weight", "--stats", "--json",
        ])
        let s = try StrictJSONParser.parse(Array(stats.stdout.utf8))["inputs"]!.items[0]["tensors"]!.items[0]["stats"]!
        let want = try TestPaths.json(TestPaths.fixture("real-models/expected.json"))["smollm2"]!["stats"]![
            "blk.0.attn_q.weight"]!
        #expect(s["min"]?.double == want["min"]!.double)
        #expect(s["max"]?.double == want["max"]!.double)
        #expect(s["zeros"]?.int == want["zeros"]!.int)
        #expect(abs(s["mean"]!.double! - want["mean"]!.double!) < 1e-12)
        #expect(abs(s["std"]!.double! / want["std"]!.double! - 1) < 1e-9)
    }
}

/// `inspect` of a .qpack checks every section's SHA-256: a flipped byte in tensor data is an
/// error naming the section and offset (65), not a clean summary.
@Suite struct InspectChecksumCLITests {
    @Test func aFlippedDataByteFailsInspect() throws {
        let dir = try scratchDirectory("inspect-flip")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var bytes = try TestPaths.read(TestPaths.fixture("qpack/types.qpack"))
        let ok = try CLI.run(["inspect", TestPaths.fixture("qpack/types.qpack")])
        #expect(ok.status == 0 && ok.stdout.contains("every SHA-256 checked"))
        bytes[200] ^= 0x01  // inside the first section (tensor data starts at 64)
        let path = dir + "/flip.qpack"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let r = try CLI.run(["inspect", path])
        #expect(
            r.status == 65 && r.stderr.contains("checksum mismatch") && r.stderr.contains("offset 64"), "\(r.stderr)")
    }
}

/// `verify --ids` needs no tokenizer: on a model converted without one it runs, continuations
/// shown as ids; text samples still need the tokenizer.
@Suite struct VerifyIdsWithoutTokenizerCLITests {
    @Test func idsRunWithoutATokenizer() throws {
        let dir = try scratchDirectory("verify-ids")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = TestPaths.fixture("architectures/tiny-llama/model.safetensors"), out = dir + "/t.qpack"
        #expect(try CLI.run(["convert", source, "-o", out, "--quiet"]).status == 0)
        let r = try CLI.run(["verify", out, "--source", source, "--ids", "1,2,3,4", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let sample = try StrictJSONParser.parse(Array(r.stdout.utf8))["samples"]?.items.first
        #expect(sample?["tokens"]?.int == 4 && sample?["continuation_packed"]?.string?.hasPrefix("ids: ") == true)
        let text = try CLI.run(["verify", out, "--source", source, "--run-sample", "hello"])
        #expect(text.status != 0 && text.stderr.contains("tokenizer"), "\(text.stderr)")
    }
}

/// `plan --wide` never shortens names; `plan --explain --json` is JSON.
@Suite struct PlanWidthAndExplainJSONCLITests {
    @Test func wideNamesAndExplainJSON() throws {
        let model = TestPaths.fixture("architectures/tiny-llama/model.safetensors")
        let narrow = try CLI.run(["plan", model]), wide = try CLI.run(["plan", model, "--wide"])
        #expect(narrow.status == 0 && wide.status == 0)
        #expect(wide.stdout.contains("model.layers.0.post_attention_layernorm.weight"))
        #expect(narrow.stdout.split(separator: "\n").allSatisfy { $0.count <= 80 || !$0.contains("…") })
        let explain = try CLI.run(["plan", "--explain", "--json", TestPaths.fixture("qpack/static.qpack")])
        let doc = try StrictJSONParser.parse(Array(explain.stdout.utf8))
        #expect(doc["schema"]?.string == "qpack-plan-explain/1" && doc["budget"]?.isNull == true)
        let statics = try #require(doc["static_activations"]?.items)
        #expect(statics.count == 6 && statics.allSatisfy { $0["observer"]?.string == "minmax" })
        #expect(statics.first?["tensor"]?.string == "t.f32" && statics.first?["min"]?.double == -0.5)
    }
}

/// Files that are not a checkpoint qpack reads get a sentence saying what they are and what to
/// give instead (exit 65), not a safetensors header error.
@Suite struct UnknownInputCLITests {
    @Test func unknownFormatsAreNamed() throws {
        let dir = try scratchDirectory("unknown-inputs")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // An ONNX ModelProto starts with ir_version (field 1, varint) then producer_name (field 2).
        try Data([0x08, 0x07, 0x12, 0x07] + Array("pytorch".utf8)).write(to: URL(fileURLWithPath: dir + "/model.onnx"))
        try Data([0x50, 0x4B, 0x03, 0x04, 0, 0, 0, 0, 0, 0]).write(to: URL(fileURLWithPath: dir + "/pytorch_model.bin"))
        try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: true)
        let cases: [(String, String)] = [
            (dir + "/model.onnx", "ONNX models are not supported"),
            (dir + "/pytorch_model.bin", "save the model as safetensors"),
            (TestPaths.fixture("calibration/types.qcal"), "--calibration-stats"),
            (TestPaths.fixture("qpack/types.qpack"), "already converted"),
            (TestPaths.fixture("tokenizers/sentences.txt"), "a text file, not a model"),
            (dir + "/empty", "no model in it"),
        ]
        for (path, message) in cases {
            let r = try CLI.run(["convert", path, "-o", dir + "/out.qpack", "--quiet"])
            #expect(r.status == 65 && r.stderr.contains(message), "\(path): \(r.status) \(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/out.qpack"))
    }
}

/// A Hugging Face model directory is a model: inspect, plan, convert and calibrate take it for a
/// Llama (model.safetensors) as for a BERT (a sharded index), reading config.json and the
/// tokenizer beside the model file, and convert writes the same bytes as for the file itself.
@Suite struct ModelDirectoryCLITests {
    @Test func directoriesAreModels() throws {
        let dir = try scratchDirectory("model-directories")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (model, file) in [
            ("architectures/tiny-llama", "model.safetensors"),
            ("architectures/bert-sharded", "model.safetensors.index.json"),
        ] {
            let directory = TestPaths.fixture(model)
            for command in ["inspect", "plan"] {
                let r = try CLI.run([command, directory])
                #expect(r.status == 0 && r.stdout.contains(file), "\(command) \(model): \(r.stderr)")
            }
            let a = dir + "/dir.qpack", b = dir + "/file.qpack"
            #expect(try CLI.run(["convert", directory, "-o", a, "--quiet", "--force"]).status == 0)
            #expect(try CLI.run(["convert", directory + "/" + file, "-o", b, "--quiet", "--force"]).status == 0)
            #expect(
                try Data(contentsOf: URL(fileURLWithPath: a)) == Data(contentsOf: URL(fileURLWithPath: b)), "\(model)")
            let inspected = try CLI.run(["inspect", a])
            #expect(inspected.status == 0 && inspected.stdout.contains("architecture"), "\(model)")
        }
        // Calibration from the directory, with token ids: the fixture has no tokenizer, which ids do
        // not need (text is refused, naming what is missing).
        try Data("1,2,3,4,5\n6,7,8,9\n".utf8).write(to: URL(fileURLWithPath: dir + "/samples.ids"))
        let llama = TestPaths.fixture("architectures/tiny-llama")
        let calibrated = try CLI.run(["calibrate", llama, "--calibration", dir + "/samples.ids", "-o", dir + "/t.qcal"])
        #expect(calibrated.status == 0 && calibrated.stdout.contains("9 tokens"), "\(calibrated.stderr)")
        let text = try CLI.run(["calibrate", llama, "--calibration", "licenses:calibration", "-o", dir + "/u.qcal"])
        #expect(text.status == 65 && text.stderr.contains("no tokenizer to encode text"), "\(text.stderr)")
    }
}

/// A BERT directory with the tokenizer.json its package ships and no vocab.txt: the container's
/// vocabulary is byte for byte the package's own vocab.txt, and the model embeds as the one
/// converted with vocab.txt. A tokenizer.json the runtime's WordPiece would read differently is
/// refused naming the field.
@Suite(.enabled(if: TestPaths.runModelTests, "real models absent"))
struct BERTTokenizerJSONTests {
    @Test func tokenizerJSONGivesTheVocabulary() throws {
        let fm = FileManager.default
        let dir = try scratchDirectory("bert-tokenizer-json")
        defer { try? fm.removeItem(atPath: dir) }
        let model = dir + "/model"
        try fm.createDirectory(atPath: model, withIntermediateDirectories: true)
        let minilm = TestPaths.modelsDirectory + "/all-MiniLM-L6-v2"
        try fm.createSymbolicLink(
            atPath: model + "/model.safetensors", withDestinationPath: minilm + "/model.safetensors")
        try fm.copyItem(atPath: minilm + "/config.json", toPath: model + "/config.json")
        let json = TestPaths.modelsDirectory + "/all-MiniLM-L6-v2-tokenizer-json/tokenizer.json"
        try fm.copyItem(atPath: json, toPath: model + "/tokenizer.json")
        let out = dir + "/m.qpack"
        let c = try CLI.run(["convert", model, "-o", out, "--quiet"])
        #expect(c.status == 0, "\(c.stderr)")
        let file = try ContainerFile(path: out)
        #expect(try file.sectionBytes("tokenizer.vocab") == TestPaths.read(minilm + "/vocab.txt"))
        #expect(file.manifest["tokenizer"]?["lower_case"]?.bool == true)
        #expect(file.manifest["tokenizer"]?["vocab_size"]?.int == 30522)
        let reference = dir + "/r.qpack"
        #expect(try CLI.run(["convert", TestPaths.miniLMPath, "-o", reference, "--quiet"]).status == 0)
        let text = "Korean: 한국어 문장, and accents: café"
        let a = try CLI.run(["embed", out, text, "--json"]), b = try CLI.run(["embed", reference, text, "--json"])
        #expect(a.status == 0 && a.stdout == b.stdout)
        // The same file with another subword prefix: refused, naming the field.
        let original = try String(contentsOfFile: json, encoding: .utf8)
        try original.replacingOccurrences(
            of: "\"continuing_subword_prefix\":\"##\"", with: "\"continuing_subword_prefix\":\"@@\""
        )
        .write(toFile: model + "/tokenizer.json", atomically: true, encoding: .utf8)
        let refused = try CLI.run(["convert", model, "-o", dir + "/x.qpack", "--quiet"])
        #expect(refused.status == 65 && refused.stderr.contains("continuing_subword_prefix"), "\(refused.stderr)")
    }
}

/// `qpack inspect stats.qcal`: the data it came from and per linear input the observed range (the
/// file's own min and max) and each observer's clip range, in text and JSON.
@Suite struct CalibrationInspectCLITests {
    @Test func qcalFilesAreInspected() throws {
        let path = TestPaths.fixture("calibration/types.qcal")
        let file = try StrictJSONParser.parse(TestPaths.read(path))
        let text = try CLI.run(["inspect", path])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("qpack-calibration") && text.stdout.contains("PERCENTILE(99.99)"))
        let r = try CLI.run(["inspect", path, "--json"])
        #expect(r.status == 0)
        let doc = try StrictJSONParser.parse(Array(r.stdout.utf8))
        let report = try #require(doc["inputs"]?.items.first)
        #expect(report["kind"]?.string == "calibration")
        #expect(report["architecture"]?.string == file["architecture"]?.string)
        #expect(report["data"]?.items.map { $0["sha256"]?.string } == file["data"]?.items.map { $0["sha256"]?.string })
        let linears = try #require(report["linears"]?.items)
        let given = try #require(file["linears"]?.items)
        #expect(linears.count == given.count && !linears.isEmpty)
        for (l, g) in zip(linears, given) {
            #expect(l["tensor"]?.string == g["tensor"]?.string)
            #expect(l["min"]?.double == g["min"]?.double && l["max"]?.double == g["max"]?.double)
            // minmax clips to the observed range widened to hold 0; every observer stays inside it.
            let lo = min(0, g["min"]?.double ?? 0), hi = max(0, g["max"]?.double ?? 0)
            #expect(l["ranges"]?["minmax"]?.items.map(\.double) == [lo, hi])
            for observer in ["percentile(99.99)", "entropy", "mse"] {
                let range = l["ranges"]?[observer]?.items.compactMap(\.double) ?? []
                #expect(range.count == 2 && range[0] >= lo && range[1] <= hi && range[0] <= 0 && range[1] >= 0)
            }
        }
    }
}

/// A saved .qcal serves a budget: the samples it records are loaded again (checked against their
/// SHA-256) and the search measures on them, choosing what calibrating afresh on the same data
/// chooses; a .qcal whose data cannot be found as it was is refused (64), nothing written.
@Suite(.enabled(if: TestPaths.runModelTests, "real models absent"))
struct CalibrationStatsBudgetCLITests {
    @Test func qcalGivesTheBudgetItsSamples() throws {
        let dir = try scratchDirectory("qcal-budget")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let data = ["--calibration", "licenses:calibration", "--samples", "3", "--seq-len", "64"]
        // All-int4 rules, so that the budget has promotions to make.
        let int4 = ["--rules", TestPaths.fixture("rules/all-int4.yaml")]
        let stats = dir + "/m.qcal"
        #expect(try CLI.run(["calibrate", TestPaths.miniLMPath] + data + ["-o", stats, "--quiet"]).status == 0)
        let fromStats = try CLI.run(
            [
                "convert", TestPaths.miniLMPath, "-o", dir + "/a.qpack", "--calibration-stats", stats, "--min-cosine",
                "0.99", "--quiet",
            ] + int4)
        #expect(fromStats.status == 0, "\(fromStats.stderr)")
        let fresh = try CLI.run(
            ["convert", TestPaths.miniLMPath, "-o", dir + "/b.qpack", "--min-cosine", "0.99", "--quiet"] + data + int4)
        #expect(fresh.status == 0, "\(fresh.stderr)")
        let a = try ContainerFile(path: dir + "/a.qpack"), b = try ContainerFile(path: dir + "/b.qpack")
        #expect(a.tensors.map(\.scheme) == b.tensors.map(\.scheme))
        #expect(a.tensors.contains { $0.promotion != nil }, "the budget promoted nothing: the test proves little")
        // The same statistics naming samples that are not there any more.
        let text = try String(contentsOfFile: stats, encoding: .utf8)
        let digest = try #require(text.range(of: #""sha256":""#).map { text[$0.upperBound...].prefix(64) })
        try text.replacingOccurrences(of: String(digest), with: String(repeating: "0", count: 64))
            .write(toFile: dir + "/other.qcal", atomically: true, encoding: .utf8)
        let refused = try CLI.run(
            [
                "convert", TestPaths.miniLMPath, "-o", dir + "/c.qpack", "--calibration-stats", dir + "/other.qcal",
                "--min-cosine", "0.99", "--quiet",
            ] + int4)
        #expect(refused.status == 64 && refused.stderr.contains("not available as it was"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/c.qpack"))
    }
}

/// The weight scale search with calibration data: rules that name no search get the importance
/// search (the calibration's mean x² per input channel weights each error), recorded per tensor;
/// `--search` still overrides every rule.
@Suite struct CalibratedSearchDefaultCLITests {
    @Test func calibrationMakesTheOpenSearchImportance() throws {
        let dir = try scratchDirectory("calibrated-search")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("1,2,3,4,5,6,7,8\n9,10,11,12,13\n".utf8).write(to: URL(fileURLWithPath: dir + "/s.ids"))
        let model = TestPaths.fixture("architectures/tiny-llama")
        let rules = ["--rules", TestPaths.fixture("rules/all-int4.yaml")]
        for (extra, wanted) in [([String](), "importance"), (["--search", "mse"], "mse")] {
            let out = dir + "/m.qpack"
            let c = try CLI.run(
                ["convert", model, "-o", out, "--force", "-q", "--calibration", dir + "/s.ids"] + rules + extra)
            #expect(c.status == 0, "\(c.stderr)")
            let file = try ContainerFile(path: out)
            let searched = file.tensors.compactMap { $0.quantization?.search }
            #expect(!searched.isEmpty && searched.allSatisfy { $0 == wanted }, "\(extra): \(searched)")
        }
        // Without calibration data the rules' default (mse) stays.
        let plain = try CLI.run(["convert", model, "-o", dir + "/p.qpack", "-q"] + rules)
        #expect(plain.status == 0)
        let searched = try ContainerFile(path: dir + "/p.qpack").tensors.compactMap { $0.quantization?.search }
        #expect(!searched.isEmpty && searched.allSatisfy { $0 == "mse" }, "\(searched)")
    }
}

/// The budget search never returns a dominated mix: on MiniLM from all-int4, a 0.998 cosine
/// budget's cheapest mix (8.33 bits per weight) has more bits and more error than every linear at
/// int8 (8.23), so the search takes the uniform plan, says so, and records it.
@Suite(.enabled(if: TestPaths.runModelTests, "real models absent"))
struct UndominatedBudgetCLITests {
    @Test func aUniformPlanThatBeatsTheMixIsChosen() throws {
        let dir = try scratchDirectory("undominated")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/m.qpack"
        let r = try CLI.run([
            "convert", TestPaths.miniLMPath, "-o", out, "--rules", TestPaths.fixture("rules/all-int4.yaml"),
            "--calibration", "licenses:calibration", "--samples", "8", "--seq-len", "64", "--min-cosine", "0.998",
            "--sensitivity", "local",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("dominates the mix"), "\(r.stderr)")
        let file = try ContainerFile(path: out)
        let budget = try #require(file.manifest["provenance"]?["budget"])
        #expect(budget["uniform_rung"]?.int == 2)
        let bits = try #require(budget["bits_per_weight"]?.double), measured = try #require(budget["measured"]?.double)
        // Nothing the search measured has both fewer bits and less error than what it chose.
        for e in budget["evaluations"]?.items ?? [] {
            let b = e["bits_per_weight"]?.double ?? 0, m = e["measured"]?.double ?? 0
            #expect(!(b <= bits && m <= measured && (b < bits || m < measured)), "dominated by \(b), \(m)")
        }
        // Every linear the graph runs (36; the pooler is not run) went from int4 to int8.
        let promoted = file.tensors.filter { $0.promotion != nil }
        #expect(promoted.count == 36 && promoted.allSatisfy { $0.scheme.name == "qsi8cx" })
    }
}

/// Never destroy data: an output that is one of the command's inputs (by inode, through any
/// path or link) is refused even with --force, a FIFO is never replaced, and verify --output
/// follows convert's rules (--force to replace). The inputs stay byte for byte.
@Suite struct OutputPolicyCLITests {
    @Test func outputsNeverReplaceInputsOrSpecialFiles() throws {
        let fm = FileManager.default
        let dir = try scratchDirectory("output-policy")
        defer { try? fm.removeItem(atPath: dir) }
        let model = dir + "/model.safetensors"
        try fm.copyItem(atPath: TestPaths.fixture("architectures/tiny-llama/model.safetensors"), toPath: model)
        try fm.copyItem(atPath: TestPaths.fixture("architectures/tiny-llama/config.json"), toPath: dir + "/config.json")
        try fm.createSymbolicLink(atPath: dir + "/link.qpack", withDestinationPath: model)
        let before = try TestPaths.read(model)
        for output in [model, dir + "/link.qpack", dir + "/config.json"] {
            let r = try CLI.run(["convert", model, "-o", output, "--force", "-q"])
            #expect(r.status == 64 && r.stderr.contains("is also an input"), "\(output): \(r.stderr)")
        }
        #expect(try TestPaths.read(model) == before)
        #expect(mkfifo(dir + "/fifo", 0o600) == 0)
        let fifo = try CLI.run(["convert", model, "-o", dir + "/fifo", "--force", "-q"])
        #expect(fifo.status == 64 && fifo.stderr.contains("FIFO"), "\(fifo.stderr)")
        var st = stat()
        #expect(lstat(dir + "/fifo", &st) == 0 && (st.st_mode & S_IFMT) == S_IFIFO)
        // verify --output: an existing file needs --force; the model or the container never.
        let packed = dir + "/m.qpack"
        #expect(try CLI.run(["convert", model, "-o", packed, "-q"]).status == 0)
        try Data("keep".utf8).write(to: URL(fileURLWithPath: dir + "/out.safetensors"))
        let verify = ["verify", packed, "--source", model, "--ids", "1,2,3", "--output"]
        let exists = try CLI.run(verify + [dir + "/out.safetensors"])
        #expect(exists.status == 64 && exists.stderr.contains("--force"), "\(exists.stderr)")
        #expect(try TestPaths.read(dir + "/out.safetensors") == Array("keep".utf8))
        #expect(try CLI.run(verify + [dir + "/out.safetensors", "--force"]).status == 0)
        for input in [model, packed] {
            let r = try CLI.run(verify + [input, "--force"])
            #expect(r.status == 64 && r.stderr.contains("is also an input"), "\(input): \(r.stderr)")
        }
        #expect(try TestPaths.read(model) == before)
        // calibrate -o onto the model.
        try Data("1,2,3,4\n".utf8).write(to: URL(fileURLWithPath: dir + "/s.ids"))
        let cal = try CLI.run(["calibrate", model, "--calibration", dir + "/s.ids", "-o", model, "--force"])
        #expect(cal.status == 64 && cal.stderr.contains("is also an input"), "\(cal.stderr)")
        #expect(try TestPaths.read(model) == before)
    }
}
