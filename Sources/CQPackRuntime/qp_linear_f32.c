/* Float linear layers for tensors kept in float: y[m][n] = clamp(bias[n] + Σ_k x[m][k]·w[n][k]).
 * The bits are defined by the scalar code: four partial sums with fused multiply-adds (lane
 * l takes k = 4i + l), reduced as (s0 + s1) + (s2 + s3), then the K % 4 tail fused in order,
 * then the bias added. The NEON variants do exactly that with one vfmaq_f32 per 4 values. */
#include "qp_neon.h"
#include "qp_runtime.h"

#include <math.h>
#include <string.h>

float qp_f16_to_f32(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0)
            bits = sign;
        else {
            float v = (float)mant * 0x1p-24f; /* subnormal: exact */
            memcpy(&bits, &v, 4);
            bits |= sign;
        }
    } else if (exp == 0x1F) {
        bits = sign | 0x7F800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 112) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline float clampf(float v, float lo, float hi) { return fminf(fmaxf(v, lo), hi); }

static float dot_scalar_f32(const float *x, const float *w, size_t k) {
    float s[4] = {0, 0, 0, 0};
    size_t i = 0;
    for (; i + 4 <= k; i += 4)
        for (int l = 0; l < 4; l++) s[l] = fmaf(x[i + l], w[i + l], s[l]);
    float sum = (s[0] + s[1]) + (s[2] + s[3]);
    for (; i < k; i++) sum = fmaf(x[i], w[i], sum);
    return sum;
}

static float dot_scalar_f16(const float *x, const uint16_t *w, size_t k) {
    float s[4] = {0, 0, 0, 0};
    size_t i = 0;
    for (; i + 4 <= k; i += 4)
        for (int l = 0; l < 4; l++) s[l] = fmaf(x[i + l], qp_f16_to_f32(w[i + l]), s[l]);
    float sum = (s[0] + s[1]) + (s[2] + s[3]);
    for (; i < k; i++) sum = fmaf(x[i], qp_f16_to_f32(w[i]), sum);
    return sum;
}

void qp_linear_f32_scalar(size_t m, size_t n, size_t k, const float *x, const float *w, const float *bias, float *y,
                          float clamp_min, float clamp_max) {
    for (size_t r = 0; r < m; r++)
        for (size_t c = 0; c < n; c++)
            y[r * n + c] =
                clampf(dot_scalar_f32(x + r * k, w + c * k, k) + (bias ? bias[c] : 0.0f), clamp_min, clamp_max);
}

void qp_linear_f16_scalar(size_t m, size_t n, size_t k, const float *x, const uint16_t *w, const float *bias, float *y,
                          float clamp_min, float clamp_max) {
    for (size_t r = 0; r < m; r++)
        for (size_t c = 0; c < n; c++)
            y[r * n + c] =
                clampf(dot_scalar_f16(x + r * k, w + c * k, k) + (bias ? bias[c] : 0.0f), clamp_min, clamp_max);
}

#if defined(__x86_64__)
#include <immintrin.h>
/* x86 with FMA: the same four fused lanes with VFMADD (one rounding, as FMLA), so the bits equal
 * the scalar definition; SIMDe's per-lane fmaf fallback is exact but slow. */
__attribute__((target("avx2,fma"))) static float dot_fma_f32(const float *x, const float *w, size_t k) {
    __m128 acc = _mm_setzero_ps();
    size_t i = 0;
    for (; i + 4 <= k; i += 4) acc = _mm_fmadd_ps(_mm_loadu_ps(x + i), _mm_loadu_ps(w + i), acc);
    float l[4];
    _mm_storeu_ps(l, acc);
    float sum = (l[0] + l[1]) + (l[2] + l[3]);
    for (; i < k; i++) sum = fmaf(x[i], w[i], sum);
    return sum;
}

__attribute__((target("avx2,fma,f16c"))) static float dot_fma_f16(const float *x, const uint16_t *w, size_t k) {
    __m128 acc = _mm_setzero_ps();
    size_t i = 0;
    for (; i + 4 <= k; i += 4) {
        const __m128 wf = _mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)(w + i))); /* exact widening */
        acc = _mm_fmadd_ps(_mm_loadu_ps(x + i), wf, acc);
    }
    float l[4];
    _mm_storeu_ps(l, acc);
    float sum = (l[0] + l[1]) + (l[2] + l[3]);
    for (; i < k; i++) sum = fmaf(x[i], qp_f16_to_f32(w[i]), sum);
    return sum;
}

/* Eight columns at once: the same four-lane chain per column (so the same bits), two columns per
 * 256-bit register, four independent chains in flight instead of one latency-bound chain. */
__attribute__((target("avx2,fma"))) static void dot8_fma_f32(const float *x, const float *w, size_t k, float out[8]) {
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    size_t i = 0;
    for (; i + 4 <= k; i += 4) {
        const __m256 xv = _mm256_broadcast_ps((const __m128 *)(x + i));
        for (int j = 0; j < 4; j++) {
            const __m256 wv = _mm256_set_m128(_mm_loadu_ps(w + (2 * j + 1) * k + i), _mm_loadu_ps(w + 2 * j * k + i));
            acc[j] = _mm256_fmadd_ps(xv, wv, acc[j]);
        }
    }
    for (int j = 0; j < 4; j++) {
        float l[8];
        _mm256_storeu_ps(l, acc[j]);
        float a = (l[0] + l[1]) + (l[2] + l[3]), b = (l[4] + l[5]) + (l[6] + l[7]);
        for (size_t t = i; t < k; t++) {
            a = fmaf(x[t], w[2 * j * k + t], a);
            b = fmaf(x[t], w[(2 * j + 1) * k + t], b);
        }
        out[2 * j] = a;
        out[2 * j + 1] = b;
    }
}

__attribute__((target("avx2,fma,f16c"))) static void dot8_fma_f16(const float *x, const uint16_t *w, size_t k,
                                                                  float out[8]) {
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    size_t i = 0;
    for (; i + 4 <= k; i += 4) {
        const __m256 xv = _mm256_broadcast_ps((const __m128 *)(x + i));
        for (int j = 0; j < 4; j++) {
            const __m128i lo = _mm_loadl_epi64((const __m128i *)(w + 2 * j * k + i));
            const __m128i hi = _mm_loadl_epi64((const __m128i *)(w + (2 * j + 1) * k + i));
            const __m256 wv = _mm256_cvtph_ps(_mm_unpacklo_epi64(lo, hi)); /* exact widening */
            acc[j] = _mm256_fmadd_ps(xv, wv, acc[j]);
        }
    }
    for (int j = 0; j < 4; j++) {
        float l[8];
        _mm256_storeu_ps(l, acc[j]);
        float a = (l[0] + l[1]) + (l[2] + l[3]), b = (l[4] + l[5]) + (l[6] + l[7]);
        for (size_t t = i; t < k; t++) {
            a = fmaf(x[t], qp_f16_to_f32(w[2 * j * k + t]), a);
            b = fmaf(x[t], qp_f16_to_f32(w[(2 * j + 1) * k + t]), b);
        }
        out[2 * j] = a;
        out[2 * j + 1] = b;
    }
}

static int has_fma(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c") && __builtin_cpu_supports("avx2");
}
#endif

/* Weight rows per block of the loop over input rows (16 rows of K = 1536 floats: 96 KiB). */
#define QP_COLUMN_BLOCK 16

static inline float reduce4(float32x4_t a) {
    return (vgetq_lane_f32(a, 0) + vgetq_lane_f32(a, 1)) + (vgetq_lane_f32(a, 2) + vgetq_lane_f32(a, 3));
}

/* Four columns' dot products with one input row: each column keeps its own four fused lanes in
 * the scalar definition's order (lane l sums x[i+l]·w[i+l] for i = 0, 4, 8, ...), eight inputs per
 * iteration; the row is loaded once for the four columns. */
static void dot4_f32(const float *x, const float *w, size_t k, float out[4]) {
    const float *w0 = w, *w1 = w + k, *w2 = w + 2 * k, *w3 = w + 3 * k;
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 8 <= k; i += 8) {
        const float32x4_t x0 = vld1q_f32(x + i), x1 = vld1q_f32(x + i + 4);
        a0 = vfmaq_f32(vfmaq_f32(a0, x0, vld1q_f32(w0 + i)), x1, vld1q_f32(w0 + i + 4));
        a1 = vfmaq_f32(vfmaq_f32(a1, x0, vld1q_f32(w1 + i)), x1, vld1q_f32(w1 + i + 4));
        a2 = vfmaq_f32(vfmaq_f32(a2, x0, vld1q_f32(w2 + i)), x1, vld1q_f32(w2 + i + 4));
        a3 = vfmaq_f32(vfmaq_f32(a3, x0, vld1q_f32(w3 + i)), x1, vld1q_f32(w3 + i + 4));
    }
    for (; i + 4 <= k; i += 4) {
        const float32x4_t x0 = vld1q_f32(x + i);
        a0 = vfmaq_f32(a0, x0, vld1q_f32(w0 + i));
        a1 = vfmaq_f32(a1, x0, vld1q_f32(w1 + i));
        a2 = vfmaq_f32(a2, x0, vld1q_f32(w2 + i));
        a3 = vfmaq_f32(a3, x0, vld1q_f32(w3 + i));
    }
    float s0 = reduce4(a0), s1 = reduce4(a1), s2 = reduce4(a2), s3 = reduce4(a3);
    for (; i < k; i++) {
        s0 = fmaf(x[i], w0[i], s0);
        s1 = fmaf(x[i], w1[i], s1);
        s2 = fmaf(x[i], w2[i], s2);
        s3 = fmaf(x[i], w3[i], s3);
    }
    out[0] = s0, out[1] = s1, out[2] = s2, out[3] = s3;
}

/* binary16 weights: each eight are widened exactly (FCVTL, FCVTL2) and summed as dot4_f32 does. */
static void dot4_f16(const float *x, const uint16_t *w, size_t k, float out[4]) {
    const uint16_t *w0 = w, *w1 = w + k, *w2 = w + 2 * k, *w3 = w + 3 * k;
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
#define QP_WIDEN_LO(v) vcvt_f32_f16(vreinterpret_f16_u16(vget_low_u16(v)))
#if defined(__aarch64__)
#define QP_WIDEN_HI(v) vcvt_high_f32_f16(vreinterpretq_f16_u16(v)) /* FCVTL2: no lane move */
#else
#define QP_WIDEN_HI(v) vcvt_f32_f16(vreinterpret_f16_u16(vget_high_u16(v)))
#endif
    for (; i + 8 <= k; i += 8) {
        const float32x4_t x0 = vld1q_f32(x + i), x1 = vld1q_f32(x + i + 4);
        const uint16x8_t v0 = vld1q_u16(w0 + i), v1 = vld1q_u16(w1 + i), v2 = vld1q_u16(w2 + i), v3 = vld1q_u16(w3 + i);
        a0 = vfmaq_f32(vfmaq_f32(a0, x0, QP_WIDEN_LO(v0)), x1, QP_WIDEN_HI(v0));
        a1 = vfmaq_f32(vfmaq_f32(a1, x0, QP_WIDEN_LO(v1)), x1, QP_WIDEN_HI(v1));
        a2 = vfmaq_f32(vfmaq_f32(a2, x0, QP_WIDEN_LO(v2)), x1, QP_WIDEN_HI(v2));
        a3 = vfmaq_f32(vfmaq_f32(a3, x0, QP_WIDEN_LO(v3)), x1, QP_WIDEN_HI(v3));
    }
    for (; i + 4 <= k; i += 4) {
        const float32x4_t x0 = vld1q_f32(x + i);
        a0 = vfmaq_f32(a0, x0, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(w0 + i))));
        a1 = vfmaq_f32(a1, x0, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(w1 + i))));
        a2 = vfmaq_f32(a2, x0, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(w2 + i))));
        a3 = vfmaq_f32(a3, x0, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(w3 + i))));
    }
    float s0 = reduce4(a0), s1 = reduce4(a1), s2 = reduce4(a2), s3 = reduce4(a3);
    for (; i < k; i++) {
        s0 = fmaf(x[i], qp_f16_to_f32(w0[i]), s0);
        s1 = fmaf(x[i], qp_f16_to_f32(w1[i]), s1);
        s2 = fmaf(x[i], qp_f16_to_f32(w2[i]), s2);
        s3 = fmaf(x[i], qp_f16_to_f32(w3[i]), s3);
    }
    out[0] = s0, out[1] = s1, out[2] = s2, out[3] = s3;
}

/* Eight columns at once (the output head's 49152 rows): the input row loaded once per eight
 * inputs for all of them; each column's lanes as in dot4_f16. The K tail (k % 8) goes to dot4_f16's
 * order through the same steps. */
static void dot8_f16(const float *x, const uint16_t *w, size_t k, float out[8]) {
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    size_t i = 0;
#define QP_COLUMN8(acc, j)                                                       \
    do {                                                                         \
        const uint16x8_t v = vld1q_u16(w + (j)*k + i);                           \
        acc = vfmaq_f32(vfmaq_f32(acc, x0, QP_WIDEN_LO(v)), x1, QP_WIDEN_HI(v)); \
    } while (0)
    for (; i + 8 <= k; i += 8) {
        const float32x4_t x0 = vld1q_f32(x + i), x1 = vld1q_f32(x + i + 4);
        QP_COLUMN8(a0, 0);
        QP_COLUMN8(a1, 1);
        QP_COLUMN8(a2, 2);
        QP_COLUMN8(a3, 3);
        QP_COLUMN8(a4, 4);
        QP_COLUMN8(a5, 5);
        QP_COLUMN8(a6, 6);
        QP_COLUMN8(a7, 7);
    }
#undef QP_COLUMN8
    float32x4_t a[8] = {a0, a1, a2, a3, a4, a5, a6, a7};
    for (; i + 4 <= k; i += 4) {
        const float32x4_t x0 = vld1q_f32(x + i);
        for (int j = 0; j < 8; j++)
            a[j] = vfmaq_f32(a[j], x0, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(w + j * k + i))));
    }
    for (int j = 0; j < 8; j++) {
        float sum = reduce4(a[j]);
        for (size_t t = i; t < k; t++) sum = fmaf(x[t], qp_f16_to_f32(w[j * k + t]), sum);
        out[j] = sum;
    }
}

void qp_linear_f32_neon(size_t m, size_t n, size_t k, const float *x, const float *w, const float *bias, float *y,
                        float clamp_min, float clamp_max) {
#if defined(__x86_64__)
    if (has_fma()) {
        /* Column blocks outermost: a block of weight rows stays in cache while every input row
         * passes over it, instead of streaming all weights once per row. Each output is the same
         * dot product either way, so the bits do not change. */
        for (size_t c0 = 0; c0 < n; c0 += QP_COLUMN_BLOCK)
            for (size_t r = 0; r < m; r++) {
                size_t c = c0;
                for (; c + 8 <= n && c + 8 <= c0 + QP_COLUMN_BLOCK; c += 8) {
                    float d[8];
                    dot8_fma_f32(x + r * k, w + c * k, k, d);
                    for (int j = 0; j < 8; j++)
                        y[r * n + c + j] = clampf(d[j] + (bias ? bias[c + j] : 0.0f), clamp_min, clamp_max);
                }
                for (; c < n && c < c0 + QP_COLUMN_BLOCK; c++)
                    y[r * n + c] =
                        clampf(dot_fma_f32(x + r * k, w + c * k, k) + (bias ? bias[c] : 0.0f), clamp_min, clamp_max);
            }
        return;
    }
#endif
    for (size_t c0 = 0; c0 < n; c0 += QP_COLUMN_BLOCK)
        for (size_t r = 0; r < m; r++) {
            const float *xr = x + r * k;
            size_t c = c0;
            for (; c + 4 <= n && c + 4 <= c0 + QP_COLUMN_BLOCK; c += 4) {
                float d[4];
                dot4_f32(xr, w + c * k, k, d);
                for (int j = 0; j < 4; j++)
                    y[r * n + c + j] = clampf(d[j] + (bias ? bias[c + j] : 0.0f), clamp_min, clamp_max);
            }
            for (; c < n && c < c0 + QP_COLUMN_BLOCK; c++) {
                const float *wc = w + c * k;
                float32x4_t acc = vdupq_n_f32(0.0f);
                size_t i = 0;
                for (; i + 4 <= k; i += 4) acc = vfmaq_f32(acc, vld1q_f32(xr + i), vld1q_f32(wc + i));
                float sum = reduce4(acc);
                for (; i < k; i++) sum = fmaf(xr[i], wc[i], sum);
                y[r * n + c] = clampf(sum + (bias ? bias[c] : 0.0f), clamp_min, clamp_max);
            }
        }
}

void qp_linear_f16_neon(size_t m, size_t n, size_t k, const float *x, const uint16_t *w, const float *bias, float *y,
                        float clamp_min, float clamp_max) {
#if defined(__x86_64__)
    if (has_fma()) {
        for (size_t c0 = 0; c0 < n; c0 += QP_COLUMN_BLOCK)
            for (size_t r = 0; r < m; r++) {
                size_t c = c0;
                for (; c + 8 <= n && c + 8 <= c0 + QP_COLUMN_BLOCK; c += 8) {
                    float d[8];
                    dot8_fma_f16(x + r * k, w + c * k, k, d);
                    for (int j = 0; j < 8; j++)
                        y[r * n + c + j] = clampf(d[j] + (bias ? bias[c + j] : 0.0f), clamp_min, clamp_max);
                }
                for (; c < n && c < c0 + QP_COLUMN_BLOCK; c++)
                    y[r * n + c] =
                        clampf(dot_fma_f16(x + r * k, w + c * k, k) + (bias ? bias[c] : 0.0f), clamp_min, clamp_max);
            }
        return;
    }
#endif
    for (size_t c0 = 0; c0 < n; c0 += QP_COLUMN_BLOCK)
        for (size_t r = 0; r < m; r++) {
            const float *xr = x + r * k;
            size_t c = c0;
            for (; c + 8 <= n && c + 8 <= c0 + QP_COLUMN_BLOCK; c += 8) {
                float d[8];
                dot8_f16(xr, w + c * k, k, d);
                for (int j = 0; j < 8; j++)
                    y[r * n + c + j] = clampf(d[j] + (bias ? bias[c + j] : 0.0f), clamp_min, clamp_max);
            }
            for (; c + 4 <= n && c + 4 <= c0 + QP_COLUMN_BLOCK; c += 4) {
                float d[4];
                dot4_f16(xr, w + c * k, k, d);
                for (int j = 0; j < 4; j++)
                    y[r * n + c + j] = clampf(d[j] + (bias ? bias[c + j] : 0.0f), clamp_min, clamp_max);
            }
            for (; c < n && c < c0 + QP_COLUMN_BLOCK; c++) {
                const uint16_t *wc = w + c * k;
                float32x4_t acc = vdupq_n_f32(0.0f);
                size_t i = 0;
                for (; i + 4 <= k; i += 4) {
                    /* Widen binary16 to binary32 exactly (vcvt_f32_f16 on Arm). */
                    const float32x4_t wf = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(wc + i)));
                    acc = vfmaq_f32(acc, vld1q_f32(xr + i), wf);
                }
                float sum = reduce4(acc);
                for (; i < k; i++) sum = fmaf(xr[i], qp_f16_to_f32(wc[i]), sum);
                y[r * n + c] = clampf(sum + (bias ? bias[c] : 0.0f), clamp_min, clamp_max);
            }
        }
}
