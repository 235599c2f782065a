/* Llama decoder over float or packed weights: a session holds the KV cache and every
 * activation buffer, sized once; steps append tokens (a whole prompt, or one at a time). */
#include "qp_activation.h"
#include "qp_attention.h"
#include "qp_model.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static size_t round_up(size_t v, size_t m) { return (v + m - 1) / m * m; }

static void rms_norm(const float *x, size_t rows, size_t d, const float *w, float eps, float *out) {
    for (size_t r = 0; r < rows; r++) {
        const float *v = x + r * d;
        double ss = 0;
        for (size_t i = 0; i < d; i++) ss += (double)v[i] * v[i];
        const float inv = (float)(1.0 / sqrt(ss / (double)d + eps));
        for (size_t i = 0; i < d; i++) out[r * d + i] = v[i] * inv * w[i];
    }
}

/* The angle pos · inv_freq[i] of every position and pair, as cos and sin (computed in double,
 * rounded to float), for positions 0 ... capacity - 1: a session computes them once. */
static qp_status rope_table(qp_llama_session *s, const qp_llama *m, size_t capacity) {
    const size_t hd = m->hidden / m->heads, half = hd / 2;
    if (capacity > SIZE_MAX / sizeof(float) / 2 / half) return QP_ERR_ARGUMENT;
    s->rope = malloc(2 * capacity * half * sizeof(float));
    if (!s->rope) return QP_ERR_NOMEM;
    for (size_t i = 0; i < half; i++) {
        const double inv =
            m->rope_inv_freq ? m->rope_inv_freq[i] : pow((double)m->rope_base, -2.0 * (double)i / (double)hd);
        for (size_t pos = 0; pos < capacity; pos++) {
            const double theta = (double)pos * inv;
            s->rope[2 * (pos * half + i)] = (float)cos(theta);
            s->rope[2 * (pos * half + i) + 1] = (float)sin(theta);
        }
    }
    return QP_OK;
}

/* Rotates pairs of each head by angle pos · inv_freq[i], pos = first + t: adjacent pairs
 * (x[2i], x[2i+1]) or, half split, (x[i], x[i + hd/2]). */
static void rope(float *x, size_t n, size_t first, size_t heads, size_t hd, const qp_llama *m, const float *table) {
    const size_t half = hd / 2;
    for (size_t t = 0; t < n; t++) {
        const float *cs = table + 2 * (first + t) * half;
        for (size_t h = 0; h < heads; h++) {
            float *v = x + (t * heads + h) * hd;
            for (size_t i = 0; i < half; i++) {
                const float c = cs[2 * i], sn = cs[2 * i + 1];
                const size_t ia = m->rope_half_split ? i : 2 * i, ib = m->rope_half_split ? i + half : 2 * i + 1;
                const float a = v[ia], b = v[ib];
                v[ia] = a * c - b * sn;
                v[ib] = a * sn + b * c;
            }
        }
    }
}

static size_t ffn_width(const qp_llama *m) {
    size_t ffn = 0;
    for (size_t l = 0; l < m->layers; l++)
        if (m->layer[l].gate.n > ffn) ffn = m->layer[l].gate.n;
    return ffn;
}

/* Floats of activations for `chunk` tokens: x, h, q, att (d each), g, u (ffn each), and
 * attention scores over the whole cache for each attention thread (keys and values live in the
 * cache itself). */
static size_t arena_floats(const qp_llama *m, size_t capacity, size_t chunk) {
    return round_up(chunk * m->hidden * 4 + chunk * ffn_width(m) * 2 + capacity * qp_attention_parts(m->pool, m->heads),
                    16);
}

/* One step's attention for one query head: its n rows (causal: position first + i attends to
 * 0 ... first + i) against the cache of its key/value head. */
typedef struct llama_attention {
    const float *q, *keys, *values;
    float *out;
    size_t n, first, heads, hd, kvd, group;
    float scale;
} llama_attention;

static void attend_head(void *context, size_t head, float *scores) {
    const llama_attention *a = context;
    const size_t kh = head / a->group;
    for (size_t i = 0; i < a->n; i++)
        qp_attend(a->q + (i * a->heads + head) * a->hd, a->keys + kh * a->hd, a->kvd, a->values + kh * a->hd, a->kvd,
                  a->first + i + 1, a->hd, a->scale, scores, a->out + (i * a->heads + head) * a->hd);
}

qp_status qp_llama_session_init(qp_llama_session *s, const qp_llama *m, size_t capacity, size_t chunk) {
    if (!s) return QP_ERR_ARGUMENT;
    memset(s, 0, sizeof *s);
    if (!m || capacity == 0 || chunk == 0 || chunk > capacity || capacity > m->max_positions || m->heads == 0 ||
        m->kv_heads == 0 || m->hidden % m->heads || m->heads % m->kv_heads || (m->hidden / m->heads) % 2)
        return QP_ERR_ARGUMENT;
    const size_t kvd = m->kv_heads * (m->hidden / m->heads);
    if (m->layers == 0 || kvd == 0 || capacity > SIZE_MAX / sizeof(float) / kvd / m->layers) return QP_ERR_ARGUMENT;
    size_t scratch = 0;
    for (size_t l = 0; l <= m->layers; l++) {
        const qp_linear *all[7];
        size_t count = 0;
        if (l == m->layers)
            all[count++] = &m->output;
        else {
            const qp_llama_layer *L = &m->layer[l];
            const qp_linear *each[7] = {&L->query, &L->key, &L->value, &L->attention_output,
                                        &L->gate,  &L->up,  &L->down};
            for (; count < 7; count++) all[count] = each[count];
        }
        for (size_t j = 0; j < count; j++) {
            const size_t z = qp_linear_scratch_size(all[j], chunk);
            if (z > scratch) scratch = z;
        }
    }
    const size_t floats = arena_floats(m, capacity, chunk);
    s->keys = malloc(m->layers * capacity * kvd * sizeof(float));
    s->values = malloc(m->layers * capacity * kvd * sizeof(float));
    s->arena = malloc(floats * sizeof(float) + scratch);
    qp_status st = s->keys && s->values && s->arena ? rope_table(s, m, capacity) : QP_ERR_NOMEM;
    if (st != QP_OK) {
        qp_llama_session_free(s);
        return st;
    }
    s->model = m;
    s->capacity = capacity;
    s->chunk = chunk;
    s->scratch = s->arena + floats;
    s->scratch_size = scratch;
    return QP_OK;
}

void qp_llama_session_free(qp_llama_session *s) {
    if (!s) return;
    free(s->keys);
    free(s->values);
    free(s->arena);
    free(s->rope);
    memset(s, 0, sizeof *s);
}

/* `last_only`: the logits of the last position only (vocab floats), the head run on one row. */
static qp_status step(qp_llama_session *s, const int32_t *ids, size_t n, float *logits, int last_only,
                      qp_linear_observer observer, void *context) {
    if (!s || !s->model || !ids || !logits || n == 0 || n > s->chunk || n > s->capacity - s->length)
        return QP_ERR_ARGUMENT;
    const qp_llama *m = s->model;
    const size_t d = m->hidden, hd = d / m->heads, kvd = m->kv_heads * hd, group = m->heads / m->kv_heads;
    const size_t ffn = ffn_width(m), first = s->length, cap = s->capacity;
    float *x = s->arena, *h = x + n * d, *q = h + n * d, *att = q + n * d;
    float *g = att + n * d, *u = g + n * ffn, *scores = u + n * ffn;
    void *scratch = s->scratch;
    const size_t ss = s->scratch_size;
    qp_status st;
    for (size_t t = 0; t < n; t++) {
        if (ids[t] < 0 || (size_t)ids[t] >= m->token_embeddings.n) return QP_ERR_ARGUMENT;
        if ((st = qp_embedding_row(&m->token_embeddings, (size_t)ids[t], x + t * d))) return st;
    }
    for (size_t li = 0; li < m->layers; li++) {
        const qp_llama_layer *L = &m->layer[li];
        float *kc = s->keys + li * cap * kvd, *vc = s->values + li * cap * kvd;
        /* Keys and values go straight into the cache rows of these positions (RoPE in place). */
        float *k = kc + first * kvd, *v = vc + first * kvd;
        rms_norm(x, n, d, L->attention_norm, m->norm_eps, h);
        const qp_linear *qkv[3] = {&L->query, &L->key, &L->value};
        float *const qkv_out[3] = {q, k, v};
        if ((st = qp_linears_forward_scratch(qkv, 3, n, h, qkv_out, scratch, ss))) return st;
        if (observer)
            for (int j = 0; j < 3; j++) observer(context, li, j, n, h, qkv_out[j]);
        rope(q, n, first, m->heads, hd, m, s->rope);
        rope(k, n, first, m->kv_heads, hd, m, s->rope);
        llama_attention a = {q, kc, vc, att, n, first, m->heads, hd, kvd, group, 1.0f / sqrtf((float)hd)};
        qp_attend_heads(m->pool, m->heads, n * (first + n) * d, attend_head, &a, scores, cap);
        if ((st = qp_linear_forward_scratch(&L->attention_output, n, att, h, scratch, ss))) return st;
        if (observer) observer(context, li, 3, n, att, h);
        for (size_t i = 0; i < n * d; i++) x[i] += h[i];
        rms_norm(x, n, d, L->ffn_norm, m->norm_eps, h);
        const qp_linear *gate_up[2] = {&L->gate, &L->up};
        float *const gate_up_out[2] = {g, u};
        if ((st = qp_linears_forward_scratch(gate_up, 2, n, h, gate_up_out, scratch, ss))) return st;
        if (observer)
            for (int j = 0; j < 2; j++) observer(context, li, 4 + j, n, h, gate_up_out[j]);
        const size_t f = L->gate.n;
        qp_silu_mul(g, u, n * f);
        if ((st = qp_linear_forward_scratch(&L->down, n, g, h, scratch, ss))) return st;
        if (observer) observer(context, li, 6, n, g, h);
        for (size_t i = 0; i < n * d; i++) x[i] += h[i];
    }
    /* The head: every position's logits, or the last one's (what generation samples from). */
    const size_t rows = last_only ? 1 : n;
    rms_norm(x + (n - rows) * d, rows, d, m->output_norm, m->norm_eps, h);
    if ((st = qp_linear_forward_scratch(&m->output, rows, h, logits, scratch, ss))) return st;
    if (observer) observer(context, m->layers, 7, rows, h, logits);
    s->length += n;
    return QP_OK;
}

qp_status qp_llama_session_step(qp_llama_session *s, const int32_t *ids, size_t n, float *logits,
                                qp_linear_observer observer, void *context) {
    return step(s, ids, n, logits, 0, observer, context);
}

qp_status qp_llama_session_step_last(qp_llama_session *s, const int32_t *ids, size_t n, float *logits) {
    return step(s, ids, n, logits, 1, NULL, NULL);
}

qp_status qp_llama_logits(const qp_llama *m, const int32_t *ids, size_t n, float *logits, qp_linear_observer observer,
                          void *context) {
    if (!m || n == 0) return QP_ERR_ARGUMENT;
    qp_llama_session s;
    qp_status st = qp_llama_session_init(&s, m, n, n);
    if (st == QP_OK) st = qp_llama_session_step(&s, ids, n, logits, observer, context);
    qp_llama_session_free(&s);
    return st;
}
