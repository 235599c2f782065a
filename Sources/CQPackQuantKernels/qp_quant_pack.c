#include "qp_quant_pack.h"

/* Determinism: no FMA contraction anywhere in this file. */
#pragma clang fp contract(off)
#pragma STDC FP_CONTRACT OFF

#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "qp_quant_arith.h"
#include "qp_source_decode.h"

/* One group (a block or a row): codes into `q`; returns the scale (WeightQuantizer.quantizeGroup:
 * absmax gives absmax/qmax unrounded; the search's candidates are rounded to bf16 when
 * `bf16_scales`, and the codes use the rounded scale). Groups whose largest magnitude is
 * subnormal quantize to zeros with scale 0. */
QP_INLINE float quant_group(const float *x, size_t n, float qmin, float qmax, qp_scale_search search, int bf16_scales,
                            int8_t *q) {
    const float absmax = qp_absmax_inline(x, n);
    if (absmax < FLT_MIN) {
        memset(q, 0, n);
        return 0;
    }
    if (search.nratios == 0) {
        const float scale = absmax / qmax;
        qp_encode_inline(x, n, 1 / scale, qmin, qmax, q);
        return scale;
    }
    float best = 0, best_error = __builtin_inff();
    for (size_t i = 0; i < search.nratios; i++) {
        float s = search.ratios[i] * absmax / qmax;
        if (bf16_scales) s = bf16_to_float(bf16_from_float(s));
        if (!(s > 0) || !(s <= FLT_MAX)) continue;
        const float err = qp_sq_error_inline(x, n, s, 1 / s, qmin, qmax);
        if (err < best_error) {
            best_error = err;
            best = s;
        }
    }
    if (best == 0) {
        best = absmax / qmax;
        if (bf16_scales) best = bf16_to_float(bf16_from_float(best));
    }
    qp_encode_inline(x, n, 1 / best, qmin, qmax, q);
    return best;
}

/* Scratch for one panel: nr rows of codes, their scales, one decoded row. */
typedef struct {
    int8_t *codes;
    float *scales;
    float *row;
} panel_scratch;

static int scratch_alloc(panel_scratch *s, size_t nr, size_t k, size_t groups) {
    s->codes = malloc(nr * k);
    s->scales = malloc(nr * groups * sizeof(float));
    s->row = malloc(k * sizeof(float) + 64);
    if (!s->codes || !s->scales || !s->row) {
        free(s->codes), free(s->scales), free(s->row);
        return 0;
    }
    return 1;
}

static void scratch_free(panel_scratch *s) { free(s->codes), free(s->scales), free(s->row); }

/* Quantizes the nr rows of panel g (rows past the end repeat the last one) in groups of
 * `group` values. Returns -1 or the flat index of the first non-finite value. */
QP_INLINE int64_t quant_panel(const qp_weight_source *src, size_t g, size_t nr, size_t group, float qmin, float qmax,
                              qp_scale_search search, int bf16_scales, panel_scratch *s) {
    const size_t k = src->cols, groups = k / group;
    for (size_t r = 0; r < nr; r++) {
        const size_t row = g * nr + r < src->rows ? g * nr + r : src->rows - 1;
        if (g * nr + r >= src->rows) {
            /* A padding row: the same as the previous one. */
            memcpy(s->codes + r * k, s->codes + (r - 1) * k, k);
            memcpy(s->scales + r * groups, s->scales + (r - 1) * groups, groups * sizeof(float));
            continue;
        }
        const long bad = decode_row(src, row, s->row, search.zero_nonfinite);
        if (bad >= 0) return (int64_t)(row * k + (size_t)bad);
        for (size_t b = 0; b < groups; b++) {
            s->scales[r * groups + b] =
                quant_group(s->row + b * group, group, qmin, qmax, search, bf16_scales, s->codes + r * k + b * group);
        }
    }
    return -1;
}

QP_INLINE void store_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

QP_INLINE void store_f32(uint8_t *p, float f) {
    uint32_t v;
    memcpy(&v, &f, 4);
    store_u32(p, v);
}

QP_CLONES
int64_t qp_quant_pack_qsi4c32p(const qp_weight_source *src, size_t bl, size_t nr, size_t L, qp_scale_search search,
                               size_t panel_begin, size_t panel_end, uint8_t *out) {
    const size_t k = src->cols, blocks = k / bl;
    const size_t stride = nr * (blocks * (bl / 2 + 2) + 8);
    panel_scratch s;
    if (!scratch_alloc(&s, nr, k, blocks)) return -2;
    float *row_sums = malloc(nr * sizeof(float));
    uint16_t *scale_bits = malloc(nr * sizeof(uint16_t));
    if (!row_sums || !scale_bits) {
        free(row_sums), free(scale_bits);
        scratch_free(&s);
        return -2;
    }
    int64_t result = -1;
    for (size_t g = panel_begin; g < panel_end; g++) {
        result = quant_panel(src, g, nr, bl, -8, 7, search, 1, &s);
        if (result >= 0) break;
        uint8_t *panel = out + g * stride;
        for (size_t r = 0; r < nr; r++) row_sums[r] = 0;
        for (size_t b = 0; b < blocks; b++) {
            uint8_t *o = panel + b * nr * (bl / 2 + 2);
            for (size_t r = 0; r < nr; r++) scale_bits[r] = bf16_from_float(s.scales[r * blocks + b]);
            for (size_t c = 0; c < bl / 32; c++) {
                for (size_t seg = 0; seg < 16 / L; seg++) {
                    for (size_t r = 0; r < nr; r++) {
                        const int8_t *q = s.codes + r * k + b * bl + 32 * c + seg * L;
                        int32_t partial = 0;
                        for (size_t j = 0; j < L; j++) {
                            partial += q[j] + q[j + 16];
                            *o++ = (uint8_t)((q[j] & 0x0F) | ((q[j + 16] & 0x0F) << 4));
                        }
                        /* KleidiAI's scalar packer accumulates per segment in storage order. */
                        row_sums[r] = row_sums[r] + (float)partial * bf16_to_float(scale_bits[r]);
                    }
                }
            }
            for (size_t r = 0; r < nr; r++) o[2 * r] = (uint8_t)scale_bits[r], o[2 * r + 1] = (uint8_t)(scale_bits[r] >> 8);
        }
        uint8_t *tail = panel + blocks * nr * (bl / 2 + 2);
        for (size_t r = 0; r < nr; r++) {
            store_f32(tail + 4 * r, row_sums[r]);
            store_f32(tail + 4 * nr + 4 * r, 0.0f);
        }
    }
    free(row_sums), free(scale_bits);
    scratch_free(&s);
    return result;
}

QP_CLONES
int64_t qp_quant_pack_qsi4cxp(const qp_weight_source *src, size_t nr, size_t L, qp_scale_search search,
                              size_t panel_begin, size_t panel_end, uint8_t *out) {
    const size_t k = src->cols, kp = (k + 31) / 32 * 32;
    const size_t stride = nr * (kp / 2 + 12);
    panel_scratch s;
    if (!scratch_alloc(&s, nr, k, 1)) return -2;
    int64_t result = -1;
    for (size_t g = panel_begin; g < panel_end; g++) {
        result = quant_panel(src, g, nr, k, -8, 7, search, 0, &s);
        if (result >= 0) break;
        uint8_t *panel = out + g * stride;
        for (size_t i = 0; i < nr * kp / 2; i++) {
            const size_t t = i / L, j = i % L, seg = t / nr, r = t % nr;
            const size_t kl = seg * L + j, k0 = 32 * (kl / 16) + kl % 16;
            const int8_t *q = s.codes + r * k;
            const int lo = k0 < k ? q[k0] : 0, hi = k0 + 16 < k ? q[k0 + 16] : 0;
            panel[i] = (uint8_t)((lo & 0x0F) | ((hi & 0x0F) << 4));
        }
        uint8_t *tail = panel + nr * kp / 2;
        for (size_t r = 0; r < nr; r++) {
            int32_t sum = 0;
            for (size_t c = 0; c < k; c++) sum += s.codes[r * k + c];
            store_u32(tail + 4 * r, (uint32_t)sum * 16u);
            store_f32(tail + 4 * nr + 4 * r, s.scales[r] * 0.0625f);
            store_f32(tail + 8 * nr + 4 * r, 0.0f);
        }
    }
    scratch_free(&s);
    return result;
}

QP_CLONES
int64_t qp_quant_pack_qsi8cxp(const qp_weight_source *src, size_t nr, size_t kr, qp_scale_search search,
                              size_t panel_begin, size_t panel_end, uint8_t *out) {
    const size_t k = src->cols, kp = (k + 31) / 32 * 32;
    const size_t stride = nr * (kp + 12);
    panel_scratch s;
    if (!scratch_alloc(&s, nr, k, 1)) return -2;
    int64_t result = -1;
    for (size_t g = panel_begin; g < panel_end; g++) {
        result = quant_panel(src, g, nr, k, -128, 127, search, 0, &s);
        if (result >= 0) break;
        uint8_t *o = out + g * stride;
        for (size_t seg = 0; seg < kp / kr; seg++) {
            for (size_t r = 0; r < nr; r++) {
                const int8_t *q = s.codes + r * k;
                for (size_t j = 0; j < kr; j++) {
                    const size_t col = seg * kr + j;
                    *o++ = col < k ? (uint8_t)q[col] : 0;
                }
            }
        }
        for (size_t r = 0; r < nr; r++) {
            int32_t sum = 0;
            for (size_t c = 0; c < k; c++) sum += s.codes[r * k + c];
            store_u32(o + 4 * r, (uint32_t)sum);
            store_f32(o + 4 * nr + 4 * r, s.scales[r]);
            store_f32(o + 8 * nr + 4 * r, 0.0f);
        }
    }
    scratch_free(&s);
    return result;
}
