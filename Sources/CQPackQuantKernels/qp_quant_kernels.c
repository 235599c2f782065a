#include "qp_quant_kernels.h"

/* Determinism: no FMA contraction anywhere in this file. */
#pragma clang fp contract(off)
#pragma STDC FP_CONTRACT OFF

/* Round to nearest, ties to even, for |v| <= 2^22: adding and subtracting 1.5·2^23 leaves the
 * rounded value (IEEE addition rounds to nearest even). volatile-free: the compiler may not
 * reassociate without -ffast-math. */
static inline float round_even(float v) { return (v + 12582912.0f) - 12582912.0f; }

static inline float clampf(float v, float lo, float hi) {
    v = v < lo ? lo : v;
    return v > hi ? hi : v;
}

float qp_absmax_f32(const float *x, size_t n) {
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

float qp_sq_error_f32(const float *x, size_t n, float scale, float inv, float qmin, float qmax) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        for (int l = 0; l < 8; l++) {
            float q = round_even(clampf(x[i + l] * inv, qmin, qmax));
            float d = x[i + l] - q * scale;
            acc[l] = acc[l] + d * d;
        }
    }
    float err = 0;
    for (int l = 0; l < 8; l++) err = err + acc[l];
    for (; i < n; i++) {
        float q = round_even(clampf(x[i] * inv, qmin, qmax));
        float d = x[i] - q * scale;
        err = err + d * d;
    }
    return err;
}

float qp_weighted_sq_error_f32(const float *x, const float *w, size_t n, float scale, float inv, float qmin, float qmax) {
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
    for (size_t i = 0; i < n; i++) out[i] = (int8_t)round_even(clampf(x[i] * inv, qmin, qmax));
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
