/* f32 <- qsi8d32p x {qsi4c32p, qai4c32p}, NEON i8mm GEMM: LHS packed with mr = 4, kr = 16,
 * sr = 2 (L = 8), RHS with nr a multiple of 4 and the same kr, sr. Each SMMLA multiplies 2 LHS
 * rows by 2 RHS rows over 8 values; block sums are exact, then the scalar reference's float
 * steps, so outputs are bit-identical to it. */
#include "qp_neon.h"
#include "qp_qsi8d32p.h"

#include <string.h>

/* 16·Σ qa·w of one block for LHS rows 0..3 x RHS rows r0..r0+3, as rows[i] = 4 columns of row i. */
QP_TARGET_I8MM
static inline void block_dot4x4(const uint8_t *lhs_data, const uint8_t *rhs_data, size_t nr, size_t r0, size_t bl,
                                int pairs16, int32x4_t rows[4]) {
    const uint8x16_t high_mask = vdupq_n_u8(0xF0);
    const size_t partner = qp_qsi8d32p_partner(bl, pairs16);
    int32x4_t t00 = vdupq_n_s32(0), t01 = t00, t10 = t00, t11 = t00; /* [row pair][column pair] */
    for (size_t s = 0; s < bl / 16; s++) {
        const size_t lo = qp_qsi8d32p_low_index(8 * s, bl, pairs16), hi = lo + partner;
        /* LHS group of 8 values g: 4 rows x 8 bytes at g * 32; rows 0-1 then rows 2-3. */
        const int8_t *alo = (const int8_t *)lhs_data + lo / 8 * 32, *ahi = (const int8_t *)lhs_data + hi / 8 * 32;
        const int8x16_t a01lo = vld1q_s8(alo), a23lo = vld1q_s8(alo + 16);
        const int8x16_t a01hi = vld1q_s8(ahi), a23hi = vld1q_s8(ahi + 16);
        const uint8x16_t b01 = vld1q_u8(rhs_data + (s * nr + r0) * 8), b23 = vld1q_u8(rhs_data + (s * nr + r0 + 2) * 8);
        const int8x16_t b01lo = vreinterpretq_s8_u8(vshlq_n_u8(b01, 4)),
                        b01hi = vreinterpretq_s8_u8(vandq_u8(b01, high_mask));
        const int8x16_t b23lo = vreinterpretq_s8_u8(vshlq_n_u8(b23, 4)),
                        b23hi = vreinterpretq_s8_u8(vandq_u8(b23, high_mask));
        t00 = vmmlaq_s32(vmmlaq_s32(t00, a01lo, b01lo), a01hi, b01hi);
        t01 = vmmlaq_s32(vmmlaq_s32(t01, a01lo, b23lo), a01hi, b23hi);
        t10 = vmmlaq_s32(vmmlaq_s32(t10, a23lo, b01lo), a23hi, b01hi);
        t11 = vmmlaq_s32(vmmlaq_s32(t11, a23lo, b23lo), a23hi, b23hi);
    }
    /* A tile holds [r0c0 r0c1 r1c0 r1c1]: a row of 4 columns is the low (or high) halves of two. */
    rows[0] = vcombine_s32(vget_low_s32(t00), vget_low_s32(t01));
    rows[1] = vcombine_s32(vget_high_s32(t00), vget_high_s32(t01));
    rows[2] = vcombine_s32(vget_low_s32(t10), vget_low_s32(t11));
    rows[3] = vcombine_s32(vget_high_s32(t10), vget_high_s32(t11));
}

static inline float load_f32(const uint8_t *p) {
    float v;
    memcpy(&v, p, 4);
    return v;
}

QP_TARGET_I8MM
static void store_rows(float32x4_t acc[4], size_t rows, size_t columns, float *dst, size_t stride, float lo, float hi) {
    for (size_t i = 0; i < rows; i++) {
        const float32x4_t v = vminq_f32(vmaxq_f32(acc[i], vdupq_n_f32(lo)), vdupq_n_f32(hi));
        float *out = (float *)((uint8_t *)dst + i * stride);
        if (columns >= 4) { /* the common case as one store: a variable-length memcpy is a libc call per row */
            vst1q_f32(out, v);
            continue;
        }
        float lanes[4];
        vst1q_f32(lanes, v);
        memcpy(out, lanes, 4 * columns);
    }
}

static int shape_ok(size_t bl, qp_matmul_tile t) {
    return t.mr == 4 && t.kr == 16 && t.sr == 2 && t.nr % 4 == 0 && bl % 32 == 0;
}

/* Any tile the variant declares (nr a multiple of 4, blocks a multiple of 32). */
QP_TARGET_I8MM
static void qsi4c32p_gemm_general(size_t m, size_t n, size_t k, size_t bl, qp_matmul_tile t, const void *lhs_packed,
                                  const void *rhs_packed, float *dst, size_t dst_stride_row, float clamp_min,
                                  float clamp_max) {
    const size_t nr = t.nr, blocks = k / bl, lhs_record = 4 * (bl + 2), rhs_record = nr * (bl / 2 + 2);
    for (size_t row = 0; row < m; row += 4) {
        const uint8_t *lp = (const uint8_t *)lhs_packed + row / 4 * blocks * lhs_record;
        for (size_t col = 0; col < n; col += 4) {
            const uint8_t *rp = (const uint8_t *)rhs_packed + col / nr * blocks * rhs_record;
            const size_t r0 = col % nr;
            float32x4_t acc[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
            for (size_t b = 0; b < blocks; b++) {
                const uint8_t *lb = lp + b * lhs_record, *rb = rp + b * rhs_record;
                int32x4_t dot16[4];
                block_dot4x4(lb + 8, rb + 2 * nr, nr, r0, bl, 0, dot16);
                const float32x4_t d_rhs = qp_in_register(qp_load_f16x4(rb + 2 * r0));
                for (size_t i = 0; i < 4; i++) {
                    const float s_lhs = qp_f16_to_f32((uint16_t)(lb[2 * i] | lb[2 * i + 1] << 8));
                    acc[i] = vfmaq_f32(acc[i], qp_sixteenth_f32(dot16[i]), vmulq_n_f32(d_rhs, s_lhs));
                }
            }
            store_rows(acc, m - row < 4 ? m - row : 4, n - col, (float *)((uint8_t *)dst + row * dst_stride_row) + col,
                       dst_stride_row, clamp_min, clamp_max);
        }
    }
}

/* Rows i of a 4x4 block from SMMLA's 2x2 tiles [r0c0 r0c1 r1c0 r1c1]: low halves (row 0 of the
 * pair) or high halves (row 1), as ZIP1/ZIP2 on 64-bit lanes. */
#define QP_ROW_LO(a, b) vreinterpretq_s32_s64(vzip1q_s64(vreinterpretq_s64_s32(a), vreinterpretq_s64_s32(b)))
#define QP_ROW_HI(a, b) vreinterpretq_s32_s64(vzip2q_s64(vreinterpretq_s64_s32(a), vreinterpretq_s64_s32(b)))

/* The GEMM the shipped qai4c32p tile runs on i8mm (mr 4, nr 4, kr 16, sr 2, blocks of 32): the
 * general loop below with its constants folded and its accumulators in registers, the same
 * integer sums and float steps in the same order. Eight rows (two LHS row groups) go through
 * together where there are eight: the RHS nibbles are loaded and unpacked once for both.
 *
 * Block layout. LHS: 8-value groups g = 0..3 (values 8g ..), 4 rows x 8 bytes each, rows 0-1
 * then 2-3; groups 2 and 3 are the nibble partners of 0 and 1; then 4 float sums and 4 float
 * scales. RHS: per step s, rows 0-1 then 2-3, 8 bytes each; then 4 float offsets and 4 float
 * scales (times 16). */

/* The RHS of step s, nibbles unpacked to the high halves of bytes (16 times the code). */
#define QP_RHS_STEP(rb, s)                                                              \
    const uint8x16_t b01 = vld1q_u8((rb) + (s)*32), b23 = vld1q_u8((rb) + (s)*32 + 16); \
    const int8x16_t b01lo = vreinterpretq_s8_u8(vshlq_n_u8(b01, 4)),                    \
                    b01hi = vreinterpretq_s8_u8(vandq_u8(b01, high_mask)),              \
                    b23lo = vreinterpretq_s8_u8(vshlq_n_u8(b23, 4)),                    \
                    b23hi = vreinterpretq_s8_u8(vandq_u8(b23, high_mask))

/* One LHS row group's step s against the unpacked RHS: 2x2 tiles t00 t01 t10 t11. */
#define QP_LHS_STEP(lb, s, t00, t01, t10, t11)                                                    \
    do {                                                                                          \
        const int8_t *alo = (const int8_t *)(lb) + (s)*32, *ahi = alo + 64;                       \
        const int8x16_t a01lo = vld1q_s8(alo), a23lo = vld1q_s8(alo + 16), a01hi = vld1q_s8(ahi), \
                        a23hi = vld1q_s8(ahi + 16);                                               \
        t00 = vmmlaq_s32(vmmlaq_s32(t00, a01lo, b01lo), a01hi, b01hi);                            \
        t01 = vmmlaq_s32(vmmlaq_s32(t01, a01lo, b23lo), a01hi, b23hi);                            \
        t10 = vmmlaq_s32(vmmlaq_s32(t10, a23lo, b01lo), a23hi, b01hi);                            \
        t11 = vmmlaq_s32(vmmlaq_s32(t11, a23lo, b23lo), a23hi, b23hi);                            \
    } while (0)

/* The float steps of one block for a row group: offset times the row's sum, then the exact
 * block dot times scale16 times the row's scale. */
#define QP_BLOCK_FLOAT(lb, t00, t01, t10, t11, a0, a1, a2, a3)                                                   \
    do {                                                                                                         \
        const float32x4_t sums = qp_in_register(qp_load_f32x4((lb) + 128)),                                      \
                          scales = qp_in_register(qp_load_f32x4((lb) + 144));                                    \
        a0 = vfmaq_f32(a0, offset, vdupq_laneq_f32(sums, 0));                                                    \
        a0 = vfmaq_f32(a0, vcvtq_f32_s32(QP_ROW_LO(t00, t01)), vmulq_n_f32(scale16, vgetq_lane_f32(scales, 0))); \
        a1 = vfmaq_f32(a1, offset, vdupq_laneq_f32(sums, 1));                                                    \
        a1 = vfmaq_f32(a1, vcvtq_f32_s32(QP_ROW_HI(t00, t01)), vmulq_n_f32(scale16, vgetq_lane_f32(scales, 1))); \
        a2 = vfmaq_f32(a2, offset, vdupq_laneq_f32(sums, 2));                                                    \
        a2 = vfmaq_f32(a2, vcvtq_f32_s32(QP_ROW_LO(t10, t11)), vmulq_n_f32(scale16, vgetq_lane_f32(scales, 2))); \
        a3 = vfmaq_f32(a3, offset, vdupq_laneq_f32(sums, 3));                                                    \
        a3 = vfmaq_f32(a3, vcvtq_f32_s32(QP_ROW_HI(t10, t11)), vmulq_n_f32(scale16, vgetq_lane_f32(scales, 3))); \
    } while (0)

/* The integer part of one block for eight LHS rows (two row groups at lb and lc) against RHS
 * rows at rb: QP_RHS_STEP once per step, QP_LHS_STEP for each group. Codes start at the given
 * pointers (the qai4c32p and qsi4c32pscalef16 blocks differ only in where their scales sit). */
QP_TARGET_I8MM
static inline __attribute__((always_inline)) void int_block_8x4(const uint8_t *rb, const uint8_t *lb, const uint8_t *lc,
                                                                uint8x16_t high_mask, int32x4_t *tt, int32x4_t *uu) {
    int32x4_t t00 = tt[0], t01 = tt[1], t10 = tt[2], t11 = tt[3], u00 = uu[0], u01 = uu[1], u10 = uu[2], u11 = uu[3];
#if defined(__aarch64__)
    /* QP_RHS_STEP and QP_LHS_STEP for both steps and both row groups, in assembly (GCC
     * 12 -O2 added 17 register moves and a spill per block): the same SMMLAs on the same
     * operands, each tile's products added in the same order. */
    __asm__(".arch_extension i8mm\n\t"
            "ldp q20, q21, [%[rb], #0]\n\t"
            "shl v22.16b, v20.16b, #4\n\t"
            "and v23.16b, v20.16b, %[mask].16b\n\t"
            "shl v24.16b, v21.16b, #4\n\t"
            "and v25.16b, v21.16b, %[mask].16b\n\t"
            "ldp q26, q27, [%[lb], #0]\n\t"
            "ldp q28, q29, [%[lb], #64]\n\t"
            "smmla %[t00].4s, v26.16b, v22.16b\n\t"
            "smmla %[t01].4s, v26.16b, v24.16b\n\t"
            "smmla %[t10].4s, v27.16b, v22.16b\n\t"
            "smmla %[t11].4s, v27.16b, v24.16b\n\t"
            "smmla %[t00].4s, v28.16b, v23.16b\n\t"
            "smmla %[t01].4s, v28.16b, v25.16b\n\t"
            "smmla %[t10].4s, v29.16b, v23.16b\n\t"
            "smmla %[t11].4s, v29.16b, v25.16b\n\t"
            "ldp q26, q27, [%[lc], #0]\n\t"
            "ldp q28, q29, [%[lc], #64]\n\t"
            "smmla %[u00].4s, v26.16b, v22.16b\n\t"
            "smmla %[u01].4s, v26.16b, v24.16b\n\t"
            "smmla %[u10].4s, v27.16b, v22.16b\n\t"
            "smmla %[u11].4s, v27.16b, v24.16b\n\t"
            "smmla %[u00].4s, v28.16b, v23.16b\n\t"
            "smmla %[u01].4s, v28.16b, v25.16b\n\t"
            "smmla %[u10].4s, v29.16b, v23.16b\n\t"
            "smmla %[u11].4s, v29.16b, v25.16b\n\t"
            "ldp q20, q21, [%[rb], #32]\n\t"
            "shl v22.16b, v20.16b, #4\n\t"
            "and v23.16b, v20.16b, %[mask].16b\n\t"
            "shl v24.16b, v21.16b, #4\n\t"
            "and v25.16b, v21.16b, %[mask].16b\n\t"
            "ldp q26, q27, [%[lb], #32]\n\t"
            "ldp q28, q29, [%[lb], #96]\n\t"
            "smmla %[t00].4s, v26.16b, v22.16b\n\t"
            "smmla %[t01].4s, v26.16b, v24.16b\n\t"
            "smmla %[t10].4s, v27.16b, v22.16b\n\t"
            "smmla %[t11].4s, v27.16b, v24.16b\n\t"
            "smmla %[t00].4s, v28.16b, v23.16b\n\t"
            "smmla %[t01].4s, v28.16b, v25.16b\n\t"
            "smmla %[t10].4s, v29.16b, v23.16b\n\t"
            "smmla %[t11].4s, v29.16b, v25.16b\n\t"
            "ldp q26, q27, [%[lc], #32]\n\t"
            "ldp q28, q29, [%[lc], #96]\n\t"
            "smmla %[u00].4s, v26.16b, v22.16b\n\t"
            "smmla %[u01].4s, v26.16b, v24.16b\n\t"
            "smmla %[u10].4s, v27.16b, v22.16b\n\t"
            "smmla %[u11].4s, v27.16b, v24.16b\n\t"
            "smmla %[u00].4s, v28.16b, v23.16b\n\t"
            "smmla %[u01].4s, v28.16b, v25.16b\n\t"
            "smmla %[u10].4s, v29.16b, v23.16b\n\t"
            "smmla %[u11].4s, v29.16b, v25.16b\n\t"
            : [t00] "+w"(t00), [t01] "+w"(t01), [t10] "+w"(t10), [t11] "+w"(t11), [u00] "+w"(u00), [u01] "+w"(u01),
              [u10] "+w"(u10), [u11] "+w"(u11)
            : [rb] "r"(rb), [lb] "r"(lb), [lc] "r"(lc), [mask] "w"(high_mask)
            : "v20", "v21", "v22", "v23", "v24", "v25", "v26", "v27", "v28", "v29", "memory");
#else
    {
        QP_RHS_STEP(rb, 0);
        QP_LHS_STEP(lb, 0, t00, t01, t10, t11);
        QP_LHS_STEP(lc, 0, u00, u01, u10, u11);
    }
    {
        QP_RHS_STEP(rb, 1);
        QP_LHS_STEP(lb, 1, t00, t01, t10, t11);
        QP_LHS_STEP(lc, 1, u00, u01, u10, u11);
    }
#endif
    tt[0] = t00, tt[1] = t01, tt[2] = t10, tt[3] = t11, uu[0] = u00, uu[1] = u01, uu[2] = u10, uu[3] = u11;
}

QP_TARGET_I8MM
static void qai4c32p_gemm_nr4(size_t m, size_t n, size_t k, const uint8_t *lhs, const uint8_t *rhs, float *dst,
                              size_t stride, float clamp_min, float clamp_max) {
    const size_t blocks = k / 32, lhs_record = 4 * (32 + 8), rhs_record = 4 * (16 + 8);
    const uint8x16_t high_mask = vdupq_n_u8(0xF0);
    size_t row = 0;
    for (; row + 8 <= m; row += 8) {
        const uint8_t *lp = lhs + row / 4 * blocks * lhs_record, *lq = lp + blocks * lhs_record;
        for (size_t col = 0; col < n; col += 4) {
            const uint8_t *rp = rhs + col / 4 * (blocks * rhs_record + 16);
            float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            for (size_t b = 0; b < blocks; b++) {
                const uint8_t *lb = lp + b * lhs_record, *lc = lq + b * lhs_record, *rb = rp + b * rhs_record;
                int32x4_t t00 = vdupq_n_s32(0), t01 = t00, t10 = t00, t11 = t00, u00 = t00, u01 = t00, u10 = t00,
                          u11 = t00;
                {
                    int32x4_t tt[4] = {t00, t01, t10, t11}, uu[4] = {u00, u01, u10, u11};
                    int_block_8x4(rb, lb, lc, high_mask, tt, uu);
                    t00 = tt[0], t01 = tt[1], t10 = tt[2], t11 = tt[3], u00 = uu[0], u01 = uu[1], u10 = uu[2],
                    u11 = uu[3];
                }
                const float32x4_t offset = qp_in_register(qp_load_f32x4(rb + 64)),
                                  scale16 = qp_in_register(qp_load_f32x4(rb + 80));
                QP_BLOCK_FLOAT(lb, t00, t01, t10, t11, a0, a1, a2, a3);
                QP_BLOCK_FLOAT(lc, u00, u01, u10, u11, a4, a5, a6, a7);
            }
            const float32x4_t bias = qp_in_register(qp_load_f32x4(rp + blocks * rhs_record));
            float32x4_t top[4] = {vaddq_f32(a0, bias), vaddq_f32(a1, bias), vaddq_f32(a2, bias), vaddq_f32(a3, bias)};
            float32x4_t bottom[4] = {vaddq_f32(a4, bias), vaddq_f32(a5, bias), vaddq_f32(a6, bias),
                                     vaddq_f32(a7, bias)};
            float *out = (float *)((uint8_t *)dst + row * stride) + col;
            store_rows(top, 4, n - col, out, stride, clamp_min, clamp_max);
            store_rows(bottom, 4, n - col, (float *)((uint8_t *)out + 4 * stride), stride, clamp_min, clamp_max);
        }
    }
    for (; row < m && m - row > 2; row += 4) {
        const uint8_t *lp = lhs + row / 4 * blocks * lhs_record;
        for (size_t col = 0; col < n; col += 4) {
            const uint8_t *rp = rhs + col / 4 * (blocks * rhs_record + 16);
            float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;
            for (size_t b = 0; b < blocks; b++) {
                const uint8_t *lb = lp + b * lhs_record, *rb = rp + b * rhs_record;
                int32x4_t t00 = vdupq_n_s32(0), t01 = t00, t10 = t00, t11 = t00;
                { /* both steps written out: GCC -O2 kept a loop */
                    QP_RHS_STEP(rb, 0);
                    QP_LHS_STEP(lb, 0, t00, t01, t10, t11);
                }
                {
                    QP_RHS_STEP(rb, 1);
                    QP_LHS_STEP(lb, 1, t00, t01, t10, t11);
                }
                const float32x4_t offset = qp_in_register(qp_load_f32x4(rb + 64)),
                                  scale16 = qp_in_register(qp_load_f32x4(rb + 80));
                QP_BLOCK_FLOAT(lb, t00, t01, t10, t11, a0, a1, a2, a3);
            }
            const float32x4_t bias = qp_in_register(qp_load_f32x4(rp + blocks * rhs_record));
            float32x4_t acc[4] = {vaddq_f32(a0, bias), vaddq_f32(a1, bias), vaddq_f32(a2, bias), vaddq_f32(a3, bias)};
            store_rows(acc, m - row < 4 ? m - row : 4, n - col, (float *)((uint8_t *)dst + row * stride) + col, stride,
                       clamp_min, clamp_max);
        }
    }
    if (row < m && m - row <= 2) { /* the last group holds one or two rows: only its top SMMLA pair runs */
        const uint8_t *lp = lhs + row / 4 * blocks * lhs_record;
        for (size_t col = 0; col < n; col += 4) {
            const uint8_t *rp = rhs + col / 4 * (blocks * rhs_record + 16);
            float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0;
            for (size_t b = 0; b < blocks; b++) {
                const uint8_t *lb = lp + b * lhs_record, *rb = rp + b * rhs_record;
                int32x4_t t00 = vdupq_n_s32(0), t01 = t00;
                for (size_t s = 0; s < 2; s++) {
                    const uint8x16_t b01 = vld1q_u8(rb + s * 32), b23 = vld1q_u8(rb + s * 32 + 16);
                    const int8x16_t a01lo = vld1q_s8((const int8_t *)lb + s * 32),
                                    a01hi = vld1q_s8((const int8_t *)lb + s * 32 + 64);
                    t00 = vmmlaq_s32(vmmlaq_s32(t00, a01lo, vreinterpretq_s8_u8(vshlq_n_u8(b01, 4))), a01hi,
                                     vreinterpretq_s8_u8(vandq_u8(b01, high_mask)));
                    t01 = vmmlaq_s32(vmmlaq_s32(t01, a01lo, vreinterpretq_s8_u8(vshlq_n_u8(b23, 4))), a01hi,
                                     vreinterpretq_s8_u8(vandq_u8(b23, high_mask)));
                }
                const float32x4_t offset = qp_load_f32x4(rb + 64), scale16 = qp_load_f32x4(rb + 80);
                const float32x4_t sums = qp_load_f32x4(lb + 128), scales = qp_load_f32x4(lb + 144);
                a0 = vfmaq_f32(a0, offset, vdupq_laneq_f32(sums, 0));
                a0 = vfmaq_f32(a0, vcvtq_f32_s32(QP_ROW_LO(t00, t01)), vmulq_n_f32(scale16, vgetq_lane_f32(scales, 0)));
                a1 = vfmaq_f32(a1, offset, vdupq_laneq_f32(sums, 1));
                a1 = vfmaq_f32(a1, vcvtq_f32_s32(QP_ROW_HI(t00, t01)), vmulq_n_f32(scale16, vgetq_lane_f32(scales, 1)));
            }
            const float32x4_t bias = qp_load_f32x4(rp + blocks * rhs_record);
            float32x4_t acc[4] = {vaddq_f32(a0, bias), vaddq_f32(a1, bias), a0, a1};
            store_rows(acc, m - row, n - col, (float *)((uint8_t *)dst + row * stride) + col, stride, clamp_min,
                       clamp_max);
        }
    }
}
/* The GEMM the shipped qsi4c32pscalef16 i8mm tile runs (mr 4, nr 4, kr 16, sr 2, blocks of 32):
 * at bl 32 the codes are laid out as qai4c32p's, after the f16 scales (LHS: 4, then 128 code
 * bytes; RHS: 4, then 64). The general loop's float steps in its order: 16·Σ as a float times
 * 1/16, times (RHS scale · the row's LHS scale), fused; no bias in this family. */
QP_TARGET_I8MM
static void qsi4c32p_gemm_nr4(size_t m, size_t n, size_t k, const uint8_t *lhs, const uint8_t *rhs, float *dst,
                              size_t stride, float clamp_min, float clamp_max) {
    const size_t blocks = k / 32, lhs_record = 4 * (32 + 2), rhs_record = 4 * (16 + 2);
    const uint8x16_t high_mask = vdupq_n_u8(0xF0);
#define QP_F16_FLOAT(t00, t01, t10, t11, s_lhs, a0, a1, a2, a3)                                                  \
    do {                                                                                                         \
        a0 = vfmaq_f32(a0, qp_sixteenth_f32(QP_ROW_LO(t00, t01)), vmulq_n_f32(d_rhs, vgetq_lane_f32(s_lhs, 0))); \
        a1 = vfmaq_f32(a1, qp_sixteenth_f32(QP_ROW_HI(t00, t01)), vmulq_n_f32(d_rhs, vgetq_lane_f32(s_lhs, 1))); \
        a2 = vfmaq_f32(a2, qp_sixteenth_f32(QP_ROW_LO(t10, t11)), vmulq_n_f32(d_rhs, vgetq_lane_f32(s_lhs, 2))); \
        a3 = vfmaq_f32(a3, qp_sixteenth_f32(QP_ROW_HI(t10, t11)), vmulq_n_f32(d_rhs, vgetq_lane_f32(s_lhs, 3))); \
    } while (0)
    size_t row = 0;
    for (; row + 8 <= m; row += 8) { /* two row groups per unpacked RHS step, as qai4c32p's */
        const uint8_t *lp = lhs + row / 4 * blocks * lhs_record, *lq = lp + blocks * lhs_record;
        for (size_t col = 0; col < n; col += 4) {
            const uint8_t *rp = rhs + col / 4 * blocks * rhs_record;
            float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            for (size_t b = 0; b < blocks; b++) {
                const uint8_t *lb = lp + b * lhs_record, *lc = lq + b * lhs_record, *rb = rp + b * rhs_record;
                int32x4_t tt[4] = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
                int32x4_t uu[4] = {tt[0], tt[0], tt[0], tt[0]};
                int_block_8x4(rb + 8, lb + 8, lc + 8, high_mask, tt, uu);
                const float32x4_t d_rhs = qp_in_register(qp_load_f16x4(rb)), s_top = qp_in_register(qp_load_f16x4(lb)),
                                  s_bottom = qp_in_register(qp_load_f16x4(lc));
                QP_F16_FLOAT(tt[0], tt[1], tt[2], tt[3], s_top, a0, a1, a2, a3);
                QP_F16_FLOAT(uu[0], uu[1], uu[2], uu[3], s_bottom, a4, a5, a6, a7);
            }
            float32x4_t top[4] = {a0, a1, a2, a3}, bottom[4] = {a4, a5, a6, a7};
            float *out = (float *)((uint8_t *)dst + row * stride) + col;
            store_rows(top, 4, n - col, out, stride, clamp_min, clamp_max);
            store_rows(bottom, 4, n - col, (float *)((uint8_t *)out + 4 * stride), stride, clamp_min, clamp_max);
        }
    }
    for (; row < m; row += 4) {
        const uint8_t *lp = lhs + row / 4 * blocks * lhs_record;
        for (size_t col = 0; col < n; col += 4) {
            const uint8_t *rp = rhs + col / 4 * blocks * rhs_record;
            float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;
            for (size_t b = 0; b < blocks; b++) {
                const uint8_t *lb = lp + b * lhs_record, *rb = rp + b * rhs_record;
                int32x4_t t00 = vdupq_n_s32(0), t01 = t00, t10 = t00, t11 = t00;
                {
                    QP_RHS_STEP(rb + 8, 0);
                    QP_LHS_STEP(lb + 8, 0, t00, t01, t10, t11);
                }
                {
                    QP_RHS_STEP(rb + 8, 1);
                    QP_LHS_STEP(lb + 8, 1, t00, t01, t10, t11);
                }
                const float32x4_t d_rhs = qp_in_register(qp_load_f16x4(rb)), s_lhs = qp_in_register(qp_load_f16x4(lb));
                QP_F16_FLOAT(t00, t01, t10, t11, s_lhs, a0, a1, a2, a3);
            }
            float32x4_t acc[4] = {a0, a1, a2, a3};
            store_rows(acc, m - row < 4 ? m - row : 4, n - col, (float *)((uint8_t *)dst + row * stride) + col, stride,
                       clamp_min, clamp_max);
        }
    }
}
#undef QP_F16_FLOAT

QP_TARGET_I8MM
void qp_matmul_f32_qsi8d32p_qsi4c32p_neon_i8mm(size_t m, size_t n, size_t k, size_t bl, qp_matmul_tile t,
                                               const void *lhs_packed, const void *rhs_packed, float *dst,
                                               size_t dst_stride_row, float clamp_min, float clamp_max) {
    if (!shape_ok(bl, t)) return;
    if (t.nr == 4 && bl == 32) {
        qsi4c32p_gemm_nr4(m, n, k, lhs_packed, rhs_packed, dst, dst_stride_row, clamp_min, clamp_max);
        return;
    }
    qsi4c32p_gemm_general(m, n, k, bl, t, lhs_packed, rhs_packed, dst, dst_stride_row, clamp_min, clamp_max);
}

#undef QP_RHS_STEP
#undef QP_LHS_STEP
#undef QP_BLOCK_FLOAT
#undef QP_ROW_LO
#undef QP_ROW_HI

QP_TARGET_I8MM
void qp_matmul_f32_qsi8d32p_qai4c32p_neon_i8mm(size_t m, size_t n, size_t k, size_t bl, qp_matmul_tile t,
                                               const void *lhs_packed, const void *rhs_packed, float *dst,
                                               size_t dst_stride_row, float clamp_min, float clamp_max) {
    if (!shape_ok(bl, t)) return;
    if (t.nr == 4 && bl == 32) {
        qai4c32p_gemm_nr4(m, n, k, lhs_packed, rhs_packed, dst, dst_stride_row, clamp_min, clamp_max);
        return;
    }
    const size_t nr = t.nr, blocks = k / bl, lhs_record = 4 * (bl + 8), rhs_record = nr * (bl / 2 + 8);
    for (size_t row = 0; row < m; row += 4) {
        const uint8_t *lp = (const uint8_t *)lhs_packed + row / 4 * blocks * lhs_record;
        for (size_t col = 0; col < n; col += 4) {
            const uint8_t *rp = (const uint8_t *)rhs_packed + col / nr * (blocks * rhs_record + 4 * nr);
            const size_t r0 = col % nr;
            float32x4_t acc[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
            for (size_t b = 0; b < blocks; b++) {
                const uint8_t *lb = lp + b * lhs_record, *rb = rp + b * rhs_record;
                int32x4_t dot16[4];
                block_dot4x4(lb, rb, nr, r0, bl, 1, dot16);
                const float32x4_t offset = qp_in_register(qp_load_f32x4(rb + nr * bl / 2 + 4 * r0));
                const float32x4_t scale16 = qp_in_register(qp_load_f32x4(rb + nr * bl / 2 + 4 * nr + 4 * r0));
                for (size_t i = 0; i < 4; i++) {
                    const float lhs_sum = load_f32(lb + 4 * bl + 4 * i), lhs_scale = load_f32(lb + 4 * bl + 16 + 4 * i);
                    acc[i] = vfmaq_f32(acc[i], offset, vdupq_n_f32(lhs_sum));
                    acc[i] = vfmaq_f32(acc[i], vcvtq_f32_s32(dot16[i]), vmulq_n_f32(scale16, lhs_scale));
                }
            }
            const float32x4_t bias = qp_in_register(qp_load_f32x4(rp + blocks * rhs_record + 4 * r0));
            for (size_t i = 0; i < 4; i++) acc[i] = vaddq_f32(acc[i], bias);
            store_rows(acc, m - row < 4 ? m - row : 4, n - col, (float *)((uint8_t *)dst + row * dst_stride_row) + col,
                       dst_stride_row, clamp_min, clamp_max);
        }
    }
}
