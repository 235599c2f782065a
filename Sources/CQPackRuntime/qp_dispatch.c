/* Run-time choice of kernel variant from the CPU's features, with a way to force one. */
#include "qp_runtime.h"

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20)
#endif
#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1UL << 13)
#endif
#endif

static qp_variant forced = QP_VARIANT_AUTO;

void qp_force_variant(qp_variant v) { forced = v; }

int qp_cpu_has_dotprod(void) {
#if defined(__aarch64__) && defined(__linux__)
    return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#elif defined(__aarch64__)
    return 0;
#elif defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); /* the x86 build of the NEON source uses both */
#else
    return 1; /* SIMDe implements dotprod on other hosts */
#endif
}

int qp_cpu_has_i8mm(void) {
#if defined(__aarch64__) && defined(__linux__)
    return (getauxval(AT_HWCAP2) & HWCAP2_I8MM) != 0 && qp_cpu_has_dotprod();
#elif defined(__aarch64__)
    return 0;
#else
    return 1; /* portable SMMLA on other hosts */
#endif
}

qp_variant qp_selected_variant(void) {
    if (forced != QP_VARIANT_AUTO) return forced;
#if !defined(__x86_64__)
    if (qp_cpu_has_i8mm()) return QP_VARIANT_NEON_I8MM;
#endif
    /* On x86 SMMLA is a scalar loop (the i8mm kernels run when forced, for tests); the dotprod
     * kernels give the same bits much faster. */
    return qp_cpu_has_dotprod() ? QP_VARIANT_NEON_DOTPROD : QP_VARIANT_SCALAR;
}

void qp_matmul_f32_qai8dxp_qsi4c32p(size_t m, size_t n, size_t k, size_t bl, qp_matmul_tile tile,
                                   const void *lhs_packed, const void *rhs_packed,
                                   float *dst, size_t dst_stride_row, float clamp_min, float clamp_max) {
    const qp_variant v = qp_selected_variant();
    if (v == QP_VARIANT_NEON_I8MM) {
        qp_matmul_f32_qai8dxp_qsi4c32p_neon_i8mm(m, n, k, bl, tile, lhs_packed, rhs_packed, dst, dst_stride_row, clamp_min, clamp_max);
    } else if (v == QP_VARIANT_NEON_DOTPROD) {
        qp_matmul_f32_qai8dxp_qsi4c32p_neon_dotprod(m, n, k, bl, tile, lhs_packed, rhs_packed, dst, dst_stride_row, clamp_min, clamp_max);
    } else {
        qp_matmul_f32_qai8dxp_qsi4c32p_scalar(m, n, k, bl, tile, lhs_packed, rhs_packed, dst, dst_stride_row, clamp_min, clamp_max);
    }
}

void qp_matmul_f32_qai8dxp_qsi4cxp(size_t m, size_t n, size_t k, qp_matmul_tile tile,
                                  const void *lhs_packed, const void *rhs_packed,
                                  float *dst, size_t dst_stride_row, float clamp_min, float clamp_max) {
    if (qp_selected_variant() == QP_VARIANT_NEON_I8MM) {
        qp_matmul_f32_qai8dxp_qsi4cxp_neon_i8mm(m, n, k, tile, lhs_packed, rhs_packed, dst, dst_stride_row, clamp_min, clamp_max);
    } else if (qp_selected_variant() == QP_VARIANT_NEON_DOTPROD) {
        qp_matmul_f32_qai8dxp_qsi4cxp_neon_dotprod(m, n, k, tile, lhs_packed, rhs_packed, dst, dst_stride_row, clamp_min, clamp_max);
    } else {
        qp_matmul_f32_qai8dxp_qsi4cxp_scalar(m, n, k, tile, lhs_packed, rhs_packed, dst, dst_stride_row, clamp_min, clamp_max);
    }
}

void qp_matmul_f32_qai8dxp_qsi8cxp(size_t m, size_t n, size_t k, qp_matmul_tile tile,
                                  const void *lhs_packed, const void *rhs_packed,
                                  float *dst, size_t dst_stride_row, float clamp_min, float clamp_max) {
    if (qp_selected_variant() == QP_VARIANT_NEON_I8MM) {
        qp_matmul_f32_qai8dxp_qsi8cxp_neon_i8mm(m, n, k, tile, lhs_packed, rhs_packed, dst, dst_stride_row, clamp_min, clamp_max);
    } else if (qp_selected_variant() == QP_VARIANT_NEON_DOTPROD) {
        qp_matmul_f32_qai8dxp_qsi8cxp_neon_dotprod(m, n, k, tile, lhs_packed, rhs_packed, dst, dst_stride_row, clamp_min, clamp_max);
    } else {
        qp_matmul_f32_qai8dxp_qsi8cxp_scalar(m, n, k, tile, lhs_packed, rhs_packed, dst, dst_stride_row, clamp_min, clamp_max);
    }
}
