#ifndef QP_QUANT_KERNELS_H
#define QP_QUANT_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Inner loops of the weight quantizer, in C so the compiler vectorises them. No function lets
 * the compiler contract a multiply and an add; the clip search's squared error uses explicit
 * fused multiply-adds (fmaf: one rounding, IEEE-defined), and every sum has a fixed order, so
 * results are the same on every machine. */

/* max |x[i]| over n values. */
float qp_absmax_f32(const float *x, size_t n);

/* Σ (x - q·scale)², q = round_half_even(clamp(x·inv, qmin, qmax)), summed in 8 interleaved
 * partial sums (lane i mod 8) then added lane 0..7, then the tail in order; d = fma(-q, scale, x)
 * and each term added as fma(d, d, sum). */
float qp_sq_error_f32(const float *x, size_t n, float scale, float inv, float qmin, float qmax);

/* Σ w[i]·(x - q·scale)², the same order as qp_sq_error_f32 (importance-weighted search). */
float qp_weighted_sq_error_f32(const float *x, const float *w, size_t n, float scale, float inv, float qmin,
                               float qmax);

/* The scale minimising Σ w·(x − q·s)² for the codes q = round_half_even(clamp(x·inv)):
 * Σ w·x·q / Σ w·q² (in double, in order), or 0 when every weighted code is 0. */
float qp_weighted_refit_scale_f32(const float *x, const float *w, size_t n, float inv, float qmin, float qmax);

/* out[i] = round_half_even(clamp(x[i]·inv, qmin, qmax)). */
void qp_encode_f32(const float *x, size_t n, float inv, float qmin, float qmax, int8_t *out);

/* Index of the first NaN or ±Inf in x, or n when all values are finite. */
size_t qp_first_nonfinite_f32(const float *x, size_t n);

#ifdef __cplusplus
}
#endif

#endif
