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
 * `bf16_scales`, and the codes use the rounded scale). Groups whose scale would be subnormal
 * quantize to zeros with scale 0, and candidates whose inverse overflows are skipped (N05). */
QP_INLINE float quant_group(const float *x, size_t n, float qmin, float qmax, qp_scale_search search, int bf16_scales,
                            int8_t *q) {
    const float absmax = qp_absmax_inline(x, n);
    if (absmax / qmax < FLT_MIN) {
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
        if (!(s > 0) || !(s <= FLT_MAX) || !(1 / s <= FLT_MAX)) continue;
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

#if defined(__x86_64__) && defined(__clang__)
#include <immintrin.h>

#define QP_AVX2 __attribute__((target("avx2,fma")))

QP_AVX2 static inline float hmax8(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

/* q = round_even(clamp(x·inv)) exactly as qp_clampf/qp_round_even: max(lo, v) is `v < lo ? lo : v`
 * and min(hi, v) is `v > hi ? hi : v` (no NaN reaches here). */
QP_AVX2 static inline __m256 code8(__m256 x, __m256 inv, __m256 lo, __m256 hi) {
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    __m256 v = _mm256_min_ps(hi, _mm256_max_ps(lo, _mm256_mul_ps(x, inv)));
    return _mm256_sub_ps(_mm256_add_ps(v, magic), magic);
}

QP_AVX2 static inline void encode_avx2(const float *x, size_t n, float inv, float qmin, float qmax, int8_t *q) {
    const __m256 vi = _mm256_set1_ps(inv), lo = _mm256_set1_ps(qmin), hi = _mm256_set1_ps(qmax);
    for (size_t i = 0; i < n; i += 8) {
        __m256i c = _mm256_cvtps_epi32(code8(_mm256_loadu_ps(x + i), vi, lo, hi));
        __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(c), _mm256_extracti128_si256(c, 1));
        _mm_storel_epi64((__m128i *)(q + i), _mm_packs_epi16(w, w));
    }
}

/* Candidate c's error from its eight partial sums acc[c]: transposing puts lane l of every
 * candidate in one register, so adding the registers l = 0..7 in order gives each candidate's
 * ((acc0 + acc1) + ...) + acc7, the scalar form's exact sequence of additions. */
QP_AVX2 static inline __m256 lane_sums(const __m256 acc[8]) {
    __m256 t0 = _mm256_unpacklo_ps(acc[0], acc[1]), t1 = _mm256_unpackhi_ps(acc[0], acc[1]);
    __m256 t2 = _mm256_unpacklo_ps(acc[2], acc[3]), t3 = _mm256_unpackhi_ps(acc[2], acc[3]);
    __m256 t4 = _mm256_unpacklo_ps(acc[4], acc[5]), t5 = _mm256_unpackhi_ps(acc[4], acc[5]);
    __m256 t6 = _mm256_unpacklo_ps(acc[6], acc[7]), t7 = _mm256_unpackhi_ps(acc[6], acc[7]);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    __m256 lane[8];
    lane[0] = _mm256_permute2f128_ps(u0, u4, 0x20), lane[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
    lane[1] = _mm256_permute2f128_ps(u1, u5, 0x20), lane[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    lane[2] = _mm256_permute2f128_ps(u2, u6, 0x20), lane[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
    lane[3] = _mm256_permute2f128_ps(u3, u7, 0x20), lane[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
    __m256 err = lane[0];
    for (int l = 1; l < 8; l++) err = _mm256_add_ps(err, lane[l]);
    return err;
}

/* Eight candidates' squared errors at once (acc[c] holds candidate c's eight partial sums: lane
 * l sums the elements i ≡ l mod 8 in order). Returns 0 without finishing when no live candidate
 * can beat `bound`: every term is ≥ 0 and rounding is monotonic, so a candidate's error over a
 * prefix of x, summed in the same order, never exceeds its final error; once each live lane's
 * prefix error is ≥ bound, none can end strictly below it (and the scalar scan keeps only a
 * strictly smaller error). Checked at each quarter of long groups (rows): a block's candidates
 * are too close for a prefix to rule one out. */
QP_AVX2 static inline int errors8(const float *x, size_t n, const float *s, const float *inv, float qmin, float qmax,
                                  __m256 live, float bound, __m256 *err) {
    const __m256 lo = _mm256_set1_ps(qmin), hi = _mm256_set1_ps(qmax);
    const __m256 inf = _mm256_set1_ps(__builtin_inff()), vbound = _mm256_set1_ps(bound);
    const size_t step = n / 4 / 8 * 8 > 16 ? n / 4 / 8 * 8 : 16;
    __m256 acc[8];
    for (int c = 0; c < 8; c++) acc[c] = _mm256_setzero_ps();
    /* Candidates innermost: eight independent dependency chains per chunk of x. */
    for (size_t i = 0; i < n; i += 8) {
        const __m256 xv = _mm256_loadu_ps(x + i);
#pragma clang loop unroll(full)
        for (int c = 0; c < 8; c++) {
            const __m256 vs = _mm256_broadcast_ss(s + c), vi = _mm256_broadcast_ss(inv + c);
            /* fma(-q, s, x) and fma(d, d, acc): qp_sq_error_inline's single roundings. */
            const __m256 d = _mm256_fnmadd_ps(code8(xv, vi, lo, hi), vs, xv);
            acc[c] = _mm256_fmadd_ps(d, d, acc[c]);
        }
        if (n >= 256 && (i + 8) % step == 0 && i + 8 < n && bound < __builtin_inff()) {
            const __m256 prefix = _mm256_blendv_ps(inf, lane_sums(acc), live);
            if (_mm256_movemask_ps(_mm256_cmp_ps(prefix, vbound, _CMP_LT_OQ)) == 0) return 0;
        }
    }
    *err = lane_sums(acc);
    return 1;
}

/* quant_group for n a multiple of 8: the same result, bit for bit (the tests compare it with
 * the portable form through WeightQuantizer). */
QP_AVX2 static float quant_group_avx2(const float *x, size_t n, float qmin, float qmax, qp_scale_search search,
                                      int bf16_scales, int8_t *q) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 m = _mm256_setzero_ps();
    for (size_t i = 0; i < n; i += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)));
    const float absmax = hmax8(m);
    if (absmax / qmax < FLT_MIN) {
        memset(q, 0, n);
        return 0;
    }
    if (search.nratios == 0) {
        const float scale = absmax / qmax;
        encode_avx2(x, n, 1 / scale, qmin, qmax, q);
        return scale;
    }
    float best = 0, best_error = __builtin_inff();
    const __m256 vmax = _mm256_set1_ps(absmax), vq = _mm256_set1_ps(qmax), one = _mm256_set1_ps(1.0f);
    const __m256 flt_max = _mm256_set1_ps(FLT_MAX), zero = _mm256_setzero_ps();
    for (size_t c0 = 0; c0 < search.nratios; c0 += 8) {
        /* The candidates' scales as the scalar form computes them, eight at a time: (α·absmax)/qmax,
         * rounded to bf16 (nearest even; NaN kept NaN), valid when > 0 with a finite inverse. */
        float ratios[8];
        for (int c = 0; c < 8; c++) ratios[c] = c0 + c < search.nratios ? search.ratios[c0 + c] : 1.0f;
        __m256 sc = _mm256_div_ps(_mm256_mul_ps(_mm256_loadu_ps(ratios), vmax), vq);
        if (bf16_scales) {
            const __m256i bits = _mm256_castps_si256(sc);
            const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(1));
            __m256i r = _mm256_add_epi32(_mm256_add_epi32(bits, _mm256_set1_epi32(0x7FFF)), odd);
            r = _mm256_slli_epi32(_mm256_srli_epi32(r, 16), 16);
            const __m256i quiet =
                _mm256_slli_epi32(_mm256_or_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(0x40)), 16);
            const __m256 nan = _mm256_cmp_ps(sc, sc, _CMP_UNORD_Q);
            sc = _mm256_blendv_ps(_mm256_castsi256_ps(r), _mm256_castsi256_ps(quiet), nan);
        }
        const __m256 inverse = _mm256_div_ps(one, sc);
        __m256 ok = _mm256_and_ps(_mm256_cmp_ps(sc, zero, _CMP_GT_OQ), _mm256_cmp_ps(sc, flt_max, _CMP_LE_OQ));
        ok = _mm256_and_ps(ok, _mm256_cmp_ps(inverse, flt_max, _CMP_LE_OQ));
        const int valid =
            _mm256_movemask_ps(ok) & (int)((1u << (search.nratios - c0 < 8 ? search.nratios - c0 : 8)) - 1);
        float s[8], inv[8];
        _mm256_storeu_ps(s, _mm256_blendv_ps(one, sc, ok));
        _mm256_storeu_ps(inv, _mm256_blendv_ps(one, inverse, ok));
        const __m256i lanes = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
        const __m256 live =
            _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(valid), lanes), lanes));
        __m256 err;
        if (!errors8(x, n, s, inv, qmin, qmax, live, best_error, &err)) continue; /* none can win */
        /* The scalar scan keeps the first candidate with the least error (strictly less than the
         * best so far, which starts at +inf): the first lane holding this chunk's minimum, if
         * that is below the best of earlier chunks. Invalid lanes count as +inf. */
        err = _mm256_blendv_ps(_mm256_set1_ps(__builtin_inff()), err, live);
        __m128 m4 = _mm_min_ps(_mm256_castps256_ps128(err), _mm256_extractf128_ps(err, 1));
        m4 = _mm_min_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_min_ss(m4, _mm_movehdup_ps(m4));
        const float least = _mm_cvtss_f32(m4);
        if (least < best_error) {
            best_error = least;
            best = s[__builtin_ctz(_mm256_movemask_ps(_mm256_cmp_ps(err, _mm256_set1_ps(least), _CMP_EQ_OQ)))];
        }
    }
    if (best == 0) {
        best = absmax / qmax;
        if (bf16_scales) best = bf16_to_float(bf16_from_float(best));
    }
    encode_avx2(x, n, 1 / best, qmin, qmax, q);
    return best;
}

static int use_avx2(void) { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }
#else
static float quant_group_avx2(const float *x, size_t n, float qmin, float qmax, qp_scale_search search, int bf16_scales,
                              int8_t *q) {
    return quant_group(x, n, qmin, qmax, search, bf16_scales, q);
}
static int use_avx2(void) { return 0; }
#endif

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

/* Row `row` read in place: an aligned F32 row without NaN or Inf needs no copy. NULL otherwise. */
QP_INLINE const float *plain_row(const qp_weight_source *src, size_t row) {
    if (src->encoding != QP_SOURCE_F32 || ((uintptr_t)src->data & 3) != 0) return NULL;
    const float *x = (const float *)src->data + row * src->cols;
    uint32_t bad = 0;
    for (size_t j = 0; j < src->cols; j++) {
        uint32_t b;
        memcpy(&b, &x[j], 4);
        bad |= (b & 0x7F800000u) == 0x7F800000u;
    }
    return bad ? NULL : x;
}

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
        const float *values = plain_row(src, row);
        if (!values) {
            const long bad = decode_row(src, row, s->row, search.zero_nonfinite);
            if (bad >= 0) return (int64_t)(row * k + (size_t)bad);
            values = s->row;
        }
        const int wide = use_avx2() && group % 8 == 0;
        /* The next row's bytes are fetched while this row computes (rows are contiguous). */
        const size_t width = src->encoding == QP_SOURCE_F32 ? 4 : 2;
        const char *ahead = (const char *)src->data + (row + 1 < src->rows ? row + 1 : row) * k * width;
        const size_t step = group * width;
        for (size_t b = 0; b < groups; b++) {
            for (size_t line = 0; line < step; line += 64) __builtin_prefetch(ahead + b * step + line);
            const float *x = values + b * group;
            int8_t *q = s->codes + r * k + b * group;
            s->scales[r * groups + b] = wide ? quant_group_avx2(x, group, qmin, qmax, search, bf16_scales, q)
                                             : quant_group(x, group, qmin, qmax, search, bf16_scales, q);
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
    float *row_sums = malloc(nr * sizeof(float)), *scale = malloc(nr * sizeof(float));
    int32_t *partials = malloc(nr * (bl / 32) * (16 / L) * sizeof(int32_t));
    if (!row_sums || !scale || !partials) {
        free(row_sums), free(scale), free(partials);
        scratch_free(&s);
        return -2;
    }
    int64_t result = -1;
    for (size_t g = panel_begin; g < panel_end; g++) {
        result = quant_panel(src, g, nr, bl, -8, 7, search, 1, &s);
        if (result >= 0) break;
        uint8_t *panel = out + g * stride;
        const size_t block_bytes = nr * (bl / 2 + 2), segments = 16 / L, per_block = bl / 32 * segments;
        for (size_t r = 0; r < nr; r++) row_sums[r] = 0;
        for (size_t b = 0; b < blocks; b++) {
            uint8_t *o = panel + b * block_bytes;
            for (size_t r = 0; r < nr; r++) {
                const uint16_t bits = bf16_from_float(s.scales[r * blocks + b]);
                scale[r] = bf16_to_float(bits);
                o[nr * bl / 2 + 2 * r] = (uint8_t)bits, o[nr * bl / 2 + 2 * r + 1] = (uint8_t)(bits >> 8);
                /* Row r's bytes of each 32-value chunk: its 16 nibble pairs (k low, k+16 high),
                 * stored as 16/L segments of L bytes at a stride of nr·L; and each segment's
                 * code sum. */
                for (size_t c = 0; c < bl / 32; c++) {
                    const int8_t *q = s.codes + r * k + b * bl + 32 * c;
                    uint8_t pairs[16];
                    int32_t sums[16];
                    for (int j = 0; j < 16; j++) {
                        pairs[j] = (uint8_t)((q[j] & 0x0F) | ((q[j + 16] & 0x0F) << 4));
                        sums[j] = q[j] + q[j + 16];
                    }
                    uint8_t *chunk = o + c * segments * nr * L + r * L;
                    int32_t *part = partials + c * segments * nr + r; /* [segment][row] */
                    switch (L) {
                    case 4:
                        for (size_t seg = 0; seg < 4; seg++) {
                            memcpy(chunk + seg * nr * 4, pairs + seg * 4, 4);
                            part[seg * nr] = sums[4 * seg] + sums[4 * seg + 1] + sums[4 * seg + 2] + sums[4 * seg + 3];
                        }
                        break;
                    case 8:
                        for (size_t seg = 0; seg < 2; seg++) {
                            memcpy(chunk + seg * nr * 8, pairs + seg * 8, 8);
                            int32_t t = 0;
                            for (int j = 0; j < 8; j++) t += sums[8 * seg + j];
                            part[seg * nr] = t;
                        }
                        break;
                    default:
                        for (size_t seg = 0; seg < segments; seg++) {
                            int32_t t = 0;
                            for (size_t j = 0; j < L; j++)
                                chunk[seg * nr * L + j] = pairs[seg * L + j], t += sums[seg * L + j];
                            part[seg * nr] = t;
                        }
                        break;
                    }
                }
            }
            /* Row sums: each segment's code sum times the block scale, added in storage order
             * as KleidiAI's scalar packer does (rows innermost: independent chains). */
            for (size_t t = 0; t < per_block; t++) {
                for (size_t r = 0; r < nr; r++) row_sums[r] = row_sums[r] + (float)partials[t * nr + r] * scale[r];
            }
        }
        uint8_t *tail = panel + blocks * nr * (bl / 2 + 2);
        for (size_t r = 0; r < nr; r++) {
            store_f32(tail + 4 * r, row_sums[r]);
            store_f32(tail + 4 * nr + 4 * r, 0.0f);
        }
    }
    free(row_sums), free(scale), free(partials);
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
                if ((seg + 1) * kr <= k) {
                    /* A whole group inside K (fixed sizes for the tiles in use: no call). */
                    if (kr == 4)
                        memcpy(o, q + seg * kr, 4);
                    else if (kr == 8)
                        memcpy(o, q + seg * kr, 8);
                    else
                        memcpy(o, q + seg * kr, kr);
                    o += kr;
                    continue;
                }
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
