/* Llama decoder (prefill over the whole sequence) over float or packed weights. */
#include "qp_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void rms_norm(float *x, size_t rows, size_t d, const float *w, float eps, float *out) {
    for (size_t r = 0; r < rows; r++) {
        const float *v = x + r * d;
        double ss = 0;
        for (size_t i = 0; i < d; i++) ss += (double)v[i] * v[i];
        const float inv = (float)(1.0 / sqrt(ss / (double)d + eps));
        for (size_t i = 0; i < d; i++) out[r * d + i] = v[i] * inv * w[i];
    }
}

/* Rotates adjacent pairs (x[2i], x[2i+1]) of each head by pos · base^(-2i/hd). */
static void rope(float *x, size_t n, size_t heads, size_t hd, float base) {
    for (size_t t = 0; t < n; t++)
        for (size_t h = 0; h < heads; h++) {
            float *v = x + (t * heads + h) * hd;
            for (size_t i = 0; i < hd / 2; i++) {
                const double theta = (double)t * pow((double)base, -2.0 * (double)i / (double)hd);
                const float c = (float)cos(theta), s = (float)sin(theta);
                const float a = v[2 * i], b = v[2 * i + 1];
                v[2 * i] = a * c - b * s;
                v[2 * i + 1] = a * s + b * c;
            }
        }
}

qp_status qp_llama_logits(const qp_llama *m, const int32_t *ids, size_t n, float *logits,
                          qp_linear_observer observer, void *context) {
    if (!m || !ids || !logits || n == 0 || n > m->max_positions || m->hidden % m->heads || m->heads % m->kv_heads) return QP_ERR_ARGUMENT;
    const size_t d = m->hidden, hd = d / m->heads, kvd = m->kv_heads * hd, group = m->heads / m->kv_heads;
    size_t ffn = 0;
    for (size_t l = 0; l < m->layers; l++) if (m->layer[l].gate.n > ffn) ffn = m->layer[l].gate.n;
    const size_t floats = n * d * 4 + n * kvd * 2 + n * ffn * 2 + n;
    float *arena = malloc(floats * sizeof(float));
    if (!arena) return QP_ERR_NOMEM;
    float *x = arena, *h = x + n * d, *q = h + n * d, *att = q + n * d, *k = att + n * d, *v = k + n * kvd;
    float *g = v + n * kvd, *u = g + n * ffn, *scores = u + n * ffn;
    qp_status st = QP_OK;
    for (size_t t = 0; t < n; t++) {
        if (ids[t] < 0 || (size_t)ids[t] >= m->token_embeddings.n) { st = QP_ERR_ARGUMENT; goto done; }
        if ((st = qp_embedding_row(&m->token_embeddings, (size_t)ids[t], x + t * d))) goto done;
    }
    for (size_t li = 0; li < m->layers; li++) {
        const qp_llama_layer *L = &m->layer[li];
        rms_norm(x, n, d, L->attention_norm, m->norm_eps, h);
        if ((st = qp_linear_forward(&L->query, n, h, q))) goto done;
        if (observer) observer(context, li, 0, n, h, q);
        if ((st = qp_linear_forward(&L->key, n, h, k))) goto done;
        if (observer) observer(context, li, 1, n, h, k);
        if ((st = qp_linear_forward(&L->value, n, h, v))) goto done;
        if (observer) observer(context, li, 2, n, h, v);
        rope(q, n, m->heads, hd, m->rope_base);
        rope(k, n, m->kv_heads, hd, m->rope_base);
        const float scale = 1.0f / sqrtf((float)hd);
        for (size_t head = 0; head < m->heads; head++) {
            const size_t kh = head / group;
            for (size_t i = 0; i < n; i++) {
                float mx = -INFINITY;
                for (size_t j = 0; j <= i; j++) {
                    float s = 0;
                    for (size_t e = 0; e < hd; e++) s += q[(i * m->heads + head) * hd + e] * k[(j * m->kv_heads + kh) * hd + e];
                    scores[j] = s * scale;
                    mx = fmaxf(mx, scores[j]);
                }
                float sum = 0;
                for (size_t j = 0; j <= i; j++) { scores[j] = expf(scores[j] - mx); sum += scores[j]; }
                for (size_t e = 0; e < hd; e++) {
                    float acc = 0;
                    for (size_t j = 0; j <= i; j++) acc += scores[j] * v[(j * m->kv_heads + kh) * hd + e];
                    att[(i * m->heads + head) * hd + e] = acc / sum;
                }
            }
        }
        if ((st = qp_linear_forward(&L->attention_output, n, att, h))) goto done;
        if (observer) observer(context, li, 3, n, att, h);
        for (size_t i = 0; i < n * d; i++) x[i] += h[i];
        rms_norm(x, n, d, L->ffn_norm, m->norm_eps, h);
        if ((st = qp_linear_forward(&L->gate, n, h, g))) goto done;
        if (observer) observer(context, li, 4, n, h, g);
        if ((st = qp_linear_forward(&L->up, n, h, u))) goto done;
        if (observer) observer(context, li, 5, n, h, u);
        const size_t f = L->gate.n;
        for (size_t i = 0; i < n * f; i++) g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
        if ((st = qp_linear_forward(&L->down, n, g, h))) goto done;
        if (observer) observer(context, li, 6, n, g, h);
        for (size_t i = 0; i < n * d; i++) x[i] += h[i];
    }
    rms_norm(x, n, d, m->output_norm, m->norm_eps, h);
    if ((st = qp_linear_forward(&m->output, n, h, logits))) goto done;
    if (observer) observer(context, m->layers, 7, n, h, logits);
done:
    free(arena);
    return st;
}
