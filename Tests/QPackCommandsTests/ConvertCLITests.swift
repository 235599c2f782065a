import Foundation
import Testing
import QPackBinary
import QPackTestSupport

func scratchDirectory(_ label: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
        "qpack-cli-\(label)-\(getpid())-\(UUID().uuidString.prefix(8))"
    ).path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// `qpack plan` and `qpack convert` as a user runs them.
@Suite struct ConvertCLITests {
    @Test func planJSONAndPrintRules() throws {
        let rules = try CLI.run(["plan", "--print-rules"])
        #expect(rules.status == 0 && rules.stdout.contains("name: linear-int4"))
        let r = try CLI.run(["plan", TestPaths.fixture("gguf/types.gguf"), "--json", "--allow-unsupported"])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try StrictJSONParser.parse(Array(r.stdout.utf8))
        #expect(doc["schema"]?.string == "qpack-plan/1")
        #expect(doc["plan"]?["entries"]?.items.count == 14)
    }

    @Test func badRulesFileExits65WithItsLine() throws {
        let dir = try scratchDirectory("rules")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "version: 1\nrules:\n  - name: a\n    scheme: int3\n".write(
            toFile: dir + "/r.yaml", atomically: true, encoding: .utf8)
        let r = try CLI.run(["plan", TestPaths.fixture("gguf/types.gguf"), "--rules", dir + "/r.yaml"])
        #expect(r.status == 65)
        #expect(r.stderr.contains("r.yaml:4:") && r.stderr.contains("unknown scheme 'int3'"))
    }

    @Test func misfitWithoutFallbackExits65NamingTheTensor() throws {
        let dir = try scratchDirectory("misfit")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "version: 1\nrules: [{name: b256, scheme: qsi4c32b256}]\n".write(
            toFile: dir + "/r.yaml", atomically: true, encoding: .utf8)
        let r = try CLI.run([
            "convert", TestPaths.fixture("safetensors/sharded/model.safetensors.index.json"), "-o", dir + "/x.qpack",
            "--rules", dir + "/r.yaml",
        ])
        #expect(r.status == 65)
        #expect(
            r.stderr.contains("tensor 'layer.0.weight'")
                && r.stderr.contains("K = 8 is not a multiple of the qsi4c32b256 block length 256"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["r.yaml"])
    }

    /// A checkpoint with more tensors than a container may hold is refused before any work (it
    /// took minutes and a gigabyte to fail on the manifest's size), and nothing is written.
    @Test func tooManyTensorsAreRefusedBeforeConverting() throws {
        let dir = try scratchDirectory("many")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var header = "{"
        for i in 0..<100_001 {
            header += (i > 0 ? "," : "") + "\"t\(i)\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}"
        }
        header += "}"
        let length = UInt64(header.utf8.count)
        let bytes = (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * UInt64($0))) } + Array(header.utf8)
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/many.safetensors"))
        let r = try CLI.run([
            "convert", dir + "/many.safetensors", "--allow-unsupported", "-o", dir + "/out.qpack", "--quiet",
        ])
        #expect(r.status == 65)
        #expect(r.stderr.contains("100001 tensors exceed the container's limit of 100000"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/out.qpack"))
    }

    @Test func existingOutputNeedsForce() throws {
        let dir = try scratchDirectory("force")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/t.qpack"
        try "previous".write(toFile: out, atomically: true, encoding: .utf8)
        let r = try CLI.run(["convert", TestPaths.fixture("gguf/types.gguf"), "-o", out, "--allow-unsupported"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("already exists (use --force"))
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "previous")
        let forced = try CLI.run([
            "convert", TestPaths.fixture("gguf/types.gguf"), "-o", out, "--force", "--quiet", "--allow-unsupported",
        ])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(forced.stdout.isEmpty)
        let inspected = try CLI.run(["inspect", out, "--json"])
        let doc = try StrictJSONParser.parse(Array(inspected.stdout.utf8))["inputs"]!.items[0]
        #expect(doc["format"]?.string == "qpack")
        #expect(doc["tensor_count"]?.int == 14)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["t.qpack"])
    }

    /// The provenance names every input file with the digest asked for, over its whole
    /// content: XXH64 by default (the one-shot hash is pinned by xxHash's reference vectors),
    /// SHA-256 on request (checked against coreutils' sha256sum). The manifest is found from
    /// the header alone, as the spec says.
    @Test func inputDigestsCoverEveryInputFile() throws {
        let dir = try scratchDirectory("digest")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = TestPaths.fixture("safetensors/sharded/model.safetensors.index.json")
        let shards = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
        for (flag, member) in [([], "xxh64"), (["--input-digest", "sha256"], "sha256")] {
            let out = dir + "/\(member).qpack"
            let r = try CLI.run(["convert", model, "-o", out, "--quiet", "--allow-unsupported"] + flag)
            #expect(r.status == 0, "\(r.stderr)")
            let file = try [UInt8](Data(contentsOf: URL(fileURLWithPath: out)))
            func u64(_ at: Int) -> Int { (0..<8).reduce(0) { $0 | Int(file[at + $1]) << (8 * $1) } }
            let manifest = try StrictJSONParser.parse(Array(file[u64(16)..<(u64(16) + u64(24))]))
            let inputs = try #require(manifest["provenance"]?["inputs"]?.items)
            let named = Set(inputs.compactMap { $0["file"]?.string })
            #expect(named.isSuperset(of: shards))
            for input in inputs {
                let name = try #require(input["file"]?.string)
                let bytes = try [UInt8](
                    Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("safetensors/sharded/" + name))))
                #expect(input["bytes"]?.int == bytes.count)
                #expect(input[member == "xxh64" ? "sha256" : "xxh64"] == nil, "one digest per input")
                if member == "xxh64" {
                    #expect(input["xxh64"]?.string == XXH64.hex(XXH64.hash(bytes)), "\(name)")
                } else {
                    let p = Process(), pipe = Pipe()
                    p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
                    p.arguments = [TestPaths.fixture("safetensors/sharded/" + name)]
                    p.standardOutput = pipe
                    try p.run()
                    let printed = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                    p.waitUntilExit()
                    #expect(input["sha256"]?.string == printed.split(separator: " ").first.map(String.init), "\(name)")
                }
            }
        }
        let bad = try CLI.run(["convert", model, "-o", dir + "/x.qpack", "--input-digest", "md5"])
        // A closed option set: ArgumentParser refuses the value and lists the choices (exit 64).
        #expect(bad.status == 64 && bad.stderr.contains("'md5' is invalid for '--input-digest"))
        #expect(bad.stderr.contains("'xxh64' and 'sha256'"))
    }

    /// `--nan zero` overrides every rule's policy, and the manifest records the override on
    /// every packed tensor (it recorded the rules' `error` while the provenance said `zero`).
    @Test func nanOverrideIsRecordedOnEveryTensor() throws {
        let dir = try scratchDirectory("nan")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (flag, expected) in [([String](), "error"), (["--nan", "zero"], "zero")] {
            let out = dir + "/\(expected).qpack"
            let r = try CLI.run(
                [
                    "convert", TestPaths.fixture("gguf/types.gguf"), "-o", out, "-q", "--allow-unsupported",
                    "--rules", TestPaths.fixture("qpack/rules.yaml"),
                ] + flag)
            #expect(r.status == 0, "\(r.stderr)")
            let file = try [UInt8](Data(contentsOf: URL(fileURLWithPath: out)))
            func u64(_ at: Int) -> Int { (0..<8).reduce(0) { $0 | Int(file[at + $1]) << (8 * $1) } }
            let manifest = try StrictJSONParser.parse(Array(file[u64(16)..<(u64(16) + u64(24))]))
            let policies = (manifest["tensors"]?.items ?? []).compactMap { $0["quantization"]?["nan"]?.string }
            #expect(policies.count >= 5, "packed tensors carry a policy")
            #expect(policies.allSatisfy { $0 == expected }, "\(policies)")
            #expect(manifest["provenance"]?["options"]?["nan"]?.string == (flag.isEmpty ? "per rule" : "zero"))
        }
    }

    /// A full disk (simulated with a file-size limit: writes fail with EFBIG) gives a clear
    /// error, exit 74, and leaves no partial output and no temporary file.
    @Test func fullDiskIsAClearErrorAndLeavesNothing() throws {
        let dir = try scratchDirectory("full")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/t.qpack"
        let r = try CLI.run([
            "--sh-ulimit-f", "8", "convert", TestPaths.fixture("gguf/types.gguf"), "-o", out, "--allow-unsupported",
        ])
        #expect(r.status == 74, "\(r.stderr)")
        #expect(
            r.stderr.contains("t.qpack") && r.stderr.contains("write failed") && r.stderr.contains("File too large"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    /// Killing the process in the middle of a write leaves the previous output intact and no
    /// stray file.
    @Test(.enabled(if: TestPaths.runModelTests, "real models absent"))
    func killedMidWriteLeavesThePreviousOutput() throws {
        let dir = try scratchDirectory("kill")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/s.qpack"
        try "previous".write(toFile: out, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestPaths.qpackBinary)
        process.arguments = ["convert", TestPaths.smolLMPath, "-o", out, "--force", "--quiet", "--jobs", "1"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait until the unnamed temporary file has grown, then kill without warning.
        var written = 0
        for _ in 0..<200 where written < 4 << 20 {
            usleep(50_000)
            written = Self.largestOpenFile(pid: process.processIdentifier)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(written >= 4 << 20, "the conversion never got going")
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "previous")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["s.qpack"])
    }

    /// Size of the biggest file the process has open for writing (its output in progress).
    static func largestOpenFile(pid: Int32) -> Int {
        let fdDir = "/proc/\(pid)/fd"
        guard let fds = try? FileManager.default.contentsOfDirectory(atPath: fdDir) else { return 0 }
        var largest = 0
        for fd in fds {
            var st = stat()
            if stat(fdDir + "/" + fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG,
                let target = try? FileManager.default.destinationOfSymbolicLink(atPath: fdDir + "/" + fd),
                target.contains("(deleted)") || target.hasSuffix(".qpack") == false
            {
                if !target.hasSuffix(".gguf") { largest = max(largest, Int(st.st_size)) }
            }
        }
        return largest
    }
}

/// `qpack verify` on the real MiniLM model: report, JSON, and the threshold exit code.
@Suite(.enabled(if: TestPaths.runModelTests, "real models absent"))
struct VerifyCLITests {
    @Test func verifyReportsAndFailsBelowTheThreshold() throws {
        let dir = try scratchDirectory("verify")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/m.qpack"
        let convert = try CLI.run(["convert", TestPaths.miniLMPath, "-o", out, "--quiet"])
        #expect(convert.status == 0, "\(convert.stderr)")
        let text = try CLI.run([
            "verify", out, "--source", TestPaths.miniLMPath, "--run-sample", "A man is eating food.",
        ])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("Layers, worst first") && text.stdout.contains("encoder-linear-int8"))
        let json = try CLI.run([
            "verify", out, "--source", TestPaths.miniLMPath, "--run-sample", "A man is eating food.", "--json",
        ])
        let doc = try StrictJSONParser.parse(Array(json.stdout.utf8))
        #expect(doc["samples"]?.items.count == 1)
        #expect(doc["layers"]?.items.count == 36)
        let cos = try #require(doc["samples"]?.items.first?["cosine"]?.double)
        #expect(cos > 0.9 && cos < 1)
        let strict = try CLI.run([
            "verify", out, "--source", TestPaths.miniLMPath, "--run-sample", "A man is eating food.", "--min-cosine",
            "0.999",
        ])
        #expect(strict.status == 1)
        #expect(
            strict.stderr.contains("below --min-cosine 0.999") && strict.stderr.contains("worst layer: encoder.layer."))
        let usage = try CLI.run(["verify", out, "--source", TestPaths.miniLMPath])
        #expect(usage.status == 64)
    }

    /// With `--with-reference`, verify without --source reports exactly what it reports with it
    /// (the sections themselves are checked in ConvertTests). A file without the copy needs --source (64).
    @Test func withReferenceVerifiesWithoutTheSource() throws {
        let dir = try scratchDirectory("verify-reference")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/r.qpack", plain = dir + "/p.qpack"
        #expect(try CLI.run(["convert", TestPaths.miniLMPath, "-o", out, "--quiet", "--with-reference"]).status == 0)
        #expect(try CLI.run(["convert", TestPaths.miniLMPath, "-o", plain, "--quiet"]).status == 0)
        let sample = ["--run-sample", "A man is eating food.", "--json"]
        let withSource = try CLI.run(["verify", out, "--source", TestPaths.miniLMPath] + sample)
        let withoutSource = try CLI.run(["verify", out] + sample)
        #expect(withSource.status == 0 && withoutSource.status == 0, "\(withoutSource.stderr)")
        #expect(withSource.stdout == withoutSource.stdout)
        let refused = try CLI.run(["verify", plain] + sample)
        #expect(refused.status == 64 && refused.stderr.contains("no float copy"))
    }

    /// `--output` writes the raw embeddings; read back from the safetensors spec alone, the float
    /// rows must match the numpy float64 reference and `--ids` must give the same row as the text.
    @Test func outputWritesEmbeddingsThatMatchTheNumpyReference() throws {
        let dir = try scratchDirectory("verify-output")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/m.qpack", tensors = dir + "/out.safetensors"
        #expect(try CLI.run(["convert", TestPaths.miniLMPath, "-o", out, "--quiet"]).status == 0)
        let reference = try TestPaths.json(TestPaths.fixture("verify/minilm.expected.json"))["sentences"]!.items[0]
        let text = try #require(reference["text"]?.string)
        let ids = reference["ids"]!.items.compactMap { $0.int }.map(String.init).joined(separator: ",")
        let r = try CLI.run([
            "verify", out, "--source", TestPaths.miniLMPath, "--run-sample", text, "--ids", ids,
            "--output", tensors, "--json",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let bytes = try TestPaths.read(tensors)
        let headerLength = Int(bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        let header = try StrictJSONParser.parse(Array(bytes[8..<(8 + headerLength)]))
        func rows(_ name: String) throws -> [[Float]] {
            let entry = try #require(header[name])
            #expect(entry["dtype"]?.string == "F32")
            let shape = entry["shape"]!.items.compactMap { $0.int }
            let start = 8 + headerLength + entry["data_offsets"]!.items[0].int!
            let values = (0..<(shape[0] * shape[1])).map { i in
                Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[start + 4 * i + $1]) << (8 * $1) })
            }
            return (0..<shape[0]).map { Array(values[($0 * shape[1])..<(($0 + 1) * shape[1])]) }
        }
        let float = try rows("float.embeddings"), packed = try rows("packed.embeddings")
        #expect(float.count == 2 && packed.count == 2 && float[0].count == 384)
        let want = reference["embedding"]!.items.compactMap { $0.double }
        #expect(zip(float[0], want).allSatisfy { abs(Double($0) - $1) < 1e-4 })
        #expect(float[1] == float[0] && packed[1] == packed[0])
        // The packed rows are the ones the reported cosine was computed from.
        let cos = try #require(StrictJSONParser.parse(Array(r.stdout.utf8))["samples"]?.items[0]["cosine"]?.double)
        let dot = zip(float[0], packed[0]).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let norms = (float[0].reduce(0.0) { $0 + Double($1 * $1) } * packed[0].reduce(0.0) { $0 + Double($1 * $1) })
            .squareRoot()
        #expect(abs(dot / norms - cos) < 1e-5)
    }
}

/// `qpack verify` on SmolLM2: decoder report, continuations, and the --max-kl exit code.
@Suite(.enabled(if: TestPaths.runModelTests, "real models absent"))
struct DecoderVerifyCLITests {
    @Test func decoderVerifyReportsKLAndFailsAboveTheThreshold() throws {
        let dir = try scratchDirectory("verify-llama")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/s.qpack"
        #expect(
            try CLI.run(["convert", TestPaths.smolLMPath, "-o", out, "--quiet", "--target", "neon-dotprod"]).status == 0
        )
        // The default conversion (Q4_1 repacked exactly) continues as the float model does.
        let ok = try CLI.run([
            "verify", out, "--source", TestPaths.smolLMPath, "--run-sample", "The capital of France is",
            "--json",
        ])
        #expect(ok.status == 0, "\(ok.stderr)")
        let okSample = try #require(StrictJSONParser.parse(Array(ok.stdout.utf8))["samples"]?.items.first)
        #expect(okSample["continuation_float"]?.string == okSample["continuation_packed"]?.string)
        #expect(okSample["continuation_float"]?.string?.hasPrefix(" Paris") == true)
        let kl = try #require(okSample["mean_kl"]?.double)
        // A threshold below what it measures fails with exit 1, naming the worst layer.
        let limit = String(format: "%.5f", kl / 2)
        let r = try CLI.run([
            "verify", out, "--source", TestPaths.smolLMPath, "--run-sample", "The capital of France is",
            "--continuation", "1", "--max-kl", limit, "--json",
        ])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("above --max-kl \(limit)") && r.stderr.contains("worst layer: blk."))
        let doc = try StrictJSONParser.parse(Array(r.stdout.utf8))
        let sample = try #require(doc["samples"]?.items.first)
        #expect(sample["tokens"]?.int == 5)
        #expect(sample["continuation_float"]?.string == " Paris")
        #expect(doc["layout_checks"]?.items.count == 272)
    }

    /// Fixtures/rules/lossless-attention-output.yaml: every attention output projection of the
    /// Q4_1 GGUF is held exactly (q4_1-repack, lossless), where the default rounds it to f16, and
    /// nothing else changes scheme.
    @Test func losslessAttentionOutputRulesHoldTheProjectionExactly() throws {
        func entries(_ extra: [String]) throws -> [String: JSONNode] {
            let r = try CLI.run(["plan", TestPaths.smolLMPath, "--json"] + extra)
            #expect(r.status == 0, "\(r.stderr)")
            let items = try StrictJSONParser.parse(Array(r.stdout.utf8))["plan"]?["entries"]?.items ?? []
            return Dictionary(uniqueKeysWithValues: items.compactMap { e in e["name"]?.string.map { ($0, e) } })
        }
        let lossless = try entries(["--rules", TestPaths.repoRoot + "/Fixtures/rules/lossless-attention-output.yaml"])
        let defaults = try entries([])
        #expect(lossless.count == 272 && defaults.count == 272)
        var changed = 0
        for (name, e) in lossless {
            let d = try #require(defaults[name])
            if name.hasSuffix("attn_output.weight") {
                #expect(e["scheme"]?.string == "q4_1-repack" && e["lossless"]?.bool == true, "\(name)")
                #expect(d["scheme"]?.string == "f16" && d["lossless"]?.bool == false, "\(name)")
                changed += 1
            } else {
                #expect(e["scheme"]?.string == d["scheme"]?.string, "\(name)")
            }
        }
        #expect(changed == 30)
    }

    /// `--threads`: verify's, eval's and calibrate's outputs are the same bytes for any thread
    /// count (the runtime's pool splits each linear's outputs; every element is computed by the
    /// same code on whichever thread).
    @Test func reportsDoNotDependOnTheThreadCount() throws {
        let dir = try scratchDirectory("threads-cli")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/s.qpack"
        #expect(try CLI.run(["convert", TestPaths.smolLMPath, "-o", out, "--quiet"]).status == 0)
        let verify = [
            "verify", out, "--source", TestPaths.smolLMPath, "--run-sample", "The capital of France is", "--json",
        ]
        let eval = ["eval", out, "--source", TestPaths.smolLMPath, "--samples", "3", "--seq-len", "32", "--json", "-q"]
        for args in [verify, eval] {
            let one = try CLI.run(args + ["--threads", "1"]), three = try CLI.run(args + ["--threads", "3"])
            #expect(one.status == 0 && three.status == 0, "\(one.stderr) \(three.stderr)")
            #expect(!one.stdout.isEmpty && one.stdout == three.stdout, "\(args[0])")
        }
        var stats: [[UInt8]] = []
        for t in ["1", "3"] {
            let path = dir + "/t\(t).qcal"
            let c = try CLI.run([
                "calibrate", TestPaths.smolLMPath, "--calibration", "licenses:calibration", "--samples", "2",
                "--seq-len", "32", "-o", path, "--quiet", "--threads", t,
            ])
            #expect(c.status == 0, "\(c.stderr)")
            stats.append(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        }
        #expect(!stats[0].isEmpty && stats[0] == stats[1])
        #expect(try CLI.run(["verify", out, "--threads", "0"]).status == 64)
    }

    /// A Hugging Face Llama directory (config.json, tokenizer.json, model.safetensors): convert
    /// and verify text end to end with Hugging Face tensor names in the report.
    @Test(.enabled(if: TestPaths.runHFLlamaTests)) func huggingFaceLlamaConvertsAndVerifies() throws {
        let dir = try scratchDirectory("verify-hf-llama")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = TestPaths.hfLlamaDirectory + "/model.safetensors", out = dir + "/hf.qpack"
        let c = try CLI.run(["convert", source, "-o", out, "--quiet", "--target", "neon-dotprod"])
        #expect(c.status == 0, "\(c.stderr)")
        let r = try CLI.run([
            "verify", out, "--source", source, "--run-sample", "The capital of France is", "--continuation", "1",
            "--json",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try StrictJSONParser.parse(Array(r.stdout.utf8))
        let sample = try #require(doc["samples"]?.items.first)
        #expect(sample["tokens"]?.int == 5)
        #expect(sample["continuation_float"]?.string == " Paris")
        let names = doc["layers"]?.items.compactMap { $0["name"]?.string } ?? []
        #expect(names.count == 30 * 7 + 1)
        // The tied head is reported by the tensor it runs: the embedding table.
        #expect(names.contains("model.layers.0.self_attn.q_proj") && names.contains("model.embed_tokens"))
        #expect(
            doc["layers"]?.items.first { $0["name"]?.string == "model.layers.0.self_attn.o_proj" }?["rule"]?.string
                == "attention-output-f16")
        #expect(doc["layout_checks"]?.items.count == 272)
        #expect(doc["layout_checks"]?.items.allSatisfy { $0["violations"]?.int == 0 } == true)
    }

    /// A tokenizer.json whose normalizer qpack does not run: text is refused with a message
    /// that says why, rather than tokenized differently.
    @Test(.enabled(if: TestPaths.runHFLlamaTests)) func unsupportedTokenizerRefusesText() throws {
        let dir = try scratchDirectory("hf-llama-nfc")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fm = FileManager.default
        try fm.createSymbolicLink(
            atPath: dir + "/model.safetensors", withDestinationPath: TestPaths.hfLlamaDirectory + "/model.safetensors")
        try fm.copyItem(atPath: TestPaths.hfLlamaDirectory + "/config.json", toPath: dir + "/config.json")
        let tokenizer = try String(contentsOfFile: TestPaths.hfLlamaDirectory + "/tokenizer.json", encoding: .utf8)
        let changed = tokenizer.replacingOccurrences(
            of: #""normalizer": null"#, with: #""normalizer": {"type": "NFC"}"#)
        #expect(changed != tokenizer)
        try changed.write(toFile: dir + "/tokenizer.json", atomically: true, encoding: .utf8)
        let r = try CLI.run([
            "calibrate", dir + "/model.safetensors", "--calibration", "licenses:calibration", "--samples", "1", "-o",
            dir + "/x.qcal",
        ])
        #expect(r.status == 65, "\(r.stderr)")
        #expect(r.stderr.contains("pre-tokenizer 'unsupported: normalizer NFC' is not supported"), "\(r.stderr)")
        #expect(!fm.fileExists(atPath: dir + "/x.qcal"))
        // Token ids need no tokenizer: the same model calibrates on them.
        try "504 3575 282 4649 314\n".write(toFile: dir + "/prompt.ids", atomically: true, encoding: .utf8)
        let ids = try CLI.run([
            "calibrate", dir + "/model.safetensors", "--calibration", dir + "/prompt.ids", "-o", dir + "/ids.qcal",
            "--quiet",
        ])
        #expect(ids.status == 0 && fm.fileExists(atPath: dir + "/ids.qcal"), "\(ids.stderr)")
    }
}
