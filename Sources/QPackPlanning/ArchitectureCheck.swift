import QPackModel

/// What a checkpoint says about itself besides tensor names: the architecture label (GGUF
/// `general.architecture`, config.json `model_type`) and the declared number of blocks.
public struct DeclaredModel: Sendable, Hashable {
    public let label: String?
    /// Where the label came from, for messages ("general.architecture").
    public let labelSource: String
    public let layers: Int?
    /// The index naming this file as one of its shards (`model.safetensors.index.json`), if any.
    public var shardOf: String?

    public init(label: String?, labelSource: String, layers: Int?, shardOf: String? = nil) {
        self.label = label
        self.labelSource = labelSource
        self.layers = layers
        self.shardOf = shardOf
    }

    public static let unlabelled = DeclaredModel(label: nil, labelSource: "", layers: nil)
}

/// Decides which supported architecture a checkpoint is and whether qpack can run it: a label
/// no descriptor knows, names no descriptor recognises, a missing required tensor or a tensor the
/// descriptor does not know are errors, or warnings when the user converts anyway
/// (`--allow-unsupported`; the file is then marked not runnable).
public enum ArchitectureCheck {
    public struct Outcome: Sendable {
        /// The profile that assigns slots and roles, nil when names are not recognised.
        public let profile: ArchitectureProfile?
        /// The graphs can run the result.
        public let runnable: Bool
        public let diagnostics: [Diagnostic]
    }

    /// Names listed in a message before "and N more".
    static let listed = 8

    public static func check(_ inputs: [PlanInput], declared: DeclaredModel, allowUnsupported: Bool) -> Outcome {
        let severity: Diagnostic.Severity = allowUnsupported ? .warning : .error
        let hint =
            allowUnsupported
            ? "; converting anyway (--allow-unsupported): the file is marked not runnable"
            : "; --allow-unsupported converts it anyway, marked not runnable"
        func problem(_ message: String) -> Diagnostic {
            Diagnostic(severity: severity, tensor: nil, rule: nil, message: message + hint)
        }
        let names = inputs.map(\.name)
        let candidates: [ArchitectureProfile]
        if let label = declared.label {
            guard let a = ModelArchitecture.labelled(label) else {
                let profile = ArchitectureProfile.recognize(names)
                return Outcome(
                    profile: allowUnsupported ? profile : nil, runnable: false,
                    diagnostics: [
                        problem(
                            "architecture '\(label)' (\(declared.labelSource)) is not supported (supported: \(ModelArchitecture.supportedNames))"
                        )
                    ])
            }
            candidates = ArchitectureProfile.builtIn.filter { $0.architecture == a }
        } else {
            candidates = ArchitectureProfile.builtIn
        }
        guard let profile = ArchitectureProfile.recognize(names, among: candidates) else {
            let what =
                declared.label.map { "'\($0)' (\(declared.labelSource))" }
                ?? "any supported architecture (\(ModelArchitecture.supportedNames))"
            return Outcome(
                profile: nil, runnable: false, diagnostics: [problem("the tensor names are not those of \(what)")])
        }
        var diagnostics: [Diagnostic] = []
        let unknown = names.filter { profile.classify($0) == nil }
        if !unknown.isEmpty {
            diagnostics.append(
                problem(
                    "\(unknown.count) tensor\(unknown.count == 1 ? "" : "s") not part of the \(profile.label) architecture: "
                        + list(unknown)))
        }
        let missing = missingRequired(names, profile: profile, declaredLayers: declared.layers)
        if missing.count > 0 {
            diagnostics.append(
                problem(
                    "\(missing.count) tensor\(missing.count == 1 ? "" : "s") the \(profile.name) graph needs "
                        + "\(missing.count == 1 ? "is" : "are") missing: " + list(missing.shown, of: missing.count)
                        + (declared.shardOf.map { " (this file is one shard of \($0): plan and convert the index)" }
                            ?? "")))
        }
        return Outcome(profile: profile, runnable: diagnostics.isEmpty, diagnostics: diagnostics)
    }

    /// Required slots with no tensor: how many, and the first `listed` as source names, for
    /// `declaredLayers` blocks (or as many as the names reach). Names are built only for those
    /// shown, so a lying block count (65,536) costs set lookups, not a million strings.
    static func missingRequired(_ names: [String], profile: ArchitectureProfile, declaredLayers: Int?) -> (
        count: Int, shown: [String]
    ) {
        struct Key: Hashable {
            let slot: String
            let layer: Int
        }
        var present = Set<Key>(), maxLayer = -1
        for n in names {
            guard let c = profile.classify(n) else { continue }
            present.insert(Key(slot: c.slot.name, layer: c.layer ?? -1))
            if let l = c.layer { maxLayer = max(maxLayer, l) }
        }
        // A lying block count must not make this loop unbounded.
        let layers = min(max(declaredLayers ?? 0, maxLayer + 1), 1 << 16)
        let prefix =
            names.contains { n in profile.architecture.optionalPrefix.map { n.hasPrefix($0) } ?? false }
            ? profile.architecture.optionalPrefix ?? "" : ""
        var count = 0
        var shown: [String] = []
        for slot in profile.architecture.slots where slot.required && slot.names[profile.naming] != nil {
            for layer in slot.perLayer ? Array(0..<layers) : [-1]
            where !present.contains(Key(slot: slot.name, layer: layer)) {
                count += 1
                if shown.count < listed,
                    let n = profile.architecture.sourceName(
                        of: slot, layer: layer < 0 ? nil : layer, naming: profile.naming)
                {
                    shown.append(prefix + n)
                }
            }
        }
        return (count, shown)
    }

    static func list(_ names: [String], of total: Int? = nil) -> String {
        let total = total ?? names.count
        let shown = names.prefix(listed).map { "'\($0)'" }.joined(separator: ", ")
        return total > min(listed, names.count) ? shown + " and \(total - min(listed, names.count)) more" : shown
    }
}
