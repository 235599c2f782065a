#ifndef QP_MODEL_H
#define QP_MODEL_H

/* Model graphs over float or packed weights. The same graph code runs the float reference and
 * the packed model; an observer sees every linear layer's input and output. */

#include "qp_runtime.h"
#include "qp_container.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum qp_weight_kind {
    QP_WEIGHT_F32 = 0, /* float [n][k] */
    QP_WEIGHT_F16 = 1, /* binary16 bits [n][k] */
    QP_WEIGHT_QSI4C32P = 2, /* KleidiAI packed, with tile and bl */
    QP_WEIGHT_QSI4CXP = 3,
    QP_WEIGHT_QSI8CXP = 4,
    QP_WEIGHT_QSI4C32PSCALEF16 = 5, /* GGUF Q4_0 blocks (f16 scales), run with qsi8d32p activations */
    QP_WEIGHT_QAI4C32P = 6, /* asymmetric int4 per block of 32 (GGUF Q4_1), qsi8d32pscalef32 activations */
} qp_weight_kind;

/* The weight kind of a manifest layout id ("qsi4c32p" ...): 1 and *kind set when the runtime
 * knows the layout, 0 otherwise. */
int qp_layout_weight_kind(const char *layout_id, qp_weight_kind *kind);

/* The bytes the runtime's layout registry expects for an N x K tensor stored with `scheme` in
 * `layout_id` with this tile (and bl): 1 and *size set when the layout holds the scheme and the
 * tile is one its packers write, 0 otherwise. The loader checks section lengths with it. */
int qp_layout_packed_size(const char *layout_id, const char *scheme, uint64_t n, uint64_t k, uint64_t bl, uint64_t nr,
                          uint64_t kr, uint64_t sr, uint64_t *size);

typedef enum qp_activation_mode {
    QP_ACTIVATION_DYNAMIC = 0, /* each row's own range, at run time */
    QP_ACTIVATION_STATIC = 1, /* one range from calibration (activation_min, activation_max) */
} qp_activation_mode;

/* Worker threads that split a linear's output columns (rows for float linears over several
 * rows) among them; every output element is computed by the same code as on one thread, so the
 * bits do not depend on the thread count. A pool runs one job at a time (callers queue). */
typedef struct qp_pool qp_pool;
#define QP_MAX_THREADS 64
/* NULL for threads < 2 (one thread needs no pool) or when no thread could be started. */
qp_pool *qp_pool_create(size_t threads);
void qp_pool_free(qp_pool *pool);
size_t qp_pool_threads(const qp_pool *pool); /* 1 for NULL */
/* Runs job(arg, i) for i < parts (at most the pool's threads), part 0 on the calling thread. */
void qp_pool_run(qp_pool *pool, size_t parts, void (*job)(void *arg, size_t part), void *arg);

typedef struct qp_linear {
    qp_weight_kind kind;
    size_t n, k, bl;
    /* The packed weights' nr, kr, sr. mr is not read: for each call dispatch chooses the
     * micro-kernel (a GEMM for several rows where the CPU has one) and packs the LHS with its mr. */
    qp_matmul_tile tile;
    const void *weights;
    const float *bias; /* n floats or NULL */
    qp_activation_mode activation;
    float activation_min, activation_max;
    /* Static only, optional (smoothing): k divisors; input column j is divided by
     * activation_divisor[j] (float32 division) before quantization with the static range, and
     * the packed weights hold W[n][j] * activation_divisor[j]. NULL: no smoothing. */
    const float *activation_divisor;
    qp_pool *pool; /* NULL: one thread */
} qp_linear;

/* y[m][n] = x[m][k] · W^T + bias. Packed kinds quantize x (qai8dxp, per row or with the static
 * range) into a buffer allocated per call; graphs use qp_linear_forward_scratch with a buffer
 * sized once. */
qp_status qp_linear_forward(const qp_linear *l, size_t m, const float *x, float *y);

/* Bytes of scratch qp_linear_forward_scratch needs for m rows (0 for float kinds). */
size_t qp_linear_scratch_size(const qp_linear *l, size_t m);

/* qp_linear_forward with caller-owned scratch of at least qp_linear_scratch_size bytes. */
qp_status qp_linear_forward_scratch(const qp_linear *l, size_t m, const float *x, float *y, void *scratch,
                                    size_t scratch_size);
/* Several linears over the same input (query, key, value; gate, up): y[i] = x · l[i]^T, in order.
 * Where the next linear would pack x exactly as the last one did (the same LHS packer, k, block
 * length and tile, dynamic activations), the packed LHS is reused rather than packed again:
 * the same bits as one qp_linear_forward_scratch per linear. scratch: at least the largest
 * qp_linear_scratch_size of l[0 .. count - 1]. */
qp_status qp_linears_forward_scratch(const qp_linear *const *l, size_t count, size_t m, const float *x, float *const *y,
                                     void *scratch, size_t scratch_size);

/* Row `row` of an embedding table stored as f32 or f16 [rows][k], qsi8cxp (int8 per row) or
 * qsi4c32p (int4 in blocks along the row, bf16 scales). */
qp_status qp_embedding_row(const qp_linear *table, size_t row, float *out);

typedef struct qp_bert_layer {
    qp_linear query, key, value, attention_output, intermediate, output;
    const float *attention_norm_weight, *attention_norm_bias, *output_norm_weight, *output_norm_bias;
} qp_bert_layer;

typedef struct qp_bert {
    size_t hidden, heads, intermediate, layers, max_positions;
    float norm_eps;
    qp_linear word_embeddings, position_embeddings, token_type_embeddings; /* used as row tables */
    const float *embedding_norm_weight, *embedding_norm_bias;
    const qp_bert_layer *layer;
    qp_pool *pool; /* attention's threads, split over heads (NULL: the calling thread) */
} qp_bert;

/* Called after every linear layer: layer index, which linear (0 query ... 5 output), rows m,
 * the input (m x k) and the output (m x n) as the graph used them. */
typedef void (*qp_linear_observer)(void *context, size_t layer, int which, size_t m, const float *input,
                                   const float *output);

/* Sentence embedding as sentence-transformers computes it for BERT: token ids -> encoder ->
 * mean over tokens -> L2 normalisation. `pooled` receives `hidden` floats. */
qp_status qp_bert_embed(const qp_bert *model, const int32_t *ids, size_t count, float *pooled,
                        qp_linear_observer observer, void *context);

typedef struct qp_llama_layer {
    qp_linear query, key, value, attention_output, gate, up, down;
    const float *attention_norm, *ffn_norm;
} qp_llama_layer;

typedef struct qp_llama {
    size_t hidden, heads, kv_heads, layers, vocab, max_positions;
    float norm_eps, rope_base;
    qp_linear token_embeddings; /* row table */
    qp_linear output; /* logits head (the embeddings when tied) */
    const float *output_norm;
    const qp_llama_layer *layer;
    /* RoPE pairs: 0 adjacent (x[2i], x[2i+1]), as GGUF's permuted q/k rows need; 1 the two
     * halves (x[i], x[i + head_dim/2]), as Hugging Face's rotate_half does. */
    int rope_half_split;
    /* head_dim/2 inverse frequencies (after any rope scaling); NULL: base^(-2i/head_dim). */
    const double *rope_inv_freq;
    qp_pool *pool; /* attention's threads, split over heads (NULL: the calling thread) */
} qp_llama;

/* Llama decoder over `count` token ids (causal), as llama.cpp runs a GGUF llama (and as
 * transformers runs a Hugging Face one, with rope_half_split): RMSNorm,
 * rotary embeddings, grouped-query attention, SwiGLU. Writes the logits of
 * every position (count x vocab) to `logits`. The observer sees every linear (which: 0 q,
 * 1 k, 2 v, 3 attention output, 4 gate, 5 up, 6 down, 7 head with layer = layers). */
qp_status qp_llama_logits(const qp_llama *model, const int32_t *ids, size_t count, float *logits,
                          qp_linear_observer observer, void *context);

/* A decoding session: a KV cache for `capacity` positions and every activation buffer for up
 * to `chunk` tokens per step, allocated once in qp_llama_session_init. Each step appends
 * tokens at the next positions and attends over the cache, so greedy decoding costs one
 * token's work per new token. */
typedef struct qp_llama_session {
    const qp_llama *model;
    size_t capacity, chunk, length;
    float *keys, *values; /* [layers][capacity][kv_heads * head_dim], keys after RoPE */
    float *arena; /* activations for `chunk` tokens */
    void *scratch; /* LHS packing for the largest linear at `chunk` rows */
    size_t scratch_size;
    float *rope; /* [capacity][head_dim/2] (cos, sin) pairs */
} qp_llama_session;

qp_status qp_llama_session_init(qp_llama_session *session, const qp_llama *model, size_t capacity, size_t chunk);
void qp_llama_session_free(qp_llama_session *session);

/* Runs `count` (<= chunk) new tokens at positions length .. length+count-1 and writes their
 * logits (count x vocab); QP_ERR_ARGUMENT when the cache would overflow or an id is out of range. */
qp_status qp_llama_session_step(qp_llama_session *session, const int32_t *ids, size_t count, float *logits,
                                qp_linear_observer observer, void *context);
/* The same step writing only the last position's logits (vocab floats): the head runs on one row,
 * as generation needs. The same bits as that row of qp_llama_session_step's logits. */
qp_status qp_llama_session_step_last(qp_llama_session *session, const int32_t *ids, size_t count, float *logits);

/* ---- Whole models from a .qpack ------------------------------------------------------------
 * qp_model_open builds the graph from the container alone: tensors by slot (§4.7.1), shapes and
 * layouts checked against model.config before anything runs. A file whose manifest lies
 * (heads not dividing hidden, a missing layer, a vocabulary the embedding contradicts, a layout
 * this build has no kernel for...) is refused with a status and a message naming the field. */
typedef struct qp_model qp_model;

typedef enum qp_model_kind {
    QP_MODEL_ENCODER = 1, /* qp_model_embed */
    QP_MODEL_DECODER = 2, /* qp_model_logits, sessions over qp_model_llama */
} qp_model_kind;

typedef struct qp_model_options {
    qp_variant variant; /* QP_VARIANT_AUTO: the CPU's best (process-wide, as qp_force_variant) */
    size_t threads; /* threads the linears split their work among (0 or 1: the calling thread only) */
} qp_model_options;

typedef struct qp_model_description {
    const char *architecture; /* "bert", "llama" (lives as long as the model) */
    qp_model_kind kind;
    size_t hidden, layers, heads, kv_heads, ffn, vocab, max_positions;
    /* Decoders' special tokens from the tokenizer (-1: none): the beginning-of-sequence token
     * (prepended when add_bos is 1) and the end-of-sequence token generation stops at. */
    int32_t bos_token, eos_token;
    int add_bos;
} qp_model_description;

qp_status qp_model_open(const char *path, const qp_model_options *options, qp_model **model, char *message,
                        size_t capacity);
/* The same over a caller-owned buffer (it must outlive the model). */
qp_status qp_model_open_memory(const uint8_t *data, size_t size, const qp_model_options *options, qp_model **model,
                               char *message, size_t capacity);
void qp_model_close(qp_model *model);
qp_status qp_model_describe(const qp_model *model, qp_model_description *description);
/* The graphs (NULL for the other kind): for sessions (qp_llama_session_init) and observers. */
const qp_llama *qp_model_llama(const qp_model *model);
const qp_bert *qp_model_bert(const qp_model *model);
/* The container the model reads (tokenizer sections, provenance). */
qp_container *qp_model_container(qp_model *model);
/* Encoders: token ids -> pooled, L2-normalised embedding (`hidden` floats). */
qp_status qp_model_embed(const qp_model *model, const int32_t *ids, size_t count, float *pooled);
/* Decoders: the logits of every position (count x vocab). */
qp_status qp_model_logits(const qp_model *model, const int32_t *ids, size_t count, float *logits);

/* Any architecture: the linears, in observer order (layer by layer in the graph's order, then
 * a decoder's head), each with its weight tensor's name (the embedding table's for a tied head). */
size_t qp_model_linear_count(const qp_model *model);
qp_status qp_model_linear(const qp_model *model, size_t index, const char **tensor, const qp_linear **linear);

/* Called after linear `index` ran on `rows` rows: input rows x k, output rows x n. */
typedef void (*qp_model_observer)(void *context, size_t index, size_t rows, const float *input, const float *output);

/* Floats qp_model_forward writes for `count` ids: an encoder's pooled embedding (hidden), a
 * decoder's logits of every position (count x vocab). */
size_t qp_model_output_size(const qp_model *model, size_t count);
/* qp_model_embed or qp_model_logits by the model's kind, with an observer on every linear. */
qp_status qp_model_forward(const qp_model *model, const int32_t *ids, size_t count, float *out,
                           qp_model_observer observer, void *context);

/* A model that runs linear i from sources[choice[i]] (choice[i] < 0: from `base`) and everything
 * else from `base`: the budget search's mixes. Sources must be the same graph (architecture,
 * layers, shapes); `base` and the sources must outlive the mix, which qp_model_close frees. */
qp_status qp_model_mix(const qp_model *base, const qp_model *const *sources, size_t source_count, const int32_t *choice,
                       qp_model **mix, char *message, size_t capacity);

/* Decoders: generation. Greedy when `sampling` is NULL, its temperature is 0 or its top_k is 1;
 * otherwise logits / temperature -> softmax (double) -> the top_k most likely (0: all; ties by the
 * lower id) -> the smallest prefix whose probability reaches top_p (0 or 1: all) -> one draw
 * from SplitMix64 seeded with `seed` (the same tokens on every platform for the same seed). */
typedef struct qp_sampling {
    float temperature;
    size_t top_k;
    float top_p;
    uint64_t seed;
} qp_sampling;

/* Called with each generated token; a non-zero return stops the generation. */
typedef int (*qp_token_callback)(void *context, int32_t token);

/* Runs the prompt in one session step (the GEMM micro-kernels where the CPU has them), then
 * generates up to `max_tokens` tokens into `out`, stopping after a token of `stop` (which is
 * kept as the last token). `*generated` says how many were written. */
qp_status qp_model_generate(const qp_model *model, const int32_t *prompt, size_t count, const qp_sampling *sampling,
                            const int32_t *stop, size_t stop_count, size_t max_tokens, int32_t *out, size_t *generated,
                            qp_token_callback callback, void *context);

#ifdef __cplusplus
}
#endif

#endif
