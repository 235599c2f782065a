import QPackModel

/// One architecture under one naming convention: recognises a checkpoint's tensor names and gives
/// each its slot, role and layer. Built from the `ModelArchitecture` descriptors, so names live
/// in one place. Patterns compare dot-separated components; `#` is a layer number.
public struct ArchitectureProfile: Sendable, Hashable {
    public let architecture: ModelArchitecture
    public let naming: TensorNaming
    let patterns: [(pattern: [Substring], slot: TensorSlot)]

    public var name: String { architecture.name }

    public static func == (a: Self, b: Self) -> Bool { a.name == b.name && a.naming == b.naming }
    public func hash(into h: inout Hasher) {
        h.combine(name)
        h.combine(naming)
    }

    public init(_ architecture: ModelArchitecture, naming: TensorNaming) {
        self.architecture = architecture
        self.naming = naming
        patterns = architecture.slots.compactMap { slot in
            slot.names[naming].map { ($0.split(separator: ".", omittingEmptySubsequences: false), slot) }
        }
    }

    /// Every supported architecture under every naming it has names for.
    public static let builtIn: [ArchitectureProfile] = ModelArchitecture.supported.flatMap { a in
        TensorNaming.allCases.filter { n in a.slots.contains { $0.names[n] != nil } }.map { n in
            ArchitectureProfile(a, naming: n)
        }
    }

    /// "llama (gguf names)", as plans and manifests record it.
    public var label: String { "\(name) (\(naming.rawValue) names)" }

    /// The slot, role and layer of `name`, or nil if no pattern of this profile matches.
    public func classify(_ name: String) -> (slot: TensorSlot, layer: Int?)? {
        var stripped = Substring(name)
        if naming == .huggingFace, let p = architecture.optionalPrefix, stripped.hasPrefix(p) {
            stripped = stripped.dropFirst(p.count)
        }
        let parts = stripped.split(separator: ".", omittingEmptySubsequences: false)
        outer: for (pattern, slot) in patterns where pattern.count == parts.count {
            var layer: Int?
            for (p, c) in zip(pattern, parts) {
                if p == "#" {
                    guard !c.isEmpty, c.allSatisfy(\.isASCII), c.allSatisfy(\.isNumber), let v = Int(c), v >= 0 else {
                        continue outer
                    }
                    layer = v
                } else if p != c {
                    continue outer
                }
            }
            return (slot, layer)
        }
        return nil
    }

    /// Of `candidates`, the profile that recognises the most names (at least `minimumShare` of
    /// them, and at least one), or nil.
    public static func recognize(
        _ names: [String], among candidates: [ArchitectureProfile] = builtIn,
        minimumShare: Double = 0.5
    ) -> ArchitectureProfile? {
        let scored = candidates.map { p in (p, names.filter { p.classify($0) != nil }.count) }
        guard let best = scored.max(by: { $0.1 < $1.1 }), best.1 > 0,
            Double(best.1) >= minimumShare * Double(names.count)
        else { return nil }
        return best.0
    }

    /// Roles for names no profile pattern covers, from common naming conventions.
    public static func heuristicRole(_ name: String, rank: Int) -> (role: TensorRole, layer: Int?) {
        let parts = name.split(separator: ".")
        var layer: Int?
        for (i, p) in parts.enumerated()
        where ["layer", "layers", "blk", "h", "block", "blocks"].contains(p) && i + 1 < parts.count {
            layer = Int(parts[i + 1])
        }
        let lower = name.lowercased()
        if lower.contains("norm") { return (.norm, layer) }
        if parts.last == "bias" { return (.bias, layer) }
        if lower.contains("embed") { return (.embedding, layer) }
        if lower.contains("lm_head") { return (.lmHead, layer) }
        if lower.contains("o_proj") || lower.contains("attn_output") || lower.contains("attention.output.dense") {
            return (.attentionOutput, layer)
        }
        return (rank == 2 && parts.last == "weight" ? .linear : .other, layer)
    }
}
