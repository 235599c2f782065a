#ifndef QP_UKERNEL_H
#define QP_UKERNEL_H

/* KleidiAI-style micro-kernel interfaces: each family shares one struct of getters and a run
 * function, so callers and tests iterate over variants without knowing them. */

#include "qp_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qp_matmul_ukernel {
    const char *name;
    const char *family; /* "qsi4c32p", "qsi4cxp", "qsi8cxp" */
    const char *variant; /* "scalar", "neon_dotprod" */
    size_t (*get_m_step)(void);
    size_t (*get_n_step)(void);
    size_t (*get_mr)(void);
    size_t (*get_nr)(void);
    size_t (*get_kr)(void);
    size_t (*get_sr)(void);
    size_t (*get_lhs_packed_offset)(size_t m_idx, size_t k);
    /* bl is ignored by the per-channel families. */
    size_t (*get_rhs_packed_offset)(size_t n_idx, size_t k, size_t bl);
    size_t (*get_dst_offset)(size_t m_idx, size_t n_idx, size_t dst_stride);
    size_t (*get_dst_size)(size_t m, size_t n);
    void (*run)(size_t m, size_t n, size_t k, size_t bl, const void *lhs_packed, const void *rhs_packed, float *dst,
                size_t dst_stride_row, size_t dst_stride_col, float clamp_min, float clamp_max);
} qp_matmul_ukernel;

/* Every micro-kernel the runtime has, for the tiles qpack's targets emit:
 * neon-dotprod: qsi4c32p (nr 8, kr 8, sr 2), qsi4cxp (4, 8, 2), qsi8cxp (4, 4, 1);
 * neon-i8mm:    qsi4c32p (8, 16, 2), qsi4cxp (8, 16, 2), qsi8cxp (4, 8, 1); GEMV (m_step 1) for
 * all, and the i8mm GEMMs (m_step 4) for the neon-i8mm tiles. */
size_t qp_matmul_ukernel_count(void);
const qp_matmul_ukernel *qp_matmul_ukernel_at(size_t index);

#ifdef __cplusplus
}
#endif

#endif
