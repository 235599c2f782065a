import QPackModel

/// Recognises a checkpoint's architecture from its tensor names and gives every tensor a role
/// and a layer index. Patterns compare dot-separated components: `#` is a layer number, `*` any
/// one component.
public struct ArchitectureProfile: Sendable, Hashable {
    public let name: String
    /// The names' convention (`hf` or `gguf`).
    public let naming: String
    let patterns: [(pattern: [Substring], role: TensorRole)]
    /// Optional prefix some exports put before every name (`bert.`).
    let optionalPrefix: String?

    public static func == (a: Self, b: Self) -> Bool { a.name == b.name && a.naming == b.naming }
    public func hash(into h: inout Hasher) { h.combine(name); h.combine(naming) }

    init(name: String, naming: String, optionalPrefix: String? = nil, _ table: [(String, TensorRole)]) {
        self.name = name
        self.naming = naming
        self.optionalPrefix = optionalPrefix
        self.patterns = table.map { ($0.0.split(separator: ".", omittingEmptySubsequences: false), $0.1) }
    }

    public static let bert = ArchitectureProfile(name: "bert", naming: "hf", optionalPrefix: "bert.", [
        ("embeddings.word_embeddings.weight", .embedding),
        ("embeddings.position_embeddings.weight", .embedding),
        ("embeddings.token_type_embeddings.weight", .embedding),
        ("embeddings.LayerNorm.weight", .norm), ("embeddings.LayerNorm.bias", .norm),
        ("embeddings.position_ids", .other),
        ("encoder.layer.#.attention.self.query.weight", .linear),
        ("encoder.layer.#.attention.self.key.weight", .linear),
        ("encoder.layer.#.attention.self.value.weight", .linear),
        ("encoder.layer.#.attention.self.*.bias", .bias),
        ("encoder.layer.#.attention.output.dense.weight", .attentionOutput),
        ("encoder.layer.#.attention.output.dense.bias", .bias),
        ("encoder.layer.#.attention.output.LayerNorm.weight", .norm),
        ("encoder.layer.#.attention.output.LayerNorm.bias", .norm),
        ("encoder.layer.#.intermediate.dense.weight", .linear), ("encoder.layer.#.intermediate.dense.bias", .bias),
        ("encoder.layer.#.output.dense.weight", .linear), ("encoder.layer.#.output.dense.bias", .bias),
        ("encoder.layer.#.output.LayerNorm.weight", .norm), ("encoder.layer.#.output.LayerNorm.bias", .norm),
        ("pooler.dense.weight", .linear), ("pooler.dense.bias", .bias),
    ])

    public static let llamaHF = ArchitectureProfile(name: "llama", naming: "hf", [
        ("model.embed_tokens.weight", .embedding),
        ("model.layers.#.self_attn.q_proj.weight", .linear), ("model.layers.#.self_attn.k_proj.weight", .linear),
        ("model.layers.#.self_attn.v_proj.weight", .linear), ("model.layers.#.self_attn.*.bias", .bias),
        ("model.layers.#.self_attn.o_proj.weight", .attentionOutput),
        ("model.layers.#.self_attn.rotary_emb.inv_freq", .other),
        ("model.layers.#.mlp.gate_proj.weight", .linear), ("model.layers.#.mlp.up_proj.weight", .linear),
        ("model.layers.#.mlp.down_proj.weight", .linear),
        ("model.layers.#.input_layernorm.weight", .norm), ("model.layers.#.post_attention_layernorm.weight", .norm),
        ("model.norm.weight", .norm),
        ("lm_head.weight", .lmHead),
    ])

    public static let llamaGGUF = ArchitectureProfile(name: "llama", naming: "gguf", [
        ("token_embd.weight", .embedding),
        ("blk.#.attn_q.weight", .linear), ("blk.#.attn_k.weight", .linear), ("blk.#.attn_v.weight", .linear),
        ("blk.#.attn_q.bias", .bias), ("blk.#.attn_k.bias", .bias), ("blk.#.attn_v.bias", .bias),
        ("blk.#.attn_output.weight", .attentionOutput), ("blk.#.attn_output.bias", .bias),
        ("blk.#.ffn_gate.weight", .linear), ("blk.#.ffn_up.weight", .linear), ("blk.#.ffn_down.weight", .linear),
        ("blk.#.attn_norm.weight", .norm), ("blk.#.ffn_norm.weight", .norm),
        ("output_norm.weight", .norm),
        ("output.weight", .lmHead),
        ("rope_freqs.weight", .other),
    ])

    public static let builtIn: [ArchitectureProfile] = [.bert, .llamaHF, .llamaGGUF]

    /// The role and layer of `name`, or nil if no pattern of this profile matches.
    public func classify(_ name: String) -> (role: TensorRole, layer: Int?)? {
        var stripped = Substring(name)
        if let p = optionalPrefix, stripped.hasPrefix(p) { stripped = stripped.dropFirst(p.count) }
        let parts = stripped.split(separator: ".", omittingEmptySubsequences: false)
        outer: for (pattern, role) in patterns where pattern.count == parts.count {
            var layer: Int?
            for (p, c) in zip(pattern, parts) {
                if p == "#" {
                    guard let v = Int(c), v >= 0, !c.isEmpty, c.allSatisfy(\.isNumber) else { continue outer }
                    layer = v
                } else if p != "*" && p != c {
                    continue outer
                }
            }
            return (role, layer)
        }
        return nil
    }

    /// The built-in profile that recognises the most names (at least half), or nil.
    public static func recognize(_ names: [String]) -> ArchitectureProfile? {
        let scored = builtIn.map { p in (p, names.filter { p.classify($0) != nil }.count) }
        guard let best = scored.max(by: { $0.1 < $1.1 }), best.1 > 0, best.1 * 2 >= names.count else { return nil }
        return best.0
    }

    /// Roles for names no profile pattern covers, from common naming conventions.
    public static func heuristicRole(_ name: String, rank: Int) -> (role: TensorRole, layer: Int?) {
        let parts = name.split(separator: ".")
        var layer: Int?
        for (i, p) in parts.enumerated() where ["layer", "layers", "blk", "h", "block", "blocks"].contains(p) && i + 1 < parts.count {
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
