/* f32 <- qsi8d32p x {qsi4c32p (f16 scales), qai4c32p (f32 scale and offset)}, NEON dotprod GEMV:
 * one LHS row at a time against groups of 4 RHS rows. Block dot products with SDOT (exact), then
 * the scalar reference's float steps per block, fused where it fuses: bit-identical outputs. */
#include "qp_neon.h"
#include "qp_qsi8d32p.h"

#include <string.h>

#if defined(QP_X86_FAST_DOT)
#undef vfmaq_f32
#define vfmaq_f32(a, b, c) qp_vfmaq_f32_fma(a, b, c)
#endif

/* 16·Σ qa·w of one block for RHS rows r0..r0+3 (nibbles shifted into the high half of a byte);
 * `a` holds the LHS row's bl values of the block in order. */
QP_TARGET_DOTPROD
static inline int32x4_t block_dot4(const int8_t *a, const uint8_t *data, size_t nr, size_t L, size_t r0, size_t bl,
                                   int pairs16) {
    const uint8x16_t high_mask = vdupq_n_u8(0xF0);
    const size_t partner = qp_qsi8d32p_partner(bl, pairs16);
    if (L == 4) { /* a 16-byte load: 4 values (and their partners) of 4 rows */
        int32x4_t acc = vdupq_n_s32(0);
        for (size_t s = 0; s < bl / 8; s++) {
            const size_t lo = qp_qsi8d32p_low_index(4 * s, bl, pairs16);
            int32_t wlo, whi;
            memcpy(&wlo, a + lo, 4);
            memcpy(&whi, a + lo + partner, 4);
            const uint8x16_t bytes = vld1q_u8(data + (s * nr + r0) * 4);
            acc = vdotq_s32(acc, vreinterpretq_s8_u8(vshlq_n_u8(bytes, 4)), vreinterpretq_s8_s32(vdupq_n_s32(wlo)));
            acc =
                vdotq_s32(acc, vreinterpretq_s8_u8(vandq_u8(bytes, high_mask)), vreinterpretq_s8_s32(vdupq_n_s32(whi)));
        }
        return acc;
    }
    /* L == 8: a 16-byte load holds 8 values of 2 rows; pairwise adds give one lane per row. */
    int32x4_t p01 = vdupq_n_s32(0), p23 = vdupq_n_s32(0);
    for (size_t s = 0; s < bl / 16; s++) {
        const size_t lo = qp_qsi8d32p_low_index(8 * s, bl, pairs16);
        const int8x8_t l8 = vld1_s8(a + lo), h8 = vld1_s8(a + lo + partner);
        const int8x16_t alo = vcombine_s8(l8, l8), ahi = vcombine_s8(h8, h8);
        const uint8x16_t b01 = vld1q_u8(data + (s * nr + r0) * 8), b23 = vld1q_u8(data + (s * nr + r0 + 2) * 8);
        p01 = vdotq_s32(vdotq_s32(p01, vreinterpretq_s8_u8(vshlq_n_u8(b01, 4)), alo),
                        vreinterpretq_s8_u8(vandq_u8(b01, high_mask)), ahi);
        p23 = vdotq_s32(vdotq_s32(p23, vreinterpretq_s8_u8(vshlq_n_u8(b23, 4)), alo),
                        vreinterpretq_s8_u8(vandq_u8(b23, high_mask)), ahi);
    }
    return vpaddq_s32(p01, p23);
}

QP_TARGET_DOTPROD
static inline void store_clamped(float32x4_t v, float *out, size_t columns, float lo, float hi) {
    qp_store_f32x4_columns(out, vminq_f32(vmaxq_f32(v, vdupq_n_f32(lo)), vdupq_n_f32(hi)), columns);
}

/* The LHS row's values of block b, in order: in place when mr == 1, else gathered from the
 * panel's interleave into `buffer`. */
static inline const int8_t *lhs_values(const uint8_t *data, size_t mr, size_t L, size_t r, size_t bl, int8_t *buffer) {
    if (mr == 1) return (const int8_t *)data;
    for (size_t i = 0; i < bl; i++) buffer[i] = (int8_t)data[(i / L * mr + r) * L + i % L];
    return buffer;
}

static int shape_ok(size_t bl, qp_matmul_tile t) {
    const size_t L = t.sr ? t.kr / t.sr : 0;
    return t.mr && (L == 4 || L == 8) && t.sr == 2 && t.nr % 4 == 0 && bl % 32 == 0 && bl <= 256;
}

QP_TARGET_DOTPROD
static void qsi4c32p_gemv_nr4_l4(size_t n, size_t k, const uint8_t *lp, const uint8_t *rhs, float *out, float lo,
                                 float hi);
QP_TARGET_DOTPROD
static void qai4c32p_rows_l4(size_t rows, size_t n, size_t k, const uint8_t *lp, const uint8_t *rhs, float *out,
                             size_t stride, float clamp_min, float clamp_max);
QP_TARGET_DOTPROD
static void qai4c32p_gemv_nr4_l4(size_t n, size_t k, const uint8_t *lp, const uint8_t *rhs, float *out, float lo,
                                 float hi);
QP_TARGET_DOTPROD
static void qai4c32p_gemv_nr4_l8(size_t n, size_t k, const uint8_t *lp, const uint8_t *rhs, float *out, float lo,
                                 float hi);

QP_TARGET_DOTPROD
static void qsi4c32p_rows_l4(size_t rows, size_t n, size_t k, const uint8_t *lp, const uint8_t *rhs, float *out,
                             size_t stride, float clamp_min, float clamp_max);
QP_TARGET_DOTPROD
static void qsi4c32p_gemv_nr4_l8(size_t n, size_t k, const uint8_t *lp, const uint8_t *rhs, float *out, float lo,
                                 float hi);

/* The shipped nr-4 tiles at bl 32 with an mr-1 LHS (rows `row_bytes` apart): eight, then four
 * rows at a time where the tile has a row-group kernel (kr/sr 4; prompts on CPUs without i8mm),
 * then one row at a time. */
typedef void (*qp_rows_fn)(size_t rows, size_t n, size_t k, const uint8_t *lp, const uint8_t *rhs, float *out,
                           size_t stride, float lo, float hi);
typedef void (*qp_gemv_fn)(size_t n, size_t k, const uint8_t *lp, const uint8_t *rhs, float *out, float lo, float hi);
static void shipped_tile_rows(size_t m, size_t n, size_t k, size_t row_bytes, qp_rows_fn rows_fn, qp_gemv_fn gemv,
                              const void *lhs_packed, const void *rhs_packed, float *dst, size_t stride, float lo,
                              float hi) {
    size_t row = 0;
    if (rows_fn)
        for (size_t rows; (rows = m - row >= 8 ? 8 : m - row >= 4 ? 4 : 0) != 0; row += rows)
            rows_fn(rows, n, k, (const uint8_t *)lhs_packed + row * row_bytes, rhs_packed,
                    (float *)((uint8_t *)dst + row * stride), stride, lo, hi);
    for (; row < m; row++)
        gemv(n, k, (const uint8_t *)lhs_packed + row * row_bytes, rhs_packed, (float *)((uint8_t *)dst + row * stride),
             lo, hi);
}

QP_TARGET_DOTPROD
void qp_matmul_f32_qsi8d32p_qsi4c32p_neon_dotprod(size_t m, size_t n, size_t k, size_t bl, qp_matmul_tile t,
                                                  const void *lhs_packed, const void *rhs_packed, float *dst,
                                                  size_t dst_stride_row, float clamp_min, float clamp_max) {
    if (!shape_ok(bl, t)) return;
    const size_t mr = t.mr, nr = t.nr, L = t.kr / t.sr, blocks = k / bl;
    if (mr == 1 && nr == 4 && bl == 32) {
        shipped_tile_rows(m, n, k, blocks * (bl + 2), L == 4 ? qsi4c32p_rows_l4 : NULL,
                          L == 4 ? qsi4c32p_gemv_nr4_l4 : qsi4c32p_gemv_nr4_l8, lhs_packed, rhs_packed, dst,
                          dst_stride_row, clamp_min, clamp_max);
        return;
    }
    const size_t lhs_record = mr * (bl + 2), rhs_record = nr * (bl / 2 + 2);
    int8_t buffer[256];
    for (size_t row = 0; row < m; row++) {
        const uint8_t *lp = (const uint8_t *)lhs_packed + row / mr * blocks * lhs_record;
        float *out = (float *)((uint8_t *)dst + row * dst_stride_row);
        for (size_t col = 0; col < n; col += nr) {
            const uint8_t *rp = (const uint8_t *)rhs_packed + col / nr * blocks * rhs_record;
            for (size_t r0 = 0; r0 < nr && col + r0 < n; r0 += 4) {
                float32x4_t acc = vdupq_n_f32(0.0f);
                for (size_t b = 0; b < blocks; b++) {
                    const uint8_t *lb = lp + b * lhs_record, *rb = rp + b * rhs_record;
                    const int8_t *a = lhs_values(lb + 2 * mr, mr, L, row % mr, bl, buffer);
                    const int32x4_t dot16 = block_dot4(a, rb + 2 * nr, nr, L, r0, bl, 0);
                    const uint8_t *d = lb + 2 * (row % mr);
                    const float s_lhs = qp_f16_to_f32((uint16_t)(d[0] | d[1] << 8));
                    const float32x4_t s = vmulq_n_f32(qp_load_f16x4(rb + 2 * r0), s_lhs); /* exact */
                    acc = vfmaq_f32(acc, qp_sixteenth_f32(dot16), s);
                }
                store_clamped(acc, out + col + r0, n - col - r0, clamp_min, clamp_max);
            }
        }
    }
}

/* SDOT by element: lane `lane` (four int8 values) of `a` against every lane of `b`. */
#if defined(__aarch64__)
#define QP_DOT_LANE(acc, b, a, lane) vdotq_laneq_s32(acc, b, a, lane)
#else
#define QP_DOT_LANE(acc, b, a, lane) \
    vdotq_s32(acc, b, vreinterpretq_s8_s32(vdupq_laneq_s32(vreinterpretq_s32_s8(a), lane)))
#endif

/* The four-row kernels' shared steps: a kr/sr-4 block's 64 code bytes unpacked once (l: low
 * nibbles, h: high, each shifted to the byte's top), and one row's block dot in qai4c32p_block's
 * L 4 order. */
#define QP_UNPACK_L4(codes)                                                                                         \
    const uint8x16_t b0 = vld1q_u8(codes), b1 = vld1q_u8((codes) + 16), b2 = vld1q_u8((codes) + 32),                \
                     b3 = vld1q_u8((codes) + 48);                                                                   \
    const int8x16_t l0 = vreinterpretq_s8_u8(vshlq_n_u8(b0, 4)), h0 = vreinterpretq_s8_u8(vandq_u8(b0, high_mask)); \
    const int8x16_t l1 = vreinterpretq_s8_u8(vshlq_n_u8(b1, 4)), h1 = vreinterpretq_s8_u8(vandq_u8(b1, high_mask)); \
    const int8x16_t l2 = vreinterpretq_s8_u8(vshlq_n_u8(b2, 4)), h2 = vreinterpretq_s8_u8(vandq_u8(b2, high_mask)); \
    const int8x16_t l3 = vreinterpretq_s8_u8(vshlq_n_u8(b3, 4)), h3 = vreinterpretq_s8_u8(vandq_u8(b3, high_mask))
#define QP_DOT_L4(d, a_lo, a_hi)                                                                                       \
    QP_DOT_LANE(                                                                                                       \
        QP_DOT_LANE(                                                                                                   \
            QP_DOT_LANE(QP_DOT_LANE(QP_DOT_LANE(QP_DOT_LANE(QP_DOT_LANE(QP_DOT_LANE(d, l0, a_lo, 0), h0, a_hi, 0), l1, \
                                                            a_lo, 1),                                                  \
                                                h1, a_hi, 1),                                                          \
                                    l2, a_lo, 2),                                                                      \
                        h2, a_hi, 2),                                                                                  \
            l3, a_lo, 3),                                                                                              \
        h3, a_hi, 3)

#define QP_HALF(a, i) vreinterpretq_s8_s64(vdupq_laneq_s64(vreinterpretq_s64_s8(a), i)) /* DUP Vd.2D */
/* L 8: 16 bytes hold 8 values of 2 rows (rows 0, 1 then 2, 3), values 0..7 then 8..15, against
 * the LHS halves duplicated (lo0 = values 0..7 twice, hi0 their nibble partners 16..23, lo1 and
 * hi1 the next eight); pairwise adds give one lane per row. */
QP_TARGET_DOTPROD
static inline int32x4_t qai4c32p_block_l8_halves(const uint8_t *rb, int8x16_t lo0, int8x16_t hi0, int8x16_t lo1,
                                                 int8x16_t hi1) {
    const uint8x16_t high_mask = vdupq_n_u8(0xF0);
    const uint8x16_t b0 = vld1q_u8(rb), b1 = vld1q_u8(rb + 16), b2 = vld1q_u8(rb + 32), b3 = vld1q_u8(rb + 48);
    int32x4_t p01 = vdotq_s32(vdupq_n_s32(0), vreinterpretq_s8_u8(vshlq_n_u8(b0, 4)), lo0);
    int32x4_t p23 = vdotq_s32(vdupq_n_s32(0), vreinterpretq_s8_u8(vshlq_n_u8(b1, 4)), lo0);
    p01 = vdotq_s32(p01, vreinterpretq_s8_u8(vandq_u8(b0, high_mask)), hi0);
    p23 = vdotq_s32(p23, vreinterpretq_s8_u8(vandq_u8(b1, high_mask)), hi0);
    p01 = vdotq_s32(p01, vreinterpretq_s8_u8(vshlq_n_u8(b2, 4)), lo1);
    p23 = vdotq_s32(p23, vreinterpretq_s8_u8(vshlq_n_u8(b3, 4)), lo1);
    p01 = vdotq_s32(p01, vreinterpretq_s8_u8(vandq_u8(b2, high_mask)), hi1);
    p23 = vdotq_s32(p23, vreinterpretq_s8_u8(vandq_u8(b3, high_mask)), hi1);
    return vpaddq_s32(p01, p23);
}

/* One 32-value block of the qai4c32p GEMV below for 4 RHS rows: 16·Σ qa·w per row. The LHS block
 * is in two registers (values 0..15, then their nibble partners 16..31); L is a constant at each
 * call, so the branch folds away. */
QP_TARGET_DOTPROD
static inline int32x4_t qai4c32p_block(const uint8_t *rb, int8x16_t a_lo, int8x16_t a_hi, size_t L) {
    const uint8x16_t high_mask = vdupq_n_u8(0xF0);
    const uint8x16_t b0 = vld1q_u8(rb), b1 = vld1q_u8(rb + 16), b2 = vld1q_u8(rb + 32), b3 = vld1q_u8(rb + 48);
    if (L == 4) {
        /* 16 bytes per step: 4 values of each of the 4 rows, values 4s .. 4s+3 by element. */
        int32x4_t d = vdupq_n_s32(0);
        d = QP_DOT_LANE(d, vreinterpretq_s8_u8(vshlq_n_u8(b0, 4)), a_lo, 0);
        d = QP_DOT_LANE(d, vreinterpretq_s8_u8(vandq_u8(b0, high_mask)), a_hi, 0);
        d = QP_DOT_LANE(d, vreinterpretq_s8_u8(vshlq_n_u8(b1, 4)), a_lo, 1);
        d = QP_DOT_LANE(d, vreinterpretq_s8_u8(vandq_u8(b1, high_mask)), a_hi, 1);
        d = QP_DOT_LANE(d, vreinterpretq_s8_u8(vshlq_n_u8(b2, 4)), a_lo, 2);
        d = QP_DOT_LANE(d, vreinterpretq_s8_u8(vandq_u8(b2, high_mask)), a_hi, 2);
        d = QP_DOT_LANE(d, vreinterpretq_s8_u8(vshlq_n_u8(b3, 4)), a_lo, 3);
        return QP_DOT_LANE(d, vreinterpretq_s8_u8(vandq_u8(b3, high_mask)), a_hi, 3);
    }
    (void)b0, (void)b1, (void)b2, (void)b3;
    return qai4c32p_block_l8_halves(rb, QP_HALF(a_lo, 0), QP_HALF(a_hi, 0), QP_HALF(a_lo, 1), QP_HALF(a_hi, 1));
}

/* The GEMV the shipped qai4c32p tiles run (mr 1, nr 4, blocks of 32; kr/sr 4 or 8), with the
 * general loop's integer sums and its float steps in its order: the same bits. */
QP_TARGET_DOTPROD
static inline void qai4c32p_gemv_nr4(size_t n, size_t k, size_t L, const uint8_t *lp, const uint8_t *rhs, float *out,
                                     float clamp_min, float clamp_max) {
    const size_t blocks = k / 32, lhs_record = 32 + 8, rhs_record = 4 * (16 + 8), panel = blocks * rhs_record + 16;
    size_t col = 0;
    if (L == 8) /* Four panels per pass: the LHS halves duplicated once for sixteen columns. */
        for (; col + 16 <= n; col += 16) {
            const uint8_t *r0 = rhs + col / 4 * panel, *r1 = r0 + panel, *r2 = r1 + panel, *r3 = r2 + panel;
            float32x4_t c0 = vdupq_n_f32(0.0f), c1 = c0, c2 = c0, c3 = c0;
            for (size_t b = 0; b < blocks; b++) {
                const uint8_t *lb = lp + b * lhs_record;
                const int8x16_t a_lo = vld1q_s8((const int8_t *)lb), a_hi = vld1q_s8((const int8_t *)lb + 16);
                const int8x16_t lo0 = QP_HALF(a_lo, 0), hi0 = QP_HALF(a_hi, 0), lo1 = QP_HALF(a_lo, 1),
                                hi1 = QP_HALF(a_hi, 1);
                float lhs_sum, lhs_scale;
                memcpy(&lhs_sum, lb + 32, 4);
                memcpy(&lhs_scale, lb + 36, 4);
                const float32x4_t sum = vdupq_n_f32(lhs_sum);
#define QP_PANEL(rp, acc)                                                                       \
    do {                                                                                        \
        const uint8_t *rb = (rp) + b * rhs_record;                                              \
        const int32x4_t d = qai4c32p_block_l8_halves(rb, lo0, hi0, lo1, hi1);                   \
        acc = vfmaq_f32(acc, qp_load_f32x4(rb + 64), sum);                                      \
        acc = vfmaq_f32(acc, vcvtq_f32_s32(d), vmulq_n_f32(qp_load_f32x4(rb + 80), lhs_scale)); \
    } while (0)
                QP_PANEL(r0, c0);
                QP_PANEL(r1, c1);
                QP_PANEL(r2, c2);
                QP_PANEL(r3, c3);
#undef QP_PANEL
            }
            store_clamped(vaddq_f32(c0, qp_load_f32x4(r0 + blocks * rhs_record)), out + col, 4, clamp_min, clamp_max);
            store_clamped(vaddq_f32(c1, qp_load_f32x4(r1 + blocks * rhs_record)), out + col + 4, 4, clamp_min,
                          clamp_max);
            store_clamped(vaddq_f32(c2, qp_load_f32x4(r2 + blocks * rhs_record)), out + col + 8, 4, clamp_min,
                          clamp_max);
            store_clamped(vaddq_f32(c3, qp_load_f32x4(r3 + blocks * rhs_record)), out + col + 12, 4, clamp_min,
                          clamp_max);
        }
    /* Two panels per pass: the LHS block is loaded once for eight columns. */
    for (; col + 8 <= n; col += 8) {
        const uint8_t *rp = rhs + col / 4 * panel, *rq = rp + panel;
        float32x4_t acc = vdupq_n_f32(0.0f), acd = acc;
        for (size_t b = 0; b < blocks; b++) {
            const uint8_t *lb = lp + b * lhs_record, *rb = rp + b * rhs_record, *rc = rq + b * rhs_record;
            const int8x16_t a_lo = vld1q_s8((const int8_t *)lb), a_hi = vld1q_s8((const int8_t *)lb + 16);
            const int32x4_t d0 = qai4c32p_block(rb, a_lo, a_hi, L), d1 = qai4c32p_block(rc, a_lo, a_hi, L);
            float lhs_sum, lhs_scale;
            memcpy(&lhs_sum, lb + 32, 4);
            memcpy(&lhs_scale, lb + 36, 4);
            const float32x4_t sum = vdupq_n_f32(lhs_sum);
            acc = vfmaq_f32(acc, qp_load_f32x4(rb + 64), sum);
            acc = vfmaq_f32(acc, vcvtq_f32_s32(d0), vmulq_n_f32(qp_load_f32x4(rb + 80), lhs_scale));
            acd = vfmaq_f32(acd, qp_load_f32x4(rc + 64), sum);
            acd = vfmaq_f32(acd, vcvtq_f32_s32(d1), vmulq_n_f32(qp_load_f32x4(rc + 80), lhs_scale));
        }
        store_clamped(vaddq_f32(acc, qp_load_f32x4(rp + blocks * rhs_record)), out + col, 4, clamp_min, clamp_max);
        store_clamped(vaddq_f32(acd, qp_load_f32x4(rq + blocks * rhs_record)), out + col + 4, 4, clamp_min, clamp_max);
    }
    for (; col < n; col += 4) {
        const uint8_t *rp = rhs + col / 4 * panel;
        float32x4_t acc = vdupq_n_f32(0.0f);
        for (size_t b = 0; b < blocks; b++) {
            const uint8_t *lb = lp + b * lhs_record, *rb = rp + b * rhs_record;
            const int32x4_t dot16 =
                qai4c32p_block(rb, vld1q_s8((const int8_t *)lb), vld1q_s8((const int8_t *)lb + 16), L);
            float lhs_sum, lhs_scale;
            memcpy(&lhs_sum, lb + 32, 4);
            memcpy(&lhs_scale, lb + 36, 4);
            acc = vfmaq_f32(acc, qp_load_f32x4(rb + 64), vdupq_n_f32(lhs_sum));
            acc = vfmaq_f32(acc, vcvtq_f32_s32(dot16), vmulq_n_f32(qp_load_f32x4(rb + 80), lhs_scale));
        }
        acc = vaddq_f32(acc, qp_load_f32x4(rp + blocks * rhs_record));
        store_clamped(acc, out + col, n - col, clamp_min, clamp_max);
    }
}

/* F(r, acc) for the row-group kernels' eight rows and their accumulators c0..c7 */
#define QP_EACH_ROW8(F) F(0, c0) F(1, c1) F(2, c2) F(3, c3) F(4, c4) F(5, c5) F(6, c6) F(7, c7)

/* Eight or four LHS rows (`ROWS`, constant once inlined) against the kr/sr-4 qsi4c32pscalef16
 * tile (codes after the f16 scales, no offsets or bias), each RHS block loaded and unpacked once:
 * every row's float step is qsi4c32p_gemv_nr4's (the LHS scale used by element: the same product). */
QP_TARGET_DOTPROD
static inline __attribute__((always_inline)) void qsi4c32p_rows_body(size_t ROWS, size_t n, size_t k, const uint8_t *lp,
                                                                     const uint8_t *rhs, float *out, size_t stride,
                                                                     float clamp_min, float clamp_max) {
    const size_t blocks = k / 32, lhs_record = 2 + 32, rhs_record = 4 * (16 + 2), panel = blocks * rhs_record;
    const size_t row_bytes = blocks * lhs_record;
    const uint8x16_t high_mask = vdupq_n_u8(0xF0);
    for (size_t col = 0; col < n; col += 4) {
        const uint8_t *rp = rhs + col / 4 * panel;
        float32x4_t c0 = vdupq_n_f32(0.0f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        for (size_t b = 0; b < blocks; b++) {
            const uint8_t *rb = rp + b * rhs_record;
            QP_UNPACK_L4(rb + 8);
            const float32x4_t d_rhs = qp_load_f16x4(rb);
#define QP_ROW(r, acc)                                                                                     \
    if (ROWS > (r)) {                                                                                      \
        const uint8_t *lb = lp + (r)*row_bytes + b * lhs_record;                                           \
        const int8x16_t a_lo = vld1q_s8((const int8_t *)lb + 2), a_hi = vld1q_s8((const int8_t *)lb + 18); \
        const int32x4_t d = QP_DOT_L4(vdupq_n_s32(0), a_lo, a_hi);                                         \
        acc = vfmaq_f32(acc, qp_sixteenth_f32(d), vmulq_laneq_f32(d_rhs, qp_load_f16x4(lb), 0));           \
    }
            QP_EACH_ROW8(QP_ROW)
#undef QP_ROW
        }
        const size_t columns = n - col < 4 ? n - col : 4;
        const float32x4_t rows[8] = {c0, c1, c2, c3, c4, c5, c6, c7};
        for (size_t r = 0; r < ROWS; r++)
            store_clamped(rows[r], (float *)((uint8_t *)out + r * stride) + col, columns, clamp_min, clamp_max);
    }
}

QP_TARGET_DOTPROD
static void qsi4c32p_rows_l4(size_t rows, size_t n, size_t k, const uint8_t *lp, const uint8_t *rhs, float *out,
                             size_t stride, float clamp_min, float clamp_max) {
    if (rows == 8)
        qsi4c32p_rows_body(8, n, k, lp, rhs, out, stride, clamp_min, clamp_max);
    else
        qsi4c32p_rows_body(4, n, k, lp, rhs, out, stride, clamp_min, clamp_max);
}

/* The GEMV the shipped qsi4c32pscalef16 tiles run (mr 1, nr 4, blocks of 32; kr/sr 4 or 8): at
 * bl 32 its block holds the codes as qai4c32p's do (value i's nibble partner is i + 16), after
 * the f16 scales (LHS: one, then 32 codes; RHS: four, then 64 code bytes). The scalar loop's
 * float steps in its order: 16·Σ as a float times 1/16, times (RHS scale · LHS scale), fused. */
QP_TARGET_DOTPROD
static inline void qsi4c32p_gemv_nr4(size_t n, size_t k, size_t L, const uint8_t *lp, const uint8_t *rhs, float *out,
                                     float clamp_min, float clamp_max) {
    const size_t blocks = k / 32, lhs_record = 2 + 32, rhs_record = 4 * (16 + 2), panel = blocks * rhs_record;
    size_t col = 0;
    for (; col + 8 <= n; col += 8) { /* two panels per LHS load */
        const uint8_t *rp = rhs + col / 4 * panel, *rq = rp + panel;
        float32x4_t acc = vdupq_n_f32(0.0f), acd = acc;
        for (size_t b = 0; b < blocks; b++) {
            const uint8_t *lb = lp + b * lhs_record, *rb = rp + b * rhs_record, *rc = rq + b * rhs_record;
            const int8x16_t a_lo = vld1q_s8((const int8_t *)lb + 2), a_hi = vld1q_s8((const int8_t *)lb + 18);
            const int32x4_t d0 = qai4c32p_block(rb + 8, a_lo, a_hi, L), d1 = qai4c32p_block(rc + 8, a_lo, a_hi, L);
            const float s_lhs = vgetq_lane_f32(qp_load_f16x4(lb), 0);
            acc = vfmaq_f32(acc, qp_sixteenth_f32(d0), vmulq_n_f32(qp_load_f16x4(rb), s_lhs));
            acd = vfmaq_f32(acd, qp_sixteenth_f32(d1), vmulq_n_f32(qp_load_f16x4(rc), s_lhs));
        }
        store_clamped(acc, out + col, 4, clamp_min, clamp_max);
        store_clamped(acd, out + col + 4, 4, clamp_min, clamp_max);
    }
    for (; col < n; col += 4) {
        const uint8_t *rp = rhs + col / 4 * panel;
        float32x4_t acc = vdupq_n_f32(0.0f);
        for (size_t b = 0; b < blocks; b++) {
            const uint8_t *lb = lp + b * lhs_record, *rb = rp + b * rhs_record;
            const int32x4_t d =
                qai4c32p_block(rb + 8, vld1q_s8((const int8_t *)lb + 2), vld1q_s8((const int8_t *)lb + 18), L);
            acc = vfmaq_f32(acc, qp_sixteenth_f32(d),
                            vmulq_n_f32(qp_load_f16x4(rb), vgetq_lane_f32(qp_load_f16x4(lb), 0)));
        }
        store_clamped(acc, out + col, n - col, clamp_min, clamp_max);
    }
}

/* L as a constant at each call, so qai4c32p_block's branch folds away. */
QP_TARGET_DOTPROD
static void qsi4c32p_gemv_nr4_l4(size_t n, size_t k, const uint8_t *lp, const uint8_t *rhs, float *out, float lo,
                                 float hi) {
    qsi4c32p_gemv_nr4(n, k, 4, lp, rhs, out, lo, hi);
}

QP_TARGET_DOTPROD
static void qsi4c32p_gemv_nr4_l8(size_t n, size_t k, const uint8_t *lp, const uint8_t *rhs, float *out, float lo,
                                 float hi) {
    qsi4c32p_gemv_nr4(n, k, 8, lp, rhs, out, lo, hi);
}
#undef QP_HALF

#if defined(__aarch64__)
/* qai4c32p_rows_body's blocks in AArch64 assembly (GCC -O2 spilled the eight rows' sums and
 * addressed every LHS row by register offset): per block the RHS's 64 code bytes unpacked once
 * (v16-v19 low nibbles, v20-v23 high ones), its offsets (v28) and scales (v29); per row the same
 * SDOTs, then FMLA by the row's sum and FMLA of the converted dot by scale · row scale, in the
 * GEMV's order. acc[r] returns row r's sums over all blocks (bias and clamp are the caller's). */
#define QP_QAI_ROW(i)                                                                                               \
    "ldp q24, q25, [%[a" #i "]], #32\n\t"                                                                           \
    "ldr d26, [%[a" #i "]], #8\n\t"                                                                                 \
    "movi v27.4s, #0\n\t" QP_ASM_SDOT8("v27", "v27", "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v24", \
                                       "v25") "scvtf v27.4s, v27.4s\n\t"                                            \
                                              "fmul v24.4s, v29.4s, v26.s[1]\n\t"                                   \
                                              "fmla %[c" #i "].4s, v28.4s, v26.s[0]\n\t"                            \
                                              "fmla %[c" #i "].4s, v27.4s, v24.4s\n\t"
#define QP_QAI_RHS                      \
    "ldp q20, q21, [%[rb]], #32\n\t"    \
    "ldp q22, q23, [%[rb]], #32\n\t"    \
    "ldp q28, q29, [%[rb]], #32\n\t"    \
    "shl v16.16b, v20.16b, #4\n\t"      \
    "shl v17.16b, v21.16b, #4\n\t"      \
    "shl v18.16b, v22.16b, #4\n\t"      \
    "shl v19.16b, v23.16b, #4\n\t"      \
    "and v20.16b, v20.16b, v30.16b\n\t" \
    "and v21.16b, v21.16b, v30.16b\n\t" \
    "and v22.16b, v22.16b, v30.16b\n\t" \
    "and v23.16b, v23.16b, v30.16b\n\t"
#define QP_QAI_ZERO(i) "movi %[c" #i "].4s, #0\n\t"
#define QP_QAI_OPS4                                                                                           \
    [c0] "=w"(acc[0]), [c1] "=w"(acc[1]), [c2] "=w"(acc[2]), [c3] "=w"(acc[3]), [a0] "+r"(a0), [a1] "+r"(a1), \
        [a2] "+r"(a2), [a3] "+r"(a3), [rb] "+r"(rb), [n] "+r"(blocks)
#define QP_QAI_CLOBBERS                                                                                            \
    "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v24", "v25", "v26", "v27", "v28", "v29", "v30", "cc", \
        "memory"
QP_TARGET_DOTPROD
static inline __attribute__((always_inline)) void qai4c32p_rows_asm(size_t ROWS, const uint8_t *lp, size_t row_bytes,
                                                                    const uint8_t *rb, size_t blocks,
                                                                    float32x4_t acc[8]) {
    const uint8_t *a0 = lp, *a1 = a0 + row_bytes, *a2 = a1 + row_bytes, *a3 = a2 + row_bytes, *a4 = a3 + row_bytes,
                  *a5 = a4 + row_bytes, *a6 = a5 + row_bytes, *a7 = a6 + row_bytes;
    if (ROWS == 8)
        __asm__(".arch_extension dotprod\n\t"
                "movi v30.16b, #0xf0\n\t" QP_QAI_ZERO(0) QP_QAI_ZERO(1) QP_QAI_ZERO(2) QP_QAI_ZERO(3) QP_QAI_ZERO(4)
                    QP_QAI_ZERO(5) QP_QAI_ZERO(6) QP_QAI_ZERO(7) QP_ASM_BLOCK_LOOP(QP_QAI_RHS QP_QAI_ROW(0) QP_QAI_ROW(
                        1) QP_QAI_ROW(2) QP_QAI_ROW(3) QP_QAI_ROW(4) QP_QAI_ROW(5) QP_QAI_ROW(6) QP_QAI_ROW(7))
                : QP_QAI_OPS4, [c4] "=w"(acc[4]), [c5] "=w"(acc[5]), [c6] "=w"(acc[6]), [c7] "=w"(acc[7]),
                  [a4] "+r"(a4), [a5] "+r"(a5), [a6] "+r"(a6), [a7] "+r"(a7)
                :
                : QP_QAI_CLOBBERS);
    else
        __asm__(".arch_extension dotprod\n\t"
                "movi v30.16b, #0xf0\n\t" QP_QAI_ZERO(0) QP_QAI_ZERO(1) QP_QAI_ZERO(2) QP_QAI_ZERO(3)
                    QP_ASM_BLOCK_LOOP(QP_QAI_RHS QP_QAI_ROW(0) QP_QAI_ROW(1) QP_QAI_ROW(2) QP_QAI_ROW(3))
                : QP_QAI_OPS4
                :
                : QP_QAI_CLOBBERS);
}
#undef QP_QAI_ROW
#undef QP_QAI_RHS
#undef QP_QAI_ZERO
#undef QP_QAI_OPS4
#undef QP_QAI_CLOBBERS
#endif

/* Eight or four LHS rows (`ROWS`, constant once inlined) against the kr/sr-4 qai4c32p tile,
 * each RHS block loaded and unpacked once for all of them; every row's block dot and float steps
 * are the GEMV's (qai4c32p_block's L 4 order, then offset·sum and the scaled dot fused in that
 * order; the LHS sum and scale used by element: the same products). */
QP_TARGET_DOTPROD
static inline __attribute__((always_inline)) void qai4c32p_rows_body(size_t ROWS, size_t n, size_t k, const uint8_t *lp,
                                                                     const uint8_t *rhs, float *out, size_t stride,
                                                                     float clamp_min, float clamp_max) {
    const size_t blocks = k / 32, lhs_record = 32 + 8, rhs_record = 4 * (16 + 8), panel = blocks * rhs_record + 16;
    const size_t row_bytes = blocks * lhs_record;
    const uint8x16_t high_mask = vdupq_n_u8(0xF0);
    for (size_t col = 0; col < n; col += 4) {
        const uint8_t *rp = rhs + col / 4 * panel;
#if defined(__aarch64__)
        float32x4_t rows[8];
        qai4c32p_rows_asm(ROWS, lp, row_bytes, rp, blocks, rows);
        (void)high_mask;
#else
        float32x4_t c0 = vdupq_n_f32(0.0f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        for (size_t b = 0; b < blocks; b++) {
            const uint8_t *rb = rp + b * rhs_record;
            QP_UNPACK_L4(rb);
            const float32x4_t offset = qp_load_f32x4(rb + 64), scale16 = qp_load_f32x4(rb + 80);
#define QP_ROW(r, acc)                                                                                 \
    if (ROWS > (r)) {                                                                                  \
        const uint8_t *lb = lp + (r)*row_bytes + b * lhs_record;                                       \
        const int8x16_t a_lo = vld1q_s8((const int8_t *)lb), a_hi = vld1q_s8((const int8_t *)lb + 16); \
        const int32x4_t d = QP_DOT_L4(vdupq_n_s32(0), a_lo, a_hi);                                     \
        const float32x2_t sum_scale = vreinterpret_f32_u8(vld1_u8(lb + 32));                           \
        acc = QP_FMA_LANE(acc, offset, sum_scale, 0);                                                  \
        acc = vfmaq_f32(acc, vcvtq_f32_s32(d), vmulq_lane_f32(scale16, sum_scale, 1));                 \
    }
            QP_EACH_ROW8(QP_ROW)
#undef QP_ROW
        }
        const float32x4_t rows[8] = {c0, c1, c2, c3, c4, c5, c6, c7};
#endif
        const float32x4_t bias = qp_load_f32x4(rp + blocks * rhs_record);
        const size_t columns = n - col < 4 ? n - col : 4;
        for (size_t r = 0; r < ROWS; r++)
            store_clamped(vaddq_f32(rows[r], bias), (float *)((uint8_t *)out + r * stride) + col, columns, clamp_min,
                          clamp_max);
    }
}

QP_TARGET_DOTPROD
static void qai4c32p_rows_l4(size_t rows, size_t n, size_t k, const uint8_t *lp, const uint8_t *rhs, float *out,
                             size_t stride, float clamp_min, float clamp_max) {
    if (rows == 8)
        qai4c32p_rows_body(8, n, k, lp, rhs, out, stride, clamp_min, clamp_max);
    else
        qai4c32p_rows_body(4, n, k, lp, rhs, out, stride, clamp_min, clamp_max);
}

QP_TARGET_DOTPROD
static void qai4c32p_gemv_nr4_l4(size_t n, size_t k, const uint8_t *lp, const uint8_t *rhs, float *out, float lo,
                                 float hi) {
    qai4c32p_gemv_nr4(n, k, 4, lp, rhs, out, lo, hi);
}

#if defined(QP_X86_FAST_DOT)
/* x86 (AVX2): the L 8 GEMV's integer dots natively, eight columns (two panels) per pass; SIMDe's
 * SDOT costs about four times as much. VPMADDUBSW needs an unsigned operand, so each signed
 * nibble s is taken as s ^ 8 = s + 8 in 0..15 and 8·Σa (one per LHS block) is taken back:
 * exact integers, then the general loop's float steps in its order (VFMADD is FMLA): the same
 * bits. Returns the columns done (a multiple of 8); 0 for LHS rows of more than 512 blocks. */
QP_TARGET_DOTPROD
static inline __m256i qai4c32p_panel_dot_avx2(const uint8_t *rb, __m256i lo0, __m256i lo1, __m256i hi0, __m256i hi1) {
    const __m256i nibble = _mm256_set1_epi8(0x0F), flip = _mm256_set1_epi8((char)0x88);
    /* 32 bytes: rows 0..3 (a quarter each) of values 0..7, then of values 8..15; high nibbles
     * hold the partners 16..23 and 24..31. */
    const __m256i y0 = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)rb), flip);
    const __m256i y1 = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(rb + 32)), flip);
    const __m256i t0 = _mm256_add_epi16(_mm256_maddubs_epi16(_mm256_and_si256(y0, nibble), lo0),
                                        _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(y0, 4), nibble), hi0));
    const __m256i t1 = _mm256_add_epi16(_mm256_maddubs_epi16(_mm256_and_si256(y1, nibble), lo1),
                                        _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(y1, 4), nibble), hi1));
    return _mm256_madd_epi16(_mm256_add_epi16(t0, t1), _mm256_set1_epi16(1)); /* |sums| <= 4·3840 */
}

QP_TARGET_DOTPROD
static inline __m256 qp_load_f32x4x2(const uint8_t *a, const uint8_t *b) {
    return _mm256_set_m128(_mm_loadu_ps((const float *)b), _mm_loadu_ps((const float *)a));
}

QP_TARGET_DOTPROD
static size_t qai4c32p_gemv_nr4_l8_avx2(size_t n, size_t k, const uint8_t *lp, const uint8_t *rhs, float *out,
                                        float clamp_min, float clamp_max) {
    const size_t blocks = k / 32, lhs_record = 32 + 8, rhs_record = 4 * (16 + 8), panel = blocks * rhs_record + 16;
    int32_t bias[512];
    if (blocks > 512) return 0;
    for (size_t b = 0; b < blocks; b++) {
        int32_t sum = 0;
        for (size_t i = 0; i < 32; i++) sum += (int8_t)lp[b * lhs_record + i];
        bias[b] = 8 * sum;
    }
    const size_t share = qp_prefetch_share(2 * panel, blocks);
    size_t col = 0;
    for (; col + 8 <= n; col += 8) {
        const uint8_t *rp = rhs + col / 4 * panel, *rq = rp + panel;
        __m256 acc = _mm256_setzero_ps();
        for (size_t b = 0; b < blocks; b++) {
            const uint8_t *lb = lp + b * lhs_record, *rb = rp + b * rhs_record, *rc = rq + b * rhs_record;
            qp_prefetch_step(rp + 2 * panel, share, b);
            int64_t q[4];
            memcpy(q, lb, 32);
            const __m256i lo0 = _mm256_set1_epi64x(q[0]), lo1 = _mm256_set1_epi64x(q[1]),
                          hi0 = _mm256_set1_epi64x(q[2]), hi1 = _mm256_set1_epi64x(q[3]);
            const __m256i dp = qai4c32p_panel_dot_avx2(rb, lo0, lo1, hi0, hi1);
            const __m256i dq = qai4c32p_panel_dot_avx2(rc, lo0, lo1, hi0, hi1);
            /* [p r0 r0 r1 r1 | p r2 r2 r3 r3] and q's: pairwise sums, then the panels' halves in order. */
            __m256i d = _mm256_permute4x64_epi64(_mm256_hadd_epi32(dp, dq), 0xD8);
            d = _mm256_slli_epi32(_mm256_sub_epi32(d, _mm256_set1_epi32(bias[b])), 4);
            float lhs_sum, lhs_scale;
            memcpy(&lhs_sum, lb + 32, 4);
            memcpy(&lhs_scale, lb + 36, 4);
            acc = _mm256_fmadd_ps(qp_load_f32x4x2(rb + 64, rc + 64), _mm256_set1_ps(lhs_sum), acc);
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(d),
                                  _mm256_mul_ps(qp_load_f32x4x2(rb + 80, rc + 80), _mm256_set1_ps(lhs_scale)), acc);
        }
        acc = _mm256_add_ps(acc, qp_load_f32x4x2(rp + blocks * rhs_record, rq + blocks * rhs_record));
        store_clamped(simde_float32x4_from_m128(_mm256_castps256_ps128(acc)), out + col, 4, clamp_min, clamp_max);
        store_clamped(simde_float32x4_from_m128(_mm256_extractf128_ps(acc, 1)), out + col + 4, 4, clamp_min, clamp_max);
    }
    return col;
}
#endif

QP_TARGET_DOTPROD
static void qai4c32p_gemv_nr4_l8(size_t n, size_t k, const uint8_t *lp, const uint8_t *rhs, float *out, float lo,
                                 float hi) {
#if defined(QP_X86_FAST_DOT)
    const size_t done = qp_x86_extensions_enabled() ? qai4c32p_gemv_nr4_l8_avx2(n, k, lp, rhs, out, lo, hi) : 0;
    rhs += done / 4 * (k / 32 * 96 + 16);
    out += done;
    n -= done;
#endif
    qai4c32p_gemv_nr4(n, k, 8, lp, rhs, out, lo, hi);
}

QP_TARGET_DOTPROD
void qp_matmul_f32_qsi8d32p_qai4c32p_neon_dotprod(size_t m, size_t n, size_t k, size_t bl, qp_matmul_tile t,
                                                  const void *lhs_packed, const void *rhs_packed, float *dst,
                                                  size_t dst_stride_row, float clamp_min, float clamp_max) {
    if (!shape_ok(bl, t)) return;
    const size_t mr = t.mr, nr = t.nr, L = t.kr / t.sr, blocks = k / bl;
    if (mr == 1 && nr == 4 && bl == 32) {
        shipped_tile_rows(m, n, k, blocks * (bl + 8), L == 4 ? qai4c32p_rows_l4 : NULL,
                          L == 4 ? qai4c32p_gemv_nr4_l4 : qai4c32p_gemv_nr4_l8, lhs_packed, rhs_packed, dst,
                          dst_stride_row, clamp_min, clamp_max);
        return;
    }
    const size_t lhs_record = mr * (bl + 8), rhs_record = nr * (bl / 2 + 8);
    int8_t buffer[256];
    for (size_t row = 0; row < m; row++) {
        const size_t lr = row % mr;
        const uint8_t *lp = (const uint8_t *)lhs_packed + row / mr * blocks * lhs_record;
        float *out = (float *)((uint8_t *)dst + row * dst_stride_row);
        for (size_t col = 0; col < n; col += nr) {
            const uint8_t *rp = (const uint8_t *)rhs_packed + col / nr * (blocks * rhs_record + 4 * nr);
            for (size_t r0 = 0; r0 < nr && col + r0 < n; r0 += 4) {
                float32x4_t acc = vdupq_n_f32(0.0f);
                for (size_t b = 0; b < blocks; b++) {
                    const uint8_t *lb = lp + b * lhs_record, *rb = rp + b * rhs_record;
                    const int32x4_t dot16 = block_dot4(lhs_values(lb, mr, L, lr, bl, buffer), rb, nr, L, r0, bl, 1);
                    float lhs_sum, lhs_scale;
                    memcpy(&lhs_sum, lb + mr * bl + 4 * lr, 4);
                    memcpy(&lhs_scale, lb + mr * bl + 4 * mr + 4 * lr, 4);
                    const uint8_t *meta = rb + nr * bl / 2;
                    acc = vfmaq_f32(acc, qp_load_f32x4(meta + 4 * r0), vdupq_n_f32(lhs_sum));
                    acc = vfmaq_f32(acc, vcvtq_f32_s32(dot16),
                                    vmulq_n_f32(qp_load_f32x4(meta + 4 * nr + 4 * r0), lhs_scale));
                }
                acc = vaddq_f32(acc, qp_load_f32x4(rp + blocks * rhs_record + 4 * r0));
                store_clamped(acc, out + col + r0, n - col - r0, clamp_min, clamp_max);
            }
        }
    }
}
