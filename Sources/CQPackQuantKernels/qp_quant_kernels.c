#include "qp_quant_kernels.h"

/* Determinism: no FMA contraction anywhere in this file. */
#pragma clang fp contract(off)
#pragma STDC FP_CONTRACT OFF

#include "qp_quant_arith.h"

#define round_even qp_round_even
#define clampf qp_clampf

float qp_absmax_f32(const float *x, size_t n) { return qp_absmax_inline(x, n); }

float qp_sq_error_f32(const float *x, size_t n, float scale, float inv, float qmin, float qmax) {
    return qp_sq_error_inline(x, n, scale, inv, qmin, qmax);
}

float qp_weighted_sq_error_f32(const float *x, const float *w, size_t n, float scale, float inv, float qmin,
                               float qmax) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        for (int l = 0; l < 8; l++) {
            float q = round_even(clampf(x[i + l] * inv, qmin, qmax));
            float d = x[i + l] - q * scale;
            acc[l] = acc[l] + w[i + l] * (d * d);
        }
    }
    float err = 0;
    for (int l = 0; l < 8; l++) err = err + acc[l];
    for (; i < n; i++) {
        float q = round_even(clampf(x[i] * inv, qmin, qmax));
        float d = x[i] - q * scale;
        err = err + w[i] * (d * d);
    }
    return err;
}

float qp_weighted_refit_scale_f32(const float *x, const float *w, size_t n, float inv, float qmin, float qmax) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        const float q = round_even(clampf(x[i] * inv, qmin, qmax));
        num += (double)w[i] * (double)x[i] * (double)q;
        den += (double)w[i] * (double)q * (double)q;
    }
    return den > 0 ? (float)(num / den) : 0.0f;
}

void qp_encode_f32(const float *x, size_t n, float inv, float qmin, float qmax, int8_t *out) {
    qp_encode_inline(x, n, inv, qmin, qmax, out);
}

size_t qp_first_nonfinite_f32(const float *x, size_t n) {
    size_t i = 0;
    /* A float is non-finite when its exponent bits are all ones; test 64 values at a time. */
    for (; i + 64 <= n; i += 64) {
        int bad = 0;
        for (int l = 0; l < 64; l++) {
            uint32_t b;
            __builtin_memcpy(&b, &x[i + l], 4);
            bad |= (b & 0x7F800000u) == 0x7F800000u;
        }
        if (bad) break;
    }
    for (; i < n; i++) {
        uint32_t b;
        __builtin_memcpy(&b, &x[i], 4);
        if ((b & 0x7F800000u) == 0x7F800000u) return i;
    }
    return n;
}
