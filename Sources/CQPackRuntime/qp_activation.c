/* SiLU for the Llama graph's SwiGLU, vectorized with the same operations as its scalar form. */
#include "qp_activation.h"

#include "qp_neon.h"
#include "qp_runtime.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* The constants as exact float bit patterns (see qp_activation.h for the steps). */
#define QP_LOG2E 0x1.715476p+0f
#define QP_LN2_HI 0x1.62e43p-1f
#define QP_LN2_LO -0x1.05c61p-29f
#define QP_EXP_C0 0x1.fffffcp-2f /* r^2 */
#define QP_EXP_C1 0x1.555492p-3f
#define QP_EXP_C2 0x1.5558f2p-5f
#define QP_EXP_C3 0x1.1239e4p-7f
#define QP_EXP_C4 0x1.6a2426p-10f /* r^6 */
#define QP_EXP_MIN -87.0f
#define QP_EXP_MAX 88.0f

float qp_one_plus_exp(float y) {
    y = fminf(fmaxf(y, QP_EXP_MIN), QP_EXP_MAX);
    const float n = nearbyintf(y * QP_LOG2E); /* the default rounding: to nearest, ties to even */
    float r = fmaf(-n, QP_LN2_HI, y);
    r = fmaf(-n, QP_LN2_LO, r);
    float p = fmaf(QP_EXP_C4, r, QP_EXP_C3);
    p = fmaf(p, r, QP_EXP_C2);
    p = fmaf(p, r, QP_EXP_C1);
    p = fmaf(p, r, QP_EXP_C0);
    p = fmaf(p, r, 1.0f);
    p = fmaf(p, r, 1.0f);
    const uint32_t bits = (uint32_t)((int32_t)n + 127) << 23; /* 2^n: n is within [−126, 127] */
    float scale;
    memcpy(&scale, &bits, 4);
    return fmaf(p, scale, 1.0f);
}

/* The steps of qp_one_plus_exp on four lanes (FMAXNM/FMINNM are fmaxf/fminf, FRINTN is
 * nearbyintf's default mode, FMLA is fmaf). */
static inline float32x4_t one_plus_exp4(float32x4_t y) {
    y = vminnmq_f32(vmaxnmq_f32(y, vdupq_n_f32(QP_EXP_MIN)), vdupq_n_f32(QP_EXP_MAX));
    const float32x4_t n = vrndnq_f32(vmulq_f32(y, vdupq_n_f32(QP_LOG2E)));
    const float32x4_t minus_n = vnegq_f32(n);
    float32x4_t r = vfmaq_f32(y, minus_n, vdupq_n_f32(QP_LN2_HI));
    r = vfmaq_f32(r, minus_n, vdupq_n_f32(QP_LN2_LO));
    float32x4_t p = vfmaq_f32(vdupq_n_f32(QP_EXP_C3), vdupq_n_f32(QP_EXP_C4), r);
    p = vfmaq_f32(vdupq_n_f32(QP_EXP_C2), p, r);
    p = vfmaq_f32(vdupq_n_f32(QP_EXP_C1), p, r);
    p = vfmaq_f32(vdupq_n_f32(QP_EXP_C0), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
    const int32x4_t bits = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23);
    return vfmaq_f32(vdupq_n_f32(1.0f), p, vreinterpretq_f32_s32(bits));
}

#if defined(__x86_64__)
/* The same steps on eight lanes with AVX2 and FMA (SIMDe's portable FMLA and FRINTN cost eight
 * times libm's expf here). VMAXPS returns its second operand for a NaN, as fmaxf(NaN, c) = c. */
QP_TARGET_DOTPROD static void silu_mul_avx2(float *g, const float *u, size_t n) {
    const __m256 lo = _mm256_set1_ps(QP_EXP_MIN), hi = _mm256_set1_ps(QP_EXP_MAX), one = _mm256_set1_ps(1.0f);
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (size_t i = 0; i + 8 <= n; i += 8) {
        const __m256 x = _mm256_loadu_ps(g + i);
        const __m256 y = _mm256_min_ps(_mm256_max_ps(_mm256_xor_ps(x, sign), lo), hi);
        const __m256 nf =
            _mm256_round_ps(_mm256_mul_ps(y, _mm256_set1_ps(QP_LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        const __m256 minus_n = _mm256_xor_ps(nf, sign);
        __m256 r = _mm256_fmadd_ps(minus_n, _mm256_set1_ps(QP_LN2_HI), y);
        r = _mm256_fmadd_ps(minus_n, _mm256_set1_ps(QP_LN2_LO), r);
        __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(QP_EXP_C4), r, _mm256_set1_ps(QP_EXP_C3));
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(QP_EXP_C2));
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(QP_EXP_C1));
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(QP_EXP_C0));
        p = _mm256_fmadd_ps(p, r, one);
        p = _mm256_fmadd_ps(p, r, one);
        const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(nf), _mm256_set1_epi32(127)), 23);
        const __m256 d = _mm256_fmadd_ps(p, _mm256_castsi256_ps(bits), one);
        _mm256_storeu_ps(g + i, _mm256_mul_ps(_mm256_div_ps(x, d), _mm256_loadu_ps(u + i)));
    }
}
#endif

void qp_silu_mul(float *g, const float *u, size_t n) {
    size_t i = 0;
#if defined(__x86_64__)
    if (qp_x86_extensions_enabled() && qp_cpu_has_dotprod()) { /* AVX2 and FMA */
        silu_mul_avx2(g, u, n);
        i = n / 8 * 8;
    }
#endif
    for (; i + 4 <= n; i += 4) {
        const float32x4_t x = vld1q_f32(g + i);
        vst1q_f32(g + i, vmulq_f32(vdivq_f32(x, one_plus_exp4(vnegq_f32(x))), vld1q_f32(u + i)));
    }
    for (; i < n; i++) g[i] = g[i] / qp_one_plus_exp(-g[i]) * u[i];
}
