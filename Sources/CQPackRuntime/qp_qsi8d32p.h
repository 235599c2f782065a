#ifndef QP_QSI8D32P_H
#define QP_QSI8D32P_H

/* What the qsi8d32p kernels share: which K values an RHS byte pairs. Byte kl of a row's block
 * (0 <= kl < bl/2) holds value low_index(kl) in its low nibble and that plus partner() in its
 * high nibble: the f16-scale layout copies Q4_0 blocks (kl and kl + bl/2), the asymmetric layout
 * pairs k and k + 16 inside every 32 values (Formats/qpack-container.md §5.4, §5.5). */

#include "qp_runtime.h"

static inline size_t qp_qsi8d32p_low_index(size_t kl, size_t bl, int pairs16) {
    (void)bl;
    return pairs16 ? 32 * (kl / 16) + kl % 16 : kl;
}

static inline size_t qp_qsi8d32p_partner(size_t bl, int pairs16) { return pairs16 ? 16 : bl / 2; }

#endif
