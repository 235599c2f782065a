import Foundation
import Testing
import QPackBinary
import QPackTestSupport

/// calibrate, eval, convert with static activations and budgets, plan --explain: as a user runs them.
@Suite(.enabled(if: TestPaths.runModelTests, "real models absent"), .serialized)
struct CalibrationCLITests {
    let dir = (try? scratchDirectory("calibration")) ?? NSTemporaryDirectory()
    var model: String { TestPaths.miniLMPath }
    let small = ["--samples", "4", "--seq-len", "32"]

    @Test func calibrateMergeAndRefusals() throws {
        let a = dir + "/a.qcal", b = dir + "/b.qcal", m = dir + "/m.qcal", m2 = dir + "/m2.qcal"
        #expect(
            try CLI.run(["calibrate", model, "--calibration", "licenses:calibration", "-o", a, "--seed", "1"] + small)
                .status == 0)
        let second = try CLI.run(
            ["calibrate", model, "--calibration", "licenses:calibration", "-o", b, "--seed", "2"] + small)
        #expect(second.status == 0 && second.stdout.contains("36 linear inputs"))
        // The same options twice give the same bytes; an existing output needs --force.
        let again = try CLI.run(
            ["calibrate", model, "--calibration", "licenses:calibration", "-o", a, "--seed", "1"] + small)
        #expect(again.status == 64 && again.stderr.contains("--force"))
        #expect(try CLI.run(["calibrate", "--merge", a, b, "-o", m]).status == 0)
        #expect(try CLI.run(["calibrate", "--merge", b, a, "-o", m2]).status == 0)
        #expect(try TestPaths.read(m) == (try TestPaths.read(m2)))
        // Merging a file with itself would count its data twice.
        let twice = try CLI.run(["calibrate", "--merge", a, m, "-o", dir + "/x.qcal"])
        #expect(twice.status == 65 && twice.stderr.contains("already in the merge"))
        // A broken file names itself and the field.
        var bytes = try TestPaths.read(a)
        let text = String(decoding: bytes, as: UTF8.self).replacingOccurrences(
            of: "\"histogram_bins\":2048", with: "\"histogram_bins\":2047")
        bytes = Array(text.utf8)
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/bad.qcal"))
        let bad = try CLI.run([
            "convert", model, "-o", dir + "/bad.qpack", "--calibration-stats", dir + "/bad.qcal", "--mode", "static",
            "-q",
        ])
        #expect(bad.status == 65 && bad.stderr.contains("bad.qcal") && bad.stderr.contains("histogram_bins"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/bad.qpack"))
        // Calibration data that is not there, or malformed.
        #expect(
            try CLI.run(["calibrate", model, "--calibration", dir + "/none.txt", "-o", dir + "/n.qcal"]).status == 74)
        try "{\"text\": 3}\n".write(toFile: dir + "/bad.jsonl", atomically: true, encoding: .utf8)
        let jsonl = try CLI.run(["calibrate", model, "--calibration", dir + "/bad.jsonl", "-o", dir + "/n.qcal"])
        #expect(jsonl.status == 65 && jsonl.stderr.contains("line 1"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/n.qcal"))
    }

    @Test func staticModelConvertsVerifiesAndEvaluates() throws {
        let out = dir + "/static.qpack"
        // Static without calibration is a usage error naming the tensor; nothing is written.
        let refused = try CLI.run(["convert", model, "-o", out, "--mode", "static", "-q"])
        #expect(refused.status == 64 && refused.stderr.contains("give --calibration"))
        #expect(!FileManager.default.fileExists(atPath: out))
        let convert = try CLI.run(
            [
                "convert", model, "-o", out, "--rules", TestPaths.fixture("rules/all-int8.yaml"), "--mode", "static",
                "--observer", "minmax", "--smooth", "0", "--calibration", "licenses:calibration",
            ] + small)
        #expect(convert.status == 0, "\(convert.stderr)")
        #expect(convert.stderr.contains("pooler.dense.weight") && convert.stderr.contains("stay dynamic"))
        let verify = try CLI.run([
            "verify", out, "--source", model, "--run-sample", "A man is eating food.", "--min-cosine", "0.97",
        ])
        #expect(verify.status == 0, "\(verify.stderr)")
        let explain = try CLI.run(["plan", "--explain", out])
        #expect(
            explain.status == 0 && explain.stdout.contains("Static activation ranges (36 linears)")
                && explain.stdout.contains("licenses:calibration"))
        let eval = try CLI.run(["eval", out, "--source", model, "--samples", "6", "--seq-len", "48", "--json"])
        #expect(eval.status == 0)
        let j = try StrictJSONParser.parse(Array(eval.stdout.utf8))
        #expect(j["samples"]?.int == 6 && (j["mean_cosine"]?.double ?? 0) > 0.97 && j["mean_kl"] == nil)
        #expect((j["bits_per_weight"]?.double ?? 0) > 8)
    }

    @Test func budgetIsRecordedAndExplained() throws {
        let out = dir + "/budget.qpack"
        let convert = try CLI.run(
            [
                "convert", model, "-o", out, "--rules", TestPaths.fixture("rules/all-int4.yaml"),
                "--calibration", "licenses:calibration", "--min-cosine", "0.99", "--sensitivity", "local",
            ] + small)
        #expect(convert.status == 0, "\(convert.stderr)")
        #expect(convert.stdout.contains("budget (min cosine 0.99)"))
        let explain = try CLI.run(["plan", "--explain", out])
        #expect(
            explain.stdout.contains("ranked by local sensitivity; met") && explain.stdout.contains("Promotion order"))
        // `plan` with the same options runs the same search and shows the same promotions, writing nothing.
        let file = try StrictJSONParser.parse(Array(try CLI.run(["inspect", out, "--json"]).stdout.utf8))
        let promotedInFile = (file["inputs"]?.items.first?["tensors"]?.items ?? []).filter {
            $0["rule"]?.string?.hasPrefix("budget:") == true
        }.count
        // inspect --json shows each promotion (from the rules' int4 to a wider scheme, with its
        // step) and every packed tensor's activation mode.
        let tensors = file["inputs"]?.items.first?["tensors"]?.items ?? []
        let promotions = tensors.compactMap { $0["promotion"] }
        #expect(promotions.count == promotedInFile && !promotions.isEmpty)
        #expect(
            promotions.allSatisfy {
                $0["from"]?.string == "qsi4c32" && $0["to"]?.string != "qsi4c32" && ($0["step"]?.int ?? 0) >= 1
            })
        #expect(
            tensors.filter { $0["layout"] != nil && $0["layout"]?.isNull != true }.allSatisfy {
                $0["activation_mode"]?.string == "dynamic"
            })
        let plan = try CLI.run(
            [
                "plan", model, "--rules", TestPaths.fixture("rules/all-int4.yaml"), "--calibration",
                "licenses:calibration",
                "--min-cosine", "0.99", "--sensitivity", "local", "--json",
            ] + small)
        #expect(plan.status == 0)
        let entries = try StrictJSONParser.parse(Array(plan.stdout.utf8))["plan"]?["entries"]?.items ?? []
        #expect(promotedInFile > 0 && entries.filter { $0["promotion"] != nil }.count == promotedInFile)
        // An unreachable budget exits 1 and writes nothing.
        let none = dir + "/none.qpack"
        let impossible = try CLI.run(
            [
                "convert", model, "-o", none, "--rules", TestPaths.fixture("rules/all-int4.yaml"),
                "--calibration", "licenses:calibration", "--min-cosine", "1", "--sensitivity", "local", "-q",
            ] + small)
        #expect(impossible.status == 1 && impossible.stderr.contains("cannot be met"))
        #expect(!FileManager.default.fileExists(atPath: none))
        // Budgets need calibration data.
        #expect(try CLI.run(["convert", model, "-o", none, "--max-kl", "0.1"]).status == 64)
    }
}

/// inspect shows static activation ranges (no real model needed: the committed static fixture).
@Suite struct InspectStaticCLITests {
    @Test func staticRangesInTextAndJSON() throws {
        let path = TestPaths.fixture("qpack/static.qpack")
        let text = try CLI.run(["inspect", path])
        #expect(text.status == 0 && text.stdout.contains("qsi4c32/static") && text.stdout.contains("f16   "))
        let json = try CLI.run(["inspect", path, "--json"])
        let root = try #require(try StrictJSONParser.parse(Array(json.stdout.utf8))["inputs"]?.items.first)
        let f32 = root["tensors"]?.items.first { $0["name"]?.string == "t.f32" }
        #expect(f32?["activation"]?["observer"]?.string == "minmax")
        #expect(f32?["activation"]?["min"]?.double == -0.5 && f32?["activation"]?["max"]?.double == 1.5)
        #expect(root["tensors"]?.items.first { $0["name"]?.string == "t.f16" }?["activation"] == nil)
        #expect(f32?["activation"]?["smoothing"] == nil)
        let smoothed = try CLI.run(["inspect", TestPaths.fixture("qpack/smoothed.qpack"), "--json"])
        let s32 = try #require(try StrictJSONParser.parse(Array(smoothed.stdout.utf8))["inputs"]?.items.first)[
            "tensors"]?.items.first { $0["name"]?.string == "t.f32" }
        #expect(s32?["activation"]?["smoothing"]?.double == 0.5)
        let stext = try CLI.run([
            "inspect", TestPaths.fixture("qpack/smoothed.qpack"), "--tensor", "t.f32", "--stats", "--dequant",
        ])
        #expect(stext.status == 0 && stext.stdout.contains("smoothed (alpha 0.5)"), "\(stext.stdout)")
    }
}

/// `--smooth` needs the minmax observer and a strength in (0, 1]: usage errors (64) otherwise;
/// with them the plan shows how many static linears are smoothed.
@Suite struct SmoothOptionCLITests {
    @Test func smoothIsValidatedAndShown() throws {
        let model = TestPaths.fixture("gguf/types.gguf"), rules = TestPaths.fixture("qpack/rules.yaml")
        #expect(
            try CLI.run(["plan", model, "--rules", rules, "--mode", "static", "--observer", "mse", "--smooth", "0.75"])
                .status == 64)
        #expect(
            try CLI.run([
                "plan", model, "--rules", rules, "--mode", "static", "--observer", "minmax", "--smooth", "1.5",
            ]).status == 64)
        let ok = try CLI.run([
            "plan", model, "--rules", rules, "--mode", "static", "--observer", "minmax", "--smooth", "0.5",
            "--allow-unsupported",
        ])
        #expect(ok.status == 0 && ok.stdout.contains("6 smoothed"), "\(ok.stdout)")
        let json = try CLI.run([
            "plan", model, "--rules", rules, "--mode", "static", "--observer", "minmax", "--smooth", "0.5", "--json",
            "--allow-unsupported",
        ])
        let entries = try StrictJSONParser.parse(Array(json.stdout.utf8))["plan"]?["entries"]?.items ?? []
        #expect(entries.filter { $0["smoothing"]?.double == 0.5 }.count == 6)  // not the lossless Q4_0 repack
    }

    /// Static-range options that reach no static linear are refused, not ignored.
    @Test func staticOptionsWithoutStaticLinearsAreRefused() throws {
        let model = TestPaths.fixture("gguf/types.gguf"), rules = TestPaths.fixture("qpack/rules.yaml")
        for options in [
            ["--observer", "minmax"], ["--percentile", "99.9"], ["--observer", "minmax", "--smooth", "0.5"],
        ] {
            let r = try CLI.run(["plan", model, "--rules", rules, "--allow-unsupported"] + options)
            #expect(r.status == 64 && r.stderr.contains("no linear is static"), "\(options): \(r.stderr)")
        }
        let ok = try CLI.run([
            "plan", model, "--rules", rules, "--allow-unsupported", "--mode", "static", "--observer", "minmax",
        ])
        #expect(ok.status == 0, "\(ok.stderr)")
    }
}

/// The static defaults: `--mode static --calibration DATA` and nothing else (minmax ranges,
/// smoothing 0.75) keeps MiniLM at mean cosine >= 0.995 on held-out text, where the old default
/// observer (percentile 99.99) gave about 0.92 (docs/accuracy.md).
@Suite(.enabled(if: TestPaths.runModelTests, "real models absent"))
struct StaticDefaultsCLITests {
    @Test func staticWithNothingElseKeepsMiniLM() throws {
        let dir = try scratchDirectory("static-defaults")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/s.qpack"
        let c = try CLI.run([
            "convert", TestPaths.miniLMPath, "-o", out, "--mode", "static", "--calibration", "licenses:calibration",
            "-q",
        ])
        #expect(c.status == 0, "\(c.stderr)")
        let explain = try CLI.run(["plan", "--explain", out, "--wide"])
        #expect(explain.status == 0 && explain.stdout.contains("smoothed (alpha 0.75)"), "\(explain.stdout)")
        let e = try CLI.run(["eval", out, "--source", TestPaths.miniLMPath, "--json", "-q"])
        let j = try StrictJSONParser.parse(Array(e.stdout.utf8))
        let cosine = try #require(j["mean_cosine"]?.double)
        #expect(e.status == 0 && cosine >= 0.995, "mean cosine \(cosine)")
    }
}

/// The budget search on tiny-llama (no real model needed).
@Suite struct TinyLlamaBudgetCLITests {
    /// A decoder whose tied embedding table starts at int4: the table's ladder skips asymmetric
    /// int4, a layout the runtime cannot look up embedding rows in (every candidate file at the
    /// first rung was refused, so the search failed with 65).
    @Test func aTiedTableClimbsOnlyToLayoutsTheRuntimeReadsRowsOf() throws {
        let dir = try scratchDirectory("embedding-ladder")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ids = dir + "/data.ids"
        try "1 2 3 4 5 6 7 8\n9 10 11 12 13\n14 15 16\n".write(toFile: ids, atomically: true, encoding: .utf8)
        let out = dir + "/budget.qpack"
        let r = try CLI.run([
            "convert", TestPaths.fixture("architectures/tiny-llama"), "-o", out, "--quiet",
            "--rules", TestPaths.fixture("rules/all-int4-embeddings-int4.yaml"), "--calibration", ids,
            "--target-bpw", "6",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try StrictJSONParser.parse(Array(try CLI.run(["inspect", out, "--json"]).stdout.utf8))
        let tensors = doc["inputs"]?.items.first?["tensors"]?.items ?? []
        let table = try #require(tensors.first { $0["name"]?.string == "model.embed_tokens.weight" })
        // 6 bits per weight promotes the table; its next rung is int8, never qai4c32.
        #expect(table["scheme"]?.string == "qsi8cx")
        #expect(table["promotion"]?["from"]?.string == "qsi4c32" && table["promotion"]?["step"]?.int == 1)
    }

    /// When the rules' own conversion meets a metric budget, the search stops there: no other
    /// rung is converted and no linear is ranked (SmolLM2's default met max KL 0.05 after four
    /// minutes of ranking 180 linears), and the file records the measurement with no promotion.
    @Test func aBudgetTheRulesMeetRanksNothing() throws {
        let dir = try scratchDirectory("budget-met")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ids = dir + "/data.ids"
        try "1 2 3 4 5 6 7 8\n9 10 11 12 13\n14 15 16\n".write(toFile: ids, atomically: true, encoding: .utf8)
        let out = dir + "/met.qpack"
        let r = try CLI.run([
            "convert", TestPaths.fixture("architectures/tiny-llama"), "-o", out, "--calibration", ids, "--max-kl", "1",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("the rules' conversion meets the budget"), "\(r.stderr)")
        #expect(!r.stderr.contains("1 rung(s) up") && !r.stderr.contains("end-to-end harm"), "\(r.stderr)")
        let explain = try CLI.run(["plan", "--explain", out])
        #expect(explain.stdout.contains("met: KL") && explain.stdout.contains("0 of 0 promotions"), "\(explain.stdout)")
        // A budget the rules miss still ranks and promotes.
        let miss = try CLI.run([
            "convert", TestPaths.fixture("architectures/tiny-llama"), "-o", dir + "/miss.qpack", "--calibration", ids,
            "--max-kl", "0.01", "--quiet",
        ])
        #expect(miss.status == 0, "\(miss.stderr)")
        let missExplain = try CLI.run(["plan", "--explain", dir + "/miss.qpack"])
        #expect(!missExplain.stdout.contains(" of 0 promotions"), "\(missExplain.stdout)")
    }
}
