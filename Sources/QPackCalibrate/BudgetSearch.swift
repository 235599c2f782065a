import CQPackRuntime
import Foundation
import QPackBinary
import QPackCalibration
import QPackContainer
import QPackConvert
import QPackModel
import QPackPacking
import QPackPlanning
import QPackReaders

/// Automatic precision under a budget. Every quantizable linear climbs a ladder (`ladder`:
/// symmetric int4 → asymmetric int4 `qai4c32` → int8 → f16; a lossless repack → f16); the search
/// 1. converts the model once per rung with the real packers: as the rules say, with every
///    linear one rung up, two rungs up, … (temporary files);
/// 2. measures each linear's harm on the calibration data with the real packed kernels: its
///    packed output against the float layer's output on the same input (relative MSE), at every
///    quantized rung; and (by default) end to end: the float model with only that linear
///    packed, on the first four samples cut to 64 tokens;
/// 3. orders promotions by harm removed per added bit (a linear promoted once re-enters with
///    its new rung's harm: end-to-end harm scaled by the local error ratio, zero for f16), ties
///    by name;
/// 4. finds the shortest prefix of that order whose mixed model (packed tensors taken from the
///    rungs' conversions) meets the budget end to end on the calibration data (KL for decoders,
///    1 − cosine for encoders; a binary search over the prefix length, each step a full run of
///    the packed kernels), or, for a bits-per-weight target, applies every step in order that
///    still fits (and measures the result).
/// Deterministic: single-threaded kernels, fixed data, fixed tie-breaking.
public enum BudgetSearch {
    public enum Budget: Sendable, Equatable, CustomStringConvertible {
        case maxKL(Double)
        case minCosine(Double)
        case targetBPW(Double)

        /// The largest harm (Result.harm) that meets a metric budget; nil for a bits budget.
        public var harmLimit: Double? {
            switch self {
            case let .maxKL(x): return x
            case let .minCosine(x): return 1 - x
            case .targetBPW: return nil
            }
        }

        public var description: String {
            switch self {
            case let .maxKL(x): return "max KL \(x)"
            case let .minCosine(x): return "min cosine \(x)"
            case let .targetBPW(x): return "target \(x) bits per weight"
            }
        }
    }

    public struct Evaluation: Sendable, Codable, Equatable {
        /// Promotions applied (a prefix of the order).
        public let promotions: Int
        /// KL (decoders) or 1 − cosine (encoders) on the calibration data.
        public let harm: Double
        public let bitsPerWeight: Double
    }

    public struct Step: Sendable, Codable, Equatable {
        public let tensor: String
        public let from: String
        public let to: String
        /// The harm that ranked the step at `from` and `to`: end-to-end (the metric with only
        /// this linear quantized) or, with local sensitivity, the local error.
        public let harmFrom: Double
        public let harmTo: Double
        /// Relative MSE of the linear's packed output at `from` and at `to`.
        public let localFrom: Double
        public let localTo: Double
    }

    public enum Sensitivity: String, Sendable, CaseIterable {
        /// Each linear alone in the float model, measured end to end (one run per linear).
        case endToEnd = "end-to-end"
        /// Each linear's own output error (one run in all).
        case local
    }

    public struct Result: Sendable {
        public let budget: Budget
        /// The final plan: promoted entries carry `promotion`.
        public let plan: QuantPlan
        public let rules: RuleSet
        /// The whole promotion order, and the steps applied (indices into it, ascending): a
        /// prefix for error budgets, every step that fits for a bits target.
        public let order: [Step]
        public let applied: [Int]
        public var chosen: Int { applied.count }
        public let evaluations: [Evaluation]
        public let met: Bool
        public let harm: Double
        public let bitsPerWeight: Double
        /// Set when a uniform plan (every candidate linear the same number of rungs up) beat the
        /// mix the order gave, in bits and in error, and was chosen instead.
        public var uniformRung: Int? = nil
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Rungs of the longest ladder.
    static let rungCount = 4

    /// The next rung up, or nil at the top: symmetric int4 → asymmetric int4 (K a multiple of
    /// its block of 32) → int8 → f16; a lossless repack keeps the weights exactly, so only f16
    /// (float activations) is above it.
    /// An embedding table (a tied head) skips the rungs whose layout the runtime cannot look up
    /// rows in (asymmetric int4): such a file would be refused.
    static func promoted(_ s: WeightScheme, columns: Int?, table: Bool = false) -> WeightScheme? {
        let next: WeightScheme?
        switch s {
        case .qsi4c32, .qsi4cx: next = (columns ?? 1) % 32 == 0 ? .qai4c32 : .qsi8cx
        case .qai4c32: next = .qsi8cx
        case .qsi8cx: next = .f16
        case .repack: next = .f16
        case .f32, .f16, .bf16, .keep: next = nil
        }
        if table, let n = next, let family = n.family, !family.embeddingRows {
            return promoted(n, columns: columns, table: true)
        }
        return next
    }

    /// A linear's schemes from the rules' upward, at most `rungCount`.
    static func ladder(_ e: PlanEntry) -> [WeightScheme] {
        var out = [e.scheme]
        while out.count < rungCount, let last = out.last,
            let next = promoted(last, columns: e.matrix?[1], table: e.role == .embedding)
        {
            out.append(next)
        }
        return out
    }

    /// `planner` plans with a rule set exactly as the caller planned `base` (same target,
    /// activation mode and calibration).
    public static func run(
        checkpoint: Checkpoint, path: String, plan base: QuantPlan, rules: RuleSet, options: ConvertOptions,
        planner: (RuleSet) throws -> QuantPlan,
        float: ModelRunner, sequences: [[Int32]], budget: Budget, workDirectory: String,
        sensitivity sensitivityMode: Sensitivity = .endToEnd,
        log: (String) -> Void = { _ in },
        progress: (_ done: Int, _ total: Int, _ item: String) -> Void = { _, _, _ in }
    ) throws(Failure) -> Result {
        func replan(_ base: QuantPlan, rules: RuleSet, schemes: [String: WeightScheme], tag: String) throws(Failure)
            -> (QuantPlan, RuleSet)
        {
            let set = forcing(schemes, base: base, rules: rules, tag: tag)
            do { return (try planner(set), set) } catch { throw Failure(description: "\(error)") }
        }
        let fileName = path.split(separator: "/").last.map(String.init) ?? path
        let graphNames = Set(float.linearWeightNames)
        let candidates = base.entries.filter {
            graphNames.contains($0.name)
                && promoted($0.scheme, columns: $0.matrix?[1], table: $0.role == .embedding) != nil
                && $0.matrix != nil
        }.map(\.name)
        guard !candidates.isEmpty else {
            throw Failure(description: "\(fileName): no linear can be promoted (none is int4 or int8)")
        }

        // 1. The rules' conversion and everything one, two, … rungs up (a short ladder stays at its top).
        var schemesByRung = [[String: WeightScheme]](repeating: [:], count: rungCount)
        for e in base.entries where candidates.contains(e.name) {
            let l = ladder(e)
            for r in 0..<rungCount { schemesByRung[r][e.name] = l[min(r, l.count - 1)] }
        }
        var plans: [QuantPlan] = []
        var runners: [ModelRunner] = []
        func convertRung(_ rung: Int) throws(Failure) {
            let (p, r) = try replan(base, rules: rules, schemes: schemesByRung[rung], tag: "rung \(rung)")
            let out = workDirectory + "/budget-rung\(rung).qpack"
            log("converting with every candidate linear \(rung) rung(s) up")
            do {
                var o = options
                o.force = true
                o.withReference = false
                _ = try Converter.convert(checkpoint, path: path, plan: p, rules: r, output: out, options: o)
                runners.append(try ModelRunner.packed(try ContainerFile(path: out)))
            } catch { throw Failure(description: "\(fileName): budget search, rung \(rung): \(error)") }
            try? FileManager.default.removeItem(atPath: out)  // the runner holds its own copy of the bytes
            plans.append(p)
        }
        try convertRung(0)

        log("running the float model on \(sequences.count) calibration samples")
        let reference: Evaluator.Reference
        do { reference = try Evaluator.reference(float, sequences: sequences) } catch {
            throw Failure(description: "\(error)")
        }
        var evaluations: [Evaluation] = []
        var measured: [[Int]: Double] = [:]

        // 1b. The rules' own conversion first: when it meets a metric budget the search chooses no
        // promotion (each adds bits), so no linear is ranked and the order stays empty.
        var metByTheRules = false
        if let limit = budget.harmLimit {
            let harm0: Double
            do { harm0 = try Evaluator.evaluate(runners[0], against: reference).harm } catch {
                throw Failure(description: "\(error)")
            }
            let bits0 =
                Double(8 * base.entries.reduce(0) { $0 + $1.storedBytes })
                / Double(max(1, base.entries.reduce(0) { $0 + $1.parameters }))
            evaluations.append(Evaluation(promotions: 0, harm: harm0, bitsPerWeight: bits0))
            measured[[]] = harm0
            log(
                String(
                    format: "  %4d promotions: %@ %.5f at %.3f bits per weight", 0,
                    float.descriptor.isDecoder ? "KL" : "1 - cosine", harm0, bits0))
            metByTheRules = harm0 <= limit
            if metByTheRules { log("the rules' conversion meets the budget: no linear needs ranking") }
        }
        if !metByTheRules { for rung in 1..<rungCount { try convertRung(rung) } }

        // 2. Local harm of each candidate at every quantized rung, on the float model's own inputs.
        let measuredRungs = rungCount - 1  // the top of every ladder is f16
        var harm = [[String: (err: Double, sig: Double)]](repeating: [:], count: measuredRungs)
        let linearsByRung: [[String: qp_linear]] =
            metByTheRules ? [] : (0..<measuredRungs).map { rung in runners[rung].linearsByName() }
        if !metByTheRules { log("measuring each linear's error with the packed kernels") }
        do {
            for s in sequences where !metByTheRules {
                _ = try float.run(s) { name, m, _, n, input, output in
                    guard schemesByRung[0][name] != nil else { return }
                    var y = [Float](repeating: 0, count: m * n)
                    for rung in 0..<measuredRungs where schemesByRung[rung][name]!.isQuantized {
                        var l = linearsByRung[rung][name]!
                        _ = y.withUnsafeMutableBufferPointer { qp_linear_forward(&l, m, input, $0.baseAddress) }
                        var a = harm[rung][name] ?? (0, 0)
                        for i in 0..<(m * n) {
                            let d = Double(y[i]) - Double(output[i])
                            a.err += d * d
                            a.sig += Double(output[i]) * Double(output[i])
                        }
                        harm[rung][name] = a
                    }
                }
            }
        } catch { throw Failure(description: "\(fileName): \(error)") }
        func relative(_ rung: Int, _ name: String) -> Double {
            guard rung < measuredRungs, schemesByRung[rung][name]!.isQuantized else { return 0 }
            let a = harm[rung][name] ?? (0, 0)
            return a.sig > 0 ? a.err / a.sig : 0
        }

        // 2b. End-to-end sensitivity: the float model with only this linear packed as the rules
        // say, on the first four samples (cut to 48 tokens). Higher rungs are estimated by scaling
        // with the local error ratio; f16 counts as harmless.
        var sensitivity: [String: Double] = [:]
        if sensitivityMode == .endToEnd && !metByTheRules {
            let probe = Array(sequences.prefix(4)).map { Array($0.prefix(48)) }
            log("measuring the end-to-end harm of each of \(candidates.count) linears alone on \(probe.count) samples")
            let probeReference: Evaluator.Reference
            do { probeReference = try Evaluator.reference(float, sequences: probe) } catch {
                throw Failure(description: "\(fileName): \(error)")
            }
            // Candidates are independent: measured on every core, each result in its own slot.
            let results = SensitivitySlots(count: candidates.count)
            let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, candidates.count))
            let lowest = runners[0]
            for start in stride(from: 0, to: candidates.count, by: workers) {
                let batch = Array(start..<min(start + workers, candidates.count))
                DispatchQueue.concurrentPerform(iterations: batch.count) { j in
                    let i = batch[j], name = candidates[i]
                    do {
                        let alone = try float.mixing([lowest], choose: { $0 == name ? 0 : nil })
                        results.set(i, .success(try Evaluator.evaluate(alone, against: probeReference).harm))
                    } catch { results.set(i, .failure(Failure(description: "\(fileName): \(name): \(error)"))) }
                }
                progress(batch.last! + 1, candidates.count, candidates[batch.last!])
            }
            for (i, name) in candidates.enumerated() { sensitivity[name] = try results.get(i) }
        }
        func harmAt(_ rung: Int, _ name: String) -> Double {
            guard let s0 = sensitivity[name] else { return relative(rung, name) }
            if rung == 0 { return s0 }
            return relative(0, name) > 0 ? s0 * relative(rung, name) / relative(0, name) : 0
        }

        // 3. The order: harm removed per added bit, one rung at a time.
        let entryByName = Dictionary(uniqueKeysWithValues: base.entries.map { ($0.name, $0) })
        let storedBytes = plans.map { p in
            Dictionary(p.entries.map { ($0.name, $0.storedBytes) }, uniquingKeysWith: { a, _ in a })
        }
        func bytes(_ name: String, _ rung: Int) -> Int { storedBytes[rung][name]! }
        var rung = Dictionary(uniqueKeysWithValues: candidates.map { ($0, 0) })
        var order: [Step] = []
        while !metByTheRules {
            var best: (score: Double, name: String)?
            for name in candidates
            where rung[name]! < rungCount - 1
                && schemesByRung[rung[name]! + 1][name] != schemesByRung[rung[name]!][name]
            {
                let r = rung[name]!
                let gain = harmAt(r, name) - harmAt(r + 1, name)
                let addedBits = Double(8 * (bytes(name, r + 1) - bytes(name, r)))
                let score = addedBits > 0 ? gain / addedBits : gain
                if best == nil || score > best!.score || (score == best!.score && name < best!.name) {
                    best = (score, name)
                }
            }
            guard let pick = best else { break }
            let r = rung[pick.name]!
            order.append(
                Step(
                    tensor: pick.name, from: schemesByRung[r][pick.name]!.name,
                    to: schemesByRung[r + 1][pick.name]!.name,
                    harmFrom: harmAt(r, pick.name), harmTo: harmAt(r + 1, pick.name),
                    localFrom: relative(r, pick.name), localTo: relative(r + 1, pick.name)))
            rung[pick.name] = r + 1
        }

        // Rungs after applying the steps `applied` (indices into the order).
        func rungs(_ applied: [Int]) -> [String: Int] {
            var out: [String: Int] = [:]
            for i in applied { out[order[i].tensor, default: 0] += 1 }
            return out
        }
        let totalParams = base.entries.reduce(0) { $0 + $1.parameters }
        let baseBytes = base.entries.reduce(0) { $0 + $1.storedBytes }
        func bitsPerWeight(_ applied: [Int]) -> Double {
            var b = baseBytes
            for (name, r) in rungs(applied) { b += bytes(name, r) - bytes(name, 0) }
            return Double(8 * b) / Double(max(1, totalParams))
        }
        func prefix(_ k: Int) -> [Int] { Array(0..<k) }

        // 4. End-to-end measurement of a prefix with the packed kernels.
        func measure(_ applied: [Int]) throws(Failure) -> Double {
            if let h = measured[applied] { return h }
            let r = rungs(applied)
            do {
                let mixed = try runners[0].mixing(runners, choose: { r[$0].map { $0 } })
                let report = try Evaluator.evaluate(mixed, against: reference)
                let e = Evaluation(promotions: applied.count, harm: report.harm, bitsPerWeight: bitsPerWeight(applied))
                evaluations.append(e)
                measured[applied] = e.harm
                log(
                    String(
                        format: "  %4d promotions: %@ %.5f at %.3f bits per weight", applied.count,
                        float.descriptor.isDecoder ? "KL" : "1 - cosine", e.harm, e.bitsPerWeight))
                return e.harm
            } catch { throw Failure(description: "\(error)") }
        }
        var chosen: [Int]
        var met: Bool
        switch budget {
        case let .targetBPW(target):
            // Every step that still fits, in order (a step whose earlier rung was skipped is
            // skipped too): a step too large for the rest of the budget does not stop smaller ones.
            chosen = []
            var skipped: Set<String> = []
            for i in order.indices {
                guard !skipped.contains(order[i].tensor), bitsPerWeight(chosen + [i]) <= target else {
                    skipped.insert(order[i].tensor)
                    continue
                }
                chosen.append(i)
            }
            _ = try measure(chosen)
            met = bitsPerWeight(chosen) <= target
        case .maxKL, .minCosine:
            let limit = budget.harmLimit ?? 0
            if try measure(prefix(0)) <= limit {
                chosen = []
                met = true
            } else if try measure(prefix(order.count)) > limit {
                chosen = prefix(order.count)
                met = false
            } else {
                // Smallest k meeting the budget, assuming harm falls as promotions are added; the
                // chosen prefix itself is always measured and meets it.
                var lo = 0, hi = order.count
                while hi - lo > 1 {
                    let mid = (lo + hi) / 2
                    if try measure(prefix(mid)) <= limit { hi = mid } else { lo = mid }
                }
                chosen = prefix(hi)
                met = true
            }
        }
        var finalHarm = try measure(chosen)

        // 4b. Never a dominated mix: a uniform plan (every candidate r rungs up) with no more
        // bits and no more error that meets the budget is chosen instead, and said so.
        var uniformRung: Int?
        if met {
            for r in 0..<rungCount {
                var seen: [String: Int] = [:]
                let uniform = order.indices.filter { i in
                    seen[order[i].tensor, default: 0] += 1
                    return seen[order[i].tensor]! <= r
                }
                guard uniform != chosen else { continue }
                let bits = bitsPerWeight(uniform), chosenBits = bitsPerWeight(chosen)
                guard bits <= chosenBits else { continue }
                if case let .targetBPW(target) = budget, bits > target { continue }
                let h = try measure(uniform)
                var meets = true
                if case let .maxKL(x) = budget { meets = h <= x }
                if case let .minCosine(x) = budget { meets = h <= 1 - x }
                guard meets, h <= finalHarm, bits < chosenBits || h < finalHarm else { continue }
                log(
                    String(
                        format:
                            "  a uniform plan (every candidate %d rung(s) up) dominates the mix: %.5f at %.3f bits per weight against %.5f at %.3f; chosen instead",
                        r, h, bits, finalHarm, chosenBits))
                chosen = uniform
                finalHarm = h
                uniformRung = r
            }
        }

        // The final plan: promoted entries get their rung's scheme and the numbers behind it.
        let final = rungs(chosen)
        var finalSchemes: [String: WeightScheme] = [:]
        for (name, r) in final where r > 0 { finalSchemes[name] = schemesByRung[r][name]! }
        var (plan, finalRules) = try replan(base, rules: rules, schemes: finalSchemes, tag: "promotions")
        var stepOf: [String: (Int, Step)] = [:]
        for i in chosen { stepOf[order[i].tensor] = (i + 1, order[i]) }  // the last step of each tensor
        plan.entries = plan.entries.map { e in
            guard let (step, s) = stepOf[e.name] else { return e }
            var d = e
            d.promotion = Promotion(
                from: entryByName[e.name]!.scheme.name, to: e.scheme.name, step: step, sensitivity: s.harmFrom,
                metricAfter: finalHarm)
            return d
        }
        var result = Result(
            budget: budget, plan: plan, rules: finalRules, order: order, applied: chosen,
            evaluations: evaluations, met: met, harm: finalHarm, bitsPerWeight: bitsPerWeight(chosen))
        result.uniformRung = uniformRung
        return result
    }

    /// `rules` with rules named `budget:<tensor>` in front forcing some tensors' schemes (keeping
    /// their search, NaN policy and activations), so every other decision is the planner's own.
    static func forcing(_ schemes: [String: WeightScheme], base: QuantPlan, rules: RuleSet, tag: String) -> RuleSet {
        guard !schemes.isEmpty else { return rules }
        let byName = Dictionary(uniqueKeysWithValues: base.entries.map { ($0.name, $0) })
        var forced: [Rule] = []
        for (name, scheme) in schemes.sorted(by: { $0.key < $1.key }) {
            var match = Rule.Match()
            // The exact name as a regex, its metacharacters escaped.
            match.regex = name.map { ".^$*+?()[]{}|\\/-#&~".contains($0) ? "\\" + String($0) : String($0) }.joined()
            let e = byName[name]!
            var r = Rule(
                name: "budget:" + name, match: match, scheme: scheme, fallback: nil, search: e.search,
                nonFinite: e.nonFinite, activations: nil, observer: nil, percentile: nil,
                why: "promoted by the budget search", line: nil)
            if let observer = RangeObserver(planned: e.activations) {
                r.activations = "static"
                r.observer = observer.name
                if case let .percentile(p) = observer { r.percentile = p }
            } else if e.activations == .dynamic {
                r.activations = "dynamic"
            }
            forced.append(r)
        }
        let text =
            rules.text + "\n# budget search (\(tag)): "
            + schemes.sorted(by: { $0.key < $1.key }).map { "\($0.key)=\($0.value.name)" }.joined(separator: ", ")
            + "\n"
        return RuleSet(rules: forced + rules.rules, text: text, origin: rules.origin)
    }
}

extension ModelRunner {
    /// Every linear of the graph by weight name.
    func linearsByName() -> [String: qp_linear] {
        Dictionary(
            model.linearWeightNames.indices.map { (model.linearWeightNames[$0], model.linear($0)) },
            uniquingKeysWith: { a, _ in a })
    }
}

/// Result slots written by distinct threads at distinct indices, read after they all finish.
final class SensitivitySlots: @unchecked Sendable {
    private var slots: [Result<Double, BudgetSearch.Failure>?]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: Result<Double, BudgetSearch.Failure>) { lock.lock(); slots[i] = r; lock.unlock() }
    func get(_ i: Int) throws(BudgetSearch.Failure) -> Double { try slots[i]!.get() }
}

extension BudgetSearch.Failure: QPackFailure {
    public var failureKind: FailureKind { .malformed }
}

extension BudgetSearch.Result {
    /// The search as the manifest's `provenance.budget` records it (Formats/qpack-container.md
    /// §4.6): the budget, metric, what was measured, the promotion order and every evaluation.
    public func provenance(metric: String, sensitivity: String, sequences: [[Int32]]) -> JSONOut {
        .object(
            [
                ("budget", .string(budget.description)), ("metric", .string(metric)),
                ("sensitivity", .string(sensitivity)),
                ("met", .bool(met)), ("measured", .double(harm)), ("bits_per_weight", .double(bitsPerWeight)),
                ("calibration_sha256", .string(CalibrationData.digest(sequences))), ("promotions", .int(chosen)),
                ("applied", .array(applied.map { .int($0 + 1) })),
            ] + (uniformRung.map { [("uniform_rung", JSONOut.int($0))] } ?? []) + [
                (
                    "order",
                    .array(
                        order.map { s in
                            .object([
                                ("tensor", .string(s.tensor)), ("from", .string(s.from)), ("to", .string(s.to)),
                                ("harm_from", .double(s.harmFrom)), ("harm_to", .double(s.harmTo)),
                                ("local_from", .double(s.localFrom)), ("local_to", .double(s.localTo)),
                            ])
                        })
                ),
                (
                    "evaluations",
                    .array(
                        evaluations.map { e in
                            .object([
                                ("promotions", .int(e.promotions)), ("measured", .double(e.harm)),
                                ("bits_per_weight", .double(e.bitsPerWeight)),
                            ])
                        })
                ),
            ])
    }
}
