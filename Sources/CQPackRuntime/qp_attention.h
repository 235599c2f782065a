/* Scaled dot-product attention of one query (BERT and Llama share it). */
#ifndef QP_ATTENTION_H
#define QP_ATTENTION_H

#include <stddef.h>

/* out[e] = Σ_j p_j · values[j·value_stride + e] / Σ_j p_j for e < hd, with
 * p_j = exp(s_j − max s) and s_j = scale · Σ_e q[e] · keys[j·key_stride + e], over count ≥ 1 keys.
 * `scores` holds count floats of scratch. The bits are defined by this order: each s_j in four
 * lanes (lane l takes e ≡ l mod 4, multiply then add, no fusion), reduced (l0 + l1) + (l2 + l3),
 * then the hd mod 4 tail in order, then times scale; the p_j and their sum in order of j; each
 * out[e] sums p_j · v in order of j, then divides. Only IEEE multiplies, adds and libm's expf:
 * the same bits on AArch64 and x86. */
void qp_attend(const float *q, const float *keys, size_t key_stride, const float *values, size_t value_stride,
               size_t count, size_t hd, float scale, float *scores, float *out);

typedef struct qp_pool qp_pool;

/* How many score buffers a graph allocates for qp_attend_heads: one per thread it may use. */
size_t qp_attention_parts(const qp_pool *pool, size_t heads);

/* head(context, h, scores) for every head h < heads: split over the pool's threads by head when
 * the step's work (about `work` multiply-adds) is worth a split, else on the calling thread. Part
 * p passes scores + p · scores_stride (qp_attention_parts buffers). A head's outputs come from
 * the same code on any thread, so the bits do not depend on the thread count. */
void qp_attend_heads(qp_pool *pool, size_t heads, size_t work, void (*head)(void *context, size_t h, float *scores),
                     void *context, float *scores, size_t scores_stride);

#endif
