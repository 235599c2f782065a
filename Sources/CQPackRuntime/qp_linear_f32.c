/* Float linear layers for tensors kept in float: y[m][n] = clamp(bias[n] + Σ_k x[m][k]·w[n][k]).
 * The bits are defined by the scalar code: four partial sums with fused multiply-adds (lane
 * l takes k = 4i + l), reduced as (s0 + s1) + (s2 + s3), then the K % 4 tail fused in order,
 * then the bias added. The NEON variants do exactly that with one vfmaq_f32 per 4 values. */
#include "qp_neon.h"
#include "qp_runtime.h"

#include <math.h>
#include <stdlib.h>
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
    const size_t share = qp_prefetch_share(8 * k * sizeof(float), k / 4);
    size_t i = 0;
    for (; i + 4 <= k; i += 4) {
        qp_prefetch_step(w + 8 * k, share, i / 4); /* the next eight columns */
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
    /* Eight inputs per pass: one 16-byte load per column, its halves paired with the partner
     * column's (VPUNPCKLQDQ/VPUNPCKHQDQ), each lane still adding in order of k. */
    const size_t share = qp_prefetch_share(8 * k * sizeof(uint16_t), k / 8);
    for (; i + 8 <= k; i += 8) {
        qp_prefetch_step(w + 8 * k, share, i / 8); /* the next eight columns */
        const __m256 x0 = _mm256_broadcast_ps((const __m128 *)(x + i)),
                     x1 = _mm256_broadcast_ps((const __m128 *)(x + i + 4));
        for (int j = 0; j < 4; j++) {
            const uint16_t *a = w + 2 * j * k + i, *b = w + (2 * j + 1) * k + i;
            const __m128i va = _mm_loadu_si128((const __m128i *)a), vb = _mm_loadu_si128((const __m128i *)b);
            acc[j] = _mm256_fmadd_ps(x0, _mm256_cvtph_ps(_mm_unpacklo_epi64(va, vb)), acc[j]);
            acc[j] = _mm256_fmadd_ps(x1, _mm256_cvtph_ps(_mm_unpackhi_epi64(va, vb)), acc[j]);
        }
    }
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

#if defined(__x86_64__)
/* The x86 FMA linear for one weight type: column blocks outermost, so a block of weight rows stays
 * in cache while every input row passes over it instead of streaming all weights once per row;
 * each output is the same dot product either way (the same bits). */
#define QP_LINEAR_FMA(name, weight, dot8, dot1)                                                                  \
    static void name(size_t m, size_t n, size_t k, const float *x, const weight *w, const float *bias, float *y, \
                     float clamp_min, float clamp_max) {                                                         \
        for (size_t c0 = 0; c0 < n; c0 += QP_COLUMN_BLOCK)                                                       \
            for (size_t r = 0; r < m; r++) {                                                                     \
                size_t c = c0;                                                                                   \
                for (; c + 8 <= n && c + 8 <= c0 + QP_COLUMN_BLOCK; c += 8) {                                    \
                    float d[8];                                                                                  \
                    dot8(x + r * k, w + c * k, k, d);                                                            \
                    for (int j = 0; j < 8; j++)                                                                  \
                        y[r * n + c + j] = clampf(d[j] + (bias ? bias[c + j] : 0.0f), clamp_min, clamp_max);     \
                }                                                                                                \
                for (; c < n && c < c0 + QP_COLUMN_BLOCK; c++)                                                   \
                    y[r * n + c] =                                                                               \
                        clampf(dot1(x + r * k, w + c * k, k) + (bias ? bias[c] : 0.0f), clamp_min, clamp_max);   \
            }                                                                                                    \
    }
QP_LINEAR_FMA(linear_fma_f32, float, dot8_fma_f32, dot_fma_f32)
QP_LINEAR_FMA(linear_fma_f16, uint16_t, dot8_fma_f16, dot_fma_f16)
#undef QP_LINEAR_FMA
#endif

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
static inline __attribute__((always_inline)) void dot4_f16(const float *x, const uint16_t *w, size_t k, float out[4]) {
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
static inline __attribute__((always_inline)) void dot8_f16(const float *x, const uint16_t *w, size_t k, float out[8]) {
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    size_t i = 0;
#define QP_COLUMN8(acc, j)                                                       \
    do {                                                                         \
        const uint16x8_t v = vld1q_u16(w + (j)*k + i);                           \
        acc = vfmaq_f32(vfmaq_f32(acc, x0, QP_WIDEN_LO(v)), x1, QP_WIDEN_HI(v)); \
    } while (0)
    /* Sixteen inputs per pass: each column's weights come in one 32-byte load (LDP). */
#define QP_COLUMN16(acc, j)                                                              \
    do {                                                                                 \
        const uint16x8_t v = vld1q_u16(w + (j)*k + i), u = vld1q_u16(w + (j)*k + i + 8); \
        acc = vfmaq_f32(vfmaq_f32(acc, x0, QP_WIDEN_LO(v)), x1, QP_WIDEN_HI(v));         \
        acc = vfmaq_f32(vfmaq_f32(acc, x2, QP_WIDEN_LO(u)), x3, QP_WIDEN_HI(u));         \
    } while (0)
#if defined(__aarch64__)
    /* The same steps in assembly: GCC addresses the eight columns base + index, which LDP cannot
     * (two LDR each); here each column pointer post-increments. Two columns at a time (12 scratch
     * vectors), each accumulator's four products in order of k. Two statements per pass: an asm
     * takes at most 30 operands. */
    {
        const uint16_t *p0 = w, *p1 = w + k, *p2 = w + 2 * k, *p3 = w + 3 * k, *p4 = w + 4 * k, *p5 = w + 5 * k,
                       *p6 = w + 6 * k, *p7 = w + 7 * k;
        const float *px = x;
#define QP_PAIR16(a, b, pa, pb)              \
    "ldp q20, q21, [%[" pa "]], #32\n\t"     \
    "ldp q26, q27, [%[" pb "]], #32\n\t"     \
    "fcvtl v22.4s, v20.4h\n\t"               \
    "fcvtl v28.4s, v26.4h\n\t"               \
    "fcvtl2 v23.4s, v20.8h\n\t"              \
    "fcvtl2 v29.4s, v26.8h\n\t"              \
    "fcvtl v24.4s, v21.4h\n\t"               \
    "fcvtl v30.4s, v27.4h\n\t"               \
    "fcvtl2 v25.4s, v21.8h\n\t"              \
    "fcvtl2 v31.4s, v27.8h\n\t"              \
    "fmla %[" a "].4s, %[x0].4s, v22.4s\n\t" \
    "fmla %[" b "].4s, %[x0].4s, v28.4s\n\t" \
    "fmla %[" a "].4s, %[x1].4s, v23.4s\n\t" \
    "fmla %[" b "].4s, %[x1].4s, v29.4s\n\t" \
    "fmla %[" a "].4s, %[x2].4s, v24.4s\n\t" \
    "fmla %[" b "].4s, %[x2].4s, v30.4s\n\t" \
    "fmla %[" a "].4s, %[x3].4s, v25.4s\n\t" \
    "fmla %[" b "].4s, %[x3].4s, v31.4s\n\t"
        for (; i + 16 <= k; i += 16) {
            float32x4_t x0, x1, x2, x3;
            __asm__("ldp %q[x0], %q[x1], [%[px]], #32\n\t"
                    "ldp %q[x2], %q[x3], [%[px]], #32\n\t" QP_PAIR16("a0", "a1", "p0", "p1")
                        QP_PAIR16("a2", "a3", "p2", "p3")
                    : [a0] "+w"(a0), [a1] "+w"(a1), [a2] "+w"(a2), [a3] "+w"(a3), [p0] "+r"(p0), [p1] "+r"(p1),
                      [p2] "+r"(p2), [p3] "+r"(p3), [px] "+r"(px), [x0] "=&w"(x0), [x1] "=&w"(x1), [x2] "=&w"(x2),
                      [x3] "=&w"(x3)
                    :
                    : "v20", "v21", "v22", "v23", "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31", "memory");
            __asm__(QP_PAIR16("a4", "a5", "p4", "p5") QP_PAIR16("a6", "a7", "p6", "p7")
                    : [a4] "+w"(a4), [a5] "+w"(a5), [a6] "+w"(a6), [a7] "+w"(a7), [p4] "+r"(p4), [p5] "+r"(p5),
                      [p6] "+r"(p6), [p7] "+r"(p7)
                    : [x0] "w"(x0), [x1] "w"(x1), [x2] "w"(x2), [x3] "w"(x3)
                    : "v20", "v21", "v22", "v23", "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31", "memory");
        }
#undef QP_PAIR16
    }
#else
    for (; i + 16 <= k; i += 16) {
        const float32x4_t x0 = vld1q_f32(x + i), x1 = vld1q_f32(x + i + 4), x2 = vld1q_f32(x + i + 8),
                          x3 = vld1q_f32(x + i + 12);
        QP_COLUMN16(a0, 0);
        QP_COLUMN16(a1, 1);
        QP_COLUMN16(a2, 2);
        QP_COLUMN16(a3, 3);
        QP_COLUMN16(a4, 4);
        QP_COLUMN16(a5, 5);
        QP_COLUMN16(a6, 6);
        QP_COLUMN16(a7, 7);
    }
#endif
#undef QP_COLUMN16
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
    if (i == k) { /* no tail: the lanes' (l0 + l1) + (l2 + l3) of four columns by two FADDP steps */
        vst1q_f32(out, vpaddq_f32(vpaddq_f32(a0, a1), vpaddq_f32(a2, a3)));
        vst1q_f32(out + 4, vpaddq_f32(vpaddq_f32(a4, a5), vpaddq_f32(a6, a7)));
        return;
    }
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

/* Prompts: four columns' weights widened once into a float panel that every group of four
 * input rows then reads: per eight inputs, column 0's eight floats, column 1's, 2's, 3's. */
static void widen_panel4(const uint16_t *w, size_t k, float *panel) {
    const uint16_t *w0 = w, *w1 = w + k, *w2 = w + 2 * k, *w3 = w + 3 * k;
    for (size_t i = 0; i + 8 <= k; i += 8, w0 += 8, w1 += 8, w2 += 8, w3 += 8, panel += 32) {
        const uint16x8_t v0 = vld1q_u16(w0), v1 = vld1q_u16(w1), v2 = vld1q_u16(w2), v3 = vld1q_u16(w3);
        vst1q_f32(panel, QP_WIDEN_LO(v0));
        vst1q_f32(panel + 4, QP_WIDEN_HI(v0));
        vst1q_f32(panel + 8, QP_WIDEN_LO(v1));
        vst1q_f32(panel + 12, QP_WIDEN_HI(v1));
        vst1q_f32(panel + 16, QP_WIDEN_LO(v2));
        vst1q_f32(panel + 20, QP_WIDEN_HI(v2));
        vst1q_f32(panel + 24, QP_WIDEN_LO(v3));
        vst1q_f32(panel + 28, QP_WIDEN_HI(v3));
    }
}

/* Four input rows by the panel's four columns over `steps` groups of eight inputs: acc[4r + c]
 * adds x_r[i .. i+3]·w_c[i .. i+3] and then x_r[i+4 .. i+7]·w_c[i+4 .. i+7] for i = 0, 8, ...,
 * the lane steps of dot4_f16, so the bits are those of the one-row path. */
static void tile4x4_panel(const float *x, size_t x_stride, const float *panel, size_t steps, float32x4_t acc[16]) {
#if defined(__aarch64__)
    /* In assembly with every vector register named: sixteen accumulators, a row's eight inputs for
     * each of four rows, a column's eight weights for each of four columns (v0-v15, v16-v23,
     * v24-v31); GCC 12 at -O2 spilled or moved registers on this loop. 40 instructions per 128
     * multiply-adds. */
    const float *x0 = x, *x1 = x + x_stride, *x2 = x + 2 * x_stride, *x3 = x + 3 * x_stride;
    float32x4_t *out = acc;
#define QP_FMLA_ROW(a0, a1, a2, a3, xv, w0, w1, w2, w3) \
    "fmla v" #a0 ".4s, v" #xv ".4s, v" #w0 ".4s\n\t"    \
    "fmla v" #a1 ".4s, v" #xv ".4s, v" #w1 ".4s\n\t"    \
    "fmla v" #a2 ".4s, v" #xv ".4s, v" #w2 ".4s\n\t"    \
    "fmla v" #a3 ".4s, v" #xv ".4s, v" #w3 ".4s\n\t"
    __asm__ volatile("movi v0.16b, #0\n\tmovi v1.16b, #0\n\tmovi v2.16b, #0\n\tmovi v3.16b, #0\n\t"
                     "movi v4.16b, #0\n\tmovi v5.16b, #0\n\tmovi v6.16b, #0\n\tmovi v7.16b, #0\n\t"
                     "movi v8.16b, #0\n\tmovi v9.16b, #0\n\tmovi v10.16b, #0\n\tmovi v11.16b, #0\n\t"
                     "movi v12.16b, #0\n\tmovi v13.16b, #0\n\tmovi v14.16b, #0\n\tmovi v15.16b, #0\n\t"
                     "cbz %[steps], 2f\n"
                     "1:\n\t"
                     "ldp q16, q17, [%[x0]], #32\n\t"
                     "ldp q18, q19, [%[x1]], #32\n\t"
                     "ldp q20, q21, [%[x2]], #32\n\t"
                     "ldp q22, q23, [%[x3]], #32\n\t"
                     "ld1 {v24.4s, v25.4s, v26.4s, v27.4s}, [%[w]], #64\n\t"
                     "ld1 {v28.4s, v29.4s, v30.4s, v31.4s}, [%[w]], #64\n\t"
                     /* low halves (inputs i .. i+3), then high halves (i+4 .. i+7) */
                     QP_FMLA_ROW(0, 1, 2, 3, 16, 24, 26, 28, 30) QP_FMLA_ROW(4, 5, 6, 7, 18, 24, 26, 28, 30)
                         QP_FMLA_ROW(8, 9, 10, 11, 20, 24, 26, 28, 30) QP_FMLA_ROW(12, 13, 14, 15, 22, 24, 26, 28, 30)
                             QP_FMLA_ROW(0, 1, 2, 3, 17, 25, 27, 29, 31) QP_FMLA_ROW(4, 5, 6, 7, 19, 25, 27, 29, 31)
                                 QP_FMLA_ROW(8, 9, 10, 11, 21, 25, 27, 29, 31)
                                     QP_FMLA_ROW(12, 13, 14, 15, 23, 25, 27, 29,
                                                 31) "subs %[steps], %[steps], #1\n\t"
                                                     "b.ne 1b\n"
                                                     "2:\n\t"
                                                     "st1 {v0.4s, v1.4s, v2.4s, v3.4s}, [%[out]], #64\n\t"
                                                     "st1 {v4.4s, v5.4s, v6.4s, v7.4s}, [%[out]], #64\n\t"
                                                     "st1 {v8.4s, v9.4s, v10.4s, v11.4s}, [%[out]], #64\n\t"
                                                     "st1 {v12.4s, v13.4s, v14.4s, v15.4s}, [%[out]], #64\n\t"
                     : [x0] "+r"(x0), [x1] "+r"(x1), [x2] "+r"(x2), [x3] "+r"(x3), [w] "+r"(panel), [steps] "+r"(steps),
                       [out] "+r"(out)
                     :
                     : "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12", "v13", "v14",
                       "v15", "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v24", "v25", "v26", "v27", "v28",
                       "v29", "v30", "v31", "cc", "memory");
#undef QP_FMLA_ROW
#else
    for (int j = 0; j < 16; j++) acc[j] = vdupq_n_f32(0.0f);
    for (size_t s = 0; s < steps; s++, panel += 32)
        for (int half = 0; half < 2; half++)
            for (int r = 0; r < 4; r++) {
                const float32x4_t xv = vld1q_f32(x + r * x_stride + 8 * s + 4 * half);
                for (int c = 0; c < 4; c++)
                    acc[4 * r + c] = vfmaq_f32(acc[4 * r + c], xv, vld1q_f32(panel + 8 * c + 4 * half));
            }
#endif
}

/* Four rows by four columns into y (row stride n): the panel's groups of eight, then a group of
 * four and the inputs left one at a time from the binary16 weights, as dot4_f16 takes them; then
 * the bias and the clamp. */
static void tile4x4_f16(const float *x, size_t x_stride, const uint16_t *w, const float *panel, size_t k,
                        const float *bias, float *y, size_t n, float clamp_min, float clamp_max) {
    float32x4_t acc[16];
    tile4x4_panel(x, x_stride, panel, k / 8, acc);
    size_t i = k / 8 * 8;
    if (i + 4 <= k) {
        for (int c = 0; c < 4; c++) {
            const float32x4_t f = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(w + c * k + i)));
            for (int r = 0; r < 4; r++) acc[4 * r + c] = vfmaq_f32(acc[4 * r + c], vld1q_f32(x + r * x_stride + i), f);
        }
        i += 4;
    }
    if (i == k) { /* no tail: (l0 + l1) + (l2 + l3) of four columns by two FADDP steps; clampf's steps on lanes */
        const float32x4_t b = bias ? vld1q_f32(bias) : vdupq_n_f32(0.0f);
        const float32x4_t lo = vdupq_n_f32(clamp_min), hi = vdupq_n_f32(clamp_max);
        for (int r = 0; r < 4; r++) {
            const float32x4_t *a = acc + 4 * r;
            const float32x4_t sum = vpaddq_f32(vpaddq_f32(a[0], a[1]), vpaddq_f32(a[2], a[3]));
            vst1q_f32(y + r * n, vminnmq_f32(vmaxnmq_f32(vaddq_f32(sum, b), lo), hi));
        }
        return;
    }
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++) {
            float sum = reduce4(acc[4 * r + c]);
            for (size_t t = i; t < k; t++) sum = fmaf(x[r * x_stride + t], qp_f16_to_f32(w[c * k + t]), sum);
            y[r * n + c] = clampf(sum + (bias ? bias[c] : 0.0f), clamp_min, clamp_max);
        }
}

void qp_linear_f32_neon(size_t m, size_t n, size_t k, const float *x, const float *w, const float *bias, float *y,
                        float clamp_min, float clamp_max) {
#if defined(__x86_64__)
    if (has_fma()) {
        linear_fma_f32(m, n, k, x, w, bias, y, clamp_min, clamp_max);
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

/* One input row against the columns c .. the end of the column block that starts at c0: eight,
 * then four, then one at a time (the same lane steps for every output). */
static inline __attribute__((always_inline)) void f16_row_columns(const float *xr, const uint16_t *w, const float *bias,
                                                                  float *yr, size_t k, size_t n, size_t c, size_t c0,
                                                                  float clamp_min, float clamp_max) {
    const float32x4_t lo = vdupq_n_f32(clamp_min), hi = vdupq_n_f32(clamp_max);
    for (; c + 8 <= n && c + 8 <= c0 + QP_COLUMN_BLOCK; c += 8) {
        float d[8];
        dot8_f16(xr, w + c * k, k, d);
        /* clampf's steps on four lanes (FMAXNM, FMINNM); no bias adds +0.0 as clampf's callers do. */
        for (int j = 0; j < 8; j += 4) {
            const float32x4_t b = bias ? vld1q_f32(bias + c + j) : vdupq_n_f32(0.0f);
            vst1q_f32(yr + c + j, vminnmq_f32(vmaxnmq_f32(vaddq_f32(vld1q_f32(d + j), b), lo), hi));
        }
    }
    for (; c + 4 <= n && c + 4 <= c0 + QP_COLUMN_BLOCK; c += 4) {
        float d[4];
        dot4_f16(xr, w + c * k, k, d);
        for (int j = 0; j < 4; j++) yr[c + j] = clampf(d[j] + (bias ? bias[c + j] : 0.0f), clamp_min, clamp_max);
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
        yr[c] = clampf(sum + (bias ? bias[c] : 0.0f), clamp_min, clamp_max);
    }
}

void qp_linear_f16_neon(size_t m, size_t n, size_t k, const float *x, const uint16_t *w, const float *bias, float *y,
                        float clamp_min, float clamp_max) {
#if defined(__x86_64__)
    if (has_fma()) {
        linear_fma_f16(m, n, k, x, w, bias, y, clamp_min, clamp_max);
        return;
    }
#endif
    /* Groups of four rows (prompts) against each four columns' widened panel; the rows left and
     * the columns left (or all, if the panel cannot be had) one row at a time. */
    float *panel = m >= 4 && k >= 8 ? malloc(k / 8 * 32 * sizeof(float)) : NULL;
    const size_t m4 = panel ? m / 4 * 4 : 0, n4 = n / 4 * 4;
    if (panel) {
        for (size_t c = 0; c < n4; c += 4) {
            widen_panel4(w + c * k, k, panel);
            for (size_t r = 0; r < m4; r += 4)
                tile4x4_f16(x + r * k, k, w + c * k, panel, k, bias ? bias + c : NULL, y + r * n + c, n, clamp_min,
                            clamp_max);
        }
        free(panel);
        if (n4 < n)
            for (size_t r = 0; r < m4; r++)
                f16_row_columns(x + r * k, w, bias, y + r * n, k, n, n4, n4, clamp_min, clamp_max);
    }
    for (size_t c0 = 0; c0 < n; c0 += QP_COLUMN_BLOCK)
        for (size_t r = m4; r < m; r++)
            f16_row_columns(x + r * k, w, bias, y + r * n, k, n, c0, c0, clamp_min, clamp_max);
}
