/// What a tensor does in the model, as an architecture profile recognises it from its name.
public enum TensorRole: String, Sendable, Hashable, Codable, CaseIterable {
    /// A projection weight inside a block (attention q/k/v, feed-forward up/gate/down...).
    case linear
    /// The attention output projection (`o_proj`, `attn_output`, `attention.output.dense`).
    case attentionOutput = "attention_output"
    /// LayerNorm / RMSNorm weight or bias.
    case norm
    /// Token, position or token-type embedding table.
    case embedding
    /// The output head producing logits.
    case lmHead = "lm_head"
    /// A bias vector of a linear layer.
    case bias
    /// Anything else (buffers such as `position_ids`, rope factors).
    case other
}
