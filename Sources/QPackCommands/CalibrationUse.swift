import ArgumentParser
import Foundation
import QPackBinary
import QPackCalibrate
import QPackCalibration
import QPackConvert
import QPackPlanning
import QPackQuant
import QPackReaders

/// Options shared by `convert` and `plan` that use calibration: static ranges, the importance
/// search, and budgets (the budget search runs in both; `plan` shows its result without writing).
struct CalibrationUse: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Override every rule's scale search: absmax, mse, or importance (mse weighted by calibration's mean x² per input channel).",
            valueName: "search"))
    var search: SearchChoice?

    @Option(
        help: ArgumentHelp(
            "Calibrate on this data first (a file or licenses:calibration; see `qpack calibrate`).", valueName: "data"))
    var calibration: String?

    @Option(help: ArgumentHelp("Use these .qcal statistics (repeatable: merged).", valueName: "file"))
    var calibrationStats: [String] = []

    @OptionGroup var samples: SampleOptions

    @Option(
        help: ArgumentHelp(
            "Decoders: promote the most harmful linears (int4 → asymmetric int4 → int8 → f16) until the mean KL divergence on the calibration data is at most this. Needs --calibration, or --calibration-stats whose data is still available.",
            valueName: "x"))
    var maxKl: Double?

    @Option(
        help: ArgumentHelp(
            "Encoders: promote until the mean cosine on the calibration data is at least this. Needs --calibration, or --calibration-stats whose data is still available.",
            valueName: "x"))
    var minCosine: Double?

    @Option(
        help: ArgumentHelp(
            "Promote the most harmful linears while the model stays within this many bits per weight. Needs --calibration, or --calibration-stats whose data is still available.",
            valueName: "bits"))
    var targetBpw: Double?

    @Option(
        help: ArgumentHelp(
            "How the budget search ranks linears: end-to-end (each linear alone in the float model, measured on the output) or local (each linear's own output error; faster).",
            valueName: "how"))
    var sensitivity: BudgetSearch.Sensitivity = .endToEnd

    func validate() throws {
        let budgets = [maxKl, minCosine, targetBpw].compactMap { $0 }
        if budgets.count > 1 { throw ValidationError("give one of --max-kl, --min-cosine, --target-bpw") }
        if !budgets.isEmpty && calibration == nil && calibrationStats.isEmpty {
            throw ValidationError(
                "a budget (--max-kl, --min-cosine, --target-bpw) needs data to measure on: --calibration DATA, "
                    + "or --calibration-stats FILE whose recorded data is still available")
        }
        if let x = maxKl, !(x >= 0) { throw ValidationError("--max-kl must be >= 0") }
        if let x = minCosine, !(x > -1 && x <= 1) { throw ValidationError("--min-cosine must be in (-1, 1]") }
        if let x = targetBpw, !(x > 0 && x <= 64) { throw ValidationError("--target-bpw must be in (0, 64]") }
        if search == .importance && calibration == nil && calibrationStats.isEmpty {
            throw ValidationError(
                "--search importance needs calibration: --calibration DATA or --calibration-stats FILE")
        }
    }

    /// The token sequences the `.qcal` statistics were gathered on, loaded again from the data
    /// each data set names (a license split, or a file beside the first .qcal or in the current
    /// directory) with its recorded samples, length and seed, and checked against its SHA-256:
    /// a budget measures on exactly the samples calibration saw, or refuses.
    func recordedSequences(_ stats: CalibrationStats?, runner: ModelRunner) throws -> [[Int32]] {
        guard let stats, !stats.data.isEmpty else {
            printError("the .qcal statistics record no data set; give --calibration DATA to measure the budget on")
            throw QPackExit.usage
        }
        let qcal = calibrationStats[0]
        let beside = qcal.contains("/") ? String(qcal[..<qcal.lastIndex(of: "/")!]) + "/" : ""
        var all: [[Int32]] = []
        for d in stats.data {
            let candidates = d.source.hasPrefix("licenses:") ? [d.source] : [beside + d.source, d.source]
            var found: [[Int32]]?
            for spec in candidates where spec.hasPrefix("licenses:") || FileManager.default.fileExists(atPath: spec) {
                let options = Calibrator.Options(samples: d.samples, sequenceLength: d.sequenceLength, seed: d.seed)
                guard let data = try? samples.load(spec),
                    let sequences = try? Calibrator.sequences(data, runner: runner, options: options),
                    CalibrationData.digest(sequences) == d.sha256
                else { continue }
                found = sequences
                break
            }
            guard let found else {
                printError(
                    "\(qcal): its data set '\(d.source)' (\(d.samples) samples, sha256 \(d.sha256.prefix(16))…) is not "
                        + "available as it was: a budget needs the samples themselves; give --calibration DATA")
                throw QPackExit.usage
            }
            all += found
        }
        return all
    }

    /// `plan` with the importance search on every quantized entry whose rule names no search
    /// (lossless repacks search nothing).
    static func importanceWhereOpen(_ plan: QuantPlan, rules: RuleSet) -> QuantPlan {
        let explicit = Set(rules.rules.filter { $0.search != nil }.map(\.name))
        var p = plan
        p.entries = plan.entries.map { e in
            guard e.scheme.isQuantized, !e.scheme.isRepack, !explicit.contains(e.rule) else { return e }
            var d = e
            d.search = .importance
            return d
        }
        return p
    }

    var budgetChoice: BudgetSearch.Budget? {
        if let maxKl { return .maxKL(maxKl) }
        if let minCosine { return .minCosine(minCosine) }
        if let targetBpw { return .targetBPW(targetBpw) }
        return nil
    }

    /// Plans `model`, reads or gathers calibration statistics, and refines the plan through the
    /// library (`PlanRefinement`): the plan, rules and options a conversion uses. Exits 1, writing
    /// nothing, when a budget cannot be met.
    func prepare(
        model: String, checkpoint: Checkpoint, planning: PlanningOptions, options base: ConvertOptions,
        quiet: Bool
    ) throws -> (QuantPlan, RuleSet, ConvertOptions) {
        let rules = try planning.ruleSet()
        var plan = try planning.plan(for: model, checkpoint: checkpoint, printWarnings: !quiet)
        var options = base
        options.search = search?.scaleSearch
        let float = calibration != nil || budgetChoice != nil ? try floatRunner(source: model) : nil
        if !calibrationStats.isEmpty {
            options.calibration = try readCalibrationStats(calibrationStats)
        } else if let calibration, let float {
            options.calibration = try runCalibration(float, spec: calibration, samples: samples, quiet: quiet)
        }
        var request: PlanRefinement.BudgetRequest?
        if let budget = budgetChoice, let float {
            let sequences: [[Int32]]
            if let calibration {
                do {
                    sequences = try Calibrator.sequences(
                        try samples.load(calibration), runner: float, options: samples.calibratorOptions)
                } catch {
                    throw fail(error, context: calibration)
                }
            } else {
                sequences = try recordedSequences(options.calibration, runner: float)
            }
            request = .init(budget: budget, sensitivity: sensitivity, float: float, sequences: sequences)
        }
        // With calibration data and no --search, scale searches the rules leave open weight each
        // weight's error by its input's mean x² (importance): it measured best on both models,
        // by far at int4 (docs/accuracy.md, "Weight scale search: the defaults").
        var planner = try planning.planner(for: model, checkpoint: checkpoint)
        if search == nil, options.calibration != nil {
            let plain = planner
            planner = { set in Self.importanceWhereOpen(plain(set), rules: set) }
            plan = Self.importanceWhereOpen(plan, rules: rules)
        }
        let bar = ProgressBar(label: "sensitivity", quiet: quiet)
        let outcome: PlanRefinement.Outcome
        do {
            outcome = try PlanRefinement.refine(
                plan, rules: rules, planner: planner, checkpoint: checkpoint, path: model, options: options,
                budget: request, log: { if !quiet { bar.finish(); printNotice($0) } },
                progress: { bar.update(done: $0, total: $1, item: $2) })
        } catch {
            bar.finish()
            throw fail(error)
        }
        bar.finish()
        if !quiet { for n in outcome.notes { printNotice(n) } }
        if let (result, record) = outcome.budget, let request {
            let metric = request.metric == "kl" ? "KL" : "1 - cosine"
            if !quiet {
                print(
                    String(
                        format: "budget (%@): %d of %d promotions, %@ %.5f at %.3f bits per weight",
                        request.budget.description, result.chosen, result.order.count, metric, result.harm,
                        result.bitsPerWeight))
            }
            guard result.met else {
                let file = model.split(separator: "/").last.map(String.init) ?? model
                printError(
                    "\(file): the budget (\(request.budget)) cannot be met: with all \(result.order.count) promotions the measured "
                        + metric + String(format: " is %.5f at %.3f bits per weight", result.harm, result.bitsPerWeight)
                )
                throw QPackExit.verificationFailed
            }
            options.budget = record
        }
        return (outcome.plan, outcome.rules, options)
    }
}
