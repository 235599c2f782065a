/* f32 <- qai8dxp x qsi4c32p, NEON dotprod GEMV: one LHS row at a time against panels of nr
 * output columns. Integer block sums with sdot (exact), then the float epilogue in the scalar
 * reference's order with fused multiply-adds where it fuses, so outputs are bit-identical. */
#include "qp_neon.h"
#include "qp_qsi4c32p_epilogue.h"
#include "qp_runtime.h"

#include <string.h>

#if defined(QP_X86_FAST_DOT)
#undef vfmaq_f32
#define vfmaq_f32(a, b, c) qp_vfmaq_f32_fma(a, b, c)
#endif

static size_t round_up(size_t v, size_t m) { return (v + m - 1) / m * m; }

/* One block's float step for four columns: acc += (isum / 16) · bf16 scale. */
QP_TARGET_DOTPROD
static inline float32x4_t block_step(float32x4_t acc, int32x4_t isum, const uint8_t *scales) {
    const uint16x4_t sbits = vld1_u16((const uint16_t *)scales);
    const float32x4_t d = vreinterpretq_f32_u32(vshlq_n_u32(vmovl_u16(sbits), 16));
    return vfmaq_f32(acc, qp_sixteenth_f32(isum), d);
}

/* The epilogue of four columns: row sums times -zero point, LHS scale, bias, clamp. */
QP_TARGET_DOTPROD
static inline void finish(float32x4_t acc, const uint8_t *tail, size_t nr, size_t r0, int32_t neg_zp, float lhs_scale,
                          float *out, size_t columns, float clamp_min, float clamp_max) {
    float32x4_t rsum, bias;
    memcpy(&rsum, tail + 4 * r0, 16);
    memcpy(&bias, tail + 4 * nr + 4 * r0, 16);
    const float32x4_t v = QP_QSI4C32P_FINISH(acc, rsum, vdupq_n_f32((float)neg_zp), lhs_scale, bias,
                                             vdupq_n_f32(clamp_min), vdupq_n_f32(clamp_max));
    if (r0 + 4 <= columns) {
        vst1q_f32(out + r0, v);
        return;
    }
    float lanes[4];
    vst1q_f32(lanes, v);
    for (size_t i = 0; r0 + i < columns; i++) out[r0 + i] = lanes[i];
}

/* The eight bf16 scales of a block as two float quads. */
#define QP_BLOCK_SCALES(blk, bl, d03, d47)                                                           \
    const uint16x8_t sbits_ = vld1q_u16((const uint16_t *)((blk) + 4 * (bl)));                       \
    const float32x4_t d03 = vreinterpretq_f32_u32(vshlq_n_u32(vmovl_u16(vget_low_u16(sbits_)), 16)), \
                      d47 = vreinterpretq_f32_u32(vshlq_n_u32(vmovl_u16(vget_high_u16(sbits_)), 16))

/* L == 4, nr == 8 (the neon-dotprod target's tile): per 32-value chunk, step s holds values
 * 4s..4s+3 of the eight columns (columns 0-3 then 4-7, low nibbles) and their partners 16 on
 * (high nibbles). Sixteen LHS values per load, each group of four against its step by element.
 * ROWS LHS rows (1 or 4, codes contiguous) go through together: the RHS is loaded and unpacked
 * once for all of them. Per row the same integer sums and float steps as the scalar reference. */
#define QP_L4_ROW_STEP(i, s, lo, hi, x0, x1) \
    do {                                     \
        x0 = QP_SDOT_LANE(x0, w0lo, lo, s);  \
        x0 = QP_SDOT_LANE(x0, w0hi, hi, s);  \
        x1 = QP_SDOT_LANE(x1, w1lo, lo, s);  \
        x1 = QP_SDOT_LANE(x1, w1hi, hi, s);  \
    } while (0)
#define QP_L4_STEP(s)                                                                       \
    do {                                                                                    \
        const uint8x16_t q0 = vld1q_u8(seg + 32 * (s)), q1 = vld1q_u8(seg + 32 * (s) + 16); \
        const int8x16_t w0lo = vreinterpretq_s8_u8(vshlq_n_u8(q0, 4)),                      \
                        w0hi = vreinterpretq_s8_u8(vandq_u8(q0, high_mask)),                \
                        w1lo = vreinterpretq_s8_u8(vshlq_n_u8(q1, 4)),                      \
                        w1hi = vreinterpretq_s8_u8(vandq_u8(q1, high_mask));                \
        QP_L4_ROW_STEP(0, s, lo0, hi0, s00, s01);                                           \
        if (ROWS == 4) {                                                                    \
            QP_L4_ROW_STEP(1, s, lo1, hi1, s10, s11);                                       \
            QP_L4_ROW_STEP(2, s, lo2, hi2, s20, s21);                                       \
            QP_L4_ROW_STEP(3, s, lo3, hi3, s30, s31);                                       \
        }                                                                                   \
    } while (0)

/* The epilogue of eight columns of one row (finish()'s steps, with the panel's tail already in
 * registers: row sums 0-3, 4-7, biases 0-3, 4-7). */
QP_TARGET_DOTPROD
static inline void finish8(float32x4_t acc0, float32x4_t acc1, const float32x4_t tail[4], int32_t neg_zp,
                           float lhs_scale, float *out, size_t columns, float32x4_t lo, float32x4_t hi) {
    const float32x4_t zp = vdupq_n_f32((float)neg_zp);
    qp_store_f32x8_columns(out, QP_QSI4C32P_FINISH(acc0, tail[0], zp, lhs_scale, tail[2], lo, hi),
                           QP_QSI4C32P_FINISH(acc1, tail[1], zp, lhs_scale, tail[3], lo, hi), columns);
}

QP_TARGET_DOTPROD
static inline __attribute__((always_inline)) void rows_l4_nr8(size_t ROWS, const int8_t *const *codes,
                                                              const int32_t *neg_zp, const float *lhs_scale,
                                                              const uint8_t *panel, size_t k, size_t bl,
                                                              float *const *out, size_t columns, float clamp_min,
                                                              float clamp_max) {
    const uint8x16_t high_mask = vdupq_n_u8(0xF0);
    /* Both sides are read in order: per block its chunks of 128 RHS bytes, then 16 bytes of
     * scales; per row 32 codes a chunk. */
    const uint8_t *seg = panel;
    const int8_t *c0 = codes[0], *c1 = ROWS == 4 ? codes[1] : c0, *c2 = ROWS == 4 ? codes[2] : c0,
                 *c3 = ROWS == 4 ? codes[3] : c0;
    float32x4_t a00 = vdupq_n_f32(0.0f), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
    for (size_t b = 0; b < k / bl; b++) {
        int32x4_t s00 = vdupq_n_s32(0), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
        for (size_t c = 0; c < bl / 32; c++) {
#if defined(__aarch64__)
            if (ROWS == 4) {
                /* QP_L4_STEP for four rows in assembly: GCC -O2 unpacked all 16 RHS vectors first
                 * and spilled the float sums every block. The same SDOTs on the same operands. */
                __asm__("ldp q24, q25, [%[c0]], #32\n\t"
                        "ldp q26, q27, [%[c1]], #32\n\t"
                        "ldp q28, q29, [%[c2]], #32\n\t"
                        "ldp q30, q31, [%[c3]], #32\n\t"
                        "ldp q20, q21, [%[seg]], #32\n\t"
                        "shl v22.16b, v20.16b, #4\n\t"
                        "and v23.16b, v20.16b, %[mask].16b\n\t"
                        "shl v20.16b, v21.16b, #4\n\t"
                        "and v21.16b, v21.16b, %[mask].16b\n\t"
                        "sdot %[s00].4s, v22.16b, v24.4b[0]\n\t"
                        "sdot %[s00].4s, v23.16b, v25.4b[0]\n\t"
                        "sdot %[s01].4s, v20.16b, v24.4b[0]\n\t"
                        "sdot %[s01].4s, v21.16b, v25.4b[0]\n\t"
                        "sdot %[s10].4s, v22.16b, v26.4b[0]\n\t"
                        "sdot %[s10].4s, v23.16b, v27.4b[0]\n\t"
                        "sdot %[s11].4s, v20.16b, v26.4b[0]\n\t"
                        "sdot %[s11].4s, v21.16b, v27.4b[0]\n\t"
                        "sdot %[s20].4s, v22.16b, v28.4b[0]\n\t"
                        "sdot %[s20].4s, v23.16b, v29.4b[0]\n\t"
                        "sdot %[s21].4s, v20.16b, v28.4b[0]\n\t"
                        "sdot %[s21].4s, v21.16b, v29.4b[0]\n\t"
                        "sdot %[s30].4s, v22.16b, v30.4b[0]\n\t"
                        "sdot %[s30].4s, v23.16b, v31.4b[0]\n\t"
                        "sdot %[s31].4s, v20.16b, v30.4b[0]\n\t"
                        "sdot %[s31].4s, v21.16b, v31.4b[0]\n\t"
                        "ldp q20, q21, [%[seg]], #32\n\t"
                        "shl v22.16b, v20.16b, #4\n\t"
                        "and v23.16b, v20.16b, %[mask].16b\n\t"
                        "shl v20.16b, v21.16b, #4\n\t"
                        "and v21.16b, v21.16b, %[mask].16b\n\t"
                        "sdot %[s00].4s, v22.16b, v24.4b[1]\n\t"
                        "sdot %[s00].4s, v23.16b, v25.4b[1]\n\t"
                        "sdot %[s01].4s, v20.16b, v24.4b[1]\n\t"
                        "sdot %[s01].4s, v21.16b, v25.4b[1]\n\t"
                        "sdot %[s10].4s, v22.16b, v26.4b[1]\n\t"
                        "sdot %[s10].4s, v23.16b, v27.4b[1]\n\t"
                        "sdot %[s11].4s, v20.16b, v26.4b[1]\n\t"
                        "sdot %[s11].4s, v21.16b, v27.4b[1]\n\t"
                        "sdot %[s20].4s, v22.16b, v28.4b[1]\n\t"
                        "sdot %[s20].4s, v23.16b, v29.4b[1]\n\t"
                        "sdot %[s21].4s, v20.16b, v28.4b[1]\n\t"
                        "sdot %[s21].4s, v21.16b, v29.4b[1]\n\t"
                        "sdot %[s30].4s, v22.16b, v30.4b[1]\n\t"
                        "sdot %[s30].4s, v23.16b, v31.4b[1]\n\t"
                        "sdot %[s31].4s, v20.16b, v30.4b[1]\n\t"
                        "sdot %[s31].4s, v21.16b, v31.4b[1]\n\t"
                        "ldp q20, q21, [%[seg]], #32\n\t"
                        "shl v22.16b, v20.16b, #4\n\t"
                        "and v23.16b, v20.16b, %[mask].16b\n\t"
                        "shl v20.16b, v21.16b, #4\n\t"
                        "and v21.16b, v21.16b, %[mask].16b\n\t"
                        "sdot %[s00].4s, v22.16b, v24.4b[2]\n\t"
                        "sdot %[s00].4s, v23.16b, v25.4b[2]\n\t"
                        "sdot %[s01].4s, v20.16b, v24.4b[2]\n\t"
                        "sdot %[s01].4s, v21.16b, v25.4b[2]\n\t"
                        "sdot %[s10].4s, v22.16b, v26.4b[2]\n\t"
                        "sdot %[s10].4s, v23.16b, v27.4b[2]\n\t"
                        "sdot %[s11].4s, v20.16b, v26.4b[2]\n\t"
                        "sdot %[s11].4s, v21.16b, v27.4b[2]\n\t"
                        "sdot %[s20].4s, v22.16b, v28.4b[2]\n\t"
                        "sdot %[s20].4s, v23.16b, v29.4b[2]\n\t"
                        "sdot %[s21].4s, v20.16b, v28.4b[2]\n\t"
                        "sdot %[s21].4s, v21.16b, v29.4b[2]\n\t"
                        "sdot %[s30].4s, v22.16b, v30.4b[2]\n\t"
                        "sdot %[s30].4s, v23.16b, v31.4b[2]\n\t"
                        "sdot %[s31].4s, v20.16b, v30.4b[2]\n\t"
                        "sdot %[s31].4s, v21.16b, v31.4b[2]\n\t"
                        "ldp q20, q21, [%[seg]], #32\n\t"
                        "shl v22.16b, v20.16b, #4\n\t"
                        "and v23.16b, v20.16b, %[mask].16b\n\t"
                        "shl v20.16b, v21.16b, #4\n\t"
                        "and v21.16b, v21.16b, %[mask].16b\n\t"
                        "sdot %[s00].4s, v22.16b, v24.4b[3]\n\t"
                        "sdot %[s00].4s, v23.16b, v25.4b[3]\n\t"
                        "sdot %[s01].4s, v20.16b, v24.4b[3]\n\t"
                        "sdot %[s01].4s, v21.16b, v25.4b[3]\n\t"
                        "sdot %[s10].4s, v22.16b, v26.4b[3]\n\t"
                        "sdot %[s10].4s, v23.16b, v27.4b[3]\n\t"
                        "sdot %[s11].4s, v20.16b, v26.4b[3]\n\t"
                        "sdot %[s11].4s, v21.16b, v27.4b[3]\n\t"
                        "sdot %[s20].4s, v22.16b, v28.4b[3]\n\t"
                        "sdot %[s20].4s, v23.16b, v29.4b[3]\n\t"
                        "sdot %[s21].4s, v20.16b, v28.4b[3]\n\t"
                        "sdot %[s21].4s, v21.16b, v29.4b[3]\n\t"
                        "sdot %[s30].4s, v22.16b, v30.4b[3]\n\t"
                        "sdot %[s30].4s, v23.16b, v31.4b[3]\n\t"
                        "sdot %[s31].4s, v20.16b, v30.4b[3]\n\t"
                        "sdot %[s31].4s, v21.16b, v31.4b[3]\n\t"
                        : [s00] "+w"(s00), [s01] "+w"(s01), [s10] "+w"(s10), [s11] "+w"(s11), [s20] "+w"(s20),
                          [s21] "+w"(s21), [s30] "+w"(s30), [s31] "+w"(s31), [seg] "+r"(seg), [c0] "+r"(c0),
                          [c1] "+r"(c1), [c2] "+r"(c2), [c3] "+r"(c3)
                        : [mask] "w"(high_mask)
                        : "v20", "v21", "v22", "v23", "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31", "memory");
                continue;
            }
#endif
            const int8x16_t lo0 = vld1q_s8(c0), hi0 = vld1q_s8(c0 + 16);
            int8x16_t lo1 = lo0, hi1 = hi0, lo2 = lo0, hi2 = hi0, lo3 = lo0, hi3 = hi0;
            if (ROWS == 4) {
                lo1 = vld1q_s8(c1), hi1 = vld1q_s8(c1 + 16);
                lo2 = vld1q_s8(c2), hi2 = vld1q_s8(c2 + 16);
                lo3 = vld1q_s8(c3), hi3 = vld1q_s8(c3 + 16);
            }
            QP_L4_STEP(0);
            QP_L4_STEP(1);
            QP_L4_STEP(2);
            QP_L4_STEP(3);
            seg += 128, c0 += 32, c1 += 32, c2 += 32, c3 += 32;
        }
        QP_BLOCK_SCALES(seg, 0, d03, d47);
        seg += 16;
        a00 = vfmaq_f32(a00, qp_sixteenth_f32(s00), d03);
        a01 = vfmaq_f32(a01, qp_sixteenth_f32(s01), d47);
        if (ROWS == 4) {
            a10 = vfmaq_f32(a10, qp_sixteenth_f32(s10), d03);
            a11 = vfmaq_f32(a11, qp_sixteenth_f32(s11), d47);
            a20 = vfmaq_f32(a20, qp_sixteenth_f32(s20), d03);
            a21 = vfmaq_f32(a21, qp_sixteenth_f32(s21), d47);
            a30 = vfmaq_f32(a30, qp_sixteenth_f32(s30), d03);
            a31 = vfmaq_f32(a31, qp_sixteenth_f32(s31), d47);
        }
    }
    /* seg is now the panel's tail: 8 float row sums, then 8 float biases. */
    const float32x4_t tail[4] = {qp_load_f32x4(seg), qp_load_f32x4(seg + 16), qp_load_f32x4(seg + 32),
                                 qp_load_f32x4(seg + 48)};
    const float32x4_t lo = vdupq_n_f32(clamp_min), hi = vdupq_n_f32(clamp_max);
    finish8(a00, a01, tail, neg_zp[0], lhs_scale[0], out[0], columns, lo, hi);
    if (ROWS == 4) {
        finish8(a10, a11, tail, neg_zp[1], lhs_scale[1], out[1], columns, lo, hi);
        finish8(a20, a21, tail, neg_zp[2], lhs_scale[2], out[2], columns, lo, hi);
        finish8(a30, a31, tail, neg_zp[3], lhs_scale[3], out[3], columns, lo, hi);
    }
}
#undef QP_L4_STEP
#undef QP_L4_ROW_STEP

QP_TARGET_DOTPROD
static void rows1_l4_nr8(const int8_t *const *codes, const int32_t *neg_zp, const float *lhs_scale,
                         const uint8_t *panel, size_t k, size_t bl, float *const *out, size_t columns, float clamp_min,
                         float clamp_max) {
    if (bl == 32) /* one chunk per block: no chunk loop */
        rows_l4_nr8(1, codes, neg_zp, lhs_scale, panel, k, 32, out, columns, clamp_min, clamp_max);
    else
        rows_l4_nr8(1, codes, neg_zp, lhs_scale, panel, k, bl, out, columns, clamp_min, clamp_max);
}

QP_TARGET_DOTPROD
static void rows4_l4_nr8(const int8_t *const *codes, const int32_t *neg_zp, const float *lhs_scale,
                         const uint8_t *panel, size_t k, size_t bl, float *const *out, size_t columns, float clamp_min,
                         float clamp_max) {
    if (bl == 32) /* one chunk per block: no chunk loop */
        rows_l4_nr8(4, codes, neg_zp, lhs_scale, panel, k, 32, out, columns, clamp_min, clamp_max);
    else
        rows_l4_nr8(4, codes, neg_zp, lhs_scale, panel, k, bl, out, columns, clamp_min, clamp_max);
}

/* L == 8, nr == 8 (the neon-i8mm target's tile, as a GEMV): per 32-value chunk, step s holds
 * values 8s..8s+7 of the eight columns, a column pair per 16 bytes (low nibbles), and their
 * partners 16 on (high nibbles). The LHS eight values repeat in both halves; each pair's SDOT
 * lanes are [c v0-3, c v4-7, c+1 v0-3, c+1 v4-7], added pairwise once per block. */
#define QP_L8_PAIR(p, bytes, lo, hi)                                        \
    do {                                                                    \
        const uint8x16_t w_ = (bytes);                                      \
        p = vdotq_s32(p, vreinterpretq_s8_u8(vshlq_n_u8(w_, 4)), lo);       \
        p = vdotq_s32(p, vreinterpretq_s8_u8(vandq_u8(w_, high_mask)), hi); \
    } while (0)

QP_TARGET_DOTPROD
static inline __attribute__((always_inline)) void row_l8_nr8(const int8_t *codes, int32_t neg_zp, float lhs_scale,
                                                             const uint8_t *panel, size_t k, size_t bl, float *out,
                                                             size_t columns, float clamp_min, float clamp_max) {
    const uint8x16_t high_mask = vdupq_n_u8(0xF0);
    const uint8_t *seg = panel; /* per block its chunks of 128 bytes, then 16 bytes of scales */
    float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = acc0;
    for (size_t b = 0; b < k / bl; b++) {
        int32x4_t p0 = vdupq_n_s32(0), p1 = p0, p2 = p0, p3 = p0;
        for (size_t c = 0; c < bl / 32; c++, codes += 32, seg += 128) {
            for (size_t s = 0; s < 2; s++) {
                const int8x16_t lo = vreinterpretq_s8_s64(vld1q_dup_s64((const int64_t *)(codes + 8 * s)));
                const int8x16_t hi = vreinterpretq_s8_s64(vld1q_dup_s64((const int64_t *)(codes + 16 + 8 * s)));
                QP_L8_PAIR(p0, vld1q_u8(seg + 64 * s), lo, hi);
                QP_L8_PAIR(p1, vld1q_u8(seg + 64 * s + 16), lo, hi);
                QP_L8_PAIR(p2, vld1q_u8(seg + 64 * s + 32), lo, hi);
                QP_L8_PAIR(p3, vld1q_u8(seg + 64 * s + 48), lo, hi);
            }
        }
        QP_BLOCK_SCALES(seg, 0, d03, d47);
        seg += 16;
        acc0 = vfmaq_f32(acc0, qp_sixteenth_f32(vpaddq_s32(p0, p1)), d03);
        acc1 = vfmaq_f32(acc1, qp_sixteenth_f32(vpaddq_s32(p2, p3)), d47);
    }
    const float32x4_t tail[4] = {qp_load_f32x4(seg), qp_load_f32x4(seg + 16), qp_load_f32x4(seg + 32),
                                 qp_load_f32x4(seg + 48)};
    finish8(acc0, acc1, tail, neg_zp, lhs_scale, out, columns, vdupq_n_f32(clamp_min), vdupq_n_f32(clamp_max));
}
#undef QP_L8_PAIR

QP_TARGET_DOTPROD
static void panel_l8_nr8(const int8_t *codes, int32_t neg_zp, float lhs_scale, const uint8_t *panel, size_t k,
                         size_t bl, float *out, size_t columns, float clamp_min, float clamp_max) {
    if (bl == 32) /* one chunk per block: no chunk loop */
        row_l8_nr8(codes, neg_zp, lhs_scale, panel, k, 32, out, columns, clamp_min, clamp_max);
    else
        row_l8_nr8(codes, neg_zp, lhs_scale, panel, k, bl, out, columns, clamp_min, clamp_max);
}

/* Any nr that is a multiple of 4: column quads one after another. */
QP_TARGET_DOTPROD
static void row_panel(const int8_t *lhs_row_codes /* Kp values, unpacked */, int32_t neg_zp, float lhs_scale,
                      const uint8_t *panel, size_t k, size_t bl, size_t nr, size_t L, float *out, size_t columns,
                      float clamp_min, float clamp_max) {
    const size_t blocks = k / bl, block_bytes = nr * (bl / 2 + 2);
    const uint8x16_t high_mask = vdupq_n_u8(0xF0);
    for (size_t r0 = 0; r0 < nr; r0 += 4) {
        float32x4_t acc = vdupq_n_f32(0.0f);
        for (size_t b = 0; b < blocks; b++) {
            const uint8_t *blk = panel + b * block_bytes;
            int32x4_t isum = vdupq_n_s32(0);
            for (size_t c = 0; c < bl / 32; c++) {
                for (size_t s = 0; s < 16 / L; s++) {
                    const int8_t *lo = lhs_row_codes + b * bl + 32 * c + s * L;
                    const uint8_t *seg = blk + ((c * (16 / L) + s) * nr + r0) * L;
                    if (L == 4) {
                        int32_t wlo, whi;
                        memcpy(&wlo, lo, 4);
                        memcpy(&whi, lo + 16, 4);
                        const uint8x16_t bytes = vld1q_u8(seg);
                        isum = vdotq_s32(isum, vreinterpretq_s8_u8(vshlq_n_u8(bytes, 4)),
                                         vreinterpretq_s8_s32(vdupq_n_s32(wlo)));
                        isum = vdotq_s32(isum, vreinterpretq_s8_u8(vandq_u8(bytes, high_mask)),
                                         vreinterpretq_s8_s32(vdupq_n_s32(whi)));
                    } else {
                        const int8x16_t alo = vcombine_s8(vld1_s8(lo), vld1_s8(lo));
                        const int8x16_t ahi = vcombine_s8(vld1_s8(lo + 16), vld1_s8(lo + 16));
                        const uint8x16_t b01 = vld1q_u8(seg), b23 = vld1q_u8(seg + 16);
                        int32x4_t p01 = vdupq_n_s32(0), p23 = vdupq_n_s32(0);
                        p01 = vdotq_s32(p01, vreinterpretq_s8_u8(vshlq_n_u8(b01, 4)), alo);
                        p01 = vdotq_s32(p01, vreinterpretq_s8_u8(vandq_u8(b01, high_mask)), ahi);
                        p23 = vdotq_s32(p23, vreinterpretq_s8_u8(vshlq_n_u8(b23, 4)), alo);
                        p23 = vdotq_s32(p23, vreinterpretq_s8_u8(vandq_u8(b23, high_mask)), ahi);
                        isum = vaddq_s32(isum, vpaddq_s32(p01, p23));
                    }
                }
            }
            acc = block_step(acc, isum, blk + nr * bl / 2 + 2 * r0);
        }
        finish(acc, panel + blocks * block_bytes, nr, r0, neg_zp, lhs_scale, out, columns, clamp_min, clamp_max);
    }
}

#if defined(QP_X86_FAST_DOT)
/* x86 only: nr = 8 panels with native AVX2 instead of the NEON source through SIMDe (which is
 * limited to 128-bit steps). The same integers and the same float operations in the same order,
 * so the bits are those of the NEON source and the scalar reference (qp_use_x86_extensions(0)
 * selects the NEON source instead):
 * - a nibble u (two's complement q) is turned into t = u ^ 8 = q + 8 in 0..15, so
 *   VPMADDUBSW(t, a) sums pairs t·a exactly (|sum| <= 2·15·128); over one 32-value chunk each
 *   int16 lane gathers at most 16 products (<= 30720), then VPMADDWD adds lane pairs into int32;
 * - Σ q·a = Σ t·a − 8·Σ a, with Σ a per block computed once per LHS row;
 * - the block's sum of (q << 4)·a, as SDOT computes it, is 16 times that; float steps use
 *   VFMADD (one rounding, as FMLA). */
#include <immintrin.h>

QP_TARGET_DOTPROD
static void panel_nr8_avx2(const int8_t *codes, const int32_t *block_sums, int32_t neg_zp, float lhs_scale,
                           const uint8_t *panel, size_t k, size_t bl, size_t L, float *out, size_t columns,
                           float clamp_min, float clamp_max) {
    const size_t nr = 8, blocks = k / bl, block_bytes = nr * (bl / 2 + 2);
    const __m256i low4 = _mm256_set1_epi8(0x0F), eight = _mm256_set1_epi8(0x08), ones = _mm256_set1_epi16(1);
    __m256 acc = _mm256_setzero_ps();
    for (size_t b = 0; b < blocks; b++) {
        const uint8_t *blk = panel + b * block_bytes;
        __m256i isum = _mm256_setzero_si256();
        for (size_t c = 0; c < bl / 32; c++) {
            const int8_t *lo = codes + b * bl + 32 * c;
            const uint8_t *seg = blk + c * 16 * nr;
            __m256i chunk;
            if (L == 4) {
                /* Segment s: 32 bytes = 8 columns x 4 values; the LHS word repeats per lane. */
                __m256i p16 = _mm256_setzero_si256();
                for (size_t s = 0; s < 4; s++) {
                    int32_t wlo, whi;
                    memcpy(&wlo, lo + 4 * s, 4);
                    memcpy(&whi, lo + 16 + 4 * s, 4);
                    const __m256i w = _mm256_loadu_si256((const __m256i *)(seg + 32 * s));
                    const __m256i tlo = _mm256_xor_si256(_mm256_and_si256(w, low4), eight);
                    const __m256i thi = _mm256_xor_si256(_mm256_and_si256(_mm256_srli_epi16(w, 4), low4), eight);
                    p16 = _mm256_add_epi16(p16, _mm256_maddubs_epi16(tlo, _mm256_set1_epi32(wlo)));
                    p16 = _mm256_add_epi16(p16, _mm256_maddubs_epi16(thi, _mm256_set1_epi32(whi)));
                }
                chunk = _mm256_madd_epi16(p16, ones); /* one int32 per column */
            } else {
                /* Segment s: 64 bytes = 8 columns x 8 values; the LHS 8 bytes repeat per qword. */
                __m256i p03 = _mm256_setzero_si256(), p47 = _mm256_setzero_si256();
                for (size_t s = 0; s < 2; s++) {
                    int64_t alo, ahi;
                    memcpy(&alo, lo + 8 * s, 8);
                    memcpy(&ahi, lo + 16 + 8 * s, 8);
                    const __m256i vlo = _mm256_set1_epi64x(alo), vhi = _mm256_set1_epi64x(ahi);
                    const __m256i w03 = _mm256_loadu_si256((const __m256i *)(seg + 64 * s));
                    const __m256i w47 = _mm256_loadu_si256((const __m256i *)(seg + 64 * s + 32));
                    p03 = _mm256_add_epi16(
                        p03, _mm256_maddubs_epi16(_mm256_xor_si256(_mm256_and_si256(w03, low4), eight), vlo));
                    p03 = _mm256_add_epi16(
                        p03, _mm256_maddubs_epi16(
                                 _mm256_xor_si256(_mm256_and_si256(_mm256_srli_epi16(w03, 4), low4), eight), vhi));
                    p47 = _mm256_add_epi16(
                        p47, _mm256_maddubs_epi16(_mm256_xor_si256(_mm256_and_si256(w47, low4), eight), vlo));
                    p47 = _mm256_add_epi16(
                        p47, _mm256_maddubs_epi16(
                                 _mm256_xor_si256(_mm256_and_si256(_mm256_srli_epi16(w47, 4), low4), eight), vhi));
                }
                /* Two int32 halves per column, then pairwise: columns 0 1 4 5 | 2 3 6 7, reordered. */
                const __m256i h = _mm256_hadd_epi32(_mm256_madd_epi16(p03, ones), _mm256_madd_epi16(p47, ones));
                chunk = _mm256_permute4x64_epi64(h, 0xD8);
            }
            isum = _mm256_add_epi32(isum, chunk);
        }
        /* Σ q·a = Σ t·a − 8·Σ a; SDOT on (q << 4) gives 16 times that. */
        isum = _mm256_slli_epi32(_mm256_sub_epi32(isum, _mm256_set1_epi32(8 * block_sums[b])), 4);
        const __m256 d = _mm256_castsi256_ps(
            _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(blk + nr * bl / 2))), 16));
        acc = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(0.0625f)), d, acc);
    }
    const uint8_t *tail = panel + blocks * block_bytes;
    acc = _mm256_fmadd_ps(_mm256_loadu_ps((const float *)tail), _mm256_set1_ps((float)neg_zp), acc);
    __m256 v =
        _mm256_add_ps(_mm256_mul_ps(acc, _mm256_set1_ps(lhs_scale)), _mm256_loadu_ps((const float *)(tail + 4 * nr)));
    v = _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(clamp_min)), _mm256_set1_ps(clamp_max));
    if (columns == 8) {
        _mm256_storeu_ps(out, v);
    } else {
        float lanes[8];
        _mm256_storeu_ps(lanes, v);
        for (size_t i = 0; i < columns; i++) out[i] = lanes[i];
    }
}
#endif

/* One LHS row's codes (kp values), its negated zero point and scale; the codes are gathered out
 * of the row's panel into `buf` unless they are already contiguous (mr == 1). */
static const int8_t *lhs_row(const void *lhs_packed, size_t row, size_t kp, qp_matmul_tile t, int8_t *buf,
                             int32_t *neg_zp, float *lhs_scale) {
    const size_t L = t.kr / t.sr, r = row % t.mr;
    const uint8_t *lp = (const uint8_t *)lhs_packed + row / t.mr * t.mr * (kp + 8);
    memcpy(neg_zp, lp + t.mr * kp + 4 * r, 4);
    memcpy(lhs_scale, lp + t.mr * kp + 4 * t.mr + 4 * r, 4);
    if (t.mr == 1) return (const int8_t *)lp;
    for (size_t i = 0; i < kp; i++) buf[i] = (int8_t)lp[(i / L * t.mr + r) * L + i % L];
    return buf;
}

void qp_matmul_f32_qai8dxp_qsi4c32p_neon_dotprod(size_t m, size_t n, size_t k, size_t bl, qp_matmul_tile t,
                                                 const void *lhs_packed, const void *rhs_packed, float *dst,
                                                 size_t dst_stride_row, float clamp_min, float clamp_max) {
    /* Dispatch chooses this variant only for L 4 or 8, nr % 4 == 0, whole blocks and k <= 65536
     * (a gathered row's codes live on the stack). */
    const size_t L_rhs = t.kr / t.sr;
    const size_t kp = round_up(k, 32);
    const size_t panel_stride = t.nr * ((k / bl) * (bl / 2 + 2) + 8);
    int8_t buf[4][kp];
    size_t row = 0;
#if defined(QP_X86_FAST_DOT)
    if (t.nr == 8 && qp_x86_extensions_enabled()) {
        for (; row < m; row++) {
            int32_t neg_zp;
            float lhs_scale;
            const int8_t *codes = lhs_row(lhs_packed, row, kp, t, buf[0], &neg_zp, &lhs_scale);
            float *out = (float *)((uint8_t *)dst + row * dst_stride_row);
            int32_t block_sums[k / bl];
            for (size_t b = 0; b < k / bl; b++) {
                int32_t sum = 0;
                for (size_t i = 0; i < bl; i++) sum += codes[b * bl + i];
                block_sums[b] = sum;
            }
            for (size_t col = 0; col < n; col += t.nr)
                panel_nr8_avx2(codes, block_sums, neg_zp, lhs_scale,
                               (const uint8_t *)rhs_packed + col / t.nr * panel_stride, k, bl, L_rhs, out + col,
                               n - col < t.nr ? n - col : t.nr, clamp_min, clamp_max);
        }
        return;
    }
#endif
    if (t.nr == 8 && L_rhs == 4) { /* four rows per pass over the RHS, then one at a time */
        for (; row < m; row += row + 4 <= m ? 4 : 1) {
            const size_t rows = row + 4 <= m ? 4 : 1;
            const int8_t *codes[4];
            int32_t neg_zp[4];
            float lhs_scale[4], *out[4];
            for (size_t i = 0; i < rows; i++) {
                codes[i] = lhs_row(lhs_packed, row + i, kp, t, buf[i], &neg_zp[i], &lhs_scale[i]);
                out[i] = (float *)((uint8_t *)dst + (row + i) * dst_stride_row);
            }
            for (size_t col = 0; col < n; col += 8) {
                const uint8_t *panel = (const uint8_t *)rhs_packed + col / 8 * panel_stride;
                const size_t columns = n - col < 8 ? n - col : 8;
                float *o[4] = {out[0] + col, rows == 4 ? out[1] + col : 0, rows == 4 ? out[2] + col : 0,
                               rows == 4 ? out[3] + col : 0};
                if (rows == 4)
                    rows4_l4_nr8(codes, neg_zp, lhs_scale, panel, k, bl, o, columns, clamp_min, clamp_max);
                else
                    rows1_l4_nr8(codes, neg_zp, lhs_scale, panel, k, bl, o, columns, clamp_min, clamp_max);
            }
        }
        return;
    }
    for (; row < m; row++) {
        int32_t neg_zp;
        float lhs_scale;
        const int8_t *codes = lhs_row(lhs_packed, row, kp, t, buf[0], &neg_zp, &lhs_scale);
        float *out = (float *)((uint8_t *)dst + row * dst_stride_row);
        for (size_t col = 0; col < n; col += t.nr) {
            const uint8_t *panel = (const uint8_t *)rhs_packed + col / t.nr * panel_stride;
            const size_t columns = n - col < t.nr ? n - col : t.nr;
            if (t.nr == 8 && L_rhs == 8)
                panel_l8_nr8(codes, neg_zp, lhs_scale, panel, k, bl, out + col, columns, clamp_min, clamp_max);
            else
                row_panel(codes, neg_zp, lhs_scale, panel, k, bl, t.nr, L_rhs, out + col, columns, clamp_min,
                          clamp_max);
        }
    }
}
