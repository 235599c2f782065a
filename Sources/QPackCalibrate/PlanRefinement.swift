import Foundation
import QPackBinary
import QPackCalibration
import QPackConvert
import QPackPlanning
import QPackReaders

/// Plan, then refine, as library calls (what `convert` and `plan` do between planning and
/// writing): calibration statistics applied to the plan, then the budget search when one is
/// asked for. Commands gather the options, show progress and print; they decide nothing here.
public enum PlanRefinement {
    /// A budget search to run: the budget, how linears are ranked, the float model and the
    /// calibration sequences it is measured on.
    public struct BudgetRequest {
        public let budget: BudgetSearch.Budget
        public let sensitivity: BudgetSearch.Sensitivity
        public let float: ModelRunner
        public let sequences: [[Int32]]

        public init(
            budget: BudgetSearch.Budget, sensitivity: BudgetSearch.Sensitivity, float: ModelRunner, sequences: [[Int32]]
        ) {
            (self.budget, self.sensitivity, self.float, self.sequences) = (budget, sensitivity, float, sequences)
        }

        /// The metric the search measures: KL for decoders, 1 − cosine for encoders.
        public var metric: String { float.descriptor.isDecoder ? "kl" : "one_minus_cosine" }
    }

    public struct Outcome {
        public var plan: QuantPlan
        public var rules: RuleSet
        /// Static linears calibration never saw run, turned dynamic.
        public var notes: [String]
        /// The search and its record for the manifest (`provenance.budget`), when one ran.
        public var budget: (result: BudgetSearch.Result, record: JSONOut)?
    }

    /// Refines `plan` (made by `planner` from `rules`) for a conversion with `options`
    /// (`options.calibration`: the statistics, when there are any).
    public static func refine(
        _ plan: QuantPlan, rules: RuleSet, planner: @escaping (RuleSet) -> QuantPlan, checkpoint: Checkpoint,
        path: String, options: ConvertOptions, budget: BudgetRequest?,
        log: @escaping (String) -> Void = { _ in }, progress: @escaping (Int, Int, String) -> Void = { _, _, _ in }
    ) throws -> Outcome {
        let file = path.split(separator: "/").last.map(String.init) ?? path
        let stats = options.calibration
        let (calibrated, notes) = try Converter.applyCalibration(plan, stats, file: file)
        var outcome = Outcome(plan: calibrated, rules: rules, notes: notes, budget: nil)
        guard let budget else { return outcome }
        let work = FileManager.default.temporaryDirectory
            .appendingPathComponent("qpack-budget-\(getpid())-\(UUID().uuidString.prefix(8))").path
        try? FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let result = try BudgetSearch.run(
            checkpoint: checkpoint, path: path, plan: calibrated, rules: rules, options: options,
            planner: { set in try Converter.applyCalibration(planner(set), stats, file: file).0 },
            float: budget.float, sequences: budget.sequences, budget: budget.budget, workDirectory: work,
            sensitivity: budget.sensitivity, log: log, progress: progress)
        outcome.plan = result.plan
        outcome.rules = result.rules
        outcome.budget = (
            result,
            result.provenance(
                metric: budget.metric, sensitivity: budget.sensitivity.rawValue, sequences: budget.sequences)
        )
        return outcome
    }
}
