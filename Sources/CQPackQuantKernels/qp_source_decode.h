/* Reading a qp_weight_source: F32/F16/BF16 bytes to floats, exactly, with the non-finite check
 * the quantizer needs. Included only by this target's .c files. */
#ifndef QP_SOURCE_DECODE_H
#define QP_SOURCE_DECODE_H

#include <string.h>

#include "qp_quant_arith.h"
#include "qp_quant_pack.h"

/* x86: each entry point also has an AVX2 clone chosen at load time (the same IEEE operations in
 * wider registers, so the same bits); other machines build the portable form only. */
#if defined(__x86_64__) && defined(__clang__)
#define QP_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define QP_CLONES
#endif

/* bfloat16 rounding, nearest even (NaN stays NaN), as BFloat16.fromFloat. */
QP_INLINE uint16_t bf16_from_float(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    if (f != f) return (uint16_t)((x >> 16) | 0x40);
    return (uint16_t)((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
}

QP_INLINE float bf16_to_float(uint16_t b) {
    uint32_t x = (uint32_t)b << 16;
    float f;
    memcpy(&f, &x, 4);
    return f;
}

QP_INLINE float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1Fu, man = h & 0x3FFu, x;
    if (exp == 0x1F) {
        x = sign | 0x7F800000u | (man << 13);
    } else if (exp != 0) {
        x = sign | ((exp + 112) << 23) | (man << 13);
    } else if (man == 0) {
        x = sign;
    } else {
        /* Subnormal half: normalise (exact in float32). */
        int e = -1;
        do {
            man <<= 1;
            e++;
        } while (!(man & 0x400u));
        x = sign | ((uint32_t)(112 - e) << 23) | ((man & 0x3FFu) << 13);
    }
    float f;
    memcpy(&f, &x, 4);
    return f;
}

/* Row `row` of the source as floats; returns the column of the first non-finite value, or -1
 * (non-finite values are zeroed when `zero_nonfinite`, else left for the caller to report). */
#if defined(__x86_64__) && defined(__clang__)
#include <immintrin.h>
/* f16 to f32 in hardware (VCVTPH2PS converts exactly, subnormals, Inf and NaN included). */
__attribute__((target("avx2,f16c"), unused)) static void halves_to_floats_f16c(const uint8_t *p, size_t k, float *out) {
    size_t j = 0;
    for (; j + 8 <= k; j += 8)
        _mm256_storeu_ps(out + j, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p + 2 * j))));
    for (; j < k; j++) {
        uint16_t h;
        memcpy(&h, p + 2 * j, 2);
        out[j] = half_to_float(h);
    }
}
#define QP_HAS_F16C() (__builtin_cpu_supports("f16c"))
#else
#define QP_HAS_F16C() 0
#define halves_to_floats_f16c(p, k, out) ((void)0)
#endif

/* Elements [start, start + k) of the source as floats into `out`. */
QP_INLINE void decode_range(const qp_weight_source *src, size_t start, size_t k, float *out) {
    const uint8_t *p = (const uint8_t *)src->data;
    switch (src->encoding) {
    case QP_SOURCE_F32: memcpy(out, p + start * 4, k * 4); break;
    case QP_SOURCE_F16:
        if (QP_HAS_F16C()) {
            halves_to_floats_f16c(p + start * 2, k, out);
            break;
        }
        for (size_t j = 0; j < k; j++) {
            uint16_t h;
            memcpy(&h, p + (start + j) * 2, 2);
            out[j] = half_to_float(h);
        }
        break;
    default:
        for (size_t j = 0; j < k; j++) {
            uint16_t b;
            memcpy(&b, p + (start + j) * 2, 2);
            out[j] = bf16_to_float(b);
        }
        break;
    }
}

QP_INLINE long decode_row(const qp_weight_source *src, size_t row, float *out, int zero_nonfinite) {
    const size_t k = src->cols;
    decode_range(src, row * k, k, out);
    /* A float is non-finite when its exponent bits are all ones; test 64 values at a time. */
    size_t j = 0;
    for (;; j += 64) {
        size_t end = j + 64 < k ? j + 64 : k;
        int bad = 0;
        for (size_t i = j; i < end; i++) {
            uint32_t b;
            memcpy(&b, &out[i], 4);
            bad |= (b & 0x7F800000u) == 0x7F800000u;
        }
        if (bad || end == k) break;
    }
    long first = -1;
    for (; j < k; j++) {
        uint32_t b;
        memcpy(&b, &out[j], 4);
        if ((b & 0x7F800000u) == 0x7F800000u) {
            if (!zero_nonfinite) return (long)j;
            if (first < 0) first = (long)j;
            out[j] = 0;
        }
    }
    return zero_nonfinite ? -1 : first;
}

#endif
