/* NEON on Arm, SIMDe's portable NEON elsewhere, so the same kernel source is tested on x86. */
#ifndef QP_NEON_H
#define QP_NEON_H

#if defined(__aarch64__)
#include <arm_neon.h>
#define QP_TARGET_DOTPROD __attribute__((target("arch=armv8.2-a+dotprod")))
#else
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <math.h>
#include <simde/arm/neon.h>
#define QP_TARGET_DOTPROD

/* NEON's FMLA rounds once. Without an FMA instruction SIMDe computes a*b + c with two
 * roundings, which changes results; keep NEON's semantics with a correctly rounded fmaf per
 * lane (libm's fmaf is exact on every host). */
static inline simde_float32x4_t qp_vfmaq_f32(simde_float32x4_t a, simde_float32x4_t b, simde_float32x4_t c) {
    float x[4], y[4], z[4];
    simde_vst1q_f32(x, a);
    simde_vst1q_f32(y, b);
    simde_vst1q_f32(z, c);
    for (int i = 0; i < 4; i++) x[i] = fmaf(y[i], z[i], x[i]);
    return simde_vld1q_f32(x);
}
#undef vfmaq_f32
#define vfmaq_f32(a, b, c) qp_vfmaq_f32(a, b, c)
#endif

#endif
