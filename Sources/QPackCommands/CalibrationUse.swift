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
            "Decoders: promote the most harmful linears (int4 → int8 → f16) until the mean KL divergence on the calibration data is at most this. Needs --calibration.",
            valueName: "x"))
    var maxKl: Double?

    @Option(
        help: ArgumentHelp(
            "Encoders: promote until the mean cosine on the calibration data is at least this. Needs --calibration.",
            valueName: "x"))
    var minCosine: Double?

    @Option(
        help: ArgumentHelp(
            "Promote the most harmful linears while the model stays within this many bits per weight. Needs --calibration.",
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
        if !budgets.isEmpty && calibration == nil {
            throw ValidationError(
                "a budget (--max-kl, --min-cosine, --target-bpw) needs --calibration DATA to measure on")
        }
        if let x = maxKl, !(x >= 0) { throw ValidationError("--max-kl must be >= 0") }
        if let x = minCosine, !(x > -1 && x <= 1) { throw ValidationError("--min-cosine must be in (-1, 1]") }
        if let x = targetBpw, !(x > 0 && x <= 64) { throw ValidationError("--target-bpw must be in (0, 64]") }
        if search == .importance && calibration == nil && calibrationStats.isEmpty {
            throw ValidationError(
                "--search importance needs calibration: --calibration DATA or --calibration-stats FILE")
        }
    }

    var budgetChoice: BudgetSearch.Budget? {
        if let maxKl { return .maxKL(maxKl) }
        if let minCosine { return .minCosine(minCosine) }
        if let targetBpw { return .targetBPW(targetBpw) }
        return nil
    }

    /// Plans `model`, calibrates (or reads statistics), applies them to the plan and runs the
    /// budget search when one is asked for: the plan, rules and options a conversion uses.
    func prepare(
        model: String, checkpoint: Checkpoint, planning: PlanningOptions, options base: ConvertOptions,
        quiet: Bool
    ) throws -> (QuantPlan, RuleSet, ConvertOptions) {
        var rules = try planning.ruleSet()
        var plan = try planning.plan(for: model, checkpoint: checkpoint, printWarnings: !quiet)
        var options = base
        options.search = search?.scaleSearch
        let float = calibration != nil ? try floatRunner(source: model) : nil
        if !calibrationStats.isEmpty {
            options.calibration = try readCalibrationStats(calibrationStats)
        } else if let calibration, let float {
            options.calibration = try runCalibration(float, spec: calibration, samples: samples, quiet: quiet)
        }
        do {
            let (p, notes) = try Converter.applyCalibration(
                plan, options.calibration, file: model.split(separator: "/").last.map(String.init) ?? model)
            plan = p
            if !quiet { for n in notes { printNotice(n) } }
        } catch {
            throw fail(error)
        }
        if let budget = budgetChoice, let float, let calibration {
            (plan, rules, options.budget) = try searchBudget(
                budget, model: model, checkpoint: checkpoint, plan: plan, rules: rules, options: options,
                planning: planning, float: float, data: calibration, quiet: quiet)
        }
        return (plan, rules, options)
    }

    /// Runs the budget search; exits 1 (writing nothing) when the budget cannot be met.
    func searchBudget(
        _ budget: BudgetSearch.Budget, model: String, checkpoint: Checkpoint, plan: QuantPlan, rules: RuleSet,
        options: ConvertOptions,
        planning: PlanningOptions, float: ModelRunner, data: String, quiet: Bool
    ) throws -> (QuantPlan, RuleSet, JSONOut) {
        let sequences: [[Int32]]
        do {
            sequences = try Calibrator.sequences(
                try samples.load(data), runner: float, options: samples.calibratorOptions)
        } catch {
            throw fail(error, context: data)
        }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("qpack-budget-\(getpid())").path
        try? FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let stats = options.calibration
        let fileName = model.split(separator: "/").last.map(String.init) ?? model
        let result: BudgetSearch.Result
        let bar = ProgressBar(label: "sensitivity", quiet: quiet)
        defer { bar.finish() }
        let planned = try planning.planner(for: model, checkpoint: checkpoint)
        do {
            result = try BudgetSearch.run(
                checkpoint: checkpoint, path: model, plan: plan, rules: rules, options: options,
                planner: { set in
                    try Converter.applyCalibration(planned(set), stats, file: fileName).0
                }, float: float, sequences: sequences, budget: budget, workDirectory: work,
                sensitivity: sensitivity,
                log: { if !quiet { bar.finish(); printNotice($0) } },
                progress: { bar.update(done: $0, total: $1, item: $2) })
        } catch {
            throw fail(error)
        }
        let metric = float.descriptor.isDecoder ? "kl" : "one_minus_cosine"
        let record = result.provenance(metric: metric, sensitivity: sensitivity.rawValue, sequences: sequences)
        if !quiet {
            print(
                String(
                    format: "budget (%@): %d of %d promotions, %@ %.5f at %.3f bits per weight", budget.description,
                    result.chosen, result.order.count,
                    metric == "kl" ? "KL" : "1 - cosine", result.harm, result.bitsPerWeight))
        }
        guard result.met else {
            printError(
                "\(fileName): the budget (\(budget)) cannot be met: with all \(result.order.count) promotions the measured "
                    + (metric == "kl" ? "KL" : "1 - cosine")
                    + String(format: " is %.5f at %.3f bits per weight", result.harm, result.bitsPerWeight))
            throw QPackExit.verificationFailed
        }
        return (result.plan, result.rules, record)
    }
}
