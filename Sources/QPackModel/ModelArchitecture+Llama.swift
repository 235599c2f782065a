extension ModelArchitecture {
    /// Llama-family decoders (RMSNorm, RoPE, grouped-query attention, SwiGLU): Hugging Face and
    /// GGUF names.
    public static let llama = ModelArchitecture(
        name: "llama", labels: ["llama"], output: .logits,
        slots: [
            TensorSlot(
                "token_embeddings", .embedding, perLayer: false, required: true, hf: "model.embed_tokens.weight",
                gguf: "token_embd.weight"),
            TensorSlot(
                "attention.query.weight", .linear, perLayer: true, required: true,
                hf: "model.layers.#.self_attn.q_proj.weight", gguf: "blk.#.attn_q.weight"),
            TensorSlot(
                "attention.key.weight", .linear, perLayer: true, required: true,
                hf: "model.layers.#.self_attn.k_proj.weight", gguf: "blk.#.attn_k.weight"),
            TensorSlot(
                "attention.value.weight", .linear, perLayer: true, required: true,
                hf: "model.layers.#.self_attn.v_proj.weight", gguf: "blk.#.attn_v.weight"),
            TensorSlot(
                "attention.output.weight", .attentionOutput, perLayer: true, required: true,
                hf: "model.layers.#.self_attn.o_proj.weight", gguf: "blk.#.attn_output.weight"),
            // Biases (config attention_bias): converted, refused by the graph.
            TensorSlot(
                "attention.query.bias", .bias, perLayer: true, required: false,
                hf: "model.layers.#.self_attn.q_proj.bias", gguf: "blk.#.attn_q.bias"),
            TensorSlot(
                "attention.key.bias", .bias, perLayer: true, required: false,
                hf: "model.layers.#.self_attn.k_proj.bias", gguf: "blk.#.attn_k.bias"),
            TensorSlot(
                "attention.value.bias", .bias, perLayer: true, required: false,
                hf: "model.layers.#.self_attn.v_proj.bias", gguf: "blk.#.attn_v.bias"),
            TensorSlot(
                "attention.output.bias", .bias, perLayer: true, required: false,
                hf: "model.layers.#.self_attn.o_proj.bias", gguf: "blk.#.attn_output.bias"),
            TensorSlot(
                "rope.inv_freq", .other, perLayer: true, required: false,
                hf: "model.layers.#.self_attn.rotary_emb.inv_freq", gguf: nil),
            TensorSlot(
                "ffn.gate.weight", .linear, perLayer: true, required: true,
                hf: "model.layers.#.mlp.gate_proj.weight", gguf: "blk.#.ffn_gate.weight"),
            TensorSlot(
                "ffn.up.weight", .linear, perLayer: true, required: true, hf: "model.layers.#.mlp.up_proj.weight",
                gguf: "blk.#.ffn_up.weight"),
            TensorSlot(
                "ffn.down.weight", .linear, perLayer: true, required: true,
                hf: "model.layers.#.mlp.down_proj.weight", gguf: "blk.#.ffn_down.weight"),
            TensorSlot(
                "attention_norm.weight", .norm, perLayer: true, required: true,
                hf: "model.layers.#.input_layernorm.weight", gguf: "blk.#.attn_norm.weight"),
            TensorSlot(
                "ffn_norm.weight", .norm, perLayer: true, required: true,
                hf: "model.layers.#.post_attention_layernorm.weight", gguf: "blk.#.ffn_norm.weight"),
            TensorSlot(
                "output_norm.weight", .norm, perLayer: false, required: true, hf: "model.norm.weight",
                gguf: "output_norm.weight"),
            // Absent when the head is tied to the embeddings.
            TensorSlot(
                "output.weight", .lmHead, perLayer: false, required: false, hf: "lm_head.weight", gguf: "output.weight"),
            TensorSlot("rope.freqs", .other, perLayer: false, required: false, hf: nil, gguf: "rope_freqs.weight"),
        ],
        hyperparameters: [
            HyperparameterSpec("hidden", .count, required: true, config: "hidden_size", gguf: "embedding_length"),
            HyperparameterSpec("layers", .count, required: true, config: "num_hidden_layers", gguf: "block_count"),
            HyperparameterSpec(
                "heads", .count, required: true, config: "num_attention_heads", gguf: "attention.head_count"),
            HyperparameterSpec(
                "kv_heads", .count, required: false, config: "num_key_value_heads", gguf: "attention.head_count_kv"),
            HyperparameterSpec(
                "ffn", .count, required: false, config: "intermediate_size", gguf: "feed_forward_length"),
            HyperparameterSpec(
                "max_positions", .count, required: true, config: "max_position_embeddings", gguf: "context_length"),
            HyperparameterSpec("vocab", .count, required: true, config: "vocab_size", gguf: "vocab_size"),
            HyperparameterSpec(
                "norm_eps", .number, required: true, config: "rms_norm_eps", gguf: "attention.layer_norm_rms_epsilon"),
            HyperparameterSpec("rope_theta", .number, required: false, config: "rope_theta", gguf: "rope.freq_base"),
            HyperparameterSpec("head_dim", .count, required: false, config: "head_dim", gguf: "attention.key_length"),
            HyperparameterSpec("activation", .text, required: false, config: "hidden_act", gguf: nil),
            HyperparameterSpec("tied_embeddings", .flag, required: false, config: "tie_word_embeddings", gguf: nil),
        ],
        // rope_scaling is an object and is copied whole.
        configMembers: [
            "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "intermediate_size",
            "max_position_embeddings", "vocab_size", "rms_norm_eps", "rope_theta", "rope_scaling", "head_dim",
            "hidden_act",
            "tie_word_embeddings", "attention_bias", "mlp_bias", "bos_token_id", "eos_token_id", "pad_token_id",
        ])
}
