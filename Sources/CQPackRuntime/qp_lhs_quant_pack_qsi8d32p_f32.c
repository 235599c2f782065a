/* LHS packers of the qsi8d32p families: int8 activations with one symmetric scale per block of
 * bl values of a row (Formats/qpack-container.md §5.6), byte-exact with KleidiAI's
 * kai_run_lhs_quant_pack_qsi8d32p_f32 (f16 scale, ties away from zero), its 4x8sb variant (ties
 * to even) and kai_run_lhs_quant_pack_qsi8d32pscalef32_f32_neon (f32 scale and block sum). */
#include "qp_neon.h"
#include "qp_runtime.h"

#include <math.h>
#include <string.h>

/* Built with -ffp-contract=off: every float operation rounds once, as KleidiAI's do. */

static size_t panels(size_t m, size_t mr) { return (m + mr - 1) / mr; }

size_t qp_lhs_packed_size_qsi8d32p(size_t m, size_t k, size_t bl, size_t mr, size_t kr, size_t sr) {
    (void)kr;
    (void)sr;
    return bl && mr ? panels(m, mr) * mr * (k / bl) * (bl + 2) : 0;
}

size_t qp_lhs_packed_offset_qsi8d32p(size_t m_idx, size_t k, size_t bl, size_t mr) {
    return bl && mr ? m_idx / mr * mr * (k / bl) * (bl + 2) : 0;
}

size_t qp_lhs_packed_size_qsi8d32pscalef32(size_t m, size_t k, size_t bl, size_t mr, size_t kr, size_t sr) {
    (void)kr;
    (void)sr;
    return bl && mr ? panels(m, mr) * mr * (k / bl) * (bl + 8) : 0;
}

size_t qp_lhs_packed_offset_qsi8d32pscalef32(size_t m_idx, size_t k, size_t bl, size_t mr) {
    return bl && mr ? m_idx / mr * mr * (k / bl) * (bl + 8) : 0;
}

uint16_t qp_f32_to_f16(float v) {
    uint32_t x;
    memcpy(&x, &v, 4);
    const uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    const uint32_t abs = x & 0x7FFFFFFFu;
    if (abs >= 0x7F800000u) return sign | (abs > 0x7F800000u ? 0x7E00 : 0x7C00); /* NaN, Inf */
    if (abs >= 0x477FF000u) return sign | 0x7C00; /* rounds past 65504 */
    if (abs < 0x38800000u) { /* below 2^-14: an f16 subnormal (or zero), in units of 2^-24 */
        float a;
        memcpy(&a, &abs, 4);
        return sign | (uint16_t)rintf(a * 0x1p24f); /* exact scaling, one rounding to even */
    }
    /* Normal: drop 13 mantissa bits, ties to even (a carry may step into the exponent). */
    const uint32_t rounded = abs + 0xFFFu + ((abs >> 13) & 1u);
    return sign | (uint16_t)((rounded - 0x38000000u) >> 13);
}

/* Rounding of x·(1/d): KleidiAI's portable packer uses roundf, the 4x8sb NEON packer vcvtn. */
typedef enum { TIES_AWAY, TIES_EVEN } rounding;

static int8_t quantize(float v, rounding mode) {
    const float r = mode == TIES_AWAY ? roundf(v) : rintf(v);
    if (r != r) return 0; /* NaN and out-of-range values never reach a cast */
    return (int8_t)(r < -128.0f ? -128.0f : r > 127.0f ? 127.0f : r);
}

static float block_amax(const float *x, size_t n) {
    float amax = 0.0f;
    for (size_t i = 0; i < n; i++) amax = fmaxf(amax, fabsf(x[i]));
    return amax;
}

static float block_amax_any(const float *v, size_t bl);
static void codes_f16(const float *v, size_t bl, float inv, rounding mode, int8_t *q);
static inline void interleave(uint8_t *rec, const int8_t *codes, size_t bl, size_t mr, size_t r, size_t L);

static void pack_f16(size_t m, size_t k, size_t bl, size_t mr, size_t kr, size_t sr, const float *lhs, size_t stride,
                     void *lhs_packed, rounding mode) {
    if (!bl || !mr || !sr || kr % sr) return;
    const size_t L = kr / sr, blocks = k / bl, record = mr * (bl + 2);
    int8_t codes[256];
    for (size_t row = 0; row < m; row++) {
        const float *x = (const float *)((const uint8_t *)lhs + row * stride);
        uint8_t *panel = (uint8_t *)lhs_packed + row / mr * blocks * record;
        const size_t r = row % mr;
        for (size_t b = 0; b < blocks; b++) {
            uint8_t *rec = panel + b * record;
            const float *v = x + b * bl;
            const float d = block_amax_any(v, bl) / 127.0f;
            const float inv = d != 0.0f ? 1.0f / d : 0.0f;
            const uint16_t h = qp_f32_to_f16(d);
            memcpy(rec + 2 * r, &h, 2);
            if (bl <= sizeof codes) {
                codes_f16(v, bl, inv, mode, mr == 1 ? (int8_t *)rec + 2 : codes);
                if (mr > 1) interleave(rec + 2 * mr, codes, bl, mr, r, L);
            } else {
                for (size_t i = 0; i < bl; i++)
                    rec[2 * mr + (i / L * mr + r) * L + i % L] = (uint8_t)quantize(v[i] * inv, mode);
            }
        }
    }
}

void qp_lhs_quant_pack_qsi8d32p_f32(size_t m, size_t k, size_t bl, size_t mr, size_t kr, size_t sr, const float *lhs,
                                    size_t lhs_stride_bytes, void *lhs_packed) {
    pack_f16(m, k, bl, mr, kr, sr, lhs, lhs_stride_bytes, lhs_packed, TIES_AWAY);
}

void qp_lhs_quant_pack_qsi8d32p4x8sb_f32(size_t m, size_t k, size_t bl, size_t mr, size_t kr, size_t sr,
                                         const float *lhs, size_t lhs_stride_bytes, void *lhs_packed) {
    pack_f16(m, k, bl, mr, kr, sr, lhs, lhs_stride_bytes, lhs_packed, TIES_EVEN);
}

#if defined(__aarch64__)
#define QP_PACK_NEON 1
/* One block of bl (a multiple of 16) values with NEON, the scalar loop's arithmetic lane by lane:
 * FMAXNM is fmaxf (a NaN never wins), one rounding per product, FCVTNS rounds ties to even and
 * saturates, the narrowing saturates to -128 ... 127 (NaN converts to 0), integer sums exact.
 * Returns amax and writes the codes in order to q. */
static float quantize_block_neon(const float *v, size_t bl, int8_t *q, int32_t *sum) {
    float32x4_t m = vdupq_n_f32(0.0f);
    for (size_t i = 0; i < bl; i += 4) m = vmaxnmq_f32(m, vabsq_f32(vld1q_f32(v + i)));
    const float amax = vmaxnmvq_f32(m);
    const float mul = amax == 0.0f ? 0.0f : 127.0f / amax;
    int32x4_t total = vdupq_n_s32(0);
    for (size_t i = 0; i < bl; i += 16) {
        int32x4_t c[4];
        for (size_t j = 0; j < 4; j++) c[j] = vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(v + i + 4 * j), mul));
        const int16x8_t lo = vcombine_s16(vqmovn_s32(c[0]), vqmovn_s32(c[1])),
                        hi = vcombine_s16(vqmovn_s32(c[2]), vqmovn_s32(c[3]));
        const int8x16_t codes = vcombine_s8(vqmovn_s16(lo), vqmovn_s16(hi));
        vst1q_s8(q + i, codes);
        total = vpadalq_s16(total, vpaddlq_s8(codes));
    }
    *sum = vaddvq_s32(total);
    return amax;
}

/* quantize_block_neon for bl 32, unrolled: the eight vectors loaded once, the codes returned in
 * two registers (values 0-15, 16-31). */
static inline __attribute__((always_inline)) float quantize_block32_neon(const float *v, int8x16_t *q0, int8x16_t *q1,
                                                                         int32_t *sum) {
    const float32x4_t x0 = vld1q_f32(v), x1 = vld1q_f32(v + 4), x2 = vld1q_f32(v + 8), x3 = vld1q_f32(v + 12),
                      x4 = vld1q_f32(v + 16), x5 = vld1q_f32(v + 20), x6 = vld1q_f32(v + 24), x7 = vld1q_f32(v + 28);
    const float32x4_t m =
        vmaxnmq_f32(vmaxnmq_f32(vmaxnmq_f32(vabsq_f32(x0), vabsq_f32(x1)), vmaxnmq_f32(vabsq_f32(x2), vabsq_f32(x3))),
                    vmaxnmq_f32(vmaxnmq_f32(vabsq_f32(x4), vabsq_f32(x5)), vmaxnmq_f32(vabsq_f32(x6), vabsq_f32(x7))));
    const float amax = vmaxnmvq_f32(m);
    const float mul = amax == 0.0f ? 0.0f : 127.0f / amax;
#define QP_C(x) vqmovn_s32(vcvtnq_s32_f32(vmulq_n_f32(x, mul)))
    *q0 = vcombine_s8(vqmovn_s16(vcombine_s16(QP_C(x0), QP_C(x1))), vqmovn_s16(vcombine_s16(QP_C(x2), QP_C(x3))));
    *q1 = vcombine_s8(vqmovn_s16(vcombine_s16(QP_C(x4), QP_C(x5))), vqmovn_s16(vcombine_s16(QP_C(x6), QP_C(x7))));
#undef QP_C
    *sum = vaddlvq_s16(vaddq_s16(vpaddlq_s8(*q0), vpaddlq_s8(*q1)));
    return amax;
}

/* A block's 32 codes (q0: values 0-15, q1: 16-31) at row r of a record of mr rows, runs of L. */
static inline __attribute__((always_inline)) void store_block32(int8_t *rec, int8x16_t q0, int8x16_t q1, size_t mr,
                                                                size_t r, size_t L) {
    if (mr == 1) {
        vst1q_s8(rec, q0);
        vst1q_s8(rec + 16, q1);
    } else if (L == 8) {
        int8_t *d = rec + 8 * r;
        vst1_s8(d, vget_low_s8(q0));
        vst1_s8(d + 8 * mr, vget_high_s8(q0));
        vst1_s8(d + 16 * mr, vget_low_s8(q1));
        vst1_s8(d + 24 * mr, vget_high_s8(q1));
    } else { /* L 4 */
        int32_t *d = (int32_t *)(void *)(rec + 4 * r);
        const int32x4_t a = vreinterpretq_s32_s8(q0), b = vreinterpretq_s32_s8(q1);
        vst1q_lane_s32(d, a, 0);
        vst1q_lane_s32(d + mr, a, 1);
        vst1q_lane_s32(d + 2 * mr, a, 2);
        vst1q_lane_s32(d + 3 * mr, a, 3);
        vst1q_lane_s32(d + 4 * mr, b, 0);
        vst1q_lane_s32(d + 5 * mr, b, 1);
        vst1q_lane_s32(d + 6 * mr, b, 2);
        vst1q_lane_s32(d + 7 * mr, b, 3);
    }
}
#else
#define QP_PACK_NEON 0
static float quantize_block_neon(const float *v, size_t bl, int8_t *q, int32_t *sum) {
    (void)v, (void)bl, (void)q, (void)sum;
    return 0.0f;
}
#endif

/* Row r's codes into a record of mr rows: runs of L values, row after row (value i at
 * (i / L · mr + r) · L + i % L). Fixed-size copies for the shipped L of 4 and 8: the general
 * loop divides per value. */
static inline void interleave(uint8_t *rec, const int8_t *codes, size_t bl, size_t mr, size_t r, size_t L) {
    if (L == 8)
        for (size_t g = 0; g < bl / 8; g++) memcpy(rec + (g * mr + r) * 8, codes + 8 * g, 8);
    else if (L == 4)
        for (size_t g = 0; g < bl / 4; g++) memcpy(rec + (g * mr + r) * 4, codes + 4 * g, 4);
    else
        for (size_t i = 0; i < bl; i++) rec[(i / L * mr + r) * L + i % L] = (uint8_t)codes[i];
}

/* The block's largest magnitude (fmaxf: a NaN never wins; the order does not matter). */
static float block_amax_any(const float *v, size_t bl) {
#if QP_PACK_NEON
    if (bl % 4 == 0) {
        float32x4_t m = vdupq_n_f32(0.0f);
        for (size_t i = 0; i < bl; i += 4) m = vmaxnmq_f32(m, vabsq_f32(vld1q_f32(v + i)));
        return vmaxnmvq_f32(m);
    }
#endif
    return block_amax(v, bl);
}

/* Codes quantize(v[i]·inv, mode) in order. NEON: one rounding per product, FCVTAS (ties away,
 * roundf) or FCVTNS (ties to even, rintf), both saturating, NaN to 0, then saturating narrows:
 * the scalar clamp's values. */
static void codes_f16(const float *v, size_t bl, float inv, rounding mode, int8_t *q) {
    size_t i = 0;
#if QP_PACK_NEON
    for (; i + 16 <= bl; i += 16) {
        int32x4_t c[4];
        for (size_t j = 0; j < 4; j++) {
            const float32x4_t p = vmulq_n_f32(vld1q_f32(v + i + 4 * j), inv);
            c[j] = mode == TIES_AWAY ? vcvtaq_s32_f32(p) : vcvtnq_s32_f32(p);
        }
        const int16x8_t lo = vcombine_s16(vqmovn_s32(c[0]), vqmovn_s32(c[1])),
                        hi = vcombine_s16(vqmovn_s32(c[2]), vqmovn_s32(c[3]));
        vst1q_s8(q + i, vcombine_s8(vqmovn_s16(lo), vqmovn_s16(hi)));
    }
#endif
    for (; i < bl; i++) q[i] = quantize(v[i] * inv, mode);
}

void qp_lhs_quant_pack_qsi8d32pscalef32_f32(size_t m, size_t k, size_t bl, size_t mr, size_t kr, size_t sr,
                                            const float *lhs, size_t lhs_stride_bytes, void *lhs_packed) {
    if (!bl || !mr || !sr || kr % sr) return;
    const size_t L = kr / sr, blocks = k / bl, record = mr * (bl + 8);
    int8_t codes[256];
    for (size_t row = 0; row < m; row++) {
        const float *x = (const float *)((const uint8_t *)lhs + row * lhs_stride_bytes);
        uint8_t *panel = (uint8_t *)lhs_packed + row / mr * blocks * record;
        const size_t r = row % mr;
        for (size_t b = 0; b < blocks; b++) {
            uint8_t *rec = panel + b * record;
            const float *v = x + b * bl;
            int32_t sum = 0;
            float amax;
#if QP_PACK_NEON
            if (bl == 32 && (mr == 1 || L == 4 || L == 8)) {
                int8x16_t q0, q1;
                amax = quantize_block32_neon(v, &q0, &q1, &sum);
                store_block32((int8_t *)rec, q0, q1, mr, r, L);
            } else
#endif
                if (QP_PACK_NEON && bl % 16 == 0 && bl <= sizeof codes) {
                amax = quantize_block_neon(v, bl, mr == 1 ? (int8_t *)rec : codes, &sum);
                if (mr > 1) interleave(rec, codes, bl, mr, r, L);
            } else {
                amax = block_amax(v, bl);
                /* A multiplier 127/amax, not 1/(amax/127): the NEON packer's arithmetic. */
                const float mul = amax == 0.0f ? 0.0f : 127.0f / amax;
                for (size_t i = 0; i < bl; i++) {
                    const int8_t q = quantize(v[i] * mul, TIES_EVEN);
                    sum += q;
                    rec[(i / L * mr + r) * L + i % L] = (uint8_t)q;
                }
            }
            const float mul = amax == 0.0f ? 0.0f : 127.0f / amax;
            const float rcp = mul != 0.0f ? 1.0f / mul : 0.0f;
            const float dequantized_sum = (float)sum * rcp;
            memcpy(rec + mr * bl + 4 * r, &dequantized_sum, 4);
            memcpy(rec + mr * bl + 4 * mr + 4 * r, &rcp, 4);
        }
    }
}
