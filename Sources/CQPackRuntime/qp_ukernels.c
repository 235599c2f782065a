/* The micro-kernel table: one interface struct per (family, tile, variant). */
#include "qp_layouts.h"
#include "qp_ukernel.h"

/* Bytes of one RHS panel of nr rows: the layout registry's size formula (one home). */
static size_t panel_bytes(const char *family, size_t k, size_t bl, size_t nr, size_t kr, size_t sr) {
    const qp_layout_traits *l = qp_layout_by_id(family);
    return l ? (size_t)l->packed_size(nr, k, bl, nr, kr, sr) : 0;
}

#define UKERNEL(ID, FAMILY, VARIANT, MR, NR, KR, SR, RUN)                                                           \
    static size_t ID##_m_step(void) { return MR; }                                                                  \
    static size_t ID##_n_step(void) { return NR; }                                                                  \
    static size_t ID##_mr(void) { return MR; }                                                                      \
    static size_t ID##_nr(void) { return NR; }                                                                      \
    static size_t ID##_kr(void) { return KR; }                                                                      \
    static size_t ID##_sr(void) { return SR; }                                                                      \
    static size_t ID##_lhs_offset(size_t m_idx, size_t k) { return qp_lhs_packed_offset_qai8dxp(m_idx, k, MR); }    \
    static size_t ID##_rhs_offset(size_t n_idx, size_t k, size_t bl) {                                              \
        return n_idx / NR * panel_bytes(FAMILY, k, bl, NR, KR, SR);                                                 \
    }                                                                                                               \
    static size_t ID##_dst_offset(size_t m_idx, size_t n_idx, size_t stride) { return m_idx * stride + n_idx * 4; } \
    static size_t ID##_dst_size(size_t m, size_t n) { return m * n * 4; }                                           \
    static void ID##_run(size_t m, size_t n, size_t k, size_t bl, const void *lhs, const void *rhs, float *dst,     \
                         size_t stride_row, size_t stride_col, float lo, float hi) {                                \
        (void)bl;                                                                                                   \
        (void)stride_col;                                                                                           \
        const qp_matmul_tile t = {MR, NR, KR, SR};                                                                  \
        RUN;                                                                                                        \
    }                                                                                                               \
    static const qp_matmul_ukernel ID = {                                                                           \
        #ID,     FAMILY,  VARIANT,         ID##_m_step,     ID##_n_step,     ID##_mr,       ID##_nr,                \
        ID##_kr, ID##_sr, ID##_lhs_offset, ID##_rhs_offset, ID##_dst_offset, ID##_dst_size, ID##_run};

UKERNEL(qp_matmul_f32_qai8dxp1x4_qsi4c32p8x4_1x8_scalar, "qsi4c32p", "scalar", 1, 8, 8, 2,
        qp_matmul_f32_qai8dxp_qsi4c32p_scalar(m, n, k, bl, t, lhs, rhs, dst, stride_row, lo, hi))
UKERNEL(qp_matmul_f32_qai8dxp1x4_qsi4c32p8x4_1x8_neon_dotprod, "qsi4c32p", "neon_dotprod", 1, 8, 8, 2,
        qp_matmul_f32_qai8dxp_qsi4c32p_neon_dotprod(m, n, k, bl, t, lhs, rhs, dst, stride_row, lo, hi))
UKERNEL(qp_matmul_f32_qai8dxp1x8_qsi4c32p8x8_1x8_scalar, "qsi4c32p", "scalar", 1, 8, 16, 2,
        qp_matmul_f32_qai8dxp_qsi4c32p_scalar(m, n, k, bl, t, lhs, rhs, dst, stride_row, lo, hi))
UKERNEL(qp_matmul_f32_qai8dxp1x8_qsi4c32p8x8_1x8_neon_dotprod, "qsi4c32p", "neon_dotprod", 1, 8, 16, 2,
        qp_matmul_f32_qai8dxp_qsi4c32p_neon_dotprod(m, n, k, bl, t, lhs, rhs, dst, stride_row, lo, hi))
UKERNEL(qp_matmul_f32_qai8dxp1x4_qsi4cxp4x4_1x4_scalar, "qsi4cxp", "scalar", 1, 4, 8, 2,
        qp_matmul_f32_qai8dxp_qsi4cxp_scalar(m, n, k, t, lhs, rhs, dst, stride_row, lo, hi))
UKERNEL(qp_matmul_f32_qai8dxp1x4_qsi4cxp4x4_1x4_neon_dotprod, "qsi4cxp", "neon_dotprod", 1, 4, 8, 2,
        qp_matmul_f32_qai8dxp_qsi4cxp_neon_dotprod(m, n, k, t, lhs, rhs, dst, stride_row, lo, hi))
UKERNEL(qp_matmul_f32_qai8dxp1x8_qsi4cxp8x8_1x8_scalar, "qsi4cxp", "scalar", 1, 8, 16, 2,
        qp_matmul_f32_qai8dxp_qsi4cxp_scalar(m, n, k, t, lhs, rhs, dst, stride_row, lo, hi))
UKERNEL(qp_matmul_f32_qai8dxp1x8_qsi4cxp8x8_1x8_neon_dotprod, "qsi4cxp", "neon_dotprod", 1, 8, 16, 2,
        qp_matmul_f32_qai8dxp_qsi4cxp_neon_dotprod(m, n, k, t, lhs, rhs, dst, stride_row, lo, hi))
UKERNEL(qp_matmul_f32_qai8dxp1x4_qsi8cxp4x4_1x4_scalar, "qsi8cxp", "scalar", 1, 4, 4, 1,
        qp_matmul_f32_qai8dxp_qsi8cxp_scalar(m, n, k, t, lhs, rhs, dst, stride_row, lo, hi))
UKERNEL(qp_matmul_f32_qai8dxp1x4_qsi8cxp4x4_1x4_neon_dotprod, "qsi8cxp", "neon_dotprod", 1, 4, 4, 1,
        qp_matmul_f32_qai8dxp_qsi8cxp_neon_dotprod(m, n, k, t, lhs, rhs, dst, stride_row, lo, hi))
UKERNEL(qp_matmul_f32_qai8dxp1x8_qsi8cxp4x8_1x4_scalar, "qsi8cxp", "scalar", 1, 4, 8, 1,
        qp_matmul_f32_qai8dxp_qsi8cxp_scalar(m, n, k, t, lhs, rhs, dst, stride_row, lo, hi))
UKERNEL(qp_matmul_f32_qai8dxp1x8_qsi8cxp4x8_1x4_neon_dotprod, "qsi8cxp", "neon_dotprod", 1, 4, 8, 1,
        qp_matmul_f32_qai8dxp_qsi8cxp_neon_dotprod(m, n, k, t, lhs, rhs, dst, stride_row, lo, hi))

UKERNEL(qp_matmul_f32_qai8dxp4x8_qsi4c32p8x8_4x8_scalar, "qsi4c32p", "scalar", 4, 8, 16, 2,
        qp_matmul_f32_qai8dxp_qsi4c32p_scalar(m, n, k, bl, t, lhs, rhs, dst, stride_row, lo, hi))
UKERNEL(qp_matmul_f32_qai8dxp4x8_qsi4c32p8x8_4x8_neon_i8mm, "qsi4c32p", "neon_i8mm", 4, 8, 16, 2,
        qp_matmul_f32_qai8dxp_qsi4c32p_neon_i8mm(m, n, k, bl, t, lhs, rhs, dst, stride_row, lo, hi))

UKERNEL(qp_matmul_f32_qai8dxp4x8_qsi4cxp8x8_4x8_scalar, "qsi4cxp", "scalar", 4, 8, 16, 2,
        qp_matmul_f32_qai8dxp_qsi4cxp_scalar(m, n, k, t, lhs, rhs, dst, stride_row, lo, hi))
UKERNEL(qp_matmul_f32_qai8dxp4x8_qsi4cxp8x8_4x8_neon_i8mm, "qsi4cxp", "neon_i8mm", 4, 8, 16, 2,
        qp_matmul_f32_qai8dxp_qsi4cxp_neon_i8mm(m, n, k, t, lhs, rhs, dst, stride_row, lo, hi))
UKERNEL(qp_matmul_f32_qai8dxp4x8_qsi8cxp4x8_4x4_scalar, "qsi8cxp", "scalar", 4, 4, 8, 1,
        qp_matmul_f32_qai8dxp_qsi8cxp_scalar(m, n, k, t, lhs, rhs, dst, stride_row, lo, hi))
UKERNEL(qp_matmul_f32_qai8dxp4x8_qsi8cxp4x8_4x4_neon_i8mm, "qsi8cxp", "neon_i8mm", 4, 4, 8, 1,
        qp_matmul_f32_qai8dxp_qsi8cxp_neon_i8mm(m, n, k, t, lhs, rhs, dst, stride_row, lo, hi))

static const qp_matmul_ukernel *const table[] = {
    &qp_matmul_f32_qai8dxp4x8_qsi4cxp8x8_4x8_scalar,  &qp_matmul_f32_qai8dxp4x8_qsi4cxp8x8_4x8_neon_i8mm,
    &qp_matmul_f32_qai8dxp4x8_qsi8cxp4x8_4x4_scalar,  &qp_matmul_f32_qai8dxp4x8_qsi8cxp4x8_4x4_neon_i8mm,
    &qp_matmul_f32_qai8dxp4x8_qsi4c32p8x8_4x8_scalar, &qp_matmul_f32_qai8dxp4x8_qsi4c32p8x8_4x8_neon_i8mm,
    &qp_matmul_f32_qai8dxp1x4_qsi4c32p8x4_1x8_scalar, &qp_matmul_f32_qai8dxp1x4_qsi4c32p8x4_1x8_neon_dotprod,
    &qp_matmul_f32_qai8dxp1x8_qsi4c32p8x8_1x8_scalar, &qp_matmul_f32_qai8dxp1x8_qsi4c32p8x8_1x8_neon_dotprod,
    &qp_matmul_f32_qai8dxp1x4_qsi4cxp4x4_1x4_scalar,  &qp_matmul_f32_qai8dxp1x4_qsi4cxp4x4_1x4_neon_dotprod,
    &qp_matmul_f32_qai8dxp1x8_qsi4cxp8x8_1x8_scalar,  &qp_matmul_f32_qai8dxp1x8_qsi4cxp8x8_1x8_neon_dotprod,
    &qp_matmul_f32_qai8dxp1x4_qsi8cxp4x4_1x4_scalar,  &qp_matmul_f32_qai8dxp1x4_qsi8cxp4x4_1x4_neon_dotprod,
    &qp_matmul_f32_qai8dxp1x8_qsi8cxp4x8_1x4_scalar,  &qp_matmul_f32_qai8dxp1x8_qsi8cxp4x8_1x4_neon_dotprod,
};

size_t qp_matmul_ukernel_count(void) { return sizeof table / sizeof table[0]; }

const qp_matmul_ukernel *qp_matmul_ukernel_at(size_t index) {
    return index < qp_matmul_ukernel_count() ? table[index] : NULL;
}
