#ifndef QP_FLOAT_STORE_H
#define QP_FLOAT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "qp_quant_pack.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { QP_STORE_F16 = 0, QP_STORE_BF16 = 1 };

/* Elements [begin, end) of `src` stored as little-endian f16 or bf16 (round to nearest even)
 * into `out` (2 bytes each, out[0] is element `begin`). Non-finite values are stored as 0 and
 * the first one's index goes to *first_nonfinite (without zero_nonfinite the work stops at the
 * chunk holding it); the first finite value too large for f16 (|x| > 65504) goes to
 * *first_too_large. Either is SIZE_MAX when there is none. */
void qp_store_floats(const qp_weight_source *src, size_t begin, size_t end, int format, int zero_nonfinite,
                     uint8_t *out, size_t *first_nonfinite, size_t *first_too_large);

#ifdef __cplusplus
}
#endif

#endif
