/* The weight quantizer's arithmetic, shared by the public per-group kernels
 * (qp_quant_kernels.c) and the quantize-and-pack loops (qp_quant_pack.c) so both compute the
 * same bits. Included only by this target's .c files, which all turn FMA contraction off. */
#ifndef QP_QUANT_ARITH_H
#define QP_QUANT_ARITH_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#define QP_INLINE static inline __attribute__((always_inline))

/* Round to nearest, ties to even, for |v| <= 2^22: adding and subtracting 1.5·2^23 leaves the
 * rounded value (IEEE addition rounds to nearest even). The compiler may not reassociate
 * without -ffast-math. */
QP_INLINE float qp_round_even(float v) { return (v + 12582912.0f) - 12582912.0f; }

QP_INLINE float qp_clampf(float v, float lo, float hi) {
    v = v < lo ? lo : v;
    return v > hi ? hi : v;
}

/* max |x[i]| in 8 lanes (the order does not matter for a maximum of non-NaN values). */
QP_INLINE float qp_absmax_inline(const float *x, size_t n) {
    float m[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        for (int l = 0; l < 8; l++) {
            float a = x[i + l] < 0 ? -x[i + l] : x[i + l];
            m[l] = a > m[l] ? a : m[l];
        }
    }
    float r = 0;
    for (int l = 0; l < 8; l++) r = m[l] > r ? m[l] : r;
    for (; i < n; i++) {
        float a = x[i] < 0 ? -x[i] : x[i];
        r = a > r ? a : r;
    }
    return r;
}

/* Σ (x - q·scale)² in 8 interleaved partial sums (lane i mod 8), added lane 0..7, then the tail.
 * d = x - q·scale and acc + d·d are each one fused multiply-add (one rounding, as IEEE 754
 * defines it: the same on every machine, and two vector instructions instead of four where
 * the hardware has FMA). */
QP_INLINE float qp_sq_error_inline(const float *x, size_t n, float scale, float inv, float qmin, float qmax) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        for (int l = 0; l < 8; l++) {
            float q = qp_round_even(qp_clampf(x[i + l] * inv, qmin, qmax));
            float d = fmaf(-q, scale, x[i + l]);
            acc[l] = fmaf(d, d, acc[l]);
        }
    }
    float err = 0;
    for (int l = 0; l < 8; l++) err = err + acc[l];
    for (; i < n; i++) {
        float q = qp_round_even(qp_clampf(x[i] * inv, qmin, qmax));
        float d = fmaf(-q, scale, x[i]);
        err = fmaf(d, d, err);
    }
    return err;
}

QP_INLINE void qp_encode_inline(const float *x, size_t n, float inv, float qmin, float qmax, int8_t *out) {
    for (size_t i = 0; i < n; i++) out[i] = (int8_t)qp_round_even(qp_clampf(x[i] * inv, qmin, qmax));
}

#endif
