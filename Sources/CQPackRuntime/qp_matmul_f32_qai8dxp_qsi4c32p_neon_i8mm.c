/* f32 <- qai8dxp x qsi4c32p, NEON i8mm GEMM for the neon-i8mm target's tile: LHS packed with
 * mr = 4, kr = 16, sr = 2 (L = 8), RHS with nr a multiple of 4 and the same kr, sr. Each SMMLA
 * multiplies 2 LHS rows by 2 RHS rows over 8 values; block sums are exact, and the float
 * epilogue is the scalar reference's, so outputs are bit-identical to it. */
#include "qp_neon.h"
#include "qp_runtime.h"

#include <string.h>

static size_t round_up(size_t v, size_t m) { return (v + m - 1) / m * m; }

QP_TARGET_I8MM
static void tile_4xnr(const uint8_t *lp, size_t kp, const uint8_t *panel, size_t k, size_t bl, size_t nr, size_t rows,
                      size_t columns, float *dst, size_t dst_stride_row, float clamp_min, float clamp_max) {
    const size_t blocks = k / bl, block_bytes = nr * (bl / 2 + 2);
    const uint8x16_t high_mask = vdupq_n_u8(0xF0);
    float32x4_t acc[4][16]; /* [row][column quad], nr <= 64 */
    for (size_t i = 0; i < 4; i++)
        for (size_t q = 0; q < nr / 4; q++) acc[i][q] = vdupq_n_f32(0.0f);
    for (size_t b = 0; b < blocks; b++) {
        const uint8_t *blk = panel + b * block_bytes;
        int32x4_t t[2][32]; /* [row pair][column pair]: 2x2 tiles */
        for (size_t p = 0; p < nr / 2; p++) t[0][p] = t[1][p] = vdupq_n_s32(0);
        for (size_t c = 0; c < bl / 32; c++) {
            for (size_t s = 0; s < 2; s++) {
                const size_t klo = b * bl + 32 * c + 8 * s; /* LHS group klo / 8, high values 2 groups on */
                const int8_t *alo = (const int8_t *)lp + (klo / 8) * 32, *ahi = (const int8_t *)lp + (klo / 8 + 2) * 32;
                const int8x16_t a01lo = vld1q_s8(alo), a23lo = vld1q_s8(alo + 16);
                const int8x16_t a01hi = vld1q_s8(ahi), a23hi = vld1q_s8(ahi + 16);
                const uint8_t *seg = blk + ((c * 2 + s) * nr) * 8;
                for (size_t p = 0; p < nr / 2; p++) {
                    const uint8x16_t bytes = vld1q_u8(seg + 16 * p);
                    const int8x16_t blo = vreinterpretq_s8_u8(vshlq_n_u8(bytes, 4));
                    const int8x16_t bhi = vreinterpretq_s8_u8(vandq_u8(bytes, high_mask));
                    t[0][p] = vmmlaq_s32(vmmlaq_s32(t[0][p], a01lo, blo), a01hi, bhi);
                    t[1][p] = vmmlaq_s32(vmmlaq_s32(t[1][p], a23lo, blo), a23hi, bhi);
                }
            }
        }
        for (size_t q = 0; q < nr / 4; q++) {
            const uint16x4_t sbits = vld1_u16((const uint16_t *)(blk + nr * bl / 2 + 8 * q));
            const float32x4_t d = vreinterpretq_f32_u32(vshlq_n_u32(vmovl_u16(sbits), 16));
            for (size_t rp = 0; rp < 2; rp++) {
                const int32x4_t x = t[rp][2 * q], y = t[rp][2 * q + 1];
                /* Tiles hold [r0c0 r0c1 r1c0 r1c1]; rows of 4 columns are the low / high halves. */
                const int32x4_t row0 = vcombine_s32(vget_low_s32(x), vget_low_s32(y));
                const int32x4_t row1 = vcombine_s32(vget_high_s32(x), vget_high_s32(y));
                acc[2 * rp][q] = vfmaq_f32(acc[2 * rp][q], vmulq_n_f32(vcvtq_f32_s32(row0), 0.0625f), d);
                acc[2 * rp + 1][q] = vfmaq_f32(acc[2 * rp + 1][q], vmulq_n_f32(vcvtq_f32_s32(row1), 0.0625f), d);
            }
        }
    }
    const uint8_t *tail = panel + blocks * block_bytes;
    for (size_t i = 0; i < rows; i++) {
        int32_t neg_zp;
        float lhs_scale;
        memcpy(&neg_zp, lp + 4 * kp + 4 * i, 4);
        memcpy(&lhs_scale, lp + 4 * kp + 16 + 4 * i, 4);
        float *out = (float *)((uint8_t *)dst + i * dst_stride_row);
        for (size_t q = 0; q < nr / 4; q++) {
            float32x4_t rsum, bias;
            memcpy(&rsum, tail + 16 * q, 16);
            memcpy(&bias, tail + 4 * nr + 16 * q, 16);
            float32x4_t v = vfmaq_f32(acc[i][q], rsum, vdupq_n_f32((float)neg_zp));
            v = vaddq_f32(vmulq_n_f32(v, lhs_scale), bias);
            v = vminq_f32(vmaxq_f32(v, vdupq_n_f32(clamp_min)), vdupq_n_f32(clamp_max));
            float lanes[4];
            vst1q_f32(lanes, v);
            for (size_t l = 0; l < 4 && 4 * q + l < columns; l++) out[4 * q + l] = lanes[l];
        }
    }
}

void qp_matmul_f32_qai8dxp_qsi4c32p_neon_i8mm(size_t m, size_t n, size_t k, size_t bl, qp_matmul_tile t,
                                              const void *lhs_packed, const void *rhs_packed, float *dst,
                                              size_t dst_stride_row, float clamp_min, float clamp_max) {
    const size_t kp = round_up(k, 32), lhs_panel = 4 * (kp + 8);
    const size_t rhs_panel = t.nr * ((k / bl) * (bl / 2 + 2) + 8);
    for (size_t row = 0; row < m; row += 4) {
        const uint8_t *lp = (const uint8_t *)lhs_packed + row / 4 * lhs_panel;
        for (size_t col = 0; col < n; col += t.nr) {
            tile_4xnr(lp, kp, (const uint8_t *)rhs_packed + col / t.nr * rhs_panel, k, bl, t.nr,
                      m - row < 4 ? m - row : 4, n - col < t.nr ? n - col : t.nr,
                      (float *)((uint8_t *)dst + row * dst_stride_row) + col, dst_stride_row, clamp_min, clamp_max);
        }
    }
}
