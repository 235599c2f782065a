#ifndef QP_QUANT_PACK_H
#define QP_QUANT_PACK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Quantize-and-pack: weights go straight from the source's bytes into KleidiAI's packed RHS
 * layouts, one panel of nr rows at a time, without a float copy of the tensor or a matrix of
 * codes in between. The arithmetic is the weight quantizer's, operation for operation (absmax
 * or the clip search over `ratios`, its errors with the same explicit fused multiply-adds; fixed
 * summation order), and the
 * bytes are the packers', so the result equals pack(quantize(decode(source))) exactly; the
 * tests compare the two. */

enum { QP_SOURCE_F32 = 0, QP_SOURCE_F16 = 1, QP_SOURCE_BF16 = 2 };

/* A row-major rows x cols matrix of little-endian floats, any alignment. */
typedef struct {
    const void *data;
    int encoding;
    size_t rows;
    size_t cols;
} qp_weight_source;

/* How scales are chosen: nratios == 0 is absmax (round to nearest); otherwise the clip search
 * keeps the first candidate α·absmax/qmax of least squared error. Non-finite values either stop
 * the work (the result is the flat index of the first one in these panels) or become 0. */
typedef struct {
    const float *ratios;
    size_t nratios;
    int zero_nonfinite;
} qp_scale_search;

/* Each packer fills panels [panel_begin, panel_end) of `out` (the whole packed tensor) and
 * returns -1, or the flat index of the first non-finite value met, or -2 when scratch memory
 * (a few rows) could not be allocated. Rows past `rows` repeat the last row, as KleidiAI does. */

/* qsi4c32p (int4 per block of bl along K, bf16 scales), tile nr x (L = kr/sr). */
int64_t qp_quant_pack_qsi4c32p(const qp_weight_source *src, size_t bl, size_t nr, size_t L, qp_scale_search search,
                               size_t panel_begin, size_t panel_end, uint8_t *out);

/* qsi4cxp (int4 per row, f32 scales), tile nr x (L = kr/sr). */
int64_t qp_quant_pack_qsi4cxp(const qp_weight_source *src, size_t nr, size_t L, qp_scale_search search,
                              size_t panel_begin, size_t panel_end, uint8_t *out);

/* qsi8cxp (int8 per row, f32 scales), tile nr x kr. */
int64_t qp_quant_pack_qsi8cxp(const qp_weight_source *src, size_t nr, size_t kr, qp_scale_search search,
                              size_t panel_begin, size_t panel_end, uint8_t *out);

#ifdef __cplusplus
}
#endif

#endif
