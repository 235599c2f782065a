/* Kernel choice, in one place: the CPU's features (or a forced variant) and each variant's
 * declared tiles and shapes pick the micro-kernel; kernels never fall back by themselves. */
#include "qp_layouts.h"
#include "qp_runtime.h"

#include <string.h>

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
    return __builtin_cpu_supports("avx2") &&
           __builtin_cpu_supports("fma"); /* the x86 build of the NEON source uses both */
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

static qp_matmul_trace_fn trace_fn;
static void *trace_context;

void qp_set_matmul_trace(qp_matmul_trace_fn trace, void *context) {
    trace_fn = trace;
    trace_context = context;
}

size_t qp_matmul_max_mr(void) {
    size_t mr = 1;
    for (size_t j = 0; j < qp_layout_count(); j++)
        for (size_t i = 0; i < qp_layout_at(j)->variant_count; i++)
            if (qp_layout_at(j)->variants[i].mr > mr) mr = qp_layout_at(j)->variants[i].mr;
    return mr;
}

/* The CPU (or the forced variant) allows `v`: scalar always, dotprod from the dotprod policy up,
 * i8mm only under the i8mm policy. */
static int allowed(qp_variant policy, qp_variant v) {
    if (v == QP_VARIANT_SCALAR) return 1;
    if (v == QP_VARIANT_NEON_DOTPROD)
        return (policy == QP_VARIANT_NEON_DOTPROD || policy == QP_VARIANT_NEON_I8MM) && qp_cpu_has_dotprod();
    return policy == QP_VARIANT_NEON_I8MM && qp_cpu_has_i8mm();
}

int qp_matmul_choose(const char *layout, qp_matmul_tile t, size_t m, size_t k, size_t bl, size_t lhs_mr,
                     qp_matmul_choice *choice) {
    if (!layout || !choice || t.nr == 0 || t.kr == 0 || t.sr == 0 || t.kr % t.sr) return 0;
    const qp_layout_traits *l = qp_layout_by_id(layout);
    if (!l) return 0;
    const qp_variant policy = qp_selected_variant();
    for (size_t i = 0; i < l->variant_count; i++) {
        const qp_matmul_variant_row *v = &l->variants[i];
        if (!allowed(policy, v->variant) || !v->supports(t, k, bl)) continue;
        if (lhs_mr ? (v->mr && v->mr != lhs_mr) : (v->mr > 1 && m < 2)) continue; /* one row: a GEMV */
        choice->name = v->name;
        choice->variant = v->variant;
        choice->mr = lhs_mr ? lhs_mr : (v->mr ? v->mr : 1);
        return 1;
    }
    return 0;
}

int qp_matmul_variant_runs(const char *layout, qp_variant variant, qp_matmul_tile t, size_t k, size_t bl) {
    const qp_layout_traits *l = qp_layout_by_id(layout);
    if (!l || t.nr == 0 || t.kr == 0 || t.sr == 0 || t.kr % t.sr) return 0;
    for (size_t i = 0; i < l->variant_count; i++) {
        const qp_matmul_variant_row *v = &l->variants[i];
        if (v->variant == variant && (!v->mr || v->mr == t.mr) && v->supports(t, k, bl)) return 1;
    }
    return 0;
}

void qp_matmul_run(const char *layout, const qp_matmul_choice *choice, size_t m, size_t n, size_t k, size_t bl,
                   qp_matmul_tile t, const void *lhs_packed, const void *rhs_packed, float *dst, size_t dst_stride_row,
                   float clamp_min, float clamp_max) {
    const qp_layout_traits *l = qp_layout_by_id(layout);
    for (size_t i = 0; l && i < l->variant_count; i++) {
        if (l->variants[i].name != choice->name) continue;
        if (trace_fn) trace_fn(trace_context, layout, choice, m);
        t.mr = choice->mr;
        l->variants[i].run(m, n, k, bl, t, lhs_packed, rhs_packed, dst, dst_stride_row, clamp_min, clamp_max);
        return;
    }
}

/* The per-family entry points: the LHS is packed with tile.mr. */
static void dispatch(const char *layout, size_t m, size_t n, size_t k, size_t bl, qp_matmul_tile t, const void *lhs,
                     const void *rhs, float *dst, size_t stride, float lo, float hi) {
    qp_matmul_choice c;
    if (qp_matmul_choose(layout, t, m, k, bl, t.mr ? t.mr : 1, &c))
        qp_matmul_run(layout, &c, m, n, k, bl, t, lhs, rhs, dst, stride, lo, hi);
}

void qp_matmul_f32_qai8dxp_qsi4c32p(size_t m, size_t n, size_t k, size_t bl, qp_matmul_tile tile,
                                    const void *lhs_packed, const void *rhs_packed, float *dst, size_t dst_stride_row,
                                    float clamp_min, float clamp_max) {
    dispatch("qsi4c32p", m, n, k, bl, tile, lhs_packed, rhs_packed, dst, dst_stride_row, clamp_min, clamp_max);
}

void qp_matmul_f32_qai8dxp_qsi4cxp(size_t m, size_t n, size_t k, qp_matmul_tile tile, const void *lhs_packed,
                                   const void *rhs_packed, float *dst, size_t dst_stride_row, float clamp_min,
                                   float clamp_max) {
    dispatch("qsi4cxp", m, n, k, 0, tile, lhs_packed, rhs_packed, dst, dst_stride_row, clamp_min, clamp_max);
}

void qp_matmul_f32_qai8dxp_qsi8cxp(size_t m, size_t n, size_t k, qp_matmul_tile tile, const void *lhs_packed,
                                   const void *rhs_packed, float *dst, size_t dst_stride_row, float clamp_min,
                                   float clamp_max) {
    dispatch("qsi8cxp", m, n, k, 0, tile, lhs_packed, rhs_packed, dst, dst_stride_row, clamp_min, clamp_max);
}

void qp_matmul_f32_qsi8d32p_qsi4c32p(size_t m, size_t n, size_t k, size_t bl, qp_matmul_tile tile,
                                     const void *lhs_packed, const void *rhs_packed, float *dst, size_t dst_stride_row,
                                     float clamp_min, float clamp_max) {
    dispatch("qsi4c32pscalef16", m, n, k, bl, tile, lhs_packed, rhs_packed, dst, dst_stride_row, clamp_min, clamp_max);
}

void qp_matmul_f32_qsi8d32p_qai4c32p(size_t m, size_t n, size_t k, size_t bl, qp_matmul_tile tile,
                                     const void *lhs_packed, const void *rhs_packed, float *dst, size_t dst_stride_row,
                                     float clamp_min, float clamp_max) {
    dispatch("qai4c32p", m, n, k, bl, tile, lhs_packed, rhs_packed, dst, dst_stride_row, clamp_min, clamp_max);
}
