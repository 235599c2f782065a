#include "qp_float_store.h"

/* Determinism: no FMA contraction anywhere in this file (none is needed; conversions only). */
#pragma clang fp contract(off)
#pragma STDC FP_CONTRACT OFF

#include <stdint.h>
#include <string.h>

#include "qp_source_decode.h"

#if defined(__x86_64__) && defined(__clang__)
#include <immintrin.h>
#endif

/* float32 -> float16, round to nearest even, for finite |f| <= 65504 (FloatBits.floatToHalf). */
QP_INLINE uint16_t half_from_float(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    const uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    const int e = (int)((x >> 23) & 0xFF) - 127 + 15;
    uint32_t mant = x & 0x7FFFFFu;
    if (e <= 0) {
        if (e < -10) return sign;
        mant |= 0x800000u;
        const uint32_t shift = (uint32_t)(14 - e), half = 1u << (shift - 1);
        uint32_t m = mant >> shift;
        const uint32_t rem = mant & ((1u << shift) - 1);
        if (rem > half || (rem == half && (m & 1))) m++;
        return (uint16_t)(sign | m);
    }
    uint32_t h = ((uint32_t)e << 10) | (mant >> 13);
    const uint32_t rem = mant & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) h++;
    return (uint16_t)(sign | h);
}

#if defined(__x86_64__) && defined(__clang__)
/* The same rounding in hardware (VCVTPS2PH, round to nearest even). */
__attribute__((target("avx2,f16c"))) static void halves_f16c(const float *x, size_t n, uint8_t *out) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT);
        _mm_storeu_si128((__m128i *)(out + 2 * i), h);
    }
    for (; i < n; i++) {
        uint16_t h = half_from_float(x[i]);
        memcpy(out + 2 * i, &h, 2);
    }
}
#endif

QP_INLINE uint16_t bf16_store(float f) { return bf16_from_float(f); }

QP_CLONES
void qp_store_floats(const qp_weight_source *src, size_t begin, size_t end, int format, int zero_nonfinite,
                     uint8_t *out, size_t *first_nonfinite, size_t *first_too_large) {
    enum { CHUNK = 1024 };
    float x[CHUNK];
    *first_nonfinite = SIZE_MAX;
    *first_too_large = SIZE_MAX;
#if defined(__x86_64__) && defined(__clang__)
    const int f16c = format == QP_STORE_F16 && __builtin_cpu_supports("f16c") && __builtin_cpu_supports("avx2");
#endif
    for (size_t at = begin; at < end; at += CHUNK) {
        const size_t n = end - at < CHUNK ? end - at : CHUNK;
        decode_range(src, at, n, x);
        for (size_t i = 0; i < n; i++) {
            uint32_t b;
            memcpy(&b, &x[i], 4);
            if ((b & 0x7F800000u) == 0x7F800000u) {
                if (*first_nonfinite == SIZE_MAX) *first_nonfinite = at + i;
                x[i] = 0;
            } else if (format == QP_STORE_F16 && (b & 0x7FFFFFFFu) > 0x477FE000u && *first_too_large == SIZE_MAX) {
                *first_too_large = at + i; /* |x| > 65504 */
            }
        }
        if (!zero_nonfinite && *first_nonfinite != SIZE_MAX) return;
        uint8_t *o = out + 2 * (at - begin);
        if (format == QP_STORE_F16) {
#if defined(__x86_64__) && defined(__clang__)
            if (f16c) {
                halves_f16c(x, n, o);
                continue;
            }
#endif
            for (size_t i = 0; i < n; i++) {
                const uint16_t h = half_from_float(x[i]);
                o[2 * i] = (uint8_t)h, o[2 * i + 1] = (uint8_t)(h >> 8);
            }
        } else {
            for (size_t i = 0; i < n; i++) {
                const uint16_t h = bf16_store(x[i]);
                o[2 * i] = (uint8_t)h, o[2 * i + 1] = (uint8_t)(h >> 8);
            }
        }
    }
}
