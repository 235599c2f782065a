#include "qp_neon.h"
#include "qp_runtime.h"

#include <math.h>
#include <string.h>

/* Built with -ffp-contract=off: no fused multiply-add except the explicit fmaf calls. */

static size_t round_up(size_t v, size_t m) { return (v + m - 1) / m * m; }

size_t qp_lhs_packed_size_qai8dxp(size_t m, size_t k, size_t mr) {
    return (m + mr - 1) / mr * mr * (round_up(k, 32) + 8);
}

size_t qp_lhs_packed_offset_qai8dxp(size_t m_idx, size_t k, size_t mr) {
    return m_idx / mr * mr * (round_up(k, 32) + 8);
}

/* One row: asymmetric int8 with the range [rmin, rmax] (containing 0), exactly as
 * kai_run_lhs_quant_pack_qai8dxp_f32 does from a row's own range: float32 arithmetic, zero
 * point rounded half to even, values rounded half away from zero and saturated. */
static void pack_row(const float *x, size_t k, size_t kp, size_t mr, size_t L, size_t r, uint8_t *panel, float rmin,
                     float rmax) {
    const float scale = rmin == rmax ? 1.0f : 255.0f / (rmax - rmin);
    const float recip = 1.0f / scale;
    const float dmin = rmin * scale, dmax = rmax * scale;
    const float zpf = ((-128.0f + dmin) + (127.0f + dmax) > 0) ? (-128.0f - dmin) : (127.0f - dmax);
    const int32_t zp = (int32_t)rintf(fminf(127.0f, fmaxf(-128.0f, zpf)));
    int8_t last = 0;
    size_t c = 0;
#if defined(__aarch64__)
    if (L == 4 || L == 8) {
        /* Sixteen values at a time, the scalar steps' results lane by lane: one rounding per
         * product; FMAXNM with -1e6 (a NaN or anything below becomes -1e6, as fmaxf); FCVTAS
         * rounds half away from zero (roundf) and saturates, so values the scalar path clamps to
         * 1e6 stay above 127 after the saturating add of the zero point; saturating narrows are
         * the final clamp. With mr 1 the interleave is the identity (one 16-byte store); else
         * runs of L codes go to their places by lane stores. */
        const int32x4_t zpv = vdupq_n_s32(zp);
        const float32x4_t low = vdupq_n_f32(-1e6f);
        int8x16_t q = vdupq_n_s8(0);
#define QP_QUANT(j) vqaddq_s32(vcvtaq_s32_f32(vmaxnmq_f32(vmulq_n_f32(vld1q_f32(x + c + 4 * (j)), scale), low)), zpv)
#define QP_QUANT16()                                                                        \
    const int32x4_t v0 = QP_QUANT(0), v1 = QP_QUANT(1), v2 = QP_QUANT(2), v3 = QP_QUANT(3); \
    q = vcombine_s8(vqmovn_s16(vcombine_s16(vqmovn_s32(v0), vqmovn_s32(v1))),               \
                    vqmovn_s16(vcombine_s16(vqmovn_s32(v2), vqmovn_s32(v3))))
        if (mr == 1) {
            for (; c + 16 <= k; c += 16) {
                QP_QUANT16();
                vst1q_s8((int8_t *)panel + c, q);
            }
        } else if (L == 8) { /* value c of row r at (c / 8 · mr + r) · 8 + c % 8 */
            for (int8_t *dst = (int8_t *)panel + 8 * r; c + 16 <= k; c += 16, dst += 16 * mr) {
                QP_QUANT16();
                vst1_s8(dst, vget_low_s8(q));
                vst1_s8(dst + 8 * mr, vget_high_s8(q));
            }
        } else { /* value c of row r at (c / 4 · mr + r) · 4 + c % 4 */
            for (int8_t *dst = (int8_t *)panel + 4 * r; c + 16 <= k; c += 16, dst += 16 * mr) {
                QP_QUANT16();
                const int32x4_t w = vreinterpretq_s32_s8(q);
                vst1q_lane_s32((int32_t *)(void *)dst, w, 0);
                vst1q_lane_s32((int32_t *)(void *)(dst + 4 * mr), w, 1);
                vst1q_lane_s32((int32_t *)(void *)(dst + 8 * mr), w, 2);
                vst1q_lane_s32((int32_t *)(void *)(dst + 12 * mr), w, 3);
            }
        }
#undef QP_QUANT16
#undef QP_QUANT
        last = vgetq_lane_s8(q, 15);
    }
#endif
    for (; c < kp; c++) {
        int8_t q;
        if (c < k) {
            /* Clamp before converting: a static range may be far below the value. */
            const float v = fminf(fmaxf(roundf(x[c] * scale), -1e6f), 1e6f);
            int32_t iv = (int32_t)v + zp;
            q = (int8_t)(iv < -128 ? -128 : iv > 127 ? 127 : iv);
            last = q;
        } else {
            q = last; /* K padding repeats the last valid value */
        }
        panel[(c / L * mr + r) * L + c % L] = (uint8_t)q;
    }
    const int32_t neg_zp = -zp;
    memcpy(panel + mr * kp + 4 * r, &neg_zp, 4);
    memcpy(panel + mr * kp + 4 * mr + 4 * r, &recip, 4);
}

/* Per-row dynamic range: each row's own min and max (with 0). */
void qp_lhs_quant_pack_qai8dxp_f32(size_t m, size_t k, size_t mr, size_t kr, size_t sr, const float *lhs,
                                   size_t lhs_stride_bytes, void *lhs_packed) {
    const size_t kp = round_up(k, 32), L = kr / sr;
    uint8_t *out = lhs_packed;
    for (size_t row = 0; row < m; row++) {
        const float *x = (const float *)((const uint8_t *)lhs + row * lhs_stride_bytes);
        float mn = INFINITY, mx = -INFINITY;
        size_t i = 0;
#if defined(__aarch64__)
        /* FMINNM/FMAXNM are fminf/fmaxf (a NaN never wins); min and max do not depend on order. */
        if (k >= 4) {
            float32x4_t vmn = vdupq_n_f32(INFINITY), vmx = vdupq_n_f32(-INFINITY), wmn = vmn, wmx = vmx;
            for (; i + 16 <= k; i += 16) { /* sixteen values per pass, two independent pairs */
                const float32x4_t a = vld1q_f32(x + i), b = vld1q_f32(x + i + 4), c = vld1q_f32(x + i + 8),
                                  d = vld1q_f32(x + i + 12);
                vmn = vminnmq_f32(vminnmq_f32(vmn, a), b);
                vmx = vmaxnmq_f32(vmaxnmq_f32(vmx, a), b);
                wmn = vminnmq_f32(vminnmq_f32(wmn, c), d);
                wmx = vmaxnmq_f32(vmaxnmq_f32(wmx, c), d);
            }
            for (; i + 4 <= k; i += 4) {
                const float32x4_t v = vld1q_f32(x + i);
                vmn = vminnmq_f32(vmn, v);
                vmx = vmaxnmq_f32(vmx, v);
            }
            mn = vminnmvq_f32(vminnmq_f32(vmn, wmn));
            mx = vmaxnmvq_f32(vmaxnmq_f32(vmx, wmx));
        }
#endif
        for (; i < k; i++) {
            mn = fminf(mn, x[i]);
            mx = fmaxf(mx, x[i]);
        }
        pack_row(x, k, kp, mr, L, row % mr, out + row / mr * mr * (kp + 8), fminf(0.0f, mn), fmaxf(0.0f, mx));
    }
}

void qp_lhs_quant_pack_qai8dxp_f32_range(size_t m, size_t k, size_t mr, size_t kr, size_t sr, const float *lhs,
                                         size_t lhs_stride_bytes, void *lhs_packed, float range_min, float range_max) {
    const size_t kp = round_up(k, 32), L = kr / sr;
    uint8_t *out = lhs_packed;
    const float rmin = fminf(0.0f, range_min), rmax = fmaxf(0.0f, range_max);
    for (size_t row = 0; row < m; row++) {
        const float *x = (const float *)((const uint8_t *)lhs + row * lhs_stride_bytes);
        pack_row(x, k, kp, mr, L, row % mr, out + row / mr * mr * (kp + 8), rmin, rmax);
    }
}
