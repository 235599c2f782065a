/* f32 <- qai8dxp x qsi4cxp and x qsi8cxp, NEON i8mm GEMMs for the neon-i8mm target's tiles:
 * LHS packed with mr = 4 and L = 8 (qsi4cxp: kr 16, sr 2; qsi8cxp: kr 8, sr 1), RHS nr a
 * multiple of 4 (qsi8cxp: its kr 8). SMMLA tiles of 2 LHS rows x 2 RHS rows; integer sums are
 * exact and the epilogue is the scalar reference's, so outputs are bit-identical to it. */
#include "qp_cxp_epilogue.h"
#include "qp_neon.h"
#include "qp_runtime.h"

#include <string.h>

static size_t round_up(size_t v, size_t m) { return (v + m - 1) / m * m; }

/* isum[2 row pairs][nr/2 column pairs] for one 4-row LHS panel against one RHS panel. */
QP_TARGET_I8MM
static void epilogue_4xnr(int32x4_t t[2][32], const uint8_t *lp, size_t kp, const uint8_t *tail, size_t nr, size_t rows,
                          size_t columns, float *dst, size_t dst_stride_row, float clamp_min, float clamp_max) {
    for (size_t i = 0; i < rows; i++) {
        int32_t neg_zp;
        float lhs_scale;
        memcpy(&neg_zp, lp + 4 * kp + 4 * i, 4);
        memcpy(&lhs_scale, lp + 4 * kp + 16 + 4 * i, 4);
        float *out = (float *)((uint8_t *)dst + i * dst_stride_row);
        for (size_t q = 0; q < nr / 4 && 4 * q < columns; q++) {
            const int32x4_t x = t[i / 2][2 * q], y = t[i / 2][2 * q + 1];
            const int32x4_t isum = i % 2 ? vcombine_s32(vget_high_s32(x), vget_high_s32(y))
                                         : vcombine_s32(vget_low_s32(x), vget_low_s32(y));
            int32x4_t rsum;
            float32x4_t scale, bias;
            memcpy(&rsum, tail + 16 * q, 16);
            memcpy(&scale, tail + 4 * nr + 16 * q, 16);
            memcpy(&bias, tail + 8 * nr + 16 * q, 16);
            qp_store_f32x4_columns(out + 4 * q,
                                   QP_CXP_FINISH(isum, rsum, scale, bias, vdupq_n_s32(neg_zp), vdupq_n_f32(lhs_scale),
                                                 0, vdupq_n_f32(clamp_min), vdupq_n_f32(clamp_max)),
                                   columns - 4 * q);
        }
    }
}

QP_TARGET_I8MM
static void qsi4cxp_tile(const uint8_t *lp, size_t kp, const uint8_t *panel, size_t nr, size_t rows, size_t columns,
                         float *dst, size_t dst_stride_row, float clamp_min, float clamp_max) {
    const uint8x16_t high_mask = vdupq_n_u8(0xF0);
    int32x4_t t[2][32];
    for (size_t p = 0; p < nr / 2; p++) t[0][p] = t[1][p] = vdupq_n_s32(0);
    for (size_t s = 0; s < kp / 16; s++) {
        /* segment s holds kl = 8s..8s+7: low nibbles k0 = 32(kl/16) + kl%16, high k0 + 16 */
        const size_t kl = 8 * s, k0 = 32 * (kl / 16) + kl % 16;
        const int8_t *alo = (const int8_t *)lp + (k0 / 8) * 32, *ahi = (const int8_t *)lp + (k0 / 8 + 2) * 32;
        const int8x16_t a01lo = vld1q_s8(alo), a23lo = vld1q_s8(alo + 16), a01hi = vld1q_s8(ahi),
                        a23hi = vld1q_s8(ahi + 16);
        const uint8_t *seg = panel + s * nr * 8;
        for (size_t p = 0; p < nr / 2; p++) {
            const uint8x16_t bytes = vld1q_u8(seg + 16 * p);
            const int8x16_t blo = vreinterpretq_s8_u8(vshlq_n_u8(bytes, 4)),
                            bhi = vreinterpretq_s8_u8(vandq_u8(bytes, high_mask));
            t[0][p] = vmmlaq_s32(vmmlaq_s32(t[0][p], a01lo, blo), a01hi, bhi);
            t[1][p] = vmmlaq_s32(vmmlaq_s32(t[1][p], a23lo, blo), a23hi, bhi);
        }
    }
    epilogue_4xnr(t, lp, kp, panel + nr * kp / 2, nr, rows, columns, dst, dst_stride_row, clamp_min, clamp_max);
}

QP_TARGET_I8MM
static void qsi8cxp_tile(const uint8_t *lp, size_t kp, const uint8_t *panel, size_t nr, size_t rows, size_t columns,
                         float *dst, size_t dst_stride_row, float clamp_min, float clamp_max) {
    int32x4_t t[2][32];
    for (size_t p = 0; p < nr / 2; p++) t[0][p] = t[1][p] = vdupq_n_s32(0);
    for (size_t s = 0; s < kp / 8; s++) {
        const int8_t *a = (const int8_t *)lp + s * 32;
        const int8x16_t a01 = vld1q_s8(a), a23 = vld1q_s8(a + 16);
        const int8_t *seg = (const int8_t *)panel + s * nr * 8;
        for (size_t p = 0; p < nr / 2; p++) {
            const int8x16_t b = vld1q_s8(seg + 16 * p);
            t[0][p] = vmmlaq_s32(t[0][p], a01, b);
            t[1][p] = vmmlaq_s32(t[1][p], a23, b);
        }
    }
    epilogue_4xnr(t, lp, kp, panel + nr * kp, nr, rows, columns, dst, dst_stride_row, clamp_min, clamp_max);
}

/* The shipped tiles with their accumulators in named registers (an array of vectors lives on the
 * stack at -O2: a load and a store around every SMMLA); the same SMMLA steps in the same order and
 * the same epilogue, so the same bits. */

/* qsi8cxp, nr 4 (kr 8). Per step of eight values: the RHS's two column pairs (32 bytes), each
 * LHS panel's two row pairs (32 bytes), four SMMLAs per panel. Tiles t[0..3] are the first
 * panel's [row pair][column pair], t[4..7] the second's. */
QP_TARGET_I8MM
static inline __attribute__((always_inline)) void qsi8cxp_sums_nr4(int two, const uint8_t *lp, const uint8_t *lq,
                                                                   const uint8_t *panel, size_t kp, int32x4_t t[8]) {
    t[0] = t[1] = t[2] = t[3] = t[4] = t[5] = t[6] = t[7] = vdupq_n_s32(0);
#if defined(__aarch64__)
    /* The steps four at a time (kp / 8 is a multiple of 4), pointers post-incremented: GCC -O2
     * kept one step per iteration with separate address arithmetic. */
    const uint8_t *rb = panel, *la = lp, *lc = lq;
    size_t steps = kp / 8;
/* One step: the RHS column pairs and the first panel's row pairs (then the second's), then the
 * SMMLAs of the first panel (then the second's). */
#define QP_LOAD_T "ldp q16, q17, [%[rb]], #32\n\tldp q18, q19, [%[la]], #32\n\t"
#define QP_LOAD_U "ldp q20, q21, [%[lc]], #32\n\t"
#define QP_MMLA_T                           \
    "smmla %[t00].4s, v18.16b, v16.16b\n\t" \
    "smmla %[t01].4s, v18.16b, v17.16b\n\t" \
    "smmla %[t10].4s, v19.16b, v16.16b\n\t" \
    "smmla %[t11].4s, v19.16b, v17.16b\n\t"
#define QP_MMLA_U                           \
    "smmla %[u00].4s, v20.16b, v16.16b\n\t" \
    "smmla %[u01].4s, v20.16b, v17.16b\n\t" \
    "smmla %[u10].4s, v21.16b, v16.16b\n\t" \
    "smmla %[u11].4s, v21.16b, v17.16b\n\t"
#define QP_STEP2 QP_LOAD_T QP_LOAD_U QP_MMLA_T QP_MMLA_U
#define QP_STEP1 QP_LOAD_T QP_MMLA_T
    if (two) {
        __asm__(".arch_extension i8mm\n\t" QP_ASM_LOOP_BY(4, QP_STEP2 QP_STEP2 QP_STEP2 QP_STEP2)
                : [t00] "+w"(t[0]), [t01] "+w"(t[1]), [t10] "+w"(t[2]), [t11] "+w"(t[3]), [u00] "+w"(t[4]),
                  [u01] "+w"(t[5]), [u10] "+w"(t[6]), [u11] "+w"(t[7]), [rb] "+r"(rb), [la] "+r"(la), [lc] "+r"(lc),
                  [n] "+r"(steps)
                :
                : "v16", "v17", "v18", "v19", "v20", "v21", "cc", "memory");
    } else {
        __asm__(".arch_extension i8mm\n\t" QP_ASM_LOOP_BY(4, QP_STEP1 QP_STEP1 QP_STEP1 QP_STEP1)
                : [t00] "+w"(t[0]), [t01] "+w"(t[1]), [t10] "+w"(t[2]), [t11] "+w"(t[3]), [rb] "+r"(rb), [la] "+r"(la),
                  [n] "+r"(steps)
                :
                : "v16", "v17", "v18", "v19", "cc", "memory");
    }
#undef QP_STEP1
#undef QP_STEP2
#undef QP_MMLA_U
#undef QP_MMLA_T
#undef QP_LOAD_U
#undef QP_LOAD_T
#else
    for (size_t s = 0; s < kp / 8; s++) {
        const int8x16_t b0 = vld1q_s8((const int8_t *)panel + s * 32),
                        b1 = vld1q_s8((const int8_t *)panel + s * 32 + 16);
        const int8x16_t a01 = vld1q_s8((const int8_t *)lp + s * 32), a23 = vld1q_s8((const int8_t *)lp + s * 32 + 16);
        t[0] = vmmlaq_s32(t[0], a01, b0);
        t[1] = vmmlaq_s32(t[1], a01, b1);
        t[2] = vmmlaq_s32(t[2], a23, b0);
        t[3] = vmmlaq_s32(t[3], a23, b1);
        if (two) {
            const int8x16_t c01 = vld1q_s8((const int8_t *)lq + s * 32),
                            c23 = vld1q_s8((const int8_t *)lq + s * 32 + 16);
            t[4] = vmmlaq_s32(t[4], c01, b0);
            t[5] = vmmlaq_s32(t[5], c01, b1);
            t[6] = vmmlaq_s32(t[6], c23, b0);
            t[7] = vmmlaq_s32(t[7], c23, b1);
        }
    }
#endif
}

/* One 4x4 block from its four tiles: rows are the low / high 64-bit halves of SMMLA's
 * [r0c0 r0c1 r1c0 r1c1] (written out row by row: a loop over an array of them lives on the stack).
 * zps and scales: the panel's four negated zero points and LHS scales; tail: the RHS tail's row
 * sums for these four columns, followed by scales and biases each `nr` columns further on. */
QP_TARGET_I8MM
static inline __attribute__((always_inline)) void store_4x4(int32x4_t t00, int32x4_t t01, int32x4_t t10, int32x4_t t11,
                                                            int32x4_t zps, float32x4_t scales, const uint8_t *tail,
                                                            size_t nr, size_t rows, size_t columns, float *dst,
                                                            size_t stride, float32x4_t lo, float32x4_t hi) {
    const int64x2_t a = vreinterpretq_s64_s32(t00), b = vreinterpretq_s64_s32(t01), c = vreinterpretq_s64_s32(t10),
                    d = vreinterpretq_s64_s32(t11);
    const int32x4_t rsum = vreinterpretq_s32_u8(vld1q_u8(tail));
    const float32x4_t scale = qp_load_f32x4(tail + 4 * nr), bias = qp_load_f32x4(tail + 8 * nr);
#define QP_ROW(i, v)                                                                                           \
    if (rows > i)                                                                                              \
    qp_store_f32x4_columns((float *)((uint8_t *)dst + i * stride),                                             \
                           QP_CXP_FINISH(vreinterpretq_s32_s64(v), rsum, scale, bias, zps, scales, i, lo, hi), \
                           columns)
    QP_ROW(0, vzip1q_s64(a, b));
    QP_ROW(1, vzip2q_s64(a, b));
    QP_ROW(2, vzip1q_s64(c, d));
    QP_ROW(3, vzip2q_s64(c, d));
#undef QP_ROW
}

/* Two LHS panels (eight rows) per pass over an RHS panel where there are eight rows. */
QP_TARGET_I8MM
static void qsi8cxp_gemm_nr4(size_t m, size_t n, size_t kp, const uint8_t *lhs, const uint8_t *rhs, float *dst,
                             size_t stride, float clamp_min, float clamp_max) {
    const size_t lhs_panel = 4 * (kp + 8), rhs_panel = 4 * (kp + 12);
    const float32x4_t lo = vdupq_n_f32(clamp_min), hi = vdupq_n_f32(clamp_max);
    for (size_t row = 0; row < m; row += row + 8 <= m ? 8 : 4) {
        const int two = row + 8 <= m;
        const uint8_t *lp = lhs + row / 4 * lhs_panel, *lq = lp + lhs_panel;
        const size_t rows = m - row < 4 ? m - row : 4;
        float *out = (float *)((uint8_t *)dst + row * stride);
        /* Each panel's negated zero points and scales, after its kp codes per row. */
        const int32x4_t zp_p = vreinterpretq_s32_u8(vld1q_u8(lp + 4 * kp)),
                        zp_q = two ? vreinterpretq_s32_u8(vld1q_u8(lq + 4 * kp)) : zp_p;
        const float32x4_t sc_p = qp_in_register(qp_load_f32x4(lp + 4 * kp + 16)),
                          sc_q = qp_in_register(two ? qp_load_f32x4(lq + 4 * kp + 16) : sc_p);
        for (size_t col = 0; col < n; col += 4) {
            const uint8_t *panel = rhs + col / 4 * rhs_panel;
            const size_t columns = n - col < 4 ? n - col : 4;
            int32x4_t t[8];
            if (two)
                qsi8cxp_sums_nr4(1, lp, lq, panel, kp, t);
            else
                qsi8cxp_sums_nr4(0, lp, lq, panel, kp, t);
            store_4x4(t[0], t[1], t[2], t[3], zp_p, sc_p, panel + 4 * kp, 4, rows, columns, out + col, stride, lo, hi);
            if (two)
                store_4x4(t[4], t[5], t[6], t[7], zp_q, sc_q, panel + 4 * kp, 4, 4, columns,
                          (float *)((uint8_t *)(out + col) + 4 * stride), stride, lo, hi);
        }
    }
}

/* qsi4cxp, nr 8 (kr 16, sr 2). A step of sixteen values is 64 RHS bytes (four column pairs, the
 * low nibbles values kl..kl+7, the high ones kl+16..kl+23, both times 16 once shifted or masked)
 * and, per LHS panel, two 32-byte blocks (its two row pairs for the low and for the high values).
 * Two steps make a block of 32 values: LHS blocks 0 and 2 (low, high) for the first, 1 and 3 for
 * the second. Tiles t[0..3] are the first panel's row pair 0 against column pairs 0..3, t[4..7]
 * its row pair 1, t[8..15] the second panel's. The RHS is unpacked once for both panels. */
#if defined(__aarch64__)
#define QP_MM(acc, a, b) "smmla %[" acc "].4s, " a ".16b, " b ".16b\n\t"
#define QP_MM4(t, a, b0, b1, b2, b3) QP_MM(t "0", a, b0) QP_MM(t "1", a, b1) QP_MM(t "2", a, b2) QP_MM(t "3", a, b3)
/* 64 RHS bytes: v20-v23 the low nibbles (shifted up), v16-v19 the high ones (masked by v28) */
#define QP_NR8_RHS                      \
    "ldp q16, q17, [%[rb]], #32\n\t"    \
    "ldp q18, q19, [%[rb]], #32\n\t"    \
    "shl v20.16b, v16.16b, #4\n\t"      \
    "shl v21.16b, v17.16b, #4\n\t"      \
    "shl v22.16b, v18.16b, #4\n\t"      \
    "shl v23.16b, v19.16b, #4\n\t"      \
    "and v16.16b, v16.16b, v28.16b\n\t" \
    "and v17.16b, v17.16b, v28.16b\n\t" \
    "and v18.16b, v18.16b, v28.16b\n\t" \
    "and v19.16b, v19.16b, v28.16b\n\t"
/* One LHS panel's 32-byte block at `addr` (its two row pairs) against four column pairs */
#define QP_NR8_HALF(addr, t, b0, b1, b2, b3) \
    "ldp q24, q25, " addr "\n\t" QP_MM4(t "0", "v24", b0, b1, b2, b3) QP_MM4(t "1", "v25", b0, b1, b2, b3)
#define QP_NR8_LO(addr, t) QP_NR8_HALF(addr, t, "v20", "v21", "v22", "v23")
#define QP_NR8_HI(addr, t) QP_NR8_HALF(addr, t, "v16", "v17", "v18", "v19")
/* A block of 32 values for one LHS panel's pointer: the first load moves it on by 128, the
 * others reach back. */
#define QP_NR8_EVEN(ptr, t) QP_NR8_LO("[%[" ptr "]], #128", t) QP_NR8_HI("[%[" ptr "], #-64]", t)
#define QP_NR8_ODD(ptr, t) QP_NR8_LO("[%[" ptr "], #-96]", t) QP_NR8_HI("[%[" ptr "], #-32]", t)
#define QP_NR8_OPS(nm, i)                                                                           \
    [nm##00] "=w"(t[i]), [nm##01] "=w"(t[i + 1]), [nm##02] "=w"(t[i + 2]), [nm##03] "=w"(t[i + 3]), \
        [nm##10] "=w"(t[i + 4]), [nm##11] "=w"(t[i + 5]), [nm##12] "=w"(t[i + 6]), [nm##13] "=w"(t[i + 7])
/* Zeroes a panel's eight tiles (outputs only: "+w" operands count twice against GCC's 30) */
#define QP_NR8_ZERO(nm)           \
    "movi %[" nm "00].4s, #0\n\t" \
    "movi %[" nm "01].4s, #0\n\t" \
    "movi %[" nm "02].4s, #0\n\t" \
    "movi %[" nm "03].4s, #0\n\t" \
    "movi %[" nm "10].4s, #0\n\t" \
    "movi %[" nm "11].4s, #0\n\t" \
    "movi %[" nm "12].4s, #0\n\t" \
    "movi %[" nm "13].4s, #0\n\t"
#endif

QP_TARGET_I8MM
static inline __attribute__((always_inline)) void qsi4cxp_sums_nr8(int two, const uint8_t *lp, const uint8_t *lq,
                                                                   const uint8_t *panel, size_t kp, int32x4_t t[16]) {
#if defined(__aarch64__)
    /* Block by block, pointers post-incremented (GCC -O2 kept separate address arithmetic). */
    const uint8_t *rb = panel, *la = lp, *lc = lq;
    size_t blocks = kp / 32;
    if (two) {
        __asm__(".arch_extension i8mm\n\t"
                "movi v28.16b, #0xf0\n\t" QP_NR8_ZERO("p") QP_NR8_ZERO("q") QP_ASM_BLOCK_LOOP(QP_NR8_RHS QP_NR8_EVEN(
                    "la", "p") QP_NR8_EVEN("lc", "q") QP_NR8_RHS QP_NR8_ODD("la", "p") QP_NR8_ODD("lc", "q"))
                : QP_NR8_OPS(p, 0), QP_NR8_OPS(q, 8), [rb] "+r"(rb), [la] "+r"(la), [lc] "+r"(lc), [n] "+r"(blocks)
                :
                : "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v24", "v25", "v28", "cc", "memory");
    } else {
        __asm__(".arch_extension i8mm\n\t"
                "movi v28.16b, #0xf0\n\t" QP_NR8_ZERO("p")
                    QP_ASM_BLOCK_LOOP(QP_NR8_RHS QP_NR8_EVEN("la", "p") QP_NR8_RHS QP_NR8_ODD("la", "p"))
                : QP_NR8_OPS(p, 0), [rb] "+r"(rb), [la] "+r"(la), [n] "+r"(blocks)
                :
                : "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v24", "v25", "v28", "cc", "memory");
    }
#else
    for (size_t i = 0; i < 16; i++) t[i] = vdupq_n_s32(0);
    const uint8x16_t high_mask = vdupq_n_u8(0xF0);
    for (size_t s = 0; s < kp / 16; s++) {
        const size_t lo = s / 2 * 128 + s % 2 * 32, hi = lo + 64; /* LHS blocks of this step */
        for (size_t p = 0; p < 4; p++) {
            const uint8x16_t bytes = vld1q_u8(panel + 64 * s + 16 * p);
            const int8x16_t blo = vreinterpretq_s8_u8(vshlq_n_u8(bytes, 4)),
                            bhi = vreinterpretq_s8_u8(vandq_u8(bytes, high_mask));
            for (size_t g = 0; g < (two ? 2u : 1u); g++) {
                const int8_t *a = (const int8_t *)(g ? lq : lp);
                int32x4_t *u = t + 8 * g;
                u[p] = vmmlaq_s32(vmmlaq_s32(u[p], vld1q_s8(a + lo), blo), vld1q_s8(a + hi), bhi);
                u[4 + p] = vmmlaq_s32(vmmlaq_s32(u[4 + p], vld1q_s8(a + lo + 16), blo), vld1q_s8(a + hi + 16), bhi);
            }
        }
    }
#endif
}

/* One LHS panel's rows (up to four) against an 8-column RHS panel, from the panel's eight tiles
 * (t[0..3]: row pair 0 against column pairs 0..3, t[4..7]: row pair 1), row by row: a row's left
 * and right halves are the low or high 64-bit halves of its column pairs' tiles. The scalar
 * reference's steps, lane by lane: isum + rsum·(−zp), to float, × (rhs scale · lhs scale), + bias,
 * clamp. Not inlined: beside sixteen live tiles the caller would spill its constants. */
QP_TARGET_I8MM
static __attribute__((noinline)) void store_4x8(const int32x4_t t[8], int32x4_t zps, float32x4_t scales,
                                                const uint8_t *tail, size_t rows, size_t columns, float *out,
                                                size_t stride, float32x4_t lo, float32x4_t hi) {
    const int32x4_t rs0 = vreinterpretq_s32_u8(vld1q_u8(tail)), rs1 = vreinterpretq_s32_u8(vld1q_u8(tail + 16));
    const float32x4_t s0 = qp_load_f32x4(tail + 32), s1 = qp_load_f32x4(tail + 48), b0 = qp_load_f32x4(tail + 64),
                      b1 = qp_load_f32x4(tail + 80);
    const int64x2_t p0 = vreinterpretq_s64_s32(t[0]), p1 = vreinterpretq_s64_s32(t[1]),
                    p2 = vreinterpretq_s64_s32(t[2]), p3 = vreinterpretq_s64_s32(t[3]),
                    p4 = vreinterpretq_s64_s32(t[4]), p5 = vreinterpretq_s64_s32(t[5]),
                    p6 = vreinterpretq_s64_s32(t[6]), p7 = vreinterpretq_s64_s32(t[7]);
#define QP_ROW(i, zip, x, y, u, w)                                                                                  \
    if (rows > i) {                                                                                                 \
        const float32x4_t l = QP_CXP_FINISH(vreinterpretq_s32_s64(zip(x, y)), rs0, s0, b0, zps, scales, i, lo, hi); \
        const float32x4_t r = QP_CXP_FINISH(vreinterpretq_s32_s64(zip(u, w)), rs1, s1, b1, zps, scales, i, lo, hi); \
        float *o = (float *)((uint8_t *)out + i * stride);                                                          \
        if (columns == 8) {                                                                                         \
            vst1q_f32(o, l);                                                                                        \
            vst1q_f32(o + 4, r);                                                                                    \
        } else {                                                                                                    \
            qp_store_f32x4_columns(o, l, columns);                                                                  \
            if (columns > 4) qp_store_f32x4_columns(o + 4, r, columns - 4);                                         \
        }                                                                                                           \
    }
    QP_ROW(0, vzip1q_s64, p0, p1, p2, p3)
    QP_ROW(1, vzip2q_s64, p0, p1, p2, p3)
    QP_ROW(2, vzip1q_s64, p4, p5, p6, p7)
    QP_ROW(3, vzip2q_s64, p4, p5, p6, p7)
#undef QP_ROW
}

/* Two LHS panels (eight rows) per pass over an RHS panel where there are eight rows. */
QP_TARGET_I8MM
static void qsi4cxp_gemm_nr8(size_t m, size_t n, size_t kp, const uint8_t *lhs, const uint8_t *rhs, float *dst,
                             size_t stride, float clamp_min, float clamp_max) {
    const size_t lhs_panel = 4 * (kp + 8), rhs_panel = 8 * (kp / 2 + 12);
    const float32x4_t lo = vdupq_n_f32(clamp_min), hi = vdupq_n_f32(clamp_max);
    for (size_t row = 0; row < m; row += row + 8 <= m ? 8 : 4) {
        const int two = row + 8 <= m;
        const uint8_t *lp = lhs + row / 4 * lhs_panel, *lq = lp + lhs_panel;
        const size_t rows = m - row < 4 ? m - row : 4;
        float *out = (float *)((uint8_t *)dst + row * stride), *out_q = (float *)((uint8_t *)out + 4 * stride);
        const int32x4_t zp_p = vreinterpretq_s32_u8(vld1q_u8(lp + 4 * kp)),
                        zp_q = two ? vreinterpretq_s32_u8(vld1q_u8(lq + 4 * kp)) : zp_p;
        const float32x4_t sc_p = qp_in_register(qp_load_f32x4(lp + 4 * kp + 16)),
                          sc_q = qp_in_register(two ? qp_load_f32x4(lq + 4 * kp + 16) : sc_p);
        for (size_t col = 0; col < n; col += 8) {
            const uint8_t *panel = rhs + col / 8 * rhs_panel, *tail = panel + 4 * kp;
            const size_t columns = n - col < 8 ? n - col : 8;
            int32x4_t t[16];
            if (two)
                qsi4cxp_sums_nr8(1, lp, lq, panel, kp, t);
            else
                qsi4cxp_sums_nr8(0, lp, lq, panel, kp, t);
            store_4x8(t, zp_p, sc_p, tail, rows, columns, out + col, stride, lo, hi);
            if (two) store_4x8(t + 8, zp_q, sc_q, tail, 4, columns, out_q + col, stride, lo, hi);
        }
    }
}

void qp_matmul_f32_qai8dxp_qsi4cxp_neon_i8mm(size_t m, size_t n, size_t k, qp_matmul_tile t, const void *lhs_packed,
                                             const void *rhs_packed, float *dst, size_t dst_stride_row, float clamp_min,
                                             float clamp_max) {
    const size_t kp = round_up(k, 32), lhs_panel = 4 * (kp + 8), rhs_panel = t.nr * (kp / 2 + 12);
    if (t.nr == 8) {
        qsi4cxp_gemm_nr8(m, n, kp, lhs_packed, rhs_packed, dst, dst_stride_row, clamp_min, clamp_max);
        return;
    }
    for (size_t row = 0; row < m; row += 4)
        for (size_t col = 0; col < n; col += t.nr)
            qsi4cxp_tile((const uint8_t *)lhs_packed + row / 4 * lhs_panel, kp,
                         (const uint8_t *)rhs_packed + col / t.nr * rhs_panel, t.nr, m - row < 4 ? m - row : 4,
                         n - col < t.nr ? n - col : t.nr, (float *)((uint8_t *)dst + row * dst_stride_row) + col,
                         dst_stride_row, clamp_min, clamp_max);
}

void qp_matmul_f32_qai8dxp_qsi8cxp_neon_i8mm(size_t m, size_t n, size_t k, qp_matmul_tile t, const void *lhs_packed,
                                             const void *rhs_packed, float *dst, size_t dst_stride_row, float clamp_min,
                                             float clamp_max) {
    const size_t kp = round_up(k, 32), lhs_panel = 4 * (kp + 8), rhs_panel = t.nr * (kp + 12);
    if (t.nr == 4) {
        qsi8cxp_gemm_nr4(m, n, kp, lhs_packed, rhs_packed, dst, dst_stride_row, clamp_min, clamp_max);
        return;
    }
    for (size_t row = 0; row < m; row += 4)
        for (size_t col = 0; col < n; col += t.nr)
            qsi8cxp_tile((const uint8_t *)lhs_packed + row / 4 * lhs_panel, kp,
                         (const uint8_t *)rhs_packed + col / t.nr * rhs_panel, t.nr, m - row < 4 ? m - row : 4,
                         n - col < t.nr ? n - col : t.nr, (float *)((uint8_t *)dst + row * dst_stride_row) + col,
                         dst_stride_row, clamp_min, clamp_max);
}
