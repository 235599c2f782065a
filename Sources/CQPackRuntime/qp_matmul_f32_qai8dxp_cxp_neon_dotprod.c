/* f32 <- qai8dxp x qsi4cxp and x qsi8cxp, NEON dotprod GEMV (one LHS row at a time against
 * panels of nr columns). Integer accumulation is exact; the epilogue is the scalar reference's:
 * (float)(isum + rsum·(−zp)) · (rhs_scale · lhs_scale) + bias, then clamp. */
#include "qp_cxp_epilogue.h"
#include "qp_neon.h"
#include "qp_runtime.h"

#include <string.h>

static size_t round_up(size_t v, size_t m) { return (v + m - 1) / m * m; }

/* Dot products of 4 rows against L consecutive LHS codes, L = 4 (one 16-byte load of 4 rows x
 * 4 values) or L = 8 (two loads of 2 rows x 8 values); `high` selects int4 high nibbles,
 * `int4` low/high nibble unpacking (values x16), else int8 bytes. Returns rows r0..r0+3. */
QP_TARGET_DOTPROD
static inline int32x4_t dot4(const uint8_t *seg, const int8_t *lhs, size_t L, int int4, int high) {
    const uint8x16_t mask = vdupq_n_u8(0xF0);
    if (L == 4) {
        int32_t w;
        memcpy(&w, lhs, 4);
        uint8x16_t b = vld1q_u8(seg);
        int8x16_t v = int4 ? vreinterpretq_s8_u8(high ? vandq_u8(b, mask) : vshlq_n_u8(b, 4)) : vreinterpretq_s8_u8(b);
        return vdotq_s32(vdupq_n_s32(0), v, vreinterpretq_s8_s32(vdupq_n_s32(w)));
    }
    const int8x16_t a = vcombine_s8(vld1_s8(lhs), vld1_s8(lhs));
    uint8x16_t b01 = vld1q_u8(seg), b23 = vld1q_u8(seg + 16);
    int8x16_t v01 =
        int4 ? vreinterpretq_s8_u8(high ? vandq_u8(b01, mask) : vshlq_n_u8(b01, 4)) : vreinterpretq_s8_u8(b01);
    int8x16_t v23 =
        int4 ? vreinterpretq_s8_u8(high ? vandq_u8(b23, mask) : vshlq_n_u8(b23, 4)) : vreinterpretq_s8_u8(b23);
    return vpaddq_s32(vdotq_s32(vdupq_n_s32(0), v01, a), vdotq_s32(vdupq_n_s32(0), v23, a));
}

/* QP_CXP_FINISH for the columns r0..r0+3 of a panel (its tail: nr row sums, nr scales, nr
 * biases), stored up to column `columns`. */
QP_TARGET_DOTPROD
static inline __attribute__((always_inline)) void epilogue(int32x4_t isum, const uint8_t *tail, size_t nr, size_t r0,
                                                           int32_t neg_zp, float lhs_scale, float *out, size_t columns,
                                                           float clamp_min, float clamp_max) {
    if (r0 >= columns) return; /* a partial panel's empty group */
    const int32x4_t rsum = vreinterpretq_s32_u8(vld1q_u8(tail + 4 * r0));
    const float32x4_t scale = qp_load_f32x4(tail + 4 * nr + 4 * r0), bias = qp_load_f32x4(tail + 8 * nr + 4 * r0);
    qp_store_f32x4_columns(out + r0,
                           QP_CXP_FINISH(isum, rsum, scale, bias, vdupq_n_s32(neg_zp), vdupq_n_f32(lhs_scale), 0,
                                         vdupq_n_f32(clamp_min), vdupq_n_f32(clamp_max)),
                           columns - r0);
}

/* qsi4cxp, L 4: one LHS row against the four columns r0.. of a panel (`seg` = panel + 4·r0; steps
 * 4·nr bytes apart). A block of 32 values is four steps: step j holds the block's values 4j..4j+3
 * in its low nibbles and 16 + 4j.. in its high ones, so the block's LHS is two 16-byte loads and
 * step j takes lane j of each (SDOT by element). */
QP_TARGET_DOTPROD
static inline int32x4_t qsi4cxp_dot_l4(const int8_t *a, const uint8_t *seg, size_t nr, size_t kp) {
    const uint8x16_t mask = vdupq_n_u8(0xF0);
    int32x4_t lo = vdupq_n_s32(0), hi = lo;
    for (size_t b = 0; b < kp / 32; b++, a += 32, seg += 16 * nr) {
        const int8x16_t x = vld1q_s8(a), y = vld1q_s8(a + 16);
#define QP_STEP(j)                                                           \
    do {                                                                     \
        const uint8x16_t r = vld1q_u8(seg + 4 * nr * (j));                   \
        lo = QP_SDOT_LANE(lo, vreinterpretq_s8_u8(vshlq_n_u8(r, 4)), x, j);  \
        hi = QP_SDOT_LANE(hi, vreinterpretq_s8_u8(vandq_u8(r, mask)), y, j); \
    } while (0)
        QP_STEP(0);
        QP_STEP(1);
        QP_STEP(2);
        QP_STEP(3);
#undef QP_STEP
    }
    return vaddq_s32(lo, hi);
}

/* qsi4cxp, L 8: one LHS row against the eight columns r0.. of a panel (`seg` = panel + 8·r0;
 * steps 8·nr bytes apart, 16 bytes per column pair). A block of 32 values is two steps: the first
 * holds the block's values 0..7 (low nibbles) and 16..23 (high), the second 8..15 and 24..31;
 * SDOT against the LHS's eight values broadcast leaves each column's sum in two lanes, which
 * pairwise adds join once at the end: sums of columns 0-3 and 4-7. */
QP_TARGET_DOTPROD
static inline void qsi4cxp_dot_l8(const int8_t *a, const uint8_t *seg, size_t nr, size_t kp, int32x4_t *c0123,
                                  int32x4_t *c4567) {
    const uint8x16_t mask = vdupq_n_u8(0xF0);
    int32x4_t p0 = vdupq_n_s32(0), p1 = p0, p2 = p0, p3 = p0;
    for (size_t b = 0; b < kp / 32; b++, a += 32, seg += 16 * nr) {
        const int64x2_t x = vreinterpretq_s64_s8(vld1q_s8(a)), y = vreinterpretq_s64_s8(vld1q_s8(a + 16));
#define QP_STEP(e)                                                                                              \
    do {                                                                                                        \
        const int8x16_t alo = vreinterpretq_s8_s64(vdupq_laneq_s64(x, e)),                                      \
                        ahi = vreinterpretq_s8_s64(vdupq_laneq_s64(y, e));                                      \
        const uint8_t *q = seg + 8 * nr * (e);                                                                  \
        const uint8x16_t r0 = vld1q_u8(q), r1 = vld1q_u8(q + 16), r2 = vld1q_u8(q + 32), r3 = vld1q_u8(q + 48); \
        p0 = vdotq_s32(vdotq_s32(p0, vreinterpretq_s8_u8(vshlq_n_u8(r0, 4)), alo),                              \
                       vreinterpretq_s8_u8(vandq_u8(r0, mask)), ahi);                                           \
        p1 = vdotq_s32(vdotq_s32(p1, vreinterpretq_s8_u8(vshlq_n_u8(r1, 4)), alo),                              \
                       vreinterpretq_s8_u8(vandq_u8(r1, mask)), ahi);                                           \
        p2 = vdotq_s32(vdotq_s32(p2, vreinterpretq_s8_u8(vshlq_n_u8(r2, 4)), alo),                              \
                       vreinterpretq_s8_u8(vandq_u8(r2, mask)), ahi);                                           \
        p3 = vdotq_s32(vdotq_s32(p3, vreinterpretq_s8_u8(vshlq_n_u8(r3, 4)), alo),                              \
                       vreinterpretq_s8_u8(vandq_u8(r3, mask)), ahi);                                           \
    } while (0)
        QP_STEP(0);
        QP_STEP(1);
#undef QP_STEP
    }
    *c0123 = vpaddq_s32(p0, p1);
    *c4567 = vpaddq_s32(p2, p3);
}

#if defined(__aarch64__)
/* The two shipped qsi4cxp dotprod tiles' loops in AArch64 assembly (pointers post-incremented;
 * GCC -O2 addressed every load base + index with separate adds): the same SDOTs as
 * qsi4cxp_dot_l4 / qsi4cxp_dot_l8, so the same integer sums. */

/* nr 4, L 4: one LHS row against two panels (eight columns), each block's LHS loaded once. */
QP_TARGET_DOTPROD
static void qsi4cxp_dot_l4_nr4x2(const int8_t *a, const uint8_t *p0, const uint8_t *p1, size_t kp, int32x4_t *s0,
                                 int32x4_t *s1) {
    int32x4_t lo0 = vdupq_n_s32(0), hi0 = lo0, lo1 = lo0, hi1 = lo0;
    const uint8x16_t mask = vdupq_n_u8(0xF0);
    size_t blocks = kp / 32;
#define QP_L4_STEPS(rb, lo, hi)                                                                                       \
    "ldp q18, q19, [%[" rb "]], #32\n\t"                                                                              \
    "ldp q20, q21, [%[" rb "]], #32\n\t"                                                                              \
    "shl v22.16b, v18.16b, #4\n\t"                                                                                    \
    "shl v23.16b, v19.16b, #4\n\t"                                                                                    \
    "shl v24.16b, v20.16b, #4\n\t"                                                                                    \
    "shl v25.16b, v21.16b, #4\n\t"                                                                                    \
    "and v18.16b, v18.16b, %[mask].16b\n\t"                                                                           \
    "and v19.16b, v19.16b, %[mask].16b\n\t"                                                                           \
    "and v20.16b, v20.16b, %[mask].16b\n\t"                                                                           \
    "and v21.16b, v21.16b, %[mask].16b\n\t" QP_ASM_SDOT8("%[" lo "]", "%[" hi "]", "v22", "v23", "v24", "v25", "v18", \
                                                         "v19", "v20", "v21", "v16", "v17")
    __asm__(".arch_extension dotprod\n\t" QP_ASM_BLOCK_LOOP(
                "ldp q16, q17, [%[a]], #32\n\t" QP_L4_STEPS("p0", "lo0", "hi0") QP_L4_STEPS("p1", "lo1", "hi1"))
            : [lo0] "+w"(lo0), [hi0] "+w"(hi0), [lo1] "+w"(lo1), [hi1] "+w"(hi1), [a] "+r"(a), [p0] "+r"(p0),
              [p1] "+r"(p1), [n] "+r"(blocks)
            : [mask] "w"(mask)
            : "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v24", "v25", "cc", "memory");
#undef QP_L4_STEPS
    *s0 = vaddq_s32(lo0, hi0);
    *s1 = vaddq_s32(lo1, hi1);
}

/* nr 8, L 8: one LHS row against a panel's eight columns; a block is 128 contiguous RHS bytes. */
QP_TARGET_DOTPROD
static void qsi4cxp_dot_l8_nr8(const int8_t *a, const uint8_t *rb, size_t kp, int32x4_t *c0123, int32x4_t *c4567) {
    int32x4_t p0 = vdupq_n_s32(0), p1 = p0, p2 = p0, p3 = p0;
    const uint8x16_t mask = vdupq_n_u8(0xF0);
    size_t blocks = kp / 32;
#define QP_L8_STEP(alo, ahi)                  \
    "ldp q20, q21, [%[rb]], #32\n\t"          \
    "ldp q22, q23, [%[rb]], #32\n\t"          \
    "shl v24.16b, v20.16b, #4\n\t"            \
    "shl v25.16b, v21.16b, #4\n\t"            \
    "shl v26.16b, v22.16b, #4\n\t"            \
    "shl v27.16b, v23.16b, #4\n\t"            \
    "and v20.16b, v20.16b, %[mask].16b\n\t"   \
    "and v21.16b, v21.16b, %[mask].16b\n\t"   \
    "and v22.16b, v22.16b, %[mask].16b\n\t"   \
    "and v23.16b, v23.16b, %[mask].16b\n\t"   \
    "sdot %[p0].4s, v24.16b, " alo ".16b\n\t" \
    "sdot %[p0].4s, v20.16b, " ahi ".16b\n\t" \
    "sdot %[p1].4s, v25.16b, " alo ".16b\n\t" \
    "sdot %[p1].4s, v21.16b, " ahi ".16b\n\t" \
    "sdot %[p2].4s, v26.16b, " alo ".16b\n\t" \
    "sdot %[p2].4s, v22.16b, " ahi ".16b\n\t" \
    "sdot %[p3].4s, v27.16b, " alo ".16b\n\t" \
    "sdot %[p3].4s, v23.16b, " ahi ".16b\n\t"
    __asm__(".arch_extension dotprod\n\t" QP_ASM_BLOCK_LOOP("ld1r {v16.2d}, [%[a]], #8\n\t"
                                                            "ld1r {v17.2d}, [%[a]], #8\n\t"
                                                            "ld1r {v18.2d}, [%[a]], #8\n\t"
                                                            "ld1r {v19.2d}, [%[a]], #8\n\t" QP_L8_STEP("v16", "v18")
                                                                QP_L8_STEP("v17", "v19"))
            : [p0] "+w"(p0), [p1] "+w"(p1), [p2] "+w"(p2), [p3] "+w"(p3), [a] "+r"(a), [rb] "+r"(rb), [n] "+r"(blocks)
            : [mask] "w"(mask)
            : "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v24", "v25", "v26", "v27", "cc", "memory");
#undef QP_L8_STEP
    *c0123 = vpaddq_s32(p0, p1);
    *c4567 = vpaddq_s32(p2, p3);
}
#endif

#if defined(__aarch64__)
/* Prompts on the nr-4 dotprod tiles (qsi8cxp kr 4, qsi4cxp L 4) with mr-1 LHS rows: eight or
 * four rows per pass over a panel, so each RHS block is loaded (and unpacked) once for all of
 * them. A block of 32 values becomes eight 16-byte RHS registers v16-v23, register j pairing with
 * lane j % 4 of the row's first (j < 4) or second sixteen values: qsi8cxp's eight steps as they
 * are, qsi4cxp's four steps as low nibbles (v16-v19) then high ones (v20-v23). The SDOTs of the
 * GEMVs above, so the same integer sums. */
#define QP_RHS_INT8                  \
    "ldp q16, q17, [%[rb]], #32\n\t" \
    "ldp q18, q19, [%[rb]], #32\n\t" \
    "ldp q20, q21, [%[rb]], #32\n\t" \
    "ldp q22, q23, [%[rb]], #32\n\t"
#define QP_RHS_INT4                     \
    "ldp q20, q21, [%[rb]], #32\n\t"    \
    "ldp q22, q23, [%[rb]], #32\n\t"    \
    "shl v16.16b, v20.16b, #4\n\t"      \
    "shl v17.16b, v21.16b, #4\n\t"      \
    "shl v18.16b, v22.16b, #4\n\t"      \
    "shl v19.16b, v23.16b, #4\n\t"      \
    "and v20.16b, v20.16b, v26.16b\n\t" \
    "and v21.16b, v21.16b, v26.16b\n\t" \
    "and v22.16b, v22.16b, v26.16b\n\t" \
    "and v23.16b, v23.16b, v26.16b\n\t"
#define QP_ROW_SDOTS(i)                                                                                               \
    "ldp q24, q25, [%[a" #i "]], #32\n\t" QP_ASM_SDOT8("%[s" #i "]", "%[s" #i "]", "v16", "v17", "v18", "v19", "v20", \
                                                       "v21", "v22", "v23", "v24", "v25")
#define QP_ZERO(i) "movi %[s" #i "].4s, #0\n\t"
#define QP_ROWS4_OPS                                                                                                 \
    [s0] "=w"(s[0]), [s1] "=w"(s[1]), [s2] "=w"(s[2]), [s3] "=w"(s[3]), [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), \
        [a3] "+r"(a3), [rb] "+r"(rb), [n] "+r"(blocks)
#define QP_ROWS8_OPS                                                                                                \
    QP_ROWS4_OPS, [s4] "=w"(s[4]), [s5] "=w"(s[5]), [s6] "=w"(s[6]), [s7] "=w"(s[7]), [a4] "+r"(a4), [a5] "+r"(a5), \
        [a6] "+r"(a6), [a7] "+r"(a7)
#define QP_ROWS_CLOBBERS "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v24", "v25", "v26", "cc", "memory"
#define QP_ROWS4_BODY(rhs) QP_ASM_BLOCK_LOOP(rhs QP_ROW_SDOTS(0) QP_ROW_SDOTS(1) QP_ROW_SDOTS(2) QP_ROW_SDOTS(3))
#define QP_ROWS8_BODY(rhs)                                                                                \
    QP_ASM_BLOCK_LOOP(rhs QP_ROW_SDOTS(0) QP_ROW_SDOTS(1) QP_ROW_SDOTS(2) QP_ROW_SDOTS(3) QP_ROW_SDOTS(4) \
                          QP_ROW_SDOTS(5) QP_ROW_SDOTS(6) QP_ROW_SDOTS(7))

/* s[i]: row i's four column sums against the panel at `rb` (rows = 4 or 8; lhs: row 0's codes,
 * rows `lhs_stride` bytes apart). */
QP_TARGET_DOTPROD static inline __attribute__((always_inline)) void cxp_rows_nr4(int int4, size_t rows,
                                                                                 const uint8_t *lhs, size_t lhs_stride,
                                                                                 const uint8_t *rb, size_t kp,
                                                                                 int32x4_t s[8]) {
    const uint8_t *a0 = lhs, *a1 = a0 + lhs_stride, *a2 = a1 + lhs_stride, *a3 = a2 + lhs_stride, *a4 = a3 + lhs_stride,
                  *a5 = a4 + lhs_stride, *a6 = a5 + lhs_stride, *a7 = a6 + lhs_stride;
    size_t blocks = kp / 32;
    if (rows == 8 && int4)
        __asm__(".arch_extension dotprod\n\t"
                "movi v26.16b, #0xf0\n\t" QP_ZERO(0) QP_ZERO(1) QP_ZERO(2) QP_ZERO(3) QP_ZERO(4) QP_ZERO(5) QP_ZERO(6)
                    QP_ZERO(7) QP_ROWS8_BODY(QP_RHS_INT4)
                : QP_ROWS8_OPS
                :
                : QP_ROWS_CLOBBERS);
    else if (rows == 8)
        __asm__(".arch_extension dotprod\n\t" QP_ZERO(0) QP_ZERO(1) QP_ZERO(2) QP_ZERO(3) QP_ZERO(4) QP_ZERO(5)
                    QP_ZERO(6) QP_ZERO(7) QP_ROWS8_BODY(QP_RHS_INT8)
                : QP_ROWS8_OPS
                :
                : QP_ROWS_CLOBBERS);
    else if (int4)
        __asm__(".arch_extension dotprod\n\t"
                "movi v26.16b, #0xf0\n\t" QP_ZERO(0) QP_ZERO(1) QP_ZERO(2) QP_ZERO(3) QP_ROWS4_BODY(QP_RHS_INT4)
                : QP_ROWS4_OPS
                :
                : QP_ROWS_CLOBBERS);
    else
        __asm__(".arch_extension dotprod\n\t" QP_ZERO(0) QP_ZERO(1) QP_ZERO(2) QP_ZERO(3) QP_ROWS4_BODY(QP_RHS_INT8)
                : QP_ROWS4_OPS
                :
                : QP_ROWS_CLOBBERS);
}
#undef QP_RHS_INT8
#undef QP_RHS_INT4
#undef QP_ROW_SDOTS
#undef QP_ZERO
#undef QP_ROWS4_OPS
#undef QP_ROWS8_OPS
#undef QP_ROWS_CLOBBERS
#undef QP_ROWS4_BODY
#undef QP_ROWS8_BODY

/* `rows` (8 or 4) rows from `lp` against every panel, their outputs from `out`. Always inlined
 * with constant int4 and rows, so the sums stay in registers between the loop and the epilogue. */
QP_TARGET_DOTPROD
static inline __attribute__((always_inline)) void cxp_rows_pass(int int4, size_t rows, const uint8_t *lp, size_t n,
                                                                size_t kp, const uint8_t *rhs, float *out,
                                                                size_t stride, float32x4_t lo, float32x4_t hi) {
    const size_t lhs_stride = kp + 8, codes = int4 ? kp / 2 : kp, panel_stride = 4 * (codes + 12);
    int32_t zp[8] = {0};
    float sc[8] = {0};
    for (size_t i = 0; i < rows; i++) {
        memcpy(&zp[i], lp + i * lhs_stride + kp, 4);
        memcpy(&sc[i], lp + i * lhs_stride + kp + 4, 4);
    }
    /* rows 0-3 and 4-7's negated zero points and scales, used by element */
    const int32x4_t z0 = vld1q_s32(zp), z1 = vld1q_s32(zp + 4);
    const float32x4_t c0 = vld1q_f32(sc), c1 = vld1q_f32(sc + 4);
    for (size_t col = 0; col < n; col += 4) {
        const uint8_t *panel = rhs + col / 4 * panel_stride, *tail = panel + 4 * codes;
        const size_t columns = n - col < 4 ? n - col : 4;
        int32x4_t s[8];
        cxp_rows_nr4(int4, rows, lp, lhs_stride, panel, kp, s);
        /* the tail once per panel: stores to dst could alias it for the compiler */
        const int32x4_t rsum = vreinterpretq_s32_u8(vld1q_u8(tail));
        const float32x4_t scale = qp_load_f32x4(tail + 16), bias = qp_load_f32x4(tail + 32);
        float *o = out + col;
#define QP_OUT(i, z, c, lane)                                                                           \
    if (rows > i) {                                                                                     \
        qp_store_f32x4_columns(o, QP_CXP_FINISH(s[i], rsum, scale, bias, z, c, lane, lo, hi), columns); \
        o = (float *)((uint8_t *)o + stride);                                                           \
    }
        QP_OUT(0, z0, c0, 0)
        QP_OUT(1, z0, c0, 1)
        QP_OUT(2, z0, c0, 2)
        QP_OUT(3, z0, c0, 3)
        QP_OUT(4, z1, c1, 0)
        QP_OUT(5, z1, c1, 1)
        QP_OUT(6, z1, c1, 2)
        QP_OUT(7, z1, c1, 3)
#undef QP_OUT
    }
}

/* Rows in groups of eight, then four, against every panel; returns how many rows it ran (a
 * multiple of four: the rest are the GEMV's). LHS rows are mr-1 panels of kp codes, the negated
 * zero point and the scale. */
QP_TARGET_DOTPROD
static size_t cxp_rows_gemm_nr4(int int4, size_t m, size_t n, size_t kp, const uint8_t *lhs, const uint8_t *rhs,
                                float *dst, size_t stride, float clamp_min, float clamp_max) {
    const float32x4_t lo = vdupq_n_f32(clamp_min), hi = vdupq_n_f32(clamp_max);
    size_t row = 0;
    for (; row + 4 <= m; row += row + 8 <= m ? 8 : 4) {
        const uint8_t *lp = lhs + row * (kp + 8);
        float *out = (float *)((uint8_t *)dst + row * stride);
        if (row + 8 <= m && int4)
            cxp_rows_pass(1, 8, lp, n, kp, rhs, out, stride, lo, hi);
        else if (row + 8 <= m)
            cxp_rows_pass(0, 8, lp, n, kp, rhs, out, stride, lo, hi);
        else if (int4)
            cxp_rows_pass(1, 4, lp, n, kp, rhs, out, stride, lo, hi);
        else
            cxp_rows_pass(0, 4, lp, n, kp, rhs, out, stride, lo, hi);
    }
    return row;
}
#endif

/* One LHS row's codes (kp values), its negated zero point and scale; the codes are gathered out
 * of the row's panel into `buf` unless they are already contiguous (mr == 1). */
static const int8_t *lhs_row(const void *lhs_packed, size_t row, size_t kp, qp_matmul_tile t, int8_t *buf,
                             int32_t *neg_zp, float *scale) {
    const size_t L = t.kr / t.sr, r = row % t.mr;
    const uint8_t *lp = (const uint8_t *)lhs_packed + row / t.mr * t.mr * (kp + 8);
    memcpy(neg_zp, lp + t.mr * kp + 4 * r, 4);
    memcpy(scale, lp + t.mr * kp + 4 * t.mr + 4 * r, 4);
    if (t.mr == 1) return (const int8_t *)lp;
    for (size_t i = 0; i < kp; i++) buf[i] = (int8_t)lp[(i / L * t.mr + r) * L + i % L];
    return buf;
}

static void qsi4cxp_neon(size_t m, size_t n, size_t k, qp_matmul_tile t, const void *lhs_packed, const void *rhs_packed,
                         float *dst, size_t dst_stride_row, float clamp_min, float clamp_max);
static void qsi8cxp_neon(size_t m, size_t n, size_t k, qp_matmul_tile t, const void *lhs_packed, const void *rhs_packed,
                         float *dst, size_t dst_stride_row, float clamp_min, float clamp_max);

void qp_matmul_f32_qai8dxp_qsi4cxp_neon_dotprod(size_t m, size_t n, size_t k, qp_matmul_tile t, const void *lhs_packed,
                                                const void *rhs_packed, float *dst, size_t dst_stride_row,
                                                float clamp_min, float clamp_max) {
    qsi4cxp_neon(m, n, k, t, lhs_packed, rhs_packed, dst, dst_stride_row, clamp_min, clamp_max);
}

void qp_matmul_f32_qai8dxp_qsi8cxp_neon_dotprod(size_t m, size_t n, size_t k, qp_matmul_tile t, const void *lhs_packed,
                                                const void *rhs_packed, float *dst, size_t dst_stride_row,
                                                float clamp_min, float clamp_max) {
    qsi8cxp_neon(m, n, k, t, lhs_packed, rhs_packed, dst, dst_stride_row, clamp_min, clamp_max);
}

QP_TARGET_DOTPROD
static void qsi4cxp_neon(size_t m, size_t n, size_t k, qp_matmul_tile t, const void *lhs_packed, const void *rhs_packed,
                         float *dst, size_t dst_stride_row, float clamp_min, float clamp_max) {
    const size_t L = t.kr / t.sr, kp = round_up(k, 32), nr = t.nr; /* L 4 or 8, nr % 4 == 0, kp <= 65536 (dispatch) */
    const size_t panel_stride = nr * (kp / 2 + 12);
    int8_t buf[kp];
    size_t first = 0; /* rows run before the row-by-row loop */
#if defined(__aarch64__)
    if (t.mr == 1 && nr == 4 && L == 4)
        first = cxp_rows_gemm_nr4(1, m, n, kp, lhs_packed, rhs_packed, dst, dst_stride_row, clamp_min, clamp_max);
#endif
    for (size_t row = first; row < m; row++) {
        int32_t neg_zp;
        float lhs_scale;
        const int8_t *codes = lhs_row(lhs_packed, row, kp, t, buf, &neg_zp, &lhs_scale);
        float *out = (float *)((uint8_t *)dst + row * dst_stride_row);
        for (size_t col = 0; col < n; col += nr) {
            const uint8_t *panel = (const uint8_t *)rhs_packed + col / nr * panel_stride, *tail = panel + nr * kp / 2;
            const size_t columns = n - col < nr ? n - col : nr;
#if defined(__aarch64__)
            if (L == 4 && nr == 4 && col + 4 < n) { /* this panel and the next */
                const uint8_t *next = panel + panel_stride;
                const size_t more = n - col - 4 < 4 ? n - col - 4 : 4;
                int32x4_t s0, s1;
                qsi4cxp_dot_l4_nr4x2(codes, panel, next, kp, &s0, &s1);
                epilogue(s0, tail, 4, 0, neg_zp, lhs_scale, out + col, 4, clamp_min, clamp_max);
                epilogue(s1, next + 2 * kp, 4, 0, neg_zp, lhs_scale, out + col + 4, more, clamp_min, clamp_max);
                col += 4;
                continue;
            }
#endif
            if (L == 8 && nr % 8 == 0) {
                for (size_t r0 = 0; r0 < columns; r0 += 8) {
                    int32x4_t c0123, c4567;
#if defined(__aarch64__)
                    if (nr == 8)
                        qsi4cxp_dot_l8_nr8(codes, panel, kp, &c0123, &c4567);
                    else
#endif
                        qsi4cxp_dot_l8(codes, panel + 8 * r0, nr, kp, &c0123, &c4567);
                    epilogue(c0123, tail, nr, r0, neg_zp, lhs_scale, out + col, columns, clamp_min, clamp_max);
                    if (r0 + 4 < columns)
                        epilogue(c4567, tail, nr, r0 + 4, neg_zp, lhs_scale, out + col, columns, clamp_min, clamp_max);
                }
                continue;
            }
            for (size_t r0 = 0; r0 < columns; r0 += 4) {
                int32x4_t isum;
                if (L == 4)
                    isum = qsi4cxp_dot_l4(codes, panel + 4 * r0, nr, kp);
                else {
                    isum = vdupq_n_s32(0);
                    for (size_t s = 0; s < kp / 2 / L; s++) {
                        const size_t kl = s * L, k0 = 32 * (kl / 16) + kl % 16;
                        const uint8_t *seg = panel + (s * nr + r0) * L;
                        isum = vaddq_s32(isum, dot4(seg, codes + k0, L, 1, 0));
                        isum = vaddq_s32(isum, dot4(seg, codes + k0 + 16, L, 1, 1));
                    }
                }
                epilogue(isum, tail, nr, r0, neg_zp, lhs_scale, out + col, columns, clamp_min, clamp_max);
            }
        }
    }
}

#if defined(__aarch64__)
/* qsi8cxp, nr 4: one LHS row against two panels (eight columns) per pass, each block of 32 LHS
 * values loaded once, pointers post-incremented; the SDOTs of qp_qsi8cxp_gemv.h's loops (integer
 * sums, so any order gives the same result). Returns each panel's four column sums. */

/* kr 4: a 16-byte step holds four values of each column; step j of a block takes lane j % 4 of the
 * block's first (j < 4) or second sixteen LHS values. */
QP_TARGET_DOTPROD
static void qsi8cxp_dot_kr4_nr4x2(const int8_t *a, const uint8_t *p0, const uint8_t *p1, size_t kp, int32x4_t *s0,
                                  int32x4_t *s1) {
    int32x4_t u0 = vdupq_n_s32(0), v0 = u0, u1 = u0, v1 = u0;
    size_t blocks = kp / 32;
#define QP_KR4_PANEL(rb, u, v)                                                                                   \
    "ldp q18, q19, [%[" rb "]], #32\n\t"                                                                         \
    "ldp q20, q21, [%[" rb "]], #32\n\t"                                                                         \
    "ldp q22, q23, [%[" rb "]], #32\n\t"                                                                         \
    "ldp q24, q25, [%[" rb "]], #32\n\t" QP_ASM_SDOT8("%[" u "]", "%[" v "]", "v18", "v19", "v20", "v21", "v22", \
                                                      "v23", "v24", "v25", "v16", "v17")
    __asm__(".arch_extension dotprod\n\t" QP_ASM_BLOCK_LOOP(
                "ldp q16, q17, [%[a]], #32\n\t" QP_KR4_PANEL("p0", "u0", "v0") QP_KR4_PANEL("p1", "u1", "v1"))
            : [u0] "+w"(u0), [v0] "+w"(v0), [u1] "+w"(u1), [v1] "+w"(v1), [a] "+r"(a), [p0] "+r"(p0), [p1] "+r"(p1),
              [n] "+r"(blocks)
            :
            : "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v24", "v25", "cc", "memory");
#undef QP_KR4_PANEL
    *s0 = vaddq_s32(u0, v0);
    *s1 = vaddq_s32(u1, v1);
}

/* kr 8: a 32-byte step holds eight values of each column (columns 0-1, then 2-3); SDOT against
 * the step's eight LHS values broadcast leaves a column's sum in two lanes, joined by pairwise
 * adds at the end. */
QP_TARGET_DOTPROD
static void qsi8cxp_dot_kr8_nr4x2(const int8_t *a, const uint8_t *p0, const uint8_t *p1, size_t kp, int32x4_t *s0,
                                  int32x4_t *s1) {
    int32x4_t a0 = vdupq_n_s32(0), b0 = a0, c0 = a0, d0 = a0, a1 = a0, b1 = a0, c1 = a0, d1 = a0;
    size_t blocks = kp / 32;
#define QP_KR8_PANEL(rb, x, y, z, w)         \
    "ldp q20, q21, [%[" rb "]], #32\n\t"     \
    "ldp q22, q23, [%[" rb "]], #32\n\t"     \
    "ldp q24, q25, [%[" rb "]], #32\n\t"     \
    "ldp q26, q27, [%[" rb "]], #32\n\t"     \
    "sdot %[" x "].4s, v20.16b, v16.16b\n\t" \
    "sdot %[" y "].4s, v21.16b, v16.16b\n\t" \
    "sdot %[" z "].4s, v22.16b, v17.16b\n\t" \
    "sdot %[" w "].4s, v23.16b, v17.16b\n\t" \
    "sdot %[" x "].4s, v24.16b, v18.16b\n\t" \
    "sdot %[" y "].4s, v25.16b, v18.16b\n\t" \
    "sdot %[" z "].4s, v26.16b, v19.16b\n\t" \
    "sdot %[" w "].4s, v27.16b, v19.16b\n\t"
    __asm__(".arch_extension dotprod\n\t" QP_ASM_BLOCK_LOOP(
                "ld1r {v16.2d}, [%[a]], #8\n\t"
                "ld1r {v17.2d}, [%[a]], #8\n\t"
                "ld1r {v18.2d}, [%[a]], #8\n\t"
                "ld1r {v19.2d}, [%[a]], #8\n\t" QP_KR8_PANEL("p0", "a0", "b0", "c0", "d0")
                    QP_KR8_PANEL("p1", "a1", "b1", "c1", "d1"))
            : [a0] "+w"(a0), [b0] "+w"(b0), [c0] "+w"(c0), [d0] "+w"(d0), [a1] "+w"(a1), [b1] "+w"(b1), [c1] "+w"(c1),
              [d1] "+w"(d1), [a] "+r"(a), [p0] "+r"(p0), [p1] "+r"(p1), [n] "+r"(blocks)
            :
            : "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v24", "v25", "v26", "v27", "cc", "memory");
#undef QP_KR8_PANEL
    *s0 = vpaddq_s32(vaddq_s32(a0, c0), vaddq_s32(b0, d0));
    *s1 = vpaddq_s32(vaddq_s32(a1, c1), vaddq_s32(b1, d1));
}
#endif

#define QP_GEMV_NAME qsi8cxp_gemv
#define QP_GEMV_TARGET QP_TARGET_DOTPROD
#define QP_GEMV_VDOT vdotq_s32
#define QP_GEMV_BIAS 0
#include "qp_qsi8cxp_gemv.h"
#undef QP_GEMV_NAME
#undef QP_GEMV_TARGET
#undef QP_GEMV_VDOT
#undef QP_GEMV_BIAS
#if defined(QP_X86_FAST_DOT)
#define QP_GEMV_NAME qsi8cxp_gemv_vnni
#define QP_GEMV_TARGET QP_TARGET_DOTPROD_VNNI
#define QP_GEMV_VDOT qp_vdotq_s32_vnni_biased
#define QP_GEMV_BIAS 128
#include "qp_qsi8cxp_gemv.h"
#undef QP_GEMV_NAME
#undef QP_GEMV_TARGET
#undef QP_GEMV_VDOT
#undef QP_GEMV_BIAS

static int x86_extensions = 1;
void qp_use_x86_extensions(int enabled) { x86_extensions = enabled != 0; }
int qp_x86_extensions_enabled(void) { return x86_extensions; }
#else
void qp_use_x86_extensions(int enabled) { (void)enabled; }
int qp_x86_extensions_enabled(void) { return 0; }
#endif

static void qsi8cxp_neon(size_t m, size_t n, size_t k, qp_matmul_tile t, const void *lhs_packed, const void *rhs_packed,
                         float *dst, size_t dst_stride_row, float clamp_min, float clamp_max) {
    /* kr 4 or 8, sr 1, nr % 4 == 0, kp <= 65536: dispatch chose this variant for them */
#if defined(QP_X86_FAST_DOT)
    __builtin_cpu_init(); /* as qp_cpu_has_dotprod: no cached state shared between threads */
    if (x86_extensions && __builtin_cpu_supports("avxvnni")) {
        qsi8cxp_gemv_vnni(m, n, k, t, lhs_packed, rhs_packed, dst, dst_stride_row, clamp_min, clamp_max);
        return;
    }
#endif
#if defined(__aarch64__)
    if (t.mr == 1 && t.nr == 4 && t.kr == 4) { /* whole groups of rows first */
        const size_t kp = round_up(k, 32), done = cxp_rows_gemm_nr4(0, m, n, kp, lhs_packed, rhs_packed, dst,
                                                                    dst_stride_row, clamp_min, clamp_max);
        lhs_packed = (const uint8_t *)lhs_packed + done * (kp + 8);
        dst = (float *)((uint8_t *)dst + done * dst_stride_row);
        m -= done;
    }
#endif
    qsi8cxp_gemv(m, n, k, t, lhs_packed, rhs_packed, dst, dst_stride_row, clamp_min, clamp_max);
}
