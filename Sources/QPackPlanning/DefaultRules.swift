/// The rules qpack uses when no `--rules` file is given. Printed by `qpack plan --print-rules`.
public enum DefaultRules {
    public static let text = """
        # qpack default rules (version 1). First match wins.
        version: 1
        rules:
          - name: norms-f32
            match: {role: norm}
            scheme: f32
            why: LayerNorm/RMSNorm weights and biases are few and sensitive
          - name: biases-f32
            match: {role: bias}
            scheme: f32
            why: biases are added to the float output of the matmul
          - name: attention-output-f16
            match: {role: attention_output}
            scheme: f16
            why: the attention output projection is the most quantization-sensitive linear
          - name: gguf-q4_0-lossless
            match: {role: [linear, lm_head], source_type: Q4_0}
            scheme: q4_0-repack
            why: lossless first; Q4_0 blocks held bit for bit (KleidiAI qsi4c32pscalef16, per-block int8 activations)
          - name: gguf-q4_1-lossless
            match: {role: [linear, lm_head], source_type: Q4_1}
            scheme: q4_1-repack
            why: lossless first; Q4_1 blocks held exactly (KleidiAI qai4c32p, per-block int8 activations)
          - name: gguf-q4_k-lossless
            match: {role: [linear, lm_head], source_type: Q4_K}
            scheme: q4_k-repack
            why: lossless first; Q4_K's 32-value sub-blocks held exactly (KleidiAI qai4c32p)
          - name: gguf-q8_0-tables-f16
            match: {role: [embedding, lm_head], source_type: Q8_0}
            scheme: f16
            why: no KleidiAI layout holds Q8_0's per-block scales; f16 is finer than its grid, int8 per row coarser
          - name: embeddings-int8
            match: {role: embedding}
            scheme: qsi8cx
            fallback: f16
            why: embedding rows are looked up one at a time; int8 with one scale per row
          - name: lm-head-int8
            match: {role: lm_head}
            scheme: qsi8cx
            fallback: f16
            why: logits feed sampling directly; int8 per output channel
          - name: encoder-linear-int8
            match: {architecture: bert, role: linear}
            scheme: qsi8cx
            why: small encoders lose too much at int4 (MiniLM-L6 cosine 0.93-0.98); int8 per channel keeps >= 0.99
          - name: linear-int4
            match: {role: linear}
            scheme: qsi4c32
            fallback: qsi4cx
            why: int4 in blocks of 32 along K with bf16 scales (4.5 bits per weight)
          - name: everything-else-kept
            scheme: keep
            why: buffers and unrecognised tensors are copied unchanged

        """

    public static var ruleSet: RuleSet {
        // The built-in text is tested to parse; a failure here is a programming error.
        try! RuleSet.parse(text, origin: "built-in default rules")
    }
}
