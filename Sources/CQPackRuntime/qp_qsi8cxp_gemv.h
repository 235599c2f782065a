/* The qsi8cxp dotprod GEMV loop, included by qp_matmul_f32_qai8dxp_cxp_neon_dotprod.c once per
 * instruction set: QP_GEMV_NAME, QP_GEMV_TARGET, QP_GEMV_VDOT and QP_GEMV_BIAS name the copy.
 * QP_GEMV_VDOT(r, w, a) adds to each lane its four products w·a plus QP_GEMV_BIAS·Σa: SDOT with
 * bias 0 on Arm and in the AVX2 copy; VPDPBUSD on w + 128 (bias 128) in the AVX-VNNI copy, whose
 * bias adds up, over a row, to 128 times the sum of the row's LHS codes in every column and is
 * taken off once per column. The sums are exact integers either way. */
#if defined(__aarch64__)
#define QP_GEMV_VDOT_LANE(r, w, a, lane) vdotq_laneq_s32(r, w, a, lane) /* SDOT by element */
#else
#define QP_GEMV_VDOT_LANE(r, w, a, lane) \
    QP_GEMV_VDOT(r, w, vreinterpretq_s8_s32(vdupq_laneq_s32(vreinterpretq_s32_s8(a), lane)))
#endif
QP_GEMV_TARGET
static void QP_GEMV_NAME(size_t m, size_t n, size_t k, qp_matmul_tile t, const void *lhs_packed, const void *rhs_packed,
                         float *dst, size_t dst_stride_row, float clamp_min, float clamp_max) {
    const size_t kr = t.kr, kp = round_up(k, 32), nr = t.nr;
    const size_t panel_stride = nr * (kp + 12);
    int8_t buf[kp];
    for (size_t row = 0; row < m; row++) {
        int32_t neg_zp;
        float lhs_scale;
        const int8_t *codes = lhs_row(lhs_packed, row, kp, t, buf, &neg_zp, &lhs_scale);
        int32_t code_sum = 0;
        if (QP_GEMV_BIAS)
            for (size_t i = 0; i < kp; i++) code_sum += codes[i];
        const int32x4_t bias_total = vdupq_n_s32(QP_GEMV_BIAS * code_sum);
        float *out = (float *)((uint8_t *)dst + row * dst_stride_row);
        size_t col = 0;
#if defined(__aarch64__)
        if (nr == 4 && (kr == 4 || kr == 8))
            for (; col + 4 < n; col += 8) { /* two panels per pass; the last odd one below */
                const uint8_t *p0 = (const uint8_t *)rhs_packed + col / 4 * panel_stride, *p1 = p0 + panel_stride;
                int32x4_t s0, s1;
                if (kr == 4)
                    qsi8cxp_dot_kr4_nr4x2(codes, p0, p1, kp, &s0, &s1);
                else
                    qsi8cxp_dot_kr8_nr4x2(codes, p0, p1, kp, &s0, &s1);
                epilogue(s0, p0 + 4 * kp, 4, 0, neg_zp, lhs_scale, out + col, 4, clamp_min, clamp_max);
                epilogue(s1, p1 + 4 * kp, 4, 0, neg_zp, lhs_scale, out + col + 4, n - col - 4 < 4 ? n - col - 4 : 4,
                         clamp_min, clamp_max);
            }
#endif
        for (; col < n; col += nr) {
            const uint8_t *panel = (const uint8_t *)rhs_packed + col / nr * panel_stride;
            for (size_t r0 = 0; r0 < nr; r0 += 4) {
                int32x4_t isum = vdupq_n_s32(0);
                if (kr == 4) {
                    /* Sixteen LHS values per load, each group of four against its step's four
                     * columns by element (kp is a multiple of 32); four independent sums (integer adds in any order
                     * give the same result) in named registers (an array of them lives on the stack at -O2). kp is a
                     * multiple of 32, so of 16 values. */
                    int32x4_t p0 = isum, p1 = isum, p2 = isum, p3 = isum;
                    const uint8_t *seg = panel + r0 * 4;
                    for (size_t s = 0; s < kp / 4; s += 8, seg += 32 * nr) { /* 32 values per pass */
                        const int8x16_t a = vld1q_s8(codes + 4 * s), b = vld1q_s8(codes + 4 * s + 16);
                        p0 = QP_GEMV_VDOT_LANE(p0, vreinterpretq_s8_u8(vld1q_u8(seg)), a, 0);
                        p1 = QP_GEMV_VDOT_LANE(p1, vreinterpretq_s8_u8(vld1q_u8(seg + 4 * nr)), a, 1);
                        p2 = QP_GEMV_VDOT_LANE(p2, vreinterpretq_s8_u8(vld1q_u8(seg + 8 * nr)), a, 2);
                        p3 = QP_GEMV_VDOT_LANE(p3, vreinterpretq_s8_u8(vld1q_u8(seg + 12 * nr)), a, 3);
                        p0 = QP_GEMV_VDOT_LANE(p0, vreinterpretq_s8_u8(vld1q_u8(seg + 16 * nr)), b, 0);
                        p1 = QP_GEMV_VDOT_LANE(p1, vreinterpretq_s8_u8(vld1q_u8(seg + 20 * nr)), b, 1);
                        p2 = QP_GEMV_VDOT_LANE(p2, vreinterpretq_s8_u8(vld1q_u8(seg + 24 * nr)), b, 2);
                        p3 = QP_GEMV_VDOT_LANE(p3, vreinterpretq_s8_u8(vld1q_u8(seg + 28 * nr)), b, 3);
                    }
                    isum = vaddq_s32(vaddq_s32(p0, p1), vaddq_s32(p2, p3));
                } else {
                    /* kr == 8: 16 bytes hold 8 values of 2 columns; sixteen LHS values per load,
                     * each half duplicated against its step's two loads; pairwise adds give one
                     * lane per column. kp is a multiple of 32, so of 16 values. */
                    int32x4_t p01 = isum, p23 = isum, q01 = isum, q23 = isum;
                    const uint8_t *seg = panel + r0 * 8;
                    for (size_t s = 0; s < kp / 8; s += 2, seg += 16 * nr) {
                        const int8x16_t a = vld1q_s8(codes + 8 * s);
                        const int8x16_t lo = vreinterpretq_s8_s64(vdupq_laneq_s64(vreinterpretq_s64_s8(a), 0)),
                                        hi = vreinterpretq_s8_s64(vdupq_laneq_s64(vreinterpretq_s64_s8(a), 1));
                        p01 = QP_GEMV_VDOT(p01, vreinterpretq_s8_u8(vld1q_u8(seg)), lo);
                        p23 = QP_GEMV_VDOT(p23, vreinterpretq_s8_u8(vld1q_u8(seg + 16)), lo);
                        q01 = QP_GEMV_VDOT(q01, vreinterpretq_s8_u8(vld1q_u8(seg + 8 * nr)), hi);
                        q23 = QP_GEMV_VDOT(q23, vreinterpretq_s8_u8(vld1q_u8(seg + 8 * nr + 16)), hi);
                    }
                    p01 = vaddq_s32(p01, q01);
                    p23 = vaddq_s32(p23, q23);
                    isum = vpaddq_s32(p01, p23);
                }
                isum = vsubq_s32(isum, bias_total);
                epilogue(isum, panel + nr * kp, nr, r0, neg_zp, lhs_scale, out + col, n - col < nr ? n - col : nr,
                         clamp_min, clamp_max);
            }
        }
    }
}
#undef QP_GEMV_VDOT_LANE
