extension ModelArchitecture {
    /// BERT encoders with sentence-transformers pooling (MiniLM and friends); Hugging Face names.
    public static let bert = ModelArchitecture(
        name: "bert", labels: ["bert"], optionalPrefix: "bert.", output: .embedding,
        slots: [
            TensorSlot(
                "token_embeddings", .embedding, perLayer: false, required: true,
                hf: "embeddings.word_embeddings.weight", gguf: nil),
            TensorSlot(
                "position_embeddings", .embedding, perLayer: false, required: true,
                hf: "embeddings.position_embeddings.weight", gguf: nil),
            TensorSlot(
                "token_type_embeddings", .embedding, perLayer: false, required: true,
                hf: "embeddings.token_type_embeddings.weight", gguf: nil),
            TensorSlot(
                "embeddings_norm.weight", .norm, perLayer: false, required: true, hf: "embeddings.LayerNorm.weight",
                gguf: nil),
            TensorSlot(
                "embeddings_norm.bias", .norm, perLayer: false, required: true, hf: "embeddings.LayerNorm.bias",
                gguf: nil),
            TensorSlot(
                "position_ids", .other, perLayer: false, required: false, hf: "embeddings.position_ids", gguf: nil),
            TensorSlot(
                "attention.query.weight", .linear, perLayer: true, required: true,
                hf: "encoder.layer.#.attention.self.query.weight", gguf: nil),
            TensorSlot(
                "attention.query.bias", .bias, perLayer: true, required: true,
                hf: "encoder.layer.#.attention.self.query.bias", gguf: nil),
            TensorSlot(
                "attention.key.weight", .linear, perLayer: true, required: true,
                hf: "encoder.layer.#.attention.self.key.weight", gguf: nil),
            TensorSlot(
                "attention.key.bias", .bias, perLayer: true, required: true,
                hf: "encoder.layer.#.attention.self.key.bias", gguf: nil),
            TensorSlot(
                "attention.value.weight", .linear, perLayer: true, required: true,
                hf: "encoder.layer.#.attention.self.value.weight", gguf: nil),
            TensorSlot(
                "attention.value.bias", .bias, perLayer: true, required: true,
                hf: "encoder.layer.#.attention.self.value.bias", gguf: nil),
            TensorSlot(
                "attention.output.weight", .attentionOutput, perLayer: true, required: true,
                hf: "encoder.layer.#.attention.output.dense.weight", gguf: nil),
            TensorSlot(
                "attention.output.bias", .bias, perLayer: true, required: true,
                hf: "encoder.layer.#.attention.output.dense.bias", gguf: nil),
            TensorSlot(
                "attention_norm.weight", .norm, perLayer: true, required: true,
                hf: "encoder.layer.#.attention.output.LayerNorm.weight", gguf: nil),
            TensorSlot(
                "attention_norm.bias", .norm, perLayer: true, required: true,
                hf: "encoder.layer.#.attention.output.LayerNorm.bias", gguf: nil),
            TensorSlot(
                "ffn.up.weight", .linear, perLayer: true, required: true,
                hf: "encoder.layer.#.intermediate.dense.weight", gguf: nil),
            TensorSlot(
                "ffn.up.bias", .bias, perLayer: true, required: true, hf: "encoder.layer.#.intermediate.dense.bias",
                gguf: nil),
            TensorSlot(
                "ffn.down.weight", .linear, perLayer: true, required: true, hf: "encoder.layer.#.output.dense.weight",
                gguf: nil),
            TensorSlot(
                "ffn.down.bias", .bias, perLayer: true, required: true, hf: "encoder.layer.#.output.dense.bias",
                gguf: nil),
            TensorSlot(
                "ffn_norm.weight", .norm, perLayer: true, required: true, hf: "encoder.layer.#.output.LayerNorm.weight",
                gguf: nil),
            TensorSlot(
                "ffn_norm.bias", .norm, perLayer: true, required: true, hf: "encoder.layer.#.output.LayerNorm.bias",
                gguf: nil),
            // Not used by mean pooling; converted when present.
            TensorSlot(
                "pooler.weight", .linear, perLayer: false, required: false, hf: "pooler.dense.weight", gguf: nil),
            TensorSlot("pooler.bias", .bias, perLayer: false, required: false, hf: "pooler.dense.bias", gguf: nil),
        ],
        hyperparameters: [
            HyperparameterSpec("hidden", .count, required: true, config: "hidden_size", gguf: nil),
            HyperparameterSpec("layers", .count, required: true, config: "num_hidden_layers", gguf: nil),
            HyperparameterSpec("heads", .count, required: true, config: "num_attention_heads", gguf: nil),
            HyperparameterSpec("ffn", .count, required: false, config: "intermediate_size", gguf: nil),
            HyperparameterSpec("max_positions", .count, required: false, config: "max_position_embeddings", gguf: nil),
            HyperparameterSpec("vocab", .count, required: false, config: "vocab_size", gguf: nil),
            HyperparameterSpec("token_types", .count, required: false, config: "type_vocab_size", gguf: nil),
            HyperparameterSpec("norm_eps", .number, required: false, config: "layer_norm_eps", gguf: nil),
            HyperparameterSpec("activation", .text, required: false, config: "hidden_act", gguf: nil),
            HyperparameterSpec("pad_token", .count, required: false, config: "pad_token_id", gguf: nil),
        ],
        configMembers: [
            "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "max_position_embeddings",
            "vocab_size", "type_vocab_size", "layer_norm_eps", "hidden_act", "pad_token_id",
        ])
}
