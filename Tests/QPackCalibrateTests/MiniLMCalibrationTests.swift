import CQPackRuntime
import Foundation
import QPackBinary
import QPackCalibration
import QPackQuant
import QPackTestSupport
import Testing
@testable import QPackCalibrate
@testable import QPackContainer
@testable import QPackConvert
@testable import QPackPlanning
@testable import QPackReaders
@testable import QPackVerify

/// Calibration, static activations and evaluation on the real MiniLM model.
@Suite(.enabled(if: TestPaths.runModelTests, "real models absent"), .serialized)
struct MiniLMCalibrationTests {
    static let dir: String = {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("qpack-calibrate-\(getpid())").path
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }()

    static func floatRunner() throws -> ModelRunner {
        let checkpoint = try Checkpoint.open(path: TestPaths.miniLMPath)
        return try ModelRunner.float(
            description: try ModelDescription.source(checkpoint, path: TestPaths.miniLMPath),
            reference: FloatReference(checkpoint: checkpoint, path: TestPaths.miniLMPath))
    }

    static let options = Calibrator.Options(samples: 6, sequenceLength: 48, seed: 3)

    static func calibrate(_ runner: ModelRunner) throws -> CalibrationStats {
        let sequences = try Calibrator.sequences(
            try LicenseCorpus.paragraphs(.calibration).map { .text($0) }, runner: runner, options: options)
        return try Calibrator.calibrate(runner, sequences: sequences, source: "licenses:calibration", options: options)
    }

    static func convert(_ rules: RuleSet, stats: CalibrationStats?, activations: String, observer: String, name: String)
        throws -> ContainerFile
    {
        let checkpoint = try Checkpoint.open(path: TestPaths.miniLMPath)
        var plan = Planner.plan(
            checkpoint.planInputs, rules: rules, target: .neonI8mm, activations: activations, observer: observer,
            smoothingByDefault: false)
        plan = try Converter.applyCalibration(plan, stats, file: "model.safetensors").0
        var options = ConvertOptions(target: .neonI8mm, jobs: 2, force: true)
        options.calibration = stats
        let out = dir + "/" + name
        _ = try Converter.convert(
            checkpoint, path: TestPaths.miniLMPath, plan: plan, rules: rules, output: out, options: options)
        return try ContainerFile(path: out)
    }

    static var allInt8: RuleSet {
        get throws {
            try RuleSet.parse(
                String(contentsOfFile: TestPaths.fixture("rules/all-int8.yaml"), encoding: .utf8),
                origin: "all-int8.yaml")
        }
    }

    /// The statistics are what the linear layers saw: q, k and v share one input, so their
    /// statistics are identical; one layer's min, max and Σx² recomputed here from the inputs
    /// the observer hands over match; calibrating twice gives the same bytes.
    @Test func statisticsAreWhatTheLayersSaw() throws {
        let runner = try Self.floatRunner()
        let stats = try Self.calibrate(runner)
        #expect(stats.linears.count == 36)
        let q = stats.stats(for: "encoder.layer.2.attention.self.query.weight")!
        let k = stats.stats(for: "encoder.layer.2.attention.self.key.weight")!
        #expect(
            q.histogram == k.histogram && q.sumSquares == k.sumSquares && q.minimum == k.minimum && q.rows == k.rows)
        // Recompute one layer's statistics from the raw inputs.
        let name = "encoder.layer.4.output.dense.weight"
        var lo = Float.infinity, hi = -Float.infinity, rows = 0
        var sums = [Double](repeating: 0, count: 1536)
        var cmin = [Float](repeating: .infinity, count: 1536), cmax = [Float](repeating: -.infinity, count: 1536)
        let sequences = try Calibrator.sequences(
            try LicenseCorpus.paragraphs(.calibration).map { .text($0) }, runner: runner, options: Self.options)
        for s in sequences {
            _ = try runner.run(s) { n, m, kk, _, input, _ in
                guard n == name else { return }
                for i in 0..<(m * kk) {
                    lo = min(lo, input[i]); hi = max(hi, input[i]); sums[i % kk] += Double(input[i]) * Double(input[i])
                    cmin[i % kk] = min(cmin[i % kk], input[i]); cmax[i % kk] = max(cmax[i % kk], input[i])
                }
                rows += m
            }
        }
        let o = stats.stats(for: name)!
        #expect(o.minimum == lo && o.maximum == hi && Int(o.rows) == rows && o.channels == 1536)
        for c in 0..<1536 { #expect(abs(o.sumSquares[c] - sums[c]) <= 1e-9 * max(1, sums[c])) }
        #expect(o.channelMin == cmin && o.channelMax == cmax)
        #expect(o.channelAbsMax == zip(cmin, cmax).map { max(abs($0), abs($1)) })
        #expect(o.histogram.total == UInt64(rows * 1536))
        #expect(try Self.calibrate(runner).bytes() == stats.bytes())
        try Data(stats.bytes()).write(to: URL(fileURLWithPath: Self.dir + "/minilm.qcal"))
    }

    /// Static int8: every linear the graph runs carries the range its observer picks from the
    /// statistics, the C loader reads the same range, the packed model uses it (its output
    /// differs from the dynamic model's) and stays close to the float model.
    @Test func staticModelCarriesAndUsesItsRanges() throws {
        let runner = try Self.floatRunner()
        let stats = try Self.calibrate(runner)
        let file = try Self.convert(
            try Self.allInt8, stats: stats, activations: "static", observer: "minmax", name: "static.qpack")
        var staticCount = 0
        for t in file.tensors where t.layout != nil && t.role != "embedding" {
            guard let s = stats.stats(for: t.name) else {
                #expect(t.activation == nil, "\(t.name): not run by the graph, stays dynamic")
                continue
            }
            let r = RangeObserver.minmax.range(s)
            #expect(
                t.activation == ContainerFile.StaticActivation(observer: "minmax", min: r.lo, max: r.hi), "\(t.name)")
            var c: OpaquePointer?
            #expect(qp_container_open(file.path, &c, nil, 0) == QP_OK)
            var info = qp_tensor_info()
            #expect(qp_container_find_tensor(c, t.name, &info) == QP_OK)
            #expect(info.activation_static == 1 && info.activation_min == r.lo && info.activation_max == r.hi)
            qp_container_close(c)
            staticCount += 1
        }
        #expect(staticCount == 36)
        let dynamicFile = try Self.convert(
            try Self.allInt8, stats: nil, activations: "dynamic", observer: "minmax", name: "dynamic.qpack")
        let staticRunner = try ModelRunner.packed(file), dynamicRunner = try ModelRunner.packed(dynamicFile)
        let ids = runner.encode("Static ranges come from calibration, not from each row.")
        #expect(try staticRunner.run(ids) != (try dynamicRunner.run(ids)))
        let eval = try LicenseCorpus.paragraphs(.evaluation).map { CalibrationSample.text($0) }
        let sequences = try Calibrator.sequences(
            eval, runner: runner, options: .init(samples: 8, sequenceLength: 64, seed: 1))
        let reference = try Evaluator.reference(runner, sequences: sequences)
        let s = try Evaluator.evaluate(staticRunner, against: reference),
            d = try Evaluator.evaluate(dynamicRunner, against: reference)
        #expect(s.meanCosine! > 0.985 && d.meanCosine! > 0.995, "static \(s.meanCosine!), dynamic \(d.meanCosine!)")
        // The evaluator's cosine is the verifier's: the float model against itself is exact.
        #expect(try Evaluator.evaluate(runner, against: reference).meanCosine! > 0.9999999)
    }

    /// Static int8 with smoothing (issue 6's target): the divisors follow the documented rule,
    /// the stored range is exactly the range of the divided inputs the layers saw, the packed
    /// weights are the source times the divisors within the scheme's bound, the C loader finds
    /// the divisors, and on held-out text the model reaches mean cosine >= 0.995 where the
    /// unsmoothed static model does not (measured with docs/accuracy.md's settings).
    @Test func smoothedStaticModelReachesTheTarget() throws {
        let runner = try Self.floatRunner()
        let calOptions = Calibrator.Options(samples: 16, sequenceLength: 96, seed: 0)
        let calSequences = try Calibrator.sequences(
            try LicenseCorpus.paragraphs(.calibration).map { .text($0) }, runner: runner, options: calOptions)
        let stats = try Calibrator.calibrate(
            runner, sequences: calSequences, source: "licenses:calibration", options: calOptions)
        let checkpoint = try Checkpoint.open(path: TestPaths.miniLMPath)
        func convert(smoothing: Double?, name: String) throws -> ContainerFile {
            var plan = Planner.plan(
                checkpoint.planInputs, rules: try Self.allInt8, target: .neonI8mm, activations: "static",
                observer: "minmax", smoothing: smoothing, smoothingByDefault: false)
            plan = try Converter.applyCalibration(plan, stats, file: "model.safetensors").0
            var options = ConvertOptions(target: .neonI8mm, jobs: 2, force: true)
            options.calibration = stats
            _ = try Converter.convert(
                checkpoint, path: TestPaths.miniLMPath, plan: plan, rules: try Self.allInt8,
                output: Self.dir + "/" + name, options: options)
            return try ContainerFile(path: Self.dir + "/" + name)
        }
        let smoothed = try convert(smoothing: 0.75, name: "smoothed.qpack"),
            plain = try convert(smoothing: nil, name: "plain-static.qpack")
        // Divisors and range, recomputed here from the weights and the inputs the layers saw.
        let name = "encoder.layer.3.output.dense.weight"
        let t = try #require(smoothed.tensor(named: name))
        let sm = try #require(t.activation?.smoothing)
        #expect(sm.alpha == 0.75 && sm.section == "smooth:" + name)
        let d = try #require(try ContainerTensorDecoder.divisors(t, in: smoothed))
        let w = try #require(try checkpoint.floatValues(of: name))
        let o = try #require(stats.stats(for: name))
        for j in 0..<1536 {
            let wmax = (0..<384).map { abs(w[$0 * 1536 + j]) }.max()!
            let want = Float(pow(Double(o.channelAbsMax[j]), 0.75) / pow(Double(wmax), 0.25))
            #expect(d[j] == want, "divisor \(j)")
        }
        var lo: Float = 0, hi: Float = 0
        for s in calSequences {
            _ = try runner.run(s) { n, m, k, _, input, _ in
                guard n == name else { return }
                for i in 0..<(m * k) { lo = min(lo, input[i] / d[i % k]); hi = max(hi, input[i] / d[i % k]) }
            }
        }
        #expect(
            t.activation?.min == lo && t.activation?.max == hi,
            "range [\(t.activation!.min), \(t.activation!.max)] vs [\(lo), \(hi)]")
        #expect(smoothed.tensors.filter { $0.activation?.smoothing != nil }.count == 36)
        let layout = try LayoutCheck.run(smoothed, source: checkpoint)
        #expect(layout.count > 36 && layout.allSatisfy { $0.violations == 0 })
        var c: OpaquePointer?
        #expect(qp_container_open(smoothed.path, &c, nil, 0) == QP_OK)
        var info = qp_tensor_info()
        #expect(qp_container_find_tensor(c, name, &info) == QP_OK)
        #expect(info.activation_divisor_section.map { String(cString: $0) } == sm.section)
        qp_container_close(c)
        // Held-out text, as docs/accuracy.md measures it.
        let eval = try LicenseCorpus.paragraphs(.evaluation).map { CalibrationSample.text($0) }
        let sequences = try Calibrator.sequences(
            eval, runner: runner, options: .init(samples: 32, sequenceLength: 128, seed: 0))
        let reference = try Evaluator.reference(runner, sequences: sequences)
        let withSmoothing = try Evaluator.evaluate(try ModelRunner.packed(smoothed), against: reference).meanCosine!
        let without = try Evaluator.evaluate(try ModelRunner.packed(plain), against: reference).meanCosine!
        #expect(withSmoothing >= 0.995 && without < 0.995, "smoothed \(withSmoothing), plain static \(without)")
    }

    /// The manifest names the search each tensor really got: importance where calibration saw the
    /// linear, mse for quantized tensors it did not see (embeddings, the pooler).
    @Test func manifestRecordsTheSearchUsed() throws {
        let stats = try Self.calibrate(try Self.floatRunner())
        let checkpoint = try Checkpoint.open(path: TestPaths.miniLMPath)
        let plan = Planner.plan(checkpoint.planInputs, rules: DefaultRules.ruleSet, target: .neonI8mm)
        var options = ConvertOptions(
            target: .neonI8mm, jobs: 2, force: true, search: .importance(ratios: ScaleSearch.importanceRatios))
        options.calibration = stats
        let out = Self.dir + "/importance.qpack"
        _ = try Converter.convert(
            checkpoint, path: TestPaths.miniLMPath, plan: plan, rules: DefaultRules.ruleSet, output: out,
            options: options)
        let file = try ContainerFile(path: out)
        let items = file.manifest["tensors"]!.items
        var seen = 0
        for t in file.tensors where t.layout != nil {
            let search = items.first { $0["name"]?.string == t.name }?["quantization"]?["search"]?.string
            #expect(search == (stats.stats(for: t.name) != nil ? "importance" : "mse"), "\(t.name)")
            if search == "importance" { seen += 1 }
        }
        #expect(seen == 30)  // 36 linears less the six f16 attention outputs of the default rules
    }

    /// A static plan without statistics is refused naming the tensor; statistics of another
    /// model are refused.
    @Test func staticNeedsMatchingStatistics() throws {
        #expect(throws: ConvertError.self) {
            try Self.convert(try Self.allInt8, stats: nil, activations: "static", observer: "minmax", name: "x.qpack")
        }
        let other = CalibrationStats(
            architecture: "bert", data: [], linears: [ActivationStats(tensor: "nothing.weight", channels: 4)])
        #expect(throws: ConvertError.self) {
            try Self.convert(try Self.allInt8, stats: other, activations: "static", observer: "minmax", name: "y.qpack")
        }
    }
}

/// The budget search on MiniLM from all-int4 rules: deterministic decisions and bytes, and the
/// harm it measured on its mixed model is exactly the harm of the file it writes.
@Suite(.enabled(if: TestPaths.runModelTests, "real models absent"), .serialized)
struct BudgetSearchTests {
    static func search(_ budget: BudgetSearch.Budget, work: String) throws -> (
        BudgetSearch.Result, [[Int32]], ModelRunner
    ) {
        let checkpoint = try Checkpoint.open(path: TestPaths.miniLMPath)
        let rules = try RuleSet.parse(
            String(contentsOfFile: TestPaths.fixture("rules/all-int4.yaml"), encoding: .utf8), origin: "all-int4.yaml")
        let plan = Planner.plan(checkpoint.planInputs, rules: rules, target: .neonI8mm)
        let float = try MiniLMCalibrationTests.floatRunner()
        let sequences = try Calibrator.sequences(
            try LicenseCorpus.paragraphs(.calibration).map { .text($0) }, runner: float,
            options: .init(samples: 6, sequenceLength: 40, seed: 9))
        try? FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let result = try BudgetSearch.run(
            checkpoint: checkpoint, path: TestPaths.miniLMPath, plan: plan, rules: rules,
            options: ConvertOptions(target: .neonI8mm, jobs: 2, force: true),
            planner: { Planner.plan(checkpoint.planInputs, rules: $0, target: .neonI8mm) },
            float: float, sequences: sequences, budget: budget, workDirectory: work)
        return (result, sequences, float)
    }

    @Test func decisionsAreDeterministicAndTheFileMeasuresWhatTheSearchMeasured() throws {
        let dir = MiniLMCalibrationTests.dir
        let (a, sequences, float) = try Self.search(.minCosine(0.99), work: dir + "/w1")
        let (b, _, _) = try Self.search(.minCosine(0.99), work: dir + "/w2")
        #expect(a.met && a.harm <= 0.01)
        #expect(a.chosen > 0 && a.chosen < a.order.count)
        // The ladder: symmetric int4 → asymmetric int4 → int8 → f16.
        for (from, to) in [("qsi4c32", "qai4c32"), ("qai4c32", "qsi8cx"), ("qsi8cx", "f16")] {
            #expect(a.order.contains { $0.from == from && $0.to == to }, "no \(from) → \(to) step")
        }
        #expect(a.order.allSatisfy { !($0.from == "qsi4c32" && $0.to == "qsi8cx") })
        #expect(a.order == b.order && a.chosen == b.chosen && a.evaluations == b.evaluations)
        #expect(a.plan.entries.map(\.scheme) == b.plan.entries.map(\.scheme))
        // Every promoted entry records its step; the rest are the rules' schemes.
        let promoted = a.plan.entries.filter { $0.promotion != nil }
        #expect(
            !promoted.isEmpty
                && promoted.allSatisfy { $0.rule.hasPrefix("budget:") && $0.promotion!.from != $0.scheme.name })
        // The prefix before the chosen one misses the budget (the search picks the shortest).
        if let before = a.evaluations.first(where: { $0.promotions == a.chosen - 1 }) { #expect(before.harm > 0.01) }
        // Write the chosen plan twice: identical bytes; run it: the harm the search measured.
        let checkpoint = try Checkpoint.open(path: TestPaths.miniLMPath)
        var files: [[UInt8]] = []
        for i in 0..<2 {
            let out = dir + "/budget\(i).qpack"
            _ = try Converter.convert(
                checkpoint, path: TestPaths.miniLMPath, plan: a.plan, rules: a.rules, output: out,
                options: ConvertOptions(target: .neonI8mm, jobs: 1 + i, force: true))
            files.append(try TestPaths.read(out))
        }
        #expect(files[0] == files[1])
        let packed = try ModelRunner.packed(try ContainerFile(path: dir + "/budget0.qpack"))
        let report = try Evaluator.evaluate(packed, against: try Evaluator.reference(float, sequences: sequences))
        #expect(report.harm == a.harm, "file \(report.harm), search \(a.harm)")
    }

    @Test func bitsTargetAppliesEveryStepThatFits() throws {
        let (r, _, _) = try Self.search(.targetBPW(7.0), work: MiniLMCalibrationTests.dir + "/w3")
        #expect(r.bitsPerWeight <= 7.0 && r.chosen > 0 && r.applied == r.applied.sorted())
        let bits = Double(8 * r.plan.expectedTensorBytes) / Double(r.plan.entries.reduce(0) { $0 + $1.parameters })
        #expect(abs(bits - r.bitsPerWeight) < 1e-9)
    }
}
