/* NEON on Arm, SIMDe's portable NEON elsewhere, so the same kernel source is tested on x86. */
#ifndef QP_NEON_H
#define QP_NEON_H

#include <stddef.h>
#include <stdint.h>

#if defined(__aarch64__)
#include <arm_neon.h>
#define QP_TARGET_DOTPROD __attribute__((target("arch=armv8.2-a+dotprod")))
#define QP_TARGET_I8MM __attribute__((target("arch=armv8.2-a+dotprod+i8mm")))
#else
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <math.h>
#include <simde/arm/neon.h>

#if defined(__x86_64__)
#include <immintrin.h>
/* On x86 the "dotprod" kernels are compiled for AVX2 and FMA and use the native SDOT and FMLA
 * below; their entry points fall back to the scalar reference (same bits) on CPUs without. */
#define QP_TARGET_DOTPROD __attribute__((target("avx2,fma")))
#define QP_X86_FAST_DOT 1

/* FMLA: a + b·c rounded once, which is exactly what VFMADD does. For dotprod kernels only
 * (they #define vfmaq_f32 to it): other code may run on CPUs without FMA. */
QP_TARGET_DOTPROD static inline simde_float32x4_t qp_vfmaq_f32_fma(simde_float32x4_t a, simde_float32x4_t b,
                                                                   simde_float32x4_t c) {
    return simde_float32x4_from_m128(
        _mm_fmadd_ps(simde_float32x4_to_m128(b), simde_float32x4_to_m128(c), simde_float32x4_to_m128(a)));
}

/* SDOT: each 32-bit lane adds the dot product of its four int8 pairs. Widening to int16,
 * VPMADDWD (pairs) and a horizontal add of neighbouring pairs give the same exact sums. */
QP_TARGET_DOTPROD static inline simde_int32x4_t qp_vdotq_s32(simde_int32x4_t r, simde_int8x16_t a, simde_int8x16_t b) {
    const __m256i a16 = _mm256_cvtepi8_epi16(simde_int8x16_to_m128i(a));
    const __m256i b16 = _mm256_cvtepi8_epi16(simde_int8x16_to_m128i(b));
    const __m256i pairs = _mm256_madd_epi16(a16, b16); /* 8 sums of 2 */
    const __m256i quads = _mm256_hadd_epi32(pairs, pairs); /* per 128-bit half */
    const __m128i sums = _mm256_castsi256_si128(_mm256_permute4x64_epi64(quads, 0x08)); /* halves' low 64 */
    return simde_int32x4_from_m128i(_mm_add_epi32(simde_int32x4_to_m128i(r), sums));
}
/* With AVX-VNNI: VPDPBUSD multiplies unsigned by signed bytes, so a is biased to a + 128: the
 * lane sums gain 128·Σb, which the kernel takes off once per column (qp_qsi8cxp_gemv.h). */
#define QP_TARGET_DOTPROD_VNNI __attribute__((target("avx2,fma,avxvnni")))
/* r + Σ (a + 128)·b per lane: VPDPBUSD alone; the caller takes 128·Σb off (see qp_qsi8cxp_gemv.h). */
QP_TARGET_DOTPROD_VNNI static inline simde_int32x4_t qp_vdotq_s32_vnni_biased(simde_int32x4_t r, simde_int8x16_t a,
                                                                              simde_int8x16_t b) {
    return simde_int32x4_from_m128i(_mm_dpbusd_avx_epi32(
        simde_int32x4_to_m128i(r), _mm_xor_si128(simde_int8x16_to_m128i(a), _mm_set1_epi8((char)0x80)),
        simde_int8x16_to_m128i(b)));
}
#undef vdotq_s32
#define vdotq_s32(r, a, b) qp_vdotq_s32(r, a, b)

/* Decoding reads every weight from memory once, a few short rows (columns, panels) at a time.
 * The hardware prefetcher does not follow many short interleaved streams (such a GEMV read at
 * 9-10 GB/s where one stream reads at 25), so each step of a pass asks for its share of the next
 * pass's bytes in address order: share = qp_prefetch_share(next pass's bytes, steps per pass). */
static inline size_t qp_prefetch_share(size_t bytes, size_t steps) {
    return steps == 0 ? 0 : ((bytes + steps - 1) / steps + 63) / 64 * 64;
}
/* A hint, never a fault: addresses past the weights' end (after the last pass) are harmless. */
static inline void qp_prefetch_step(const void *next, size_t share, size_t step) {
    const uintptr_t p = (uintptr_t)next + step * share;
    for (size_t o = 0; o < share; o += 64) _mm_prefetch((const char *)(p + o), _MM_HINT_T0);
}
#else
#define QP_TARGET_DOTPROD
#endif

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

/* FDIV per lane (an AArch64-only intrinsic older SIMDe lacks): IEEE division, the same bits. */
static inline simde_float32x4_t qp_vdivq_f32(simde_float32x4_t a, simde_float32x4_t b) {
    float x[4], y[4];
    simde_vst1q_f32(x, a);
    simde_vst1q_f32(y, b);
    for (int i = 0; i < 4; i++) x[i] /= y[i];
    return simde_vld1q_f32(x);
}
#undef vdivq_f32
#define vdivq_f32(a, b) qp_vdivq_f32(a, b)

/* SIMDe has no i8mm: SMMLA adds the 2x2 product of two 2x8 int8 matrices (a rows, b rows as
 * columns) to r, row-major. Exact integer arithmetic, as the instruction. */
#define QP_TARGET_I8MM
static inline simde_int32x4_t vmmlaq_s32(simde_int32x4_t r, simde_int8x16_t a, simde_int8x16_t b) {
    int8_t x[16], y[16];
    int32_t z[4];
    simde_vst1q_s8(x, a);
    simde_vst1q_s8(y, b);
    simde_vst1q_s32(z, r);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            for (int k = 0; k < 8; k++) z[2 * i + j] += (int32_t)x[8 * i + k] * (int32_t)y[8 * j + k];
    return simde_vld1q_s32(z);
}
#endif

/* Four little-endian f32 or f16 values from packed bytes (any alignment) as one vector; f16 is
 * widened exactly. */
static inline float32x4_t qp_load_f32x4(const uint8_t *p) { return vreinterpretq_f32_u8(vld1q_u8(p)); }

static inline float32x4_t qp_load_f16x4(const uint8_t *p) {
    return vcvt_f32_f16(vreinterpret_f16_u16(vreinterpret_u16_u8(vld1_u8(p))));
}

/* SDOT by element: every 4-byte group of w against int8 lanes 4·lane..4·lane+3 of a. On other
 * hosts the group is broadcast first (the same exact sums). */
/* a + b · v[lane] fused, v a float32x2_t: FMLA by element on AArch64; elsewhere through
 * vfmaq_f32 as the including file defines it (fused either way). */
#if defined(__aarch64__)
#define QP_FMA_LANE(a, b, v, lane) vfmaq_lane_f32(a, b, v, lane)
#else
#define QP_FMA_LANE(a, b, v, lane) vfmaq_f32(a, b, vdupq_n_f32(vget_lane_f32(v, lane)))
#endif
#if defined(__aarch64__)
/* AArch64 assembly text: eight RHS registers r0..r7 (full names, "v16") by element against two
 * LHS registers x and y: r0..r3 with lanes 0..3 of x, r4..r7 with lanes 0..3 of y, alternately
 * into accumulators a and b (asm text, e.g. "%[s0]"; a and b may be the same). The step shared by
 * the kr/sr-4 dotprod kernels' assembly (32 values of one LHS row against four columns). */
#define QP_ASM_SDOT(acc, r, x, lane) "sdot " acc ".4s, " r ".16b, " x ".4b[" #lane "]\n\t"
#define QP_ASM_SDOT8(a, b, r0, r1, r2, r3, r4, r5, r6, r7, x, y) \
    QP_ASM_SDOT(a, r0, x, 0)                                     \
    QP_ASM_SDOT(b, r1, x, 1)                                     \
    QP_ASM_SDOT(a, r2, x, 2)                                     \
    QP_ASM_SDOT(b, r3, x, 3)                                     \
    QP_ASM_SDOT(a, r4, y, 0)                                     \
    QP_ASM_SDOT(b, r5, y, 1)                                     \
    QP_ASM_SDOT(a, r6, y, 2)                                     \
    QP_ASM_SDOT(b, r7, y, 3)
#endif
#if defined(__aarch64__)
/* AArch64 assembly text: `body` once per `by` steps of %[n] (the operand counting them down, a
 * multiple of `by`), none when %[n] is 0. The loop every block-loop kernel's assembly runs in. */
#define QP_ASM_LOOP_BY(by, body)                  \
    "cbz %[n], 2f\n\t"                            \
    "1:\n\t" body "subs %[n], %[n], #" #by "\n\t" \
    "b.ne 1b\n\t"                                 \
    "2:\n\t"
#define QP_ASM_BLOCK_LOOP(body) QP_ASM_LOOP_BY(1, body)
#endif

/* Stores the first `columns` lanes of v (all four from 4 up): a panel's last, partial columns. */
static inline __attribute__((always_inline)) void qp_store_f32x4_columns(float *out, float32x4_t v, size_t columns) {
    if (columns >= 4) {
        vst1q_f32(out, v);
        return;
    }
    float lanes[4];
    vst1q_f32(lanes, v);
    for (size_t i = 0; i < columns; i++) out[i] = lanes[i];
}

/* Stores the first `columns` lanes of v0 then v1 (all eight from 8 up). */
static inline __attribute__((always_inline)) void qp_store_f32x8_columns(float *out, float32x4_t v0, float32x4_t v1,
                                                                         size_t columns) {
    if (columns >= 8) {
        vst1q_f32(out, v0);
        vst1q_f32(out + 4, v1);
        return;
    }
    float lanes[8];
    vst1q_f32(lanes, v0);
    vst1q_f32(lanes + 4, v1);
    for (size_t i = 0; i < columns; i++) out[i] = lanes[i];
}

/* r + a · v[lane], 32-bit lanes: MLA by element on AArch64 (SIMDe lacks vmlaq_laneq_s32). */
#if defined(__aarch64__)
#define QP_MLA_LANE(r, a, v, lane) vmlaq_laneq_s32(r, a, v, lane)
#else
#define QP_MLA_LANE(r, a, v, lane) vmlaq_s32(r, a, vdupq_laneq_s32(v, lane))
#endif
#if defined(__aarch64__)
#define QP_SDOT_LANE(r, w, a, lane) vdotq_laneq_s32(r, w, a, lane)
#else
#define QP_SDOT_LANE(r, w, a, lane) \
    vdotq_s32(r, w, vreinterpretq_s8_s32(vdupq_laneq_s32(vreinterpretq_s32_s8(a), lane)))
#endif

/* An exact integer sum of 16·(code·value) products back to float, divided by 16: SCVTF with four
 * fraction bits on AArch64 (one instruction), convert then multiply by 1/16 elsewhere. The same
 * bits: scaling by a power of two commutes with rounding, and |v| / 16 stays a normal float. */
static inline float32x4_t qp_sixteenth_f32(int32x4_t v) {
#if defined(__aarch64__)
    return vcvtq_n_f32_s32(v, 4);
#else
    return vmulq_n_f32(vcvtq_f32_s32(v), 0.0625f);
#endif
}

/* v as it is, kept in one vector register on AArch64: where a kernel uses single lanes of a
 * loaded vector GCC may instead reload each lane as a scalar. */
static inline float32x4_t qp_in_register(float32x4_t v) {
#if defined(__aarch64__)
    __asm__("" : "+w"(v));
#endif
    return v;
}

#endif
