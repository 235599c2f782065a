/* BERT encoder (sentence-transformers style pooling) over float or packed weights. */
#include "qp_attention.h"
#include "qp_layouts.h"
#include "qp_model.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static size_t round_up(size_t v, size_t m) { return (v + m - 1) / m * m; }

static int smooths(const qp_linear *l) { return l->activation == QP_ACTIVATION_STATIC && l->activation_divisor; }

size_t qp_linear_scratch_size(const qp_linear *l, size_t m) {
    if (!l || l->kind == QP_WEIGHT_F32 || l->kind == QP_WEIGHT_F16) return 0;
    /* Room for the LHS packed with the largest mr dispatch may choose. */
    const qp_layout_traits *layout = qp_layout_by_kind(l->kind);
    if (!layout || !layout->lhs_packed_size) return 0;
    const size_t lhs =
        round_up(layout->lhs_packed_size(m, l->k, l->bl, qp_matmul_max_mr(), l->tile.kr, l->tile.sr), 64);
    /* Smoothing divides the input into a copy after the packed LHS. */
    return smooths(l) ? lhs + m * l->k * sizeof(float) : lhs;
}

qp_status qp_linear_forward(const qp_linear *l, size_t m, const float *x, float *y) {
    const size_t size = qp_linear_scratch_size(l, m);
    void *scratch = size ? malloc(size) : NULL;
    if (size && !scratch) return QP_ERR_NOMEM;
    const qp_status st = qp_linear_forward_scratch(l, m, x, y, scratch, size);
    free(scratch);
    return st;
}

/* Below this many weights a linear runs on the calling thread (waking workers costs more). */
#define QP_PARALLEL_MIN_WEIGHTS (64 * 1024)

/* One thread's share of a linear: a range of output columns (packed kinds; float kinds with one
 * row) or of rows (float kinds with several rows, whose kernels take no output stride). */
typedef struct linear_job {
    const qp_linear *l;
    size_t m, parts, unit; /* columns per unit: nr (packed) or the float kernels' column block */
    const float *x;
    float *y;
    const void *lhs;
    const qp_layout_traits *layout;
    const qp_matmul_choice *choice;
    qp_matmul_tile tile;
    uint64_t panel_bytes;
} linear_job;

static void share(size_t total, size_t parts, size_t part, size_t *begin, size_t *end) {
    *begin = total * part / parts;
    *end = total * (part + 1) / parts;
}

static void run_float(const linear_job *j, size_t part) {
    const qp_linear *l = j->l;
    const size_t n = l->n, k = l->k;
    size_t r0 = 0, r1 = j->m, c0 = 0, c1 = n;
    if (j->m > 1)
        share(j->m, j->parts, part, &r0, &r1);
    else {
        share((n + j->unit - 1) / j->unit, j->parts, part, &c0, &c1);
        c0 *= j->unit;
        c1 = c1 * j->unit < n ? c1 * j->unit : n;
    }
    if (r0 >= r1 || c0 >= c1) return;
    const float *bias = l->bias ? l->bias + c0 : NULL;
    if (l->kind == QP_WEIGHT_F32)
        qp_linear_f32_neon(r1 - r0, c1 - c0, k, j->x + r0 * k, (const float *)l->weights + c0 * k, bias,
                           j->y + r0 * n + c0, -INFINITY, INFINITY);
    else
        qp_linear_f16_neon(r1 - r0, c1 - c0, k, j->x + r0 * k, (const uint16_t *)l->weights + c0 * k, bias,
                           j->y + r0 * n + c0, -INFINITY, INFINITY);
}

static void run_packed(const linear_job *j, size_t part) {
    const qp_linear *l = j->l;
    size_t p0, p1;
    share((l->n + j->unit - 1) / j->unit, j->parts, part, &p0, &p1);
    const size_t c0 = p0 * j->unit, c1 = p1 * j->unit < l->n ? p1 * j->unit : l->n;
    if (c0 >= c1) return;
    qp_matmul_run(j->layout->id, j->choice, j->m, c1 - c0, l->k, l->bl, j->tile, j->lhs,
                  (const uint8_t *)l->weights + p0 * j->panel_bytes, j->y + c0, l->n * 4, -INFINITY, INFINITY);
}

static void run_part(void *arg, size_t part) {
    const linear_job *j = arg;
    if (j->layout)
        run_packed(j, part);
    else
        run_float(j, part);
}

/* How many threads a linear of these dimensions uses. */
static size_t parts_for(const qp_linear *l, size_t m, size_t units) {
    const size_t threads = qp_pool_threads(l->pool);
    if (threads < 2 || (uint64_t)l->n * l->k < QP_PARALLEL_MIN_WEIGHTS) return 1;
    const size_t work = m > 1 && !qp_layout_by_kind(l->kind) ? m : units;
    return work < threads ? (work ? work : 1) : threads;
}

/* What a scratch buffer's packed LHS was packed with: a later linear over the same input whose
 * packing would be the same (dynamic activations, same packer, k, bl, mr, kr, sr) reuses it. */
typedef struct lhs_key {
    const void *packer; /* NULL: the buffer holds nothing reusable */
    size_t k, bl, mr, kr, sr;
} lhs_key;

static int same_key(const lhs_key *a, const lhs_key *b) {
    return a->packer && a->packer == b->packer && a->k == b->k && a->bl == b->bl && a->mr == b->mr && a->kr == b->kr &&
           a->sr == b->sr;
}

static qp_status forward(const qp_linear *l, size_t m, const float *x, float *y, void *lhs, size_t scratch_size,
                         lhs_key *held) {
    if (!l || !l->weights || !x || !y) return QP_ERR_ARGUMENT;
    const size_t n = l->n, k = l->k;
    if (l->kind == QP_WEIGHT_F32 || l->kind == QP_WEIGHT_F16) {
        linear_job job = {.l = l, .m = m, .unit = 16, .x = x, .y = y}; /* 16: the float kernels' column block */
        job.parts = parts_for(l, m, (n + 15) / 16);
        qp_pool_run(l->pool, job.parts, run_part, &job);
        return QP_OK;
    }
    const qp_layout_traits *layout = qp_layout_by_kind(l->kind);
    qp_matmul_choice choice;
    if (!layout || !layout->lhs_pack || !qp_matmul_choose(layout->id, l->tile, m, k, l->bl, 0, &choice))
        return QP_ERR_UNSUPPORTED;
    if (l->activation == QP_ACTIVATION_STATIC && !layout->lhs_pack_range) return QP_ERR_UNSUPPORTED;
    qp_matmul_tile t = l->tile;
    t.mr = choice.mr;
    const size_t lhs_size = layout->lhs_packed_size(m, k, l->bl, t.mr, t.kr, t.sr);
    if (!lhs || scratch_size < qp_linear_scratch_size(l, m)) return QP_ERR_ARGUMENT;
    const lhs_key key = {.packer = l->activation == QP_ACTIVATION_STATIC ? NULL : (const void *)layout->lhs_pack,
                         .k = k,
                         .bl = l->bl,
                         .mr = t.mr,
                         .kr = t.kr,
                         .sr = t.sr};
    if (!same_key(held, &key)) {
        memset(lhs, 0, lhs_size); /* padding rows past m stay zero, as with a fresh buffer */
        if (smooths(l)) {
            float *divided = (float *)((uint8_t *)lhs + round_up(lhs_size, 64));
            for (size_t r = 0; r < m; r++)
                for (size_t j = 0; j < k; j++) divided[r * k + j] = x[r * k + j] / l->activation_divisor[j];
            x = divided;
        }
        if (l->activation == QP_ACTIVATION_STATIC)
            layout->lhs_pack_range(m, k, l->bl, t.mr, t.kr, t.sr, x, k * sizeof(float), lhs, l->activation_min,
                                   l->activation_max);
        else
            layout->lhs_pack(m, k, l->bl, t.mr, t.kr, t.sr, x, k * sizeof(float), lhs);
        *held = key;
    }

    linear_job job = {.l = l, .m = m, .unit = t.nr, .y = y, .lhs = lhs, .layout = layout, .choice = &choice, .tile = t};
    job.panel_bytes = layout->packed_size(t.nr, k, l->bl, t.nr, t.kr, t.sr);
    job.parts = parts_for(l, m, (n + t.nr - 1) / t.nr);
    qp_pool_run(l->pool, job.parts, run_part, &job);
    /* The packed layouts carry zero biases; the layer's bias is added here. */
    if (l->bias)
        for (size_t r = 0; r < m; r++)
            for (size_t c = 0; c < n; c++) y[r * n + c] += l->bias[c];
    return QP_OK;
}

qp_status qp_linear_forward_scratch(const qp_linear *l, size_t m, const float *x, float *y, void *lhs,
                                    size_t scratch_size) {
    lhs_key held = {0};
    return forward(l, m, x, y, lhs, scratch_size, &held);
}

qp_status qp_linears_forward_scratch(const qp_linear *const *l, size_t count, size_t m, const float *x, float *const *y,
                                     void *scratch, size_t scratch_size) {
    if (!l || !y) return QP_ERR_ARGUMENT;
    lhs_key held = {0};
    for (size_t i = 0; i < count; i++) {
        const qp_status st = forward(l[i], m, x, y[i], scratch, scratch_size, &held);
        if (st != QP_OK) return st;
    }
    return QP_OK;
}

/* Row `row` of a qsi4c32p table (Formats/qpack-container.md §5.1): per panel of nr rows and per
 * block of bl values, the nibbles of 16/L groups of L values for each row (low nibble value
 * 32c + sL + j, high nibble the value 16 further), then nr bf16 scales; signed nibbles. */
static qp_status embedding_row_qsi4c32p(const qp_linear *table, size_t row, float *out) {
    const size_t k = table->k, bl = table->bl, nr = table->tile.nr, kr = table->tile.kr, sr = table->tile.sr;
    if (bl == 0 || bl % 32 || k % bl || nr == 0 || sr == 0 || kr % sr || 16 % (kr / sr)) return QP_ERR_ARGUMENT;
    const size_t L = kr / sr, blocks = k / bl, r = row % nr;
    const uint8_t *panel = (const uint8_t *)table->weights + row / nr * nr * (blocks * (bl / 2 + 2) + 8);
    for (size_t b = 0; b < blocks; b++) {
        const uint8_t *block = panel + b * nr * (bl / 2 + 2);
        const uint16_t sbits = (uint16_t)(block[nr * bl / 2 + 2 * r] | block[nr * bl / 2 + 2 * r + 1] << 8);
        const uint32_t fbits = (uint32_t)sbits << 16;
        float scale;
        memcpy(&scale, &fbits, 4);
        for (size_t c = 0; c < bl / 32; c++)
            for (size_t s = 0; s < 16 / L; s++)
                for (size_t j = 0; j < L; j++) {
                    const uint8_t byte = block[((c * (16 / L) + s) * nr + r) * L + j];
                    const size_t kk = b * bl + 32 * c + s * L + j;
                    out[kk] = (float)((int8_t)(uint8_t)(byte << 4) >> 4) * scale;
                    out[kk + 16] = (float)((int8_t)(byte & 0xF0) >> 4) * scale;
                }
    }
    return QP_OK;
}

qp_status qp_embedding_row(const qp_linear *table, size_t row, float *out) {
    const size_t k = table->k;
    if (row >= table->n) return QP_ERR_ARGUMENT;
    if (table->kind == QP_WEIGHT_F32) {
        memcpy(out, (const float *)table->weights + row * k, k * sizeof(float));
        return QP_OK;
    }
    if (table->kind == QP_WEIGHT_F16) {
        const uint16_t *h = (const uint16_t *)table->weights + row * k;
        for (size_t i = 0; i < k; i++) out[i] = qp_f16_to_f32(h[i]);
        return QP_OK;
    }
    if (table->kind == QP_WEIGHT_QSI4C32P) return embedding_row_qsi4c32p(table, row, out);
    if (table->kind != QP_WEIGHT_QSI8CXP) return QP_ERR_UNSUPPORTED;
    /* qsi8cxp panel: for each group of kr values, kr bytes per row; then sums, scales, biases. */
    const size_t nr = table->tile.nr, kr = table->tile.kr, kp = round_up(k, 32);
    const uint8_t *panel = (const uint8_t *)table->weights + row / nr * nr * (kp + 12);
    const size_t r = row % nr;
    float scale;
    memcpy(&scale, panel + nr * kp + 4 * nr + 4 * r, 4);
    for (size_t i = 0; i < k; i++) out[i] = (float)(int8_t)panel[(i / kr * nr + r) * kr + i % kr] * scale;
    return QP_OK;
}

static void layer_norm(float *x, size_t rows, size_t d, const float *g, const float *b, float eps) {
    for (size_t r = 0; r < rows; r++) {
        float *v = x + r * d;
        double mean = 0, var = 0;
        for (size_t i = 0; i < d; i++) mean += v[i];
        mean /= (double)d;
        for (size_t i = 0; i < d; i++) var += (v[i] - mean) * (v[i] - mean);
        var /= (double)d;
        const float inv = (float)(1.0 / sqrt(var + eps));
        for (size_t i = 0; i < d; i++) v[i] = (float)((v[i] - mean) * inv) * g[i] + b[i];
    }
}

static float gelu(float x) { return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f)); }

/* One layer's attention for one head: every row against every row (bidirectional). */
typedef struct bert_attention {
    const float *q, *keys, *values;
    float *out;
    size_t n, d, hd;
    float scale;
} bert_attention;

static void attend_head(void *context, size_t head, float *scores) {
    const bert_attention *a = context;
    for (size_t i = 0; i < a->n; i++)
        qp_attend(a->q + i * a->d + head * a->hd, a->keys + head * a->hd, a->d, a->values + head * a->hd, a->d, a->n,
                  a->hd, a->scale, scores + i * a->n, a->out + i * a->d + head * a->hd);
}

qp_status qp_bert_embed(const qp_bert *mdl, const int32_t *ids, size_t count, float *pooled,
                        qp_linear_observer observer, void *context) {
    if (!mdl || !ids || !pooled || count == 0 || count > mdl->max_positions || mdl->hidden % mdl->heads)
        return QP_ERR_ARGUMENT;
    const size_t n = count, d = mdl->hidden, f = mdl->intermediate, h = mdl->heads, hd = d / h;
    /* One arena for the whole run: x, q, k, v, context, tmp, scores (n x n per attention thread),
     * ffn, row. */
    const size_t parts = qp_attention_parts(mdl->pool, h);
    const size_t floats = round_up(n * d * 6 + n * n * parts + n * f + d, 16); /* scratch 64-byte aligned */
    size_t scratch_size = 0;
    for (size_t li = 0; li < mdl->layers; li++) {
        const qp_bert_layer *L = &mdl->layer[li];
        const qp_linear *all[6] = {&L->query, &L->key, &L->value, &L->attention_output, &L->intermediate, &L->output};
        for (int j = 0; j < 6; j++) {
            const size_t s = qp_linear_scratch_size(all[j], n);
            if (s > scratch_size) scratch_size = s;
        }
    }
    float *arena = malloc(floats * sizeof(float) + scratch_size);
    if (!arena) return QP_ERR_NOMEM;
    void *scratch = arena + floats;
    float *x = arena, *q = x + n * d, *kk = q + n * d, *v = kk + n * d, *ctx = v + n * d, *tmp = ctx + n * d;
    float *scores = tmp + n * d, *ffn = scores + n * n * parts, *row = ffn + n * f;
    qp_status st = QP_OK;
    for (size_t t = 0; t < n; t++) {
        if (ids[t] < 0 || (size_t)ids[t] >= mdl->word_embeddings.n) {
            st = QP_ERR_ARGUMENT;
            goto done;
        }
        float *xt = x + t * d;
        if ((st = qp_embedding_row(&mdl->word_embeddings, (size_t)ids[t], xt))) goto done;
        if ((st = qp_embedding_row(&mdl->position_embeddings, t, row))) goto done;
        for (size_t i = 0; i < d; i++) xt[i] += row[i];
        if ((st = qp_embedding_row(&mdl->token_type_embeddings, 0, row))) goto done;
        for (size_t i = 0; i < d; i++) xt[i] += row[i];
    }
    layer_norm(x, n, d, mdl->embedding_norm_weight, mdl->embedding_norm_bias, mdl->norm_eps);
    for (size_t li = 0; li < mdl->layers; li++) {
        const qp_bert_layer *L = &mdl->layer[li];
        const qp_linear *proj[3] = {&L->query, &L->key, &L->value};
        float *outs[3] = {q, kk, v};
        if ((st = qp_linears_forward_scratch(proj, 3, n, x, outs, scratch, scratch_size))) goto done;
        if (observer)
            for (int j = 0; j < 3; j++) observer(context, li, j, n, x, outs[j]);
        bert_attention a = {q, kk, v, ctx, n, d, hd, 1.0f / sqrtf((float)hd)};
        qp_attend_heads(mdl->pool, h, n * n * d, attend_head, &a, scores, n * n);
        if ((st = qp_linear_forward_scratch(&L->attention_output, n, ctx, tmp, scratch, scratch_size))) goto done;
        if (observer) observer(context, li, 3, n, ctx, tmp);
        for (size_t i = 0; i < n * d; i++) x[i] += tmp[i];
        layer_norm(x, n, d, L->attention_norm_weight, L->attention_norm_bias, mdl->norm_eps);
        if ((st = qp_linear_forward_scratch(&L->intermediate, n, x, ffn, scratch, scratch_size))) goto done;
        if (observer) observer(context, li, 4, n, x, ffn);
        for (size_t i = 0; i < n * f; i++) ffn[i] = gelu(ffn[i]);
        if ((st = qp_linear_forward_scratch(&L->output, n, ffn, tmp, scratch, scratch_size))) goto done;
        if (observer) observer(context, li, 5, n, ffn, tmp);
        for (size_t i = 0; i < n * d; i++) x[i] += tmp[i];
        layer_norm(x, n, d, L->output_norm_weight, L->output_norm_bias, mdl->norm_eps);
    }
    double norm = 0;
    for (size_t i = 0; i < d; i++) {
        double s = 0;
        for (size_t t = 0; t < n; t++) s += x[t * d + i];
        pooled[i] = (float)(s / (double)n);
        norm += (double)pooled[i] * pooled[i];
    }
    norm = sqrt(norm);
    for (size_t i = 0; i < d; i++) pooled[i] = (float)(pooled[i] / fmax(norm, 1e-12));
done:
    free(arena);
    return st;
}
