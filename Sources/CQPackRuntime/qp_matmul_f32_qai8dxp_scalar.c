/* Scalar reference matmuls over KleidiAI packed buffers. They define the bits every optimized
 * variant must reproduce: integer dot products are exact, and the float epilogue follows the
 * order of KleidiAI's NEON kernels (KLEIDIAI-LAYOUTS.md section 8), fused multiply-adds where
 * those kernels fuse and nowhere else. */
#include "qp_runtime.h"

#include <math.h>
#include <string.h>

/* Built with -ffp-contract=off: no fused multiply-add except the explicit fmaf calls. */

static size_t round_up(size_t v, size_t m) { return (v + m - 1) / m * m; }

static inline float load_f32(const uint8_t *p) {
    float v;
    memcpy(&v, p, 4);
    return v;
}

static inline int32_t load_i32(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline float clampf(float v, float lo, float hi) { return fminf(fmaxf(v, lo), hi); }

/* One LHS row, unpacked: codes, -zero_point and scale. */
typedef struct {
    const uint8_t *panel;
    size_t r, mr, L, kp;
} lhs_row;

static inline lhs_row lhs_at(const void *lhs_packed, size_t row, size_t k, qp_matmul_tile t) {
    const size_t kp = round_up(k, 32);
    lhs_row l = {(const uint8_t *)lhs_packed + row / t.mr * t.mr * (kp + 8), row % t.mr, t.mr, t.kr / t.sr, kp};
    return l;
}

static inline int8_t lhs_q(lhs_row l, size_t c) { return (int8_t)l.panel[(c / l.L * l.mr + l.r) * l.L + c % l.L]; }
static inline int32_t lhs_neg_zp(lhs_row l) { return load_i32(l.panel + l.mr * l.kp + 4 * l.r); }
static inline float lhs_scale(lhs_row l) { return load_f32(l.panel + l.mr * l.kp + 4 * l.mr + 4 * l.r); }

/* Signed nibble, pre-multiplied by 16 as the kernels use it (nibble << 4 as int8). */
static inline int32_t nib16(uint8_t byte, int high) {
    return (int32_t)(int8_t)(high ? (byte & 0xF0) : (uint8_t)(byte << 4));
}

void qp_matmul_f32_qai8dxp_qsi4c32p_scalar(size_t m, size_t n, size_t k, size_t bl, qp_matmul_tile t,
                                           const void *lhs_packed, const void *rhs_packed, float *dst,
                                           size_t dst_stride_row, float clamp_min, float clamp_max) {
    const size_t nr = t.nr, L = t.kr / t.sr, blocks = k / bl;
    const size_t block_bytes = nr * (bl / 2 + 2);
    const size_t panel_stride = nr * (blocks * (bl / 2 + 2) + 8);
    for (size_t row = 0; row < m; row++) {
        const lhs_row l = lhs_at(lhs_packed, row, k, t);
        float *out = (float *)((uint8_t *)dst + row * dst_stride_row);
        for (size_t col = 0; col < n; col++) {
            const uint8_t *panel = (const uint8_t *)rhs_packed + col / nr * panel_stride;
            const size_t r = col % nr;
            float acc = 0.0f;
            for (size_t b = 0; b < blocks; b++) {
                const uint8_t *blk = panel + b * block_bytes;
                int32_t isum = 0;
                for (size_t i = 0; i < bl; i++) {
                    const size_t c = i / 32, w = i % 32, kl = w % 16, s = kl / L, j = kl % L;
                    const uint8_t byte = blk[((c * (16 / L) + s) * nr + r) * L + j];
                    isum += (int32_t)lhs_q(l, b * bl + i) * nib16(byte, w >= 16);
                }
                uint16_t sbits;
                memcpy(&sbits, blk + nr * bl / 2 + 2 * r, 2);
                uint32_t fbits = (uint32_t)sbits << 16;
                float d;
                memcpy(&d, &fbits, 4);
                acc = fmaf((float)isum * 0.0625f, d, acc);
            }
            const uint8_t *tail = panel + blocks * block_bytes;
            acc = fmaf(load_f32(tail + 4 * r), (float)lhs_neg_zp(l), acc);
            const float v = acc * lhs_scale(l) + load_f32(tail + 4 * nr + 4 * r);
            out[col] = clampf(v, clamp_min, clamp_max);
        }
    }
}

void qp_matmul_f32_qai8dxp_qsi4cxp_scalar(size_t m, size_t n, size_t k, qp_matmul_tile t, const void *lhs_packed,
                                          const void *rhs_packed, float *dst, size_t dst_stride_row, float clamp_min,
                                          float clamp_max) {
    const size_t nr = t.nr, L = t.kr / t.sr, kp = round_up(k, 32);
    const size_t panel_stride = nr * (kp / 2 + 12);
    for (size_t row = 0; row < m; row++) {
        const lhs_row l = lhs_at(lhs_packed, row, k, t);
        float *out = (float *)((uint8_t *)dst + row * dst_stride_row);
        for (size_t col = 0; col < n; col++) {
            const uint8_t *panel = (const uint8_t *)rhs_packed + col / nr * panel_stride;
            const size_t r = col % nr;
            int32_t acc = 0;
            for (size_t i = 0; i < kp; i++) {
                const size_t c = i / 32, w = i % 32, kl = c * 16 + w % 16, s = kl / L, j = kl % L;
                const uint8_t byte = panel[(s * nr + r) * L + j];
                acc += (int32_t)lhs_q(l, i) * nib16(byte, w >= 16);
            }
            const uint8_t *tail = panel + nr * kp / 2;
            acc += load_i32(tail + 4 * r) * lhs_neg_zp(l);
            const float v =
                (float)acc * (load_f32(tail + 4 * nr + 4 * r) * lhs_scale(l)) + load_f32(tail + 8 * nr + 4 * r);
            out[col] = clampf(v, clamp_min, clamp_max);
        }
    }
}

void qp_matmul_f32_qai8dxp_qsi8cxp_scalar(size_t m, size_t n, size_t k, qp_matmul_tile t, const void *lhs_packed,
                                          const void *rhs_packed, float *dst, size_t dst_stride_row, float clamp_min,
                                          float clamp_max) {
    const size_t nr = t.nr, kr = t.kr, kp = round_up(k, 32);
    const size_t panel_stride = nr * (kp + 12);
    for (size_t row = 0; row < m; row++) {
        const lhs_row l = lhs_at(lhs_packed, row, k, t);
        float *out = (float *)((uint8_t *)dst + row * dst_stride_row);
        for (size_t col = 0; col < n; col++) {
            const uint8_t *panel = (const uint8_t *)rhs_packed + col / nr * panel_stride;
            const size_t r = col % nr;
            int32_t acc = 0;
            for (size_t i = 0; i < kp; i++) {
                acc += (int32_t)lhs_q(l, i) * (int32_t)(int8_t)panel[(i / kr * nr + r) * kr + i % kr];
            }
            const uint8_t *tail = panel + nr * kp;
            acc += load_i32(tail + 4 * r) * lhs_neg_zp(l);
            const float v =
                (float)acc * (load_f32(tail + 4 * nr + 4 * r) * lhs_scale(l)) + load_f32(tail + 8 * nr + 4 * r);
            out[col] = clampf(v, clamp_min, clamp_max);
        }
    }
}
