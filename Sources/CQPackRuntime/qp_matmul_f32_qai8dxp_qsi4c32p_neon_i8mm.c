/* f32 <- qai8dxp x qsi4c32p, NEON i8mm GEMM for the neon-i8mm target's tile: LHS packed with
 * mr = 4, kr = 16, sr = 2 (L = 8), RHS with nr a multiple of 4 and the same kr, sr. Each SMMLA
 * multiplies 2 LHS rows by 2 RHS rows over 8 values; block sums are exact, and the float
 * epilogue is the scalar reference's, so outputs are bit-identical to it. */
#include "qp_neon.h"
#include "qp_qsi4c32p_epilogue.h"
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
                acc[2 * rp][q] = vfmaq_f32(acc[2 * rp][q], qp_sixteenth_f32(row0), d);
                acc[2 * rp + 1][q] = vfmaq_f32(acc[2 * rp + 1][q], qp_sixteenth_f32(row1), d);
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
            const float32x4_t v = QP_QSI4C32P_FINISH(acc[i][q], rsum, vdupq_n_f32((float)neg_zp), lhs_scale, bias,
                                                     vdupq_n_f32(clamp_min), vdupq_n_f32(clamp_max));
            float lanes[4];
            vst1q_f32(lanes, v);
            for (size_t l = 0; l < 4 && 4 * q + l < columns; l++) out[4 * q + l] = lanes[l];
        }
    }
}

/* The neon-i8mm target's own tile (nr 8) at any bl: the loop above with its accumulators in
 * registers. Each 2x2 SMMLA tile keeps its float sum in SMMLA's lane order [r0c0 r0c1 r1c0 r1c1]
 * (scales arranged to match), so rows are put together once per tile rather than once per block;
 * every lane sees the same integer sums and the same fused float steps as above.
 * Per 32-value chunk: LHS 4 rows x 8 values per group, groups 2 and 3 the high-nibble partners
 * of 0 and 1; RHS per step s 4 column pairs x 16 bytes. */
#define QP_PAIR_STEP(p, bytes)                                                \
    do {                                                                      \
        const int8x16_t lo = vreinterpretq_s8_u8(vshlq_n_u8(bytes, 4)),       \
                        hi = vreinterpretq_s8_u8(vandq_u8(bytes, high_mask)); \
        t0##p = vmmlaq_s32(vmmlaq_s32(t0##p, a01lo, lo), a01hi, hi);          \
        t1##p = vmmlaq_s32(vmmlaq_s32(t1##p, a23lo, lo), a23hi, hi);          \
    } while (0)
#define QP_PAIR_FLOAT(p, d)                                   \
    do {                                                      \
        f0##p = vfmaq_f32(f0##p, qp_sixteenth_f32(t0##p), d); \
        f1##p = vfmaq_f32(f1##p, qp_sixteenth_f32(t1##p), d); \
    } while (0)
/* Columns 4q..4q+3 of row pair rp: tiles 2q and 2q+1, low halves row 2rp, high halves 2rp+1. */
#define QP_ZIP_LO(a, b) vreinterpretq_f32_f64(vzip1q_f64(vreinterpretq_f64_f32(a), vreinterpretq_f64_f32(b)))
#define QP_ZIP_HI(a, b) vreinterpretq_f32_f64(vzip2q_f64(vreinterpretq_f64_f32(a), vreinterpretq_f64_f32(b)))

QP_TARGET_I8MM
static inline __attribute__((always_inline)) void tile_4x8_body(const uint8_t *lp, size_t kp, const uint8_t *panel,
                                                                size_t k, size_t bl, size_t rows, size_t columns,
                                                                float *dst, size_t dst_stride_row, float clamp_min,
                                                                float clamp_max) {
    const size_t blocks = k / bl, block_bytes = 8 * (bl / 2 + 2);
    const uint8x16_t high_mask = vdupq_n_u8(0xF0);
    float32x4_t f00 = vdupq_n_f32(0.0f), f01 = f00, f02 = f00, f03 = f00, f10 = f00, f11 = f00, f12 = f00, f13 = f00;
    for (size_t b = 0; b < blocks; b++) {
        const uint8_t *blk = panel + b * block_bytes;
        int32x4_t t00 = vdupq_n_s32(0), t01 = t00, t02 = t00, t03 = t00, t10 = t00, t11 = t00, t12 = t00, t13 = t00;
        for (size_t c = 0; c < bl / 32; c++) {
            const int8_t *a = (const int8_t *)lp + (b * bl + 32 * c) * 4;
            const uint8_t *rb = blk + 128 * c;
            for (size_t s = 0; s < 2; s++) {
                const int8x16_t a01lo = vld1q_s8(a + 32 * s), a23lo = vld1q_s8(a + 32 * s + 16),
                                a01hi = vld1q_s8(a + 64 + 32 * s), a23hi = vld1q_s8(a + 64 + 32 * s + 16);
                QP_PAIR_STEP(0, vld1q_u8(rb + 64 * s));
                QP_PAIR_STEP(1, vld1q_u8(rb + 64 * s + 16));
                QP_PAIR_STEP(2, vld1q_u8(rb + 64 * s + 32));
                QP_PAIR_STEP(3, vld1q_u8(rb + 64 * s + 48));
            }
        }
        const uint16x8_t sbits = vld1q_u16((const uint16_t *)(blk + 4 * bl));
        const float32x4_t d03 = vreinterpretq_f32_u32(vshlq_n_u32(vmovl_u16(vget_low_u16(sbits)), 16)),
                          d47 = vreinterpretq_f32_u32(vshlq_n_u32(vmovl_u16(vget_high_u16(sbits)), 16));
        QP_PAIR_FLOAT(0, QP_ZIP_LO(d03, d03));
        QP_PAIR_FLOAT(1, QP_ZIP_HI(d03, d03));
        QP_PAIR_FLOAT(2, QP_ZIP_LO(d47, d47));
        QP_PAIR_FLOAT(3, QP_ZIP_HI(d47, d47));
    }
    const float32x4_t rows_q0[4] = {QP_ZIP_LO(f00, f01), QP_ZIP_HI(f00, f01), QP_ZIP_LO(f10, f11), QP_ZIP_HI(f10, f11)};
    const float32x4_t rows_q1[4] = {QP_ZIP_LO(f02, f03), QP_ZIP_HI(f02, f03), QP_ZIP_LO(f12, f13), QP_ZIP_HI(f12, f13)};
    const uint8_t *tail = panel + blocks * block_bytes;
    const float32x4_t rsum0 = qp_load_f32x4(tail), rsum1 = qp_load_f32x4(tail + 16);
    const float32x4_t bias0 = qp_load_f32x4(tail + 32), bias1 = qp_load_f32x4(tail + 48);
    for (size_t i = 0; i < rows; i++) {
        int32_t neg_zp;
        float lhs_scale;
        memcpy(&neg_zp, lp + 4 * kp + 4 * i, 4);
        memcpy(&lhs_scale, lp + 4 * kp + 16 + 4 * i, 4);
        float *out = (float *)((uint8_t *)dst + i * dst_stride_row);
        const float32x4_t zp = vdupq_n_f32((float)neg_zp), lo = vdupq_n_f32(clamp_min), hi = vdupq_n_f32(clamp_max);
        qp_store_f32x8_columns(out, QP_QSI4C32P_FINISH(rows_q0[i], rsum0, zp, lhs_scale, bias0, lo, hi),
                               QP_QSI4C32P_FINISH(rows_q1[i], rsum1, zp, lhs_scale, bias1, lo, hi), columns);
    }
}

/* bl 32 (one chunk per block) gets its own copy, without the chunk loop. */
QP_TARGET_I8MM
static void tile_4x8(const uint8_t *lp, size_t kp, const uint8_t *panel, size_t k, size_t bl, size_t rows,
                     size_t columns, float *dst, size_t dst_stride_row, float clamp_min, float clamp_max) {
    if (bl == 32)
        tile_4x8_body(lp, kp, panel, k, 32, rows, columns, dst, dst_stride_row, clamp_min, clamp_max);
    else
        tile_4x8_body(lp, kp, panel, k, bl, rows, columns, dst, dst_stride_row, clamp_min, clamp_max);
}
#undef QP_PAIR_STEP
#undef QP_PAIR_FLOAT
#undef QP_ZIP_LO
#undef QP_ZIP_HI

void qp_matmul_f32_qai8dxp_qsi4c32p_neon_i8mm(size_t m, size_t n, size_t k, size_t bl, qp_matmul_tile t,
                                              const void *lhs_packed, const void *rhs_packed, float *dst,
                                              size_t dst_stride_row, float clamp_min, float clamp_max) {
    const size_t kp = round_up(k, 32), lhs_panel = 4 * (kp + 8);
    const size_t rhs_panel = t.nr * ((k / bl) * (bl / 2 + 2) + 8);
    for (size_t row = 0; row < m; row += 4) {
        const uint8_t *lp = (const uint8_t *)lhs_packed + row / 4 * lhs_panel;
        for (size_t col = 0; col < n; col += t.nr) {
            const uint8_t *panel = (const uint8_t *)rhs_packed + col / t.nr * rhs_panel;
            const size_t rows = m - row < 4 ? m - row : 4, columns = n - col < t.nr ? n - col : t.nr;
            float *out = (float *)((uint8_t *)dst + row * dst_stride_row) + col;
            if (t.nr == 8)
                tile_4x8(lp, kp, panel, k, bl, rows, columns, out, dst_stride_row, clamp_min, clamp_max);
            else
                tile_4xnr(lp, kp, panel, k, bl, t.nr, rows, columns, out, dst_stride_row, clamp_min, clamp_max);
        }
    }
}
