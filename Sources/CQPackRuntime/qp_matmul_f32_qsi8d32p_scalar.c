/* Scalar reference matmuls of the qsi8d32p families. They define the bits the NEON variants
 * reproduce: exact integer block dot products, then KleidiAI's float steps per block in
 * ascending order (Formats/qpack-container.md §5.7), fused where its kernels fuse. */
#include "qp_qsi8d32p.h"

#include <math.h>
#include <string.h>

/* Built with -ffp-contract=off: no fused multiply-add except the explicit fmaf calls. */

static inline float load_f32(const uint8_t *p) {
    float v;
    memcpy(&v, p, 4);
    return v;
}

static inline float load_f16(const uint8_t *p) { return qp_f16_to_f32((uint16_t)(p[0] | p[1] << 8)); }

/* The signed nibble holding RHS value kl (low) or its partner (high) of row r in a block. */
static inline int32_t rhs_code(const uint8_t *data, size_t nr, size_t L, size_t r, size_t kl, int high) {
    const uint8_t byte = data[(kl / L * nr + r) * L + kl % L];
    return (int8_t)(uint8_t)(high ? byte & 0xF0 : byte << 4) >> 4;
}

/* Σ qa·w over block b of LHS row `row` and RHS row r (`data` the RHS block's nibbles). */
static int32_t block_dot(const uint8_t *lhs_data, size_t mr, size_t L, size_t lr, const uint8_t *data, size_t nr,
                         size_t r, size_t bl, int pairs16) {
    int32_t sum = 0;
    for (size_t kl = 0; kl < bl / 2; kl++) {
        const size_t lo = qp_qsi8d32p_low_index(kl, bl, pairs16), hi = lo + qp_qsi8d32p_partner(bl, pairs16);
        sum += (int8_t)lhs_data[(lo / L * mr + lr) * L + lo % L] * rhs_code(data, nr, L, r, kl, 0);
        sum += (int8_t)lhs_data[(hi / L * mr + lr) * L + hi % L] * rhs_code(data, nr, L, r, kl, 1);
    }
    return sum;
}

static inline float clampf(float v, float lo, float hi) { return fminf(fmaxf(v, lo), hi); }

void qp_matmul_f32_qsi8d32p_qsi4c32p_scalar(size_t m, size_t n, size_t k, size_t bl, qp_matmul_tile t,
                                            const void *lhs_packed, const void *rhs_packed, float *dst,
                                            size_t dst_stride_row, float clamp_min, float clamp_max) {
    const size_t mr = t.mr, nr = t.nr, L = t.kr / t.sr, blocks = k / bl;
    const size_t lhs_record = mr * (bl + 2), rhs_record = nr * (bl / 2 + 2);
    for (size_t row = 0; row < m; row++) {
        const uint8_t *lp = (const uint8_t *)lhs_packed + row / mr * blocks * lhs_record;
        float *out = (float *)((uint8_t *)dst + row * dst_stride_row);
        for (size_t col = 0; col < n; col++) {
            const uint8_t *rp = (const uint8_t *)rhs_packed + col / nr * blocks * rhs_record;
            const size_t r = col % nr;
            float acc = 0.0f;
            for (size_t b = 0; b < blocks; b++) {
                const uint8_t *lb = lp + b * lhs_record, *rb = rp + b * rhs_record;
                const int32_t dot = block_dot(lb + 2 * mr, mr, L, row % mr, rb + 2 * nr, nr, r, bl, 0);
                const float s = load_f16(rb + 2 * r) * load_f16(lb + 2 * (row % mr)); /* exact */
                acc = fmaf((float)dot, s, acc);
            }
            out[col] = clampf(acc, clamp_min, clamp_max);
        }
    }
}

void qp_matmul_f32_qsi8d32p_qai4c32p_scalar(size_t m, size_t n, size_t k, size_t bl, qp_matmul_tile t,
                                            const void *lhs_packed, const void *rhs_packed, float *dst,
                                            size_t dst_stride_row, float clamp_min, float clamp_max) {
    const size_t mr = t.mr, nr = t.nr, L = t.kr / t.sr, blocks = k / bl;
    const size_t lhs_record = mr * (bl + 8), rhs_record = nr * (bl / 2 + 8);
    for (size_t row = 0; row < m; row++) {
        const uint8_t *lp = (const uint8_t *)lhs_packed + row / mr * blocks * lhs_record;
        const size_t lr = row % mr;
        float *out = (float *)((uint8_t *)dst + row * dst_stride_row);
        for (size_t col = 0; col < n; col++) {
            const uint8_t *rp = (const uint8_t *)rhs_packed + col / nr * (blocks * rhs_record + 4 * nr);
            const size_t r = col % nr;
            float acc = 0.0f;
            for (size_t b = 0; b < blocks; b++) {
                const uint8_t *lb = lp + b * lhs_record, *rb = rp + b * rhs_record;
                const int32_t dot16 = 16 * block_dot(lb, mr, L, lr, rb, nr, r, bl, 1);
                const float lhs_sum = load_f32(lb + mr * bl + 4 * lr),
                            lhs_scale = load_f32(lb + mr * bl + 4 * mr + 4 * lr);
                const float offset = load_f32(rb + nr * bl / 2 + 4 * r),
                            scale16 = load_f32(rb + nr * bl / 2 + 4 * nr + 4 * r);
                acc = fmaf(offset, lhs_sum, acc);
                acc = fmaf((float)dot16, scale16 * lhs_scale, acc);
            }
            acc = acc + load_f32(rp + blocks * rhs_record + 4 * r);
            out[col] = clampf(acc, clamp_min, clamp_max);
        }
    }
}
