/* The Llama graph over packed weights, natively and under qemu-aarch64 (scripts/test-runtime.sh):
 * a multi-token prompt must reach the i8mm GEMM micro-kernels (LHS packed with mr 4) where the
 * CPU or a forced variant has them, one-token steps the GEMVs (mr 1), and every logit must be
 * bit-identical to the scalar reference's.
 *
 *   qp_graph_selftest DESC BLOB      (written by qpack_flatten.py from a converted .qpack)
 */
#include "qp_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROMPT 9

typedef struct trace_counts {
    size_t gemm, gemv, gemm_one_row;
} trace_counts;

static void count(void *context, const char *layout, const qp_matmul_choice *choice, size_t m) {
    (void)layout;
    trace_counts *c = context;
    if (choice->mr > 1) {
        c->gemm++;
        if (m < 2) c->gemm_one_row++;
    } else {
        c->gemv++;
    }
}

static void *read_all(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    const long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *b = aligned_alloc(64, ((size_t)n + 63) / 64 * 64 + 64);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(2);
    }
    fclose(f);
    *size = (size_t)n;
    return b;
}

static const char *const linear_slots[7] = {"attention.query.weight",  "attention.key.weight", "attention.value.weight",
                                            "attention.output.weight", "ffn.gate.weight",      "ffn.up.weight",
                                            "ffn.down.weight"};

static qp_linear linear_of(const char *scheme, const char *layout, size_t n, size_t k, size_t bl, size_t nr, size_t kr,
                           size_t sr, const void *weights) {
    qp_linear l;
    memset(&l, 0, sizeof l);
    l.n = n;
    l.k = k;
    l.bl = bl;
    l.weights = weights;
    l.activation = QP_ACTIVATION_DYNAMIC;
    if (!strcmp(scheme, "f32"))
        l.kind = QP_WEIGHT_F32;
    else if (!strcmp(scheme, "f16"))
        l.kind = QP_WEIGHT_F16;
    else if (!qp_layout_weight_kind(layout, &l.kind)) {
        fprintf(stderr, "layout %s unknown to the runtime\n", layout);
        exit(2);
    }
    l.tile.nr = nr;
    l.tile.kr = kr;
    l.tile.sr = sr;
    return l;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: qp_graph_selftest DESC BLOB\n");
        return 2;
    }
    size_t blob_size;
    const unsigned char *blob = read_all(argv[2], &blob_size);
    FILE *d = fopen(argv[1], "r");
    if (!d) {
        fprintf(stderr, "cannot open %s\n", argv[1]);
        return 2;
    }
    qp_llama m;
    memset(&m, 0, sizeof m);
    double eps, theta;
    if (fscanf(d, "model %zu %zu %zu %zu %zu %zu %lf %lf\n", &m.hidden, &m.heads, &m.kv_heads, &m.layers, &m.vocab,
               &m.max_positions, &eps, &theta) != 8 ||
        m.layers == 0 || m.layers > 64) {
        fprintf(stderr, "bad model line\n");
        return 2;
    }
    m.norm_eps = (float)eps;
    m.rope_base = (float)theta;
    m.rope_half_split = 1; /* Hugging Face q/k rows */
    qp_llama_layer *layers = calloc(m.layers, sizeof *layers);
    int has_head = 0;
    char slot[128], scheme[64], layout[64];
    long layer;
    size_t n, k, bl, nr, kr, sr, offset, length;
    while (fscanf(d, "%127s %ld %63s %63s %zu %zu %zu %zu %zu %zu %zu %zu\n", slot, &layer, scheme, layout, &n, &k, &bl,
                  &nr, &kr, &sr, &offset, &length) == 12) {
        if (offset + length > blob_size) {
            fprintf(stderr, "%s: outside the blob\n", slot);
            return 2;
        }
        const void *w = blob + offset;
        const qp_linear l = linear_of(scheme, layout, n, k, bl, nr, kr, sr, w);
        if (!strcmp(slot, "token_embeddings"))
            m.token_embeddings = l;
        else if (!strcmp(slot, "output.weight")) {
            m.output = l;
            has_head = 1;
        } else if (!strcmp(slot, "output_norm.weight"))
            m.output_norm = w;
        else if (layer >= 0 && (size_t)layer < m.layers) {
            qp_llama_layer *L = &layers[layer];
            qp_linear *each[7] = {&L->query, &L->key, &L->value, &L->attention_output, &L->gate, &L->up, &L->down};
            for (int j = 0; j < 7; j++)
                if (!strcmp(slot, linear_slots[j])) *each[j] = l;
            if (!strcmp(slot, "attention_norm.weight")) L->attention_norm = w;
            if (!strcmp(slot, "ffn_norm.weight")) L->ffn_norm = w;
        }
    }
    fclose(d);
    if (!has_head) m.output = m.token_embeddings; /* tied */
    m.layer = layers;

    int32_t ids[PROMPT];
    for (size_t i = 0; i < PROMPT; i++) ids[i] = (int32_t)((7 * i + 3) % m.vocab);
    const size_t width = m.vocab;
    float *ref = malloc(PROMPT * width * sizeof(float)), *got = malloc(PROMPT * width * sizeof(float));
    int failures = 0;

    qp_force_variant(QP_VARIANT_SCALAR);
    trace_counts scalar = {0};
    qp_set_matmul_trace(count, &scalar);
    if (qp_llama_logits(&m, ids, PROMPT, ref, NULL, NULL) != QP_OK) {
        fprintf(stderr, "scalar run failed\n");
        return 1;
    }
    if (scalar.gemm) {
        fprintf(stderr, "forced scalar ran %zu GEMMs\n", scalar.gemm);
        failures++;
    }

    const qp_variant runs[2] = {QP_VARIANT_NEON_I8MM, QP_VARIANT_AUTO};
    for (int r = 0; r < 2; r++) {
        qp_force_variant(runs[r]);
        /* i8mm only where the policy allows it and the CPU has it (a forced variant never runs
         * instructions the CPU lacks). */
        const int i8mm = qp_selected_variant() == QP_VARIANT_NEON_I8MM && qp_cpu_has_i8mm();
        trace_counts c = {0};
        qp_set_matmul_trace(count, &c);
        memset(got, 0xFF, PROMPT * width * sizeof(float));
        if (qp_llama_logits(&m, ids, PROMPT, got, NULL, NULL) != QP_OK) {
            fprintf(stderr, "run failed\n");
            return 1;
        }
        const int identical = !memcmp(ref, got, PROMPT * width * sizeof(float));
        printf("prompt of %d tokens, %s: %zu GEMM calls (mr 4), %zu GEMV calls; logits %s the scalar reference's\n",
               PROMPT, runs[r] == QP_VARIANT_AUTO ? "auto" : "forced i8mm", c.gemm, c.gemv,
               identical ? "bit-identical to" : "DIFFER from");
        if (!identical) failures++;
        /* Every packed linear of the prompt goes through a GEMM when i8mm is the policy. */
        if (i8mm && (c.gemm == 0 || c.gemv != 0)) {
            fprintf(stderr, "prompt did not reach the GEMMs\n");
            failures++;
        }
        if (!i8mm && c.gemm != 0) {
            fprintf(stderr, "GEMM without i8mm\n");
            failures++;
        }
    }

    /* One token per step: GEMVs only, the same logits row by row. */
    qp_force_variant(QP_VARIANT_AUTO);
    trace_counts steps = {0};
    qp_set_matmul_trace(count, &steps);
    qp_llama_session s;
    if (qp_llama_session_init(&s, &m, PROMPT, 1) != QP_OK) {
        fprintf(stderr, "session failed\n");
        return 1;
    }
    for (size_t i = 0; i < PROMPT; i++) {
        if (qp_llama_session_step(&s, &ids[i], 1, got + i * width, NULL, NULL) != QP_OK) {
            fprintf(stderr, "step failed\n");
            return 1;
        }
    }
    qp_llama_session_free(&s);
    const int same = !memcmp(ref, got, PROMPT * width * sizeof(float));
    printf("one token per step (auto): %zu GEMV calls, %zu GEMM calls; logits %s the scalar prompt's\n", steps.gemv,
           steps.gemm, same ? "bit-identical to" : "DIFFER from");
    if (!same || steps.gemm || steps.gemm_one_row) failures++;
    qp_set_matmul_trace(NULL, NULL);
    free(ref);
    free(got);
    free(layers);
    return failures ? 1 : 0;
}
