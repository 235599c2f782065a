/* The qsi8cxp dotprod GEMV loop, included by qp_matmul_f32_qai8dxp_cxp_neon_dotprod.c once per
 * instruction set: QP_GEMV_NAME, QP_GEMV_TARGET, QP_GEMV_VDOT and QP_GEMV_BIAS name the copy.
 * QP_GEMV_VDOT(r, w, a) adds to each lane its four products w·a plus QP_GEMV_BIAS·Σa: SDOT with
 * bias 0 on Arm and in the AVX2 copy; VPDPBUSD on w + 128 (bias 128) in the AVX-VNNI copy, whose
 * bias adds up, over a row, to 128 times the sum of the row's LHS codes in every column and is
 * taken off once per column. The sums are exact integers either way. */
QP_GEMV_TARGET
static void QP_GEMV_NAME(size_t m, size_t n, size_t k, qp_matmul_tile t, const void *lhs_packed, const void *rhs_packed,
                         float *dst, size_t dst_stride_row, float clamp_min, float clamp_max) {
    const size_t kr = t.kr, kp = round_up(k, 32), nr = t.nr;
    const size_t panel_stride = nr * (kp + 12);
    int8_t codes[kp];
    for (size_t row = 0; row < m; row++) {
        int32_t neg_zp;
        float lhs_scale;
        lhs_row(lhs_packed, row, kp, t, codes, &neg_zp, &lhs_scale);
        int32_t code_sum = 0;
        if (QP_GEMV_BIAS)
            for (size_t i = 0; i < kp; i++) code_sum += codes[i];
        const int32x4_t bias_total = vdupq_n_s32(QP_GEMV_BIAS * code_sum);
        float *out = (float *)((uint8_t *)dst + row * dst_stride_row);
        for (size_t col = 0; col < n; col += nr) {
            const uint8_t *panel = (const uint8_t *)rhs_packed + col / nr * panel_stride;
            for (size_t r0 = 0; r0 < nr; r0 += 4) {
                int32x4_t isum = vdupq_n_s32(0);
                if (kr == 4) {
                    /* Four independent sums (kp is a multiple of 32, so of 16 values): integer
                     * adds in any order give the same result, without one long dependency chain. */
                    int32x4_t part[4] = {isum, isum, isum, isum};
                    for (size_t s = 0; s < kp / 4; s += 4) {
                        for (size_t u = 0; u < 4; u++) {
                            int32_t w;
                            memcpy(&w, codes + 4 * (s + u), 4);
                            part[u] =
                                QP_GEMV_VDOT(part[u], vreinterpretq_s8_u8(vld1q_u8(panel + ((s + u) * nr + r0) * 4)),
                                             vreinterpretq_s8_s32(vdupq_n_s32(w)));
                        }
                    }
                    isum = vaddq_s32(vaddq_s32(part[0], part[1]), vaddq_s32(part[2], part[3]));
                } else {
                    /* kr == 8: two loads of 2 columns x 8 values, pairwise adds to one lane per column. */
                    int32x4_t p01 = isum, p23 = isum;
                    for (size_t s = 0; s < kp / 8; s++) {
                        const uint8_t *seg = panel + (s * nr + r0) * 8;
                        const int8x16_t a = vcombine_s8(vld1_s8(codes + 8 * s), vld1_s8(codes + 8 * s));
                        p01 = QP_GEMV_VDOT(p01, vreinterpretq_s8_u8(vld1q_u8(seg)), a);
                        p23 = QP_GEMV_VDOT(p23, vreinterpretq_s8_u8(vld1q_u8(seg + 16)), a);
                    }
                    isum = vpaddq_s32(p01, p23);
                }
                isum = vsubq_s32(isum, bias_total);
                epilogue(isum, panel + nr * kp, nr, r0, neg_zp, lhs_scale, out + col, n - col < nr ? n - col : nr,
                         clamp_min, clamp_max);
            }
        }
    }
}
