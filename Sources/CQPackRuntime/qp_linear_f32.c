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
    /* Eight inputs per pass: one 16-byte load per column, its halves paired with the partner
     * column's (VPUNPCKLQDQ/VPUNPCKHQDQ), each lane still adding in order of k. */
    for (; i + 8 <= k; i += 8) {
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

/* Four input rows by four columns (prompts): each group of eight weights is widened once and
 * serves the four rows. Every output takes the same lane steps as dot4_f16 (lane l adds
 * x[4i + l]·w[4i + l] in order of i), so the bits are those of the one-row path. Named
 * accumulators, not arrays: at -O2 an array of vectors lives on the stack. */
static void tile4x4_f16(const float *x, size_t x_stride, const uint16_t *w, size_t k, float out[4][4]) {
    const float *x0p = x, *x1p = x + x_stride, *x2p = x + 2 * x_stride, *x3p = x + 3 * x_stride;
    const uint16_t *w0 = w, *w1 = w + k, *w2 = w + 2 * k, *w3 = w + 3 * k;
    float32x4_t a00 = vdupq_n_f32(0.0f), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00,
                a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
    size_t i = 0;
/* One row's four accumulators take four widened weights (the low or the high halves); the low
 * halves go first for every row, so each accumulator still adds lanes in order of k. */
#define QP_ROW4(xp, off, b0, b1, b2, b3)                    \
    do {                                                    \
        const float32x4_t xv = vld1q_f32((xp) + i + (off)); \
        b0 = vfmaq_f32(b0, xv, f0);                         \
        b1 = vfmaq_f32(b1, xv, f1);                         \
        b2 = vfmaq_f32(b2, xv, f2);                         \
        b3 = vfmaq_f32(b3, xv, f3);                         \
    } while (0)
#if defined(__aarch64__)
    /* The same steps in assembly: GCC 12 at -O2 spent ten to seventeen register moves per
     * iteration on this loop's 26 live vectors. Every accumulator still takes its low halves'
     * product, then its high halves', in order of k. (Three statements: an asm takes at most
     * 30 operands.) */
    {
        const uint16_t *pw0 = w0, *pw1 = w1, *pw2 = w2, *pw3 = w3;
        const float *px0 = x0p, *px1 = x1p, *px2 = x2p, *px3 = x3p;
        for (; i + 8 <= k; i += 8) {
            float32x4_t l0, l1, l2, l3, h0, h1, h2, h3;
            __asm__("ldr %q[h0], [%[w0]], #16\n\t"
                    "ldr %q[h1], [%[w1]], #16\n\t"
                    "ldr %q[h2], [%[w2]], #16\n\t"
                    "ldr %q[h3], [%[w3]], #16\n\t"
                    "fcvtl %[l0].4s, %[h0].4h\n\t"
                    "fcvtl %[l1].4s, %[h1].4h\n\t"
                    "fcvtl %[l2].4s, %[h2].4h\n\t"
                    "fcvtl %[l3].4s, %[h3].4h\n\t"
                    "fcvtl2 %[h0].4s, %[h0].8h\n\t"
                    "fcvtl2 %[h1].4s, %[h1].8h\n\t"
                    "fcvtl2 %[h2].4s, %[h2].8h\n\t"
                    "fcvtl2 %[h3].4s, %[h3].8h\n\t"
                    : [l0] "=w"(l0), [l1] "=w"(l1), [l2] "=w"(l2), [l3] "=w"(l3), [h0] "=&w"(h0), [h1] "=&w"(h1),
                      [h2] "=&w"(h2), [h3] "=&w"(h3), [w0] "+r"(pw0), [w1] "+r"(pw1), [w2] "+r"(pw2), [w3] "+r"(pw3)
                    :
                    : "memory");
            __asm__("ldr q24, [%[x0]], #16\n\t"
                    "fmla %[a00].4s, v24.4s, %[l0].4s\n\t"
                    "fmla %[a01].4s, v24.4s, %[l1].4s\n\t"
                    "fmla %[a02].4s, v24.4s, %[l2].4s\n\t"
                    "fmla %[a03].4s, v24.4s, %[l3].4s\n\t"
                    "ldr q24, [%[x1]], #16\n\t"
                    "fmla %[a10].4s, v24.4s, %[l0].4s\n\t"
                    "fmla %[a11].4s, v24.4s, %[l1].4s\n\t"
                    "fmla %[a12].4s, v24.4s, %[l2].4s\n\t"
                    "fmla %[a13].4s, v24.4s, %[l3].4s\n\t"
                    "ldr q24, [%[x0]], #16\n\t"
                    "fmla %[a00].4s, v24.4s, %[h0].4s\n\t"
                    "fmla %[a01].4s, v24.4s, %[h1].4s\n\t"
                    "fmla %[a02].4s, v24.4s, %[h2].4s\n\t"
                    "fmla %[a03].4s, v24.4s, %[h3].4s\n\t"
                    "ldr q24, [%[x1]], #16\n\t"
                    "fmla %[a10].4s, v24.4s, %[h0].4s\n\t"
                    "fmla %[a11].4s, v24.4s, %[h1].4s\n\t"
                    "fmla %[a12].4s, v24.4s, %[h2].4s\n\t"
                    "fmla %[a13].4s, v24.4s, %[h3].4s\n\t"
                    : [a00] "+w"(a00), [a01] "+w"(a01), [a02] "+w"(a02), [a03] "+w"(a03), [a10] "+w"(a10),
                      [a11] "+w"(a11), [a12] "+w"(a12), [a13] "+w"(a13), [x0] "+r"(px0), [x1] "+r"(px1)
                    : [l0] "w"(l0), [l1] "w"(l1), [l2] "w"(l2), [l3] "w"(l3), [h0] "w"(h0), [h1] "w"(h1), [h2] "w"(h2),
                      [h3] "w"(h3)
                    : "v24", "memory");
            __asm__("ldr q24, [%[x2]], #16\n\t"
                    "fmla %[a20].4s, v24.4s, %[l0].4s\n\t"
                    "fmla %[a21].4s, v24.4s, %[l1].4s\n\t"
                    "fmla %[a22].4s, v24.4s, %[l2].4s\n\t"
                    "fmla %[a23].4s, v24.4s, %[l3].4s\n\t"
                    "ldr q24, [%[x3]], #16\n\t"
                    "fmla %[a30].4s, v24.4s, %[l0].4s\n\t"
                    "fmla %[a31].4s, v24.4s, %[l1].4s\n\t"
                    "fmla %[a32].4s, v24.4s, %[l2].4s\n\t"
                    "fmla %[a33].4s, v24.4s, %[l3].4s\n\t"
                    "ldr q24, [%[x2]], #16\n\t"
                    "fmla %[a20].4s, v24.4s, %[h0].4s\n\t"
                    "fmla %[a21].4s, v24.4s, %[h1].4s\n\t"
                    "fmla %[a22].4s, v24.4s, %[h2].4s\n\t"
                    "fmla %[a23].4s, v24.4s, %[h3].4s\n\t"
                    "ldr q24, [%[x3]], #16\n\t"
                    "fmla %[a30].4s, v24.4s, %[h0].4s\n\t"
                    "fmla %[a31].4s, v24.4s, %[h1].4s\n\t"
                    "fmla %[a32].4s, v24.4s, %[h2].4s\n\t"
                    "fmla %[a33].4s, v24.4s, %[h3].4s\n\t"
                    : [a20] "+w"(a20), [a21] "+w"(a21), [a22] "+w"(a22), [a23] "+w"(a23), [a30] "+w"(a30),
                      [a31] "+w"(a31), [a32] "+w"(a32), [a33] "+w"(a33), [x2] "+r"(px2), [x3] "+r"(px3)
                    : [l0] "w"(l0), [l1] "w"(l1), [l2] "w"(l2), [l3] "w"(l3), [h0] "w"(h0), [h1] "w"(h1), [h2] "w"(h2),
                      [h3] "w"(h3)
                    : "v24", "memory");
        }
    }
#else
    for (; i + 8 <= k; i += 8) {
        const uint16x8_t v0 = vld1q_u16(w0 + i), v1 = vld1q_u16(w1 + i), v2 = vld1q_u16(w2 + i), v3 = vld1q_u16(w3 + i);
        float32x4_t f0 = QP_WIDEN_LO(v0), f1 = QP_WIDEN_LO(v1), f2 = QP_WIDEN_LO(v2), f3 = QP_WIDEN_LO(v3);
        QP_ROW4(x0p, 0, a00, a01, a02, a03);
        QP_ROW4(x1p, 0, a10, a11, a12, a13);
        QP_ROW4(x2p, 0, a20, a21, a22, a23);
        QP_ROW4(x3p, 0, a30, a31, a32, a33);
        f0 = QP_WIDEN_HI(v0), f1 = QP_WIDEN_HI(v1), f2 = QP_WIDEN_HI(v2), f3 = QP_WIDEN_HI(v3);
        QP_ROW4(x0p, 4, a00, a01, a02, a03);
        QP_ROW4(x1p, 4, a10, a11, a12, a13);
        QP_ROW4(x2p, 4, a20, a21, a22, a23);
        QP_ROW4(x3p, 4, a30, a31, a32, a33);
    }
#endif
    if (i + 4 <= k) { /* one group of four left: the low halves' step alone */
        const float32x4_t f0 = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(w0 + i)));
        const float32x4_t f1 = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(w1 + i)));
        const float32x4_t f2 = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(w2 + i)));
        const float32x4_t f3 = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(w3 + i)));
        QP_ROW4(x0p, 0, a00, a01, a02, a03);
        QP_ROW4(x1p, 0, a10, a11, a12, a13);
        QP_ROW4(x2p, 0, a20, a21, a22, a23);
        QP_ROW4(x3p, 0, a30, a31, a32, a33);
        i += 4;
    }
#undef QP_ROW4
#define QP_OUT(r, c, acc, xp, wp)                                                        \
    do {                                                                                 \
        float sum = reduce4(acc);                                                        \
        for (size_t t = i; t < k; t++) sum = fmaf((xp)[t], qp_f16_to_f32((wp)[t]), sum); \
        out[r][c] = sum;                                                                 \
    } while (0)
    QP_OUT(0, 0, a00, x0p, w0);
    QP_OUT(0, 1, a01, x0p, w1);
    QP_OUT(0, 2, a02, x0p, w2);
    QP_OUT(0, 3, a03, x0p, w3);
    QP_OUT(1, 0, a10, x1p, w0);
    QP_OUT(1, 1, a11, x1p, w1);
    QP_OUT(1, 2, a12, x1p, w2);
    QP_OUT(1, 3, a13, x1p, w3);
    QP_OUT(2, 0, a20, x2p, w0);
    QP_OUT(2, 1, a21, x2p, w1);
    QP_OUT(2, 2, a22, x2p, w2);
    QP_OUT(2, 3, a23, x2p, w3);
    QP_OUT(3, 0, a30, x3p, w0);
    QP_OUT(3, 1, a31, x3p, w1);
    QP_OUT(3, 2, a32, x3p, w2);
    QP_OUT(3, 3, a33, x3p, w3);
#undef QP_OUT
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
    for (size_t c0 = 0; c0 < n; c0 += QP_COLUMN_BLOCK) {
        size_t r = 0;
        for (; r + 4 <= m; r += 4) {
            size_t c = c0;
            for (; c + 4 <= n && c + 4 <= c0 + QP_COLUMN_BLOCK; c += 4) {
                float d[4][4];
                tile4x4_f16(x + r * k, k, w + c * k, k, d);
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 4; j++)
                        y[(r + i) * n + c + j] = clampf(d[i][j] + (bias ? bias[c + j] : 0.0f), clamp_min, clamp_max);
            }
            /* Columns left in the block (fewer than four): the one-row path for each row. */
            for (size_t i = 0; i < 4 && c < n && c < c0 + QP_COLUMN_BLOCK; i++)
                f16_row_columns(x + (r + i) * k, w, bias, y + (r + i) * n, k, n, c, c0, clamp_min, clamp_max);
        }
        for (; r < m; r++) f16_row_columns(x + r * k, w, bias, y + r * n, k, n, c0, c0, clamp_min, clamp_max);
    }
}
