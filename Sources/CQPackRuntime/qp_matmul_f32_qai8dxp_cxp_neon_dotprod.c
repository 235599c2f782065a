/* f32 <- qai8dxp x qsi4cxp and x qsi8cxp, NEON dotprod GEMV (one LHS row at a time against
 * panels of nr columns). Integer accumulation is exact; the epilogue is the scalar reference's:
 * (float)(isum + rsum·(−zp)) · (rhs_scale · lhs_scale) + bias, then clamp. */
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

QP_TARGET_DOTPROD
static void epilogue(int32x4_t isum, const uint8_t *tail, size_t nr, size_t r0, int32_t neg_zp, float lhs_scale,
                     float *out, size_t columns, float clamp_min, float clamp_max) {
    int32x4_t rsum;
    float32x4_t scale, bias;
    memcpy(&rsum, tail + 4 * r0, 16);
    memcpy(&scale, tail + 4 * nr + 4 * r0, 16);
    memcpy(&bias, tail + 8 * nr + 4 * r0, 16);
    const int32x4_t acc = vmlaq_s32(isum, rsum, vdupq_n_s32(neg_zp));
    float32x4_t v = vmulq_f32(vcvtq_f32_s32(acc), vmulq_n_f32(scale, lhs_scale));
    v = vaddq_f32(v, bias);
    v = vminq_f32(vmaxq_f32(v, vdupq_n_f32(clamp_min)), vdupq_n_f32(clamp_max));
    float lanes[4];
    vst1q_f32(lanes, v);
    for (size_t i = 0; i < 4 && r0 + i < columns; i++) out[r0 + i] = lanes[i];
}

/* Gathers one LHS row's Kp codes and its -zero_point and scale out of its panel. */
static void lhs_row(const void *lhs_packed, size_t row, size_t kp, qp_matmul_tile t, int8_t *codes, int32_t *neg_zp,
                    float *scale) {
    const size_t L = t.kr / t.sr, r = row % t.mr;
    const uint8_t *lp = (const uint8_t *)lhs_packed + row / t.mr * t.mr * (kp + 8);
    for (size_t i = 0; i < kp; i++) codes[i] = (int8_t)lp[(i / L * t.mr + r) * L + i % L];
    memcpy(neg_zp, lp + t.mr * kp + 4 * r, 4);
    memcpy(scale, lp + t.mr * kp + 4 * t.mr + 4 * r, 4);
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
    int8_t codes[kp];
    for (size_t row = 0; row < m; row++) {
        int32_t neg_zp;
        float lhs_scale;
        lhs_row(lhs_packed, row, kp, t, codes, &neg_zp, &lhs_scale);
        float *out = (float *)((uint8_t *)dst + row * dst_stride_row);
        for (size_t col = 0; col < n; col += nr) {
            const uint8_t *panel = (const uint8_t *)rhs_packed + col / nr * panel_stride;
            for (size_t r0 = 0; r0 < nr; r0 += 4) {
                int32x4_t isum = vdupq_n_s32(0);
                for (size_t s = 0; s < kp / 2 / L; s++) {
                    const size_t kl = s * L, k0 = 32 * (kl / 16) + kl % 16;
                    const uint8_t *seg = panel + (s * nr + r0) * L;
                    isum = vaddq_s32(isum, dot4(seg, codes + k0, L, 1, 0));
                    isum = vaddq_s32(isum, dot4(seg, codes + k0 + 16, L, 1, 1));
                }
                epilogue(isum, panel + nr * kp / 2, nr, r0, neg_zp, lhs_scale, out + col, n - col < nr ? n - col : nr,
                         clamp_min, clamp_max);
            }
        }
    }
}

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
    qsi8cxp_gemv(m, n, k, t, lhs_packed, rhs_packed, dst, dst_stride_row, clamp_min, clamp_max);
}
