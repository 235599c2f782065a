import ArgumentParser
import QPackBinary
import Foundation
import QPackContainer
import QPackConvert
import QPackModel
import QPackPlanning
import QPackReaders

/// Options shared by `plan` and `convert`: which rules, which target.
struct PlanningOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Rules file (YAML, Formats/qpack-rules.md). Default: the built-in rules (see --print-rules).",
            valueName: "file"))
    var rules: String?

    @Option(
        help: ArgumentHelp(
            "Kernel family to pack for.", valueName: "target"))
    var target: KernelTarget = .neonI8mm

    @Flag(help: "Treat planner warnings (fallbacks, guessed roles) as errors.")
    var strict = false

    @Flag(
        help:
            "Plan and convert a checkpoint whose architecture qpack cannot run (unsupported, incomplete or with unknown tensors); the file is marked not runnable and verify refuses it."
    )
    var allowUnsupported = false

    @Option(
        help: ArgumentHelp(
            "Activation quantization of quantized linears whose rule does not say: dynamic (per row at run time) or static (ranges from calibration).",
            valueName: "mode"))
    var mode: ActivationMode = .dynamic

    @Option(
        help: ArgumentHelp(
            "Static range observer for static linears whose rule names none (default minmax; --percentile alone means percentile); an error when no linear is static.",
            valueName: "observer"))
    var observer: ObserverChoice?

    /// The observer static linears get from the command line.
    var observerChoice: ObserverChoice { observer ?? (percentile != nil ? .percentile : .minmax) }

    @Option(help: ArgumentHelp("Percentile of the percentile observer (default 99.99).", valueName: "p"))
    var percentile: Double?

    @Option(
        help: ArgumentHelp(
            "Smooth static linears whose rule does not say, with strength alpha in (0, 1] (SmoothQuant: input channels divided, weight columns multiplied; needs the minmax observer). Default 0.75 with minmax; 0 turns smoothing off.",
            valueName: "alpha"))
    var smooth: Double?

    func validate() throws {
        if let p = percentile, !(p > 50 && p <= 100) || observerChoice != .percentile {
            throw ValidationError("--percentile takes a number in (50, 100] with --observer percentile")
        }
        if let a = smooth, !(a >= 0 && a <= 1) || observerChoice != .minmax {
            throw ValidationError("--smooth takes a number in [0, 1] (0: off) and needs the minmax observer")
        }
    }

    var kernelTarget: KernelTarget { target }

    /// The observer as the planner takes it ("percentile(p)" with --percentile).
    var plannedObserver: String {
        if observerChoice == .percentile, let percentile { return "percentile(\(percentile))" }
        return observerChoice.rawValue
    }

    /// Loads the rule set; a bad rules file exits 65 with its line and column.
    func ruleSet() throws -> RuleSet {
        guard let rules else { return DefaultRules.ruleSet }
        guard let data = FileManager.default.contents(atPath: rules) else {
            printError("\(rules): cannot read the rules file")
            throw QPackExit.ioError
        }
        guard let text = String(data: data, encoding: .utf8) else {
            printError("\(rules): the rules file is not UTF-8")
            throw QPackExit.malformedInput
        }
        do { return try RuleSet.parse(text, origin: rules) } catch {
            throw fail(error)
        }
    }

    /// The planning these options ask for, as a function of the rule set (the budget search
    /// re-plans with other rules); a checkpoint whose declaration cannot be read exits 65.
    func planner(for path: String, checkpoint: Checkpoint) throws -> @Sendable (RuleSet) -> QuantPlan {
        let declared: DeclaredModel
        do { declared = try checkpoint.declaredModel(path: path) } catch {
            throw fail(error)
        }
        let (target, mode, observer, allow) = (kernelTarget, mode.rawValue, plannedObserver, allowUnsupported)
        let smooth = self.smooth == 0 ? nil : self.smooth, smoothByDefault = self.smooth != 0
        let inputs = checkpoint.planInputs
        return { rules in
            Planner.plan(
                inputs, rules: rules, target: target, declared: declared, allowUnsupported: allow, activations: mode,
                observer: observer, smoothing: smooth, smoothingByDefault: smoothByDefault)
        }
    }

    /// Plans `path`, printing diagnostics; exits 65 when the plan has errors.
    func plan(for path: String, checkpoint: Checkpoint, printWarnings: Bool) throws -> QuantPlan {
        let plan = try planner(for: path, checkpoint: checkpoint)(try ruleSet())
        let failing = plan.diagnostics.filter { $0.severity == .error || (strict && $0.severity == .warning) }
        if printWarnings {
            for d in plan.diagnostics where d.severity != .note && !failing.contains(d) { printNotice(d.description) }
        }
        if !failing.isEmpty {
            for d in failing { printError("\(path.split(separator: "/").last.map(String.init) ?? path): \(d.detail)") }
            throw QPackExit.malformedInput
        }
        // Static-range options that reach no linear would be ignored silently: refuse them.
        if observer != nil || percentile != nil || smooth != nil,
            !plan.entries.contains(where: { $0.activations.isStatic })
        {
            printError(
                "--observer, --percentile and --smooth choose static activation ranges, and no linear is static (add --mode static, or a rule with activations: static)"
            )
            throw QPackExit.usage
        }
        return plan
    }
}

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show which scheme every tensor of a checkpoint would get, which rule chose it, and why.",
        discussion: """
            Nothing is converted. The plan recognises the architecture (BERT, Llama with HF or GGUF \
            names), gives each tensor a role, applies the rules (first match wins), checks that every \
            shape fits its scheme, and sums up tensors, parameters, bytes and bits per weight per \
            scheme. A shape that does not fit is an error (exit 65) unless the rule names a fallback.
            """
    )

    @Argument(help: "Checkpoint: .safetensors, .safetensors.index.json or .gguf.")
    var model: String?

    @OptionGroup var planning: PlanningOptions

    @Flag(help: "Print JSON (schema qpack-plan/1) instead of text.")
    var json = false

    @Flag(help: "Print the built-in default rules and exit.")
    var printRules = false

    @Flag(help: "Never shorten tensor names (by default text fits the terminal, 80 columns when not a terminal).")
    var wide = false

    /// Columns text output may use.
    var columns: Int { wide ? Int.max / 4 : Terminal.columns }

    @Flag(
        help:
            "Show the budget search behind the schemes (every promotion, the measurements, the end-to-end evaluations) and the static activation ranges: of a .qpack file, or of this plan with a budget option."
    )
    var explain = false

    @OptionGroup var calibrationUse: CalibrationUse

    func validate() throws {
        if model == nil && !printRules { throw ValidationError("give a checkpoint to plan (or --print-rules)") }
    }

    func run() throws {
        if printRules {
            print(DefaultRules.text, terminator: "")
            return
        }
        let given = model!
        if given.hasSuffix(".qpack") {
            let container: ContainerFile
            do { container = try ContainerFile(path: given) } catch {
                throw fail(error)
            }
            if json {
                print(PlanExplanation.json(container).text())
            } else {
                print(PlanExplanation.render(container, width: columns), terminator: "")
            }
            return
        }
        let usesCalibration = calibrationUse.calibration != nil || !calibrationUse.calibrationStats.isEmpty
        let path = try modelFile(given)
        let checkpoint: Checkpoint
        do { checkpoint = try Checkpoint.open(path: path) } catch {
            throw fail(error)
        }
        var plan = try planning.plan(for: path, checkpoint: checkpoint, printWarnings: !json)
        var budget: JSONOut?
        if usesCalibration {
            // The same preparation as convert (calibration, static ranges, budget search), no file written.
            let (p, _, options) = try calibrationUse.prepare(
                model: path, checkpoint: checkpoint, planning: planning,
                options: ConvertOptions(target: planning.kernelTarget, jobs: 2), quiet: json)
            plan = p
            budget = options.budget
        }
        if explain {
            let node = try budget.map { try StrictJSONParser.parse(Array($0.text().utf8)) }
            let statics: [(String, ContainerFile.StaticActivation)] = []  // ranges exist once converted
            if json {
                print(PlanExplanation.json(name: path, budget: node, statics: statics, calibration: nil).text())
                return
            }
            print(
                PlanExplanation.render(name: path, budget: node, statics: statics, calibration: nil, width: columns),
                terminator: "")
            if budget == nil {
                print("  (give --calibration DATA with --max-kl, --min-cosine or --target-bpw to run a budget search)")
            }
            return
        }
        if json {
            print(try PlanJSON.encode(plan))
        } else {
            print(PlanTextRenderer(width: columns).render(plan, path: path), terminator: "")
        }
    }
}

enum PlanJSON {
    struct Document: Encodable {
        let schema = "qpack-plan/1"
        let plan: QuantPlan
    }

    static func encode(_ plan: QuantPlan) throws -> String {
        try ReportOutput.json(Document(plan: plan))
    }
}

struct PlanTextRenderer {
    var width: Int

    /// The source's type and what the scheme does to its values: `lossless` (bit for bit),
    /// `rounded` (to a finer float grid), `requantized` (a quantized source put on another grid)
    /// or `quantized` (a float source).
    static func fidelity(_ e: PlanEntry) -> String {
        let floatSource = ["F32", "F16", "BF16", "F64"].contains(e.sourceType)
        let what: String
        if e.lossless {
            what = "lossless"
        } else if e.scheme.isQuantized {
            what = floatSource ? "quantized" : "requantized"
        } else {
            what = "rounded"
        }
        return e.sourceType + " " + what
    }

    func render(_ plan: QuantPlan, path: String) -> String {
        var out = "\(path)\n"
        out += "  profile \(plan.profile), target \(plan.target.rawValue), rules: \(plan.rules)\n"
        if !plan.runnable {
            out += "  not runnable: planned with --allow-unsupported; qpack cannot verify or run the result\n"
        }
        out += "\n"
        let rows = plan.entries.map { e -> [String] in
            var scheme = e.scheme.name
            if e.requestedScheme != nil { scheme += "*" }
            // Static activations show after the scheme (the observer is in the JSON).
            if e.activations.isStatic { scheme += "/static" }
            return [e.name, Self.shortRole(e.role), scheme, Self.fidelity(e), e.rule]
        }
        let header = ["TENSOR", "ROLE", "SCHEME", "FROM", "RULE"]
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        widths[0] = min(widths[0], max(16, width - (widths[1...].reduce(0, +) + 2 * 4 + 2)))
        func line(_ r: [String]) -> String {
            "  " + Units.elide(r[0], to: widths[0]).padding(widths[0]) + "  " + r[1].padding(widths[1]) + "  "
                + r[2].padding(widths[2]) + "  " + r[3].padding(widths[3]) + "  " + r[4] + "\n"
        }
        out += line(header)
        rows.forEach { out += line($0) }
        let fallbacks = plan.entries.filter { $0.requestedScheme != nil }
        if !fallbacks.isEmpty {
            out += "\n  * fallback:\n"
            for e in fallbacks { out += fit("    \(e.name): \(e.fallbackReason ?? "")") + "\n" }
        }
        let statics = plan.entries.filter { $0.activations.isStatic }
        if !statics.isEmpty {
            var observers: [String: Int] = [:]
            for e in statics { observers[e.activations.observer ?? "", default: 0] += 1 }
            let smoothed = statics.filter { $0.smoothing != nil }.count
            out +=
                "\n  /static: activations quantized with calibrated ranges ("
                + observers.keys.sorted().map { "\(observers[$0]!) by \($0)" }.joined(separator: ", ")
                + (smoothed > 0 ? "; \(smoothed) smoothed" : "") + ")\n"
        }
        let notes = Set(plan.entries.compactMap(\.note))
        if !notes.isEmpty {
            out += "\nNotes:\n"
            for n in notes.sorted() {
                let count = plan.entries.filter { $0.note == n }.count
                out += fit("  \(count) tensors: \(n)") + "\n"
            }
        }
        out += "\nRules used (first match wins):\n"
        var seen: Set<String> = []
        for e in plan.entries where seen.insert(e.rule).inserted {
            let count = plan.entries.filter { $0.rule == e.rule }.count
            out += fit("  \(e.rule) (\(count)): \(e.why ?? "")") + "\n"
        }
        out += "\nCoverage:\n"
        out +=
            "  " + "SCHEME".padding(12) + "TENSORS".leftPad(8) + "PARAMS".leftPad(14) + "BYTES".leftPad(14)
            + "BITS/W".leftPad(9) + "\n"
        for c in plan.coverage {
            out +=
                "  " + c.scheme.padding(12) + String(c.tensors).leftPad(8) + String(c.parameters).leftPad(14)
                + String(c.bytes).leftPad(14) + String(format: "%9.2f", c.bitsPerWeight) + "\n"
        }
        out +=
            "  " + "total".padding(12) + String(plan.entries.count).leftPad(8)
            + String(plan.totalParameters).leftPad(14)
            + String(plan.expectedTensorBytes).leftPad(14) + String(format: "%9.2f", plan.bitsPerWeight) + "\n"
        out +=
            "\n  \(plan.entries.count) of \(plan.totalTensors) tensors planned; source \(Units.bytes(plan.sourceBytes, exact: false)),"
            + " expected tensor data \(Units.bytes(plan.expectedTensorBytes, exact: false))\n"
        return out
    }

    static func shortRole(_ r: TensorRole) -> String {
        r == .attentionOutput ? "attn_out" : r.rawValue
    }

    private func fit(_ s: String) -> String {
        s.count > width ? String(s.prefix(width - 1)) + "…" : s
    }
}

/// A warning line on standard error.
func printNotice(_ message: String) {
    var line = "qpack: " + message + "\n"
    line.withUTF8 { buf in _ = write(2, buf.baseAddress, buf.count) }
}

/// What a budget search and calibration decided for a `.qpack` file, from its manifest.
enum PlanExplanation {
    static func render(_ c: ContainerFile, width: Int) -> String {
        render(
            name: c.fileName, budget: c.manifest["provenance"]?["budget"],
            statics: c.tensors.compactMap { t in t.activation.map { (t.name, $0) } },
            calibration: c.manifest["provenance"]?["calibration"], width: width)
    }

    static func json(_ c: ContainerFile) -> JSONOut {
        json(
            name: c.fileName, budget: c.manifest["provenance"]?["budget"],
            statics: c.tensors.compactMap { t in t.activation.map { (t.name, $0) } },
            calibration: c.manifest["provenance"]?["calibration"])
    }

    /// `--explain --json`: the budget search and calibration records as written in the file's
    /// provenance (Formats/qpack-container.md §4.6), and every static range.
    static func json(
        name: String, budget: JSONNode?, statics: [(String, ContainerFile.StaticActivation)], calibration: JSONNode?
    ) -> JSONOut {
        .object([
            ("schema", .string("qpack-plan-explain/1")), ("file", .string(name)),
            ("budget", budget.map { JSONOut(copying: $0) } ?? .null),
            (
                "static_activations",
                .array(
                    statics.map { name, a in
                        .object([
                            ("tensor", .string(name)), ("observer", .string(a.observer)), ("min", .float(a.min)),
                            ("max", .float(a.max)),
                        ])
                    })
            ),
            ("calibration", calibration.map { JSONOut(copying: $0) } ?? .null),
        ])
    }

    static func render(
        name: String, budget: JSONNode?, statics: [(String, ContainerFile.StaticActivation)], calibration: JSONNode?,
        width: Int
    ) -> String {
        // Tensor names in full when the columns allow (--wide: always).
        let names = (budget?["order"]?.items ?? []).compactMap { $0["tensor"]?.string } + statics.map(\.0)
        let longest = names.map(\.count).max() ?? 0
        let orderColumn = max(27, min(longest, width - 2 - 7 - 17 - 20 - 1))
        let staticColumn = max(40, min(longest, width - 2 - 18 - 30))
        var out = "\(name)\n"
        if let b = budget {
            let metric = b["metric"]?.string == "kl" ? "KL" : "1 - cosine"
            out += "  budget: \(b["budget"]?.string ?? "?"), ranked by \(b["sensitivity"]?.string ?? "?") sensitivity; "
            out += (b["met"]?.bool == true ? "met" : "NOT met")
            out += String(
                format: ": %@ %.5f at %.3f bits per weight, %d of %d promotions\n", metric, b["measured"]?.double ?? 0,
                b["bits_per_weight"]?.double ?? 0, b["promotions"]?.int ?? 0, b["order"]?.items.count ?? 0)
            out +=
                "  measured on the calibration data (token ids sha256 \(b["calibration_sha256"]?.string?.prefix(16) ?? "?")…)\n\n"
            out += "End-to-end evaluations of the search (promotions applied → \(metric), bits per weight):\n"
            for e in b["evaluations"]?.items ?? [] {
                out += String(
                    format: "  %5d  %.5f  %.3f\n", e["promotions"]?.int ?? 0, e["measured"]?.double ?? 0,
                    e["bits_per_weight"]?.double ?? 0)
            }
            let applied = Set((b["applied"]?.items ?? []).compactMap(\.int))
            out +=
                "\nPromotion order (* applied; harm = \(metric) with the linear alone quantized, local = relative MSE of its output):\n"
            out +=
                "  " + "STEP".leftPad(5) + "  " + "TENSOR".padding(orderColumn + 1) + "FROM".padding(9)
                + "TO".padding(8)
                + "HARM".leftPad(10) + "LOCAL".leftPad(10) + "\n"
            for (i, s) in (b["order"]?.items ?? []).enumerated() {
                out +=
                    "  " + ((applied.contains(i + 1) ? "*" : " ") + String(i + 1)).leftPad(5) + "  "
                    + Units.elide(s["tensor"]?.string ?? "", to: orderColumn).padding(orderColumn + 1)
                    + (s["from"]?.string ?? "").padding(9) + (s["to"]?.string ?? "").padding(8)
                    + String(format: "%10.5f%10.5f", s["harm_from"]?.double ?? 0, s["local_from"]?.double ?? 0) + "\n"
            }
        } else {
            out += "  no budget search: every scheme is the rules' choice\n"
        }
        if !statics.isEmpty {
            out += "\nStatic activation ranges (\(statics.count) linears):\n"
            for (name, a) in statics {
                out +=
                    "  " + Units.elide(name, to: staticColumn).padding(staticColumn + 2) + a.observer.padding(18)
                    + "[\(a.min), \(a.max)]" + (a.smoothing.map { "  smoothed (alpha \($0.alpha))" } ?? "") + "\n"
            }
        }
        if let cal = calibration {
            out += "\nCalibration data:\n"
            for d in cal["data"]?.items ?? [] {
                out +=
                    "  \(d["sha256"]?.string?.prefix(16) ?? "?")…  \(d["samples"]?.int ?? 0) samples, \(d["tokens"]?.int ?? 0) tokens  \(d["source"]?.string ?? "")\n"
            }
        }
        return out
    }
}
