import QPackBinary
import QPackModel
import QPackPacking

/// Turns tensor names, shapes and types plus a rule set into a `QuantPlan`. Pure: it never
/// touches tensor data. Every tensor gets an entry; nothing is skipped silently.
public enum Planner {
    /// `activations` ("dynamic" or "static") applies to quantized linears whose rule does not
    /// say; `observer` is the static observer for rules without one; `smoothing` the smoothing
    /// strength of static linears whose rule does not give one.
    /// `declared` is what the checkpoint says it is (label, block count); an unsupported or
    /// incomplete model is an error unless `allowUnsupported`, which plans it as not runnable.
    /// The static observer and smoothing strength for rules that name none: minmax with
    /// SmoothQuant α 0.75 measured best on MiniLM and SmolLM2 (docs/accuracy.md).
    public static let defaultObserver = "minmax"
    public static let defaultSmoothing = 0.75

    public static func plan(
        _ inputs: [PlanInput], rules: RuleSet, target: KernelTarget, declared: DeclaredModel = .unlabelled,
        allowUnsupported: Bool = false, activations: String = "dynamic", observer: String = defaultObserver,
        smoothing: Double? = nil, smoothingByDefault: Bool = true
    ) -> QuantPlan {
        let check = ArchitectureCheck.check(inputs, declared: declared, allowUnsupported: allowUnsupported)
        let profile = check.profile
        var diagnostics = check.diagnostics
        let regexes: [String: NameRegex] = Dictionary(
            uniqueKeysWithValues: rules.rules.compactMap { r in
                r.match.regex.flatMap { pattern in (try? NameRegex(pattern)).map { (r.name, $0) } }
            })
        var entries: [PlanEntry] = []
        for input in inputs {
            var role: TensorRole, layer: Int?, slot: String?
            if let p = profile, let c = p.classify(input.name) {
                (role, layer, slot) = (c.slot.role, c.layer, c.slot.name)
            } else {
                // Reported by the architecture check; roles guessed so the rest can be planned.
                (role, layer) = ArchitectureProfile.heuristicRole(input.name, rank: input.shape.count)
            }
            guard
                let rule = rules.rules.first(where: {
                    matches(
                        $0, input.name, role, layer, regexes[$0.name], architecture: profile?.name,
                        sourceType: input.sourceType)
                })
            else {
                diagnostics.append(
                    Diagnostic(
                        severity: .error, tensor: input.name, rule: nil,
                        message: "no rule matches (role \(role.rawValue)); add a catch-all rule"))
                continue
            }
            var (entry, diag) = decide(input, role: role, layer: layer, rule: rule, target: target)
            entry?.slot = slot
            if entry?.scheme.isQuantized == true, entry?.matrix != nil, role != .embedding {
                // A rule naming an observer asks for static ranges.
                var mode = rule.activations ?? (rule.observer != nil ? "static" : activations)
                if mode == "static", let family = entry!.scheme.family, !family.staticActivations {
                    diagnostics.append(
                        Diagnostic(
                            severity: .note, tensor: input.name, rule: rule.name,
                            message:
                                "activations stay dynamic: the \(family.id) kernels quantize their input per block at run time (\(family.activationPacker))"
                        ))
                    mode = "dynamic"
                }
                if mode == "static" {
                    let o = rule.observer ?? observer
                    entry!.activations = .static(
                        observer: o == "percentile" ? "percentile(\(rule.percentile ?? 99.99))" : o)
                    // Minmax ranges are smoothed unless asked otherwise: what measured best on
                    // both test models (docs/accuracy.md, "Static activations: the defaults").
                    if let a = rule.smooth ?? smoothing
                        ?? (o == "minmax" && smoothingByDefault ? Self.defaultSmoothing : nil)
                    {
                        // The divided inputs' range is known exactly from per-channel extremes only.
                        if case let .repack(source) = entry!.scheme {
                            diagnostics.append(
                                Diagnostic(
                                    severity: .note, tensor: input.name, rule: rule.name,
                                    message:
                                        "not smoothed: the lossless \(source) repack stores the source blocks unchanged"
                                ))
                        } else if o == "minmax" {
                            entry!.smoothing = a
                        } else {
                            diagnostics.append(
                                Diagnostic(
                                    severity: .error, tensor: input.name, rule: rule.name,
                                    message: "smoothing needs the minmax observer, not \(o)"))
                        }
                    }
                } else {
                    entry!.activations = .dynamic
                }
            }
            if let entry { entries.append(entry) }
            diagnostics.append(contentsOf: diag)
        }
        return summarize(
            entries, inputs: inputs, profile: profile, runnable: check.runnable, rules: rules, target: target,
            diagnostics: diagnostics)
    }

    static func matches(
        _ rule: Rule, _ name: String, _ role: TensorRole, _ layer: Int?, _ regex: NameRegex?,
        architecture: String?, sourceType: String
    ) -> Bool {
        let m = rule.match
        if !m.sourceTypes.isEmpty && !m.sourceTypes.contains(sourceType) { return false }
        if !m.architectures.isEmpty {
            guard let architecture, m.architectures.contains(architecture) else { return false }
        }
        if !m.names.isEmpty && !m.names.contains(where: { NameGlob($0).matches(name) }) { return false }
        if let regex, !regex.wholeMatch(name) { return false }
        if !m.roles.isEmpty && !m.roles.contains(role) { return false }
        if !m.layers.isEmpty {
            guard let layer, m.layers.contains(where: { $0.contains(layer) }) else { return false }
        }
        return true
    }

    /// Why `scheme` cannot hold `input`, or nil if it can.
    static func misfit(_ input: PlanInput, _ scheme: WeightScheme) -> String? {
        switch scheme {
        case .keep:
            return nil
        case .f32, .f16, .bf16:
            return input.decodable ? nil : "\(input.sourceType) values cannot be converted to float"
        default:
            guard scheme.family != nil else { return "\(scheme.name) has no layout family" }
            if case let .repack(source) = scheme {
                guard input.sourceType == source else {
                    return "\(scheme.name) needs a GGUF \(source) source, this one is \(input.sourceType)"
                }
            } else if !input.decodable {
                return "\(input.sourceType) values cannot be quantized"
            }
            guard let m = input.matrix else {
                return "\(scheme.name) needs a 2-D tensor, this one has rank \(input.shape.count)"
            }
            // An empty matrix has nothing to quantize, and the packers divide by its sizes.
            guard m.rows > 0, m.columns > 0 else {
                return "\(scheme.name) needs at least one row and one column, this tensor is \(m.rows) x \(m.columns)"
            }
            if let bl = scheme.blockLength, m.columns % bl != 0 {
                return "K = \(m.columns) is not a multiple of the \(scheme.name) block length \(bl)"
            }
            return nil
        }
    }

    static func decide(_ input: PlanInput, role: TensorRole, layer: Int?, rule: Rule, target: KernelTarget) -> (
        PlanEntry?, [Diagnostic]
    ) {
        var scheme = rule.scheme
        var requested: WeightScheme?
        var fallbackReason: String?
        var diagnostics: [Diagnostic] = []
        if let problem = misfit(input, scheme) {
            guard let fallback = rule.fallback else {
                return (
                    nil,
                    [
                        Diagnostic(
                            severity: .error, tensor: input.name, rule: rule.name,
                            message: "\(problem); the rule has no fallback")
                    ]
                )
            }
            if let second = misfit(input, fallback) {
                return (
                    nil,
                    [
                        Diagnostic(
                            severity: .error, tensor: input.name, rule: rule.name,
                            message: "\(problem), and the fallback \(fallback.name) does not fit either: \(second)")
                    ]
                )
            }
            requested = scheme
            fallbackReason = problem
            scheme = fallback
            diagnostics.append(
                Diagnostic(
                    severity: .warning, tensor: input.name, rule: rule.name,
                    message: "\(problem); using the fallback \(fallback.name)"))
        }
        var tile: KleidiAITileSpec?
        if let family = scheme.family {
            guard let t = family.tile(for: target) else {
                return (
                    nil,
                    [
                        Diagnostic(
                            severity: .error, tensor: input.name, rule: rule.name,
                            message: "target \(target.rawValue) has no kernel for \(scheme.name)")
                    ]
                )
            }
            tile = KleidiAITileSpec(nr: t.tile.nr, kr: t.tile.kr, sr: t.tile.sr, kernels: t.kernels)
        }
        let lossless: Bool
        var note: String?
        switch scheme {
        case .keep: lossless = true
        case .f32: lossless = ["F32", "F16", "BF16"].contains(input.sourceType) || (input.ggmlOrder && input.decodable)
        case .f16: lossless = input.sourceType == "F16"
        case .bf16: lossless = input.sourceType == "BF16"
        default:
            lossless = scheme.isRepack
            if case let .repack(source) = scheme, let id = scheme.family?.id {
                note = "lossless: \(source) blocks moved bit for bit into the \(id) layout"
            }
        }
        let quantizedSource = input.ggmlOrder && input.decodable && !["F32", "F16", "BF16"].contains(input.sourceType)
        if quantizedSource && scheme.isQuantized && !lossless {
            note = "requantized from \(input.sourceType) (dequantized exactly first); error adds to the source's"
        } else if quantizedSource && (scheme == .f16 || scheme == .bf16) {
            note = "\(input.sourceType) values rounded to \(scheme.name) (dequantized exactly first): not bit-exact"
        }
        let entry = PlanEntry(
            name: input.name, role: role, layer: layer, sourceType: input.sourceType, shape: input.shape,
            matrix: input.matrix.map { [$0.rows, $0.columns] }, parameters: input.elementCount, scheme: scheme,
            requestedScheme: requested, fallbackReason: fallbackReason, rule: rule.name, why: rule.why,
            search: rule.search ?? .mse, nonFinite: rule.nonFinite ?? .error,
            layout: scheme.family?.id, tile: tile,
            storedBytes: storedBytes(input, scheme, tile), lossless: lossless, note: note)
        return (entry, diagnostics)
    }

    static func storedBytes(_ input: PlanInput, _ scheme: WeightScheme, _ tile: KleidiAITileSpec?) -> Int {
        scheme.storedBytes(
            elements: input.elementCount, sourceBytes: input.byteCount, matrix: input.matrix,
            tile: tile.map { KleidiAITile(nr: $0.nr, kr: $0.kr, sr: $0.sr) }) ?? 0
    }

    static func summarize(
        _ entries: [PlanEntry], inputs: [PlanInput], profile: ArchitectureProfile?, runnable: Bool, rules: RuleSet,
        target: KernelTarget, diagnostics: [Diagnostic]
    ) -> QuantPlan {
        var schemes: [WeightScheme] = []
        var byScheme: [String: (t: Int, p: Int, b: Int)] = [:]
        for e in entries {
            if byScheme[e.scheme.name] == nil { schemes.append(e.scheme) }
            let c = byScheme[e.scheme.name] ?? (0, 0, 0)
            byScheme[e.scheme.name] = (c.t + 1, c.p + e.parameters, c.b + e.storedBytes)
        }
        // A fixed order (the schemes' summary rank), whatever the order of the tensors.
        let order = schemes.sorted { $0.summaryRank < $1.summaryRank }.map(\.name)
        let coverage = order.map { s in
            let c = byScheme[s]!
            return SchemeCoverage(
                scheme: s, tensors: c.t, parameters: c.p, bytes: c.b,
                bitsPerWeight: c.p == 0 ? 0 : Double(c.b * 8) / Double(c.p))
        }
        let params = entries.reduce(0) { $0 + $1.parameters }
        let bytes = entries.reduce(0) { $0 + $1.storedBytes }
        return QuantPlan(
            profile: profile?.label ?? "unrecognised", architecture: runnable ? profile?.name : nil, runnable: runnable,
            rules: rules.origin, target: target, entries: entries, diagnostics: diagnostics, coverage: coverage,
            totalTensors: inputs.count, totalParameters: inputs.reduce(0) { $0 + $1.elementCount },
            sourceBytes: inputs.reduce(0) { $0 + $1.byteCount }, expectedTensorBytes: bytes,
            bitsPerWeight: params == 0 ? 0 : Double(bytes * 8) / Double(params))
    }
}
