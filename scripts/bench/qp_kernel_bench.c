#define _POSIX_C_SOURCE 200809L
/* Throughput of the runtime's GEMV/GEMM kernels on random packed weights (not a test).
 *   qp_kernel_bench [N K M REPEAT]   prints one line per kernel: GFLOP/s (2·M·N·K per call)
 * Also a native int8 GEMV written directly with AVX2 (x86 only) as the yardstick the issue asks
 * for: the same work on an unpacked int8 matrix. */
#include "qp_runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static unsigned long long rng = 0x9E3779B97F4A7C15ULL;
static unsigned next_u32(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng >> 11);
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) static void gemv_i8_avx2(size_t n, size_t k, const int8_t *x, const int8_t *w,
                                                         int32_t *y) {
    for (size_t r = 0; r < n; r++) {
        __m256i acc = _mm256_setzero_si256();
        const int8_t *wr = w + r * k;
        for (size_t i = 0; i < k; i += 16) {
            __m256i a = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(x + i)));
            __m256i b = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(wr + i)));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(a, b));
        }
        __m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
        s = _mm_hadd_epi32(s, s);
        s = _mm_hadd_epi32(s, s);
        y[r] = _mm_cvtsi128_si32(s);
    }
}
#endif

typedef void (*fn_c32)(size_t, size_t, size_t, size_t, qp_matmul_tile, const void *, const void *, float *, size_t,
                       float, float);
typedef void (*fn_cx)(size_t, size_t, size_t, qp_matmul_tile, const void *, const void *, float *, size_t, float,
                      float);

static void report(const char *name, size_t m, size_t n, size_t k, double seconds, int reps) {
    printf("%-44s %6zux%-6zu m=%-2zu %8.2f GFLOP/s\n", name, n, k, m, 2.0 * m * n * k * reps / seconds / 1e9);
}

int main(int argc, char **argv) {
    const size_t n = argc > 1 ? (size_t)atol(argv[1]) : 4096, k = argc > 2 ? (size_t)atol(argv[2]) : 4096;
    const size_t m = argc > 3 ? (size_t)atol(argv[3]) : 1;
    /* REPEAT calls per kernel; without it, enough for about 0.05 s of work at 30 GFLOP/s. */
    const double scaled = 1.5e9 / (2.0 * (double)m * (double)n * (double)k);
    const int reps = argc > 4 ? atoi(argv[4]) : (int)scaled + 1;
    float *x = malloc(m * k * 4), *y = malloc(m * n * 4);
    for (size_t i = 0; i < m * k; i++) x[i] = (float)((int)(next_u32() % 2001) - 1000) / 1000.0f;
    /* qsi4c32p, bl 32, neon-dotprod tile (8, 8, 2) and neon-i8mm tile (8, 16, 2) */
    const size_t bl = 32, nr = 8;
    const size_t c32 = (n + nr - 1) / nr * nr * ((k / bl) * (bl / 2 + 2) + 8);
    uint8_t *w4 = malloc(c32);
    for (size_t i = 0; i < c32; i++) w4[i] = (uint8_t)next_u32();
    for (size_t g = 0; g < (n + nr - 1) / nr; g++) { /* finite scales */
        uint8_t *p = w4 + g * (c32 / ((n + nr - 1) / nr));
        for (size_t b = 0; b < k / bl; b++)
            for (size_t r = 0; r < nr; r++) p[b * nr * 18 + nr * 16 + 2 * r + 1] = 0x3C;
        float *tail = (float *)(p + (k / bl) * nr * 18);
        for (size_t r = 0; r < 2 * nr; r++) tail[r] = 1.0f;
    }
    const size_t cx8 = (n + 3) / 4 * 4 * (k + 12);
    uint8_t *w8 = malloc(cx8);
    for (size_t i = 0; i < cx8; i++) w8[i] = (uint8_t)next_u32();
    for (size_t g = 0; g < (n + 3) / 4; g++) {
        float *tail = (float *)(w8 + g * (cx8 / ((n + 3) / 4)) + 4 * k);
        for (size_t r = 4; r < 12; r++) tail[r] = 0.001f;
    }
    struct {
        const char *name;
        fn_c32 f;
        qp_matmul_tile t;
    } c32k[] = {
        {"qsi4c32p scalar (8,8,2)", qp_matmul_f32_qai8dxp_qsi4c32p_scalar, {1, 8, 8, 2}},
        {"qsi4c32p neon_dotprod (8,8,2)", qp_matmul_f32_qai8dxp_qsi4c32p_neon_dotprod, {1, 8, 8, 2}},
        {"qsi4c32p neon_dotprod (8,16,2)", qp_matmul_f32_qai8dxp_qsi4c32p_neon_dotprod, {1, 8, 16, 2}},
        {"qsi4c32p neon_i8mm (mr 4, 8,16,2)", qp_matmul_f32_qai8dxp_qsi4c32p_neon_i8mm, {4, 8, 16, 2}},
#if defined(__x86_64__)
        {"qsi4c32p neon_dotprod (8,16,2), NEON src", qp_matmul_f32_qai8dxp_qsi4c32p_neon_dotprod, {1, 8, 16, 2}},
#endif
    };
    for (size_t i = 0; i < sizeof c32k / sizeof c32k[0]; i++) {
        qp_matmul_tile t = c32k[i].t;
        /* "NEON src": the NEON source through SIMDe alone (no native panels, no AVX-VNNI). */
        qp_use_x86_extensions(strstr(c32k[i].name, "NEON src") == NULL);
        void *lhs = calloc(1, qp_lhs_packed_size_qai8dxp(m, k, t.mr));
        qp_lhs_quant_pack_qai8dxp_f32(m, k, t.mr, t.kr, t.sr, x, 4 * k, lhs);
        int r = strstr(c32k[i].name, "scalar") ? 1 : reps;
        double t0 = now();
        for (int j = 0; j < r; j++) c32k[i].f(m, n, k, bl, t, lhs, w4, y, 4 * n, -1e30f, 1e30f);
        report(c32k[i].name, m, n, k, now() - t0, r);
        free(lhs);
    }
    struct {
        const char *name;
        fn_cx f;
        qp_matmul_tile t;
    } cxk[] = {
        {"qsi8cxp scalar (4,4,1)", qp_matmul_f32_qai8dxp_qsi8cxp_scalar, {1, 4, 4, 1}},
        {"qsi8cxp neon_dotprod (4,4,1)", qp_matmul_f32_qai8dxp_qsi8cxp_neon_dotprod, {1, 4, 4, 1}},
#if defined(__x86_64__)
        {"qsi8cxp neon_dotprod (4,4,1), NEON src", qp_matmul_f32_qai8dxp_qsi8cxp_neon_dotprod, {1, 4, 4, 1}},
#endif
    };
    for (size_t i = 0; i < sizeof cxk / sizeof cxk[0]; i++) {
        qp_matmul_tile t = cxk[i].t;
        qp_use_x86_extensions(strstr(cxk[i].name, "NEON src") == NULL);
        void *lhs = calloc(1, qp_lhs_packed_size_qai8dxp(m, k, t.mr));
        qp_lhs_quant_pack_qai8dxp_f32(m, k, t.mr, t.kr, t.sr, x, 4 * k, lhs);
        int r = strstr(cxk[i].name, "scalar") ? 1 : reps;
        double t0 = now();
        for (int j = 0; j < r; j++) cxk[i].f(m, n, k, t, lhs, w8, y, 4 * n, -1e30f, 1e30f);
        report(cxk[i].name, m, n, k, now() - t0, r);
        free(lhs);
    }
    qp_use_x86_extensions(1);
#if defined(__x86_64__)
    __builtin_cpu_init();
    printf("(x86: AVX-VNNI %s)\n", __builtin_cpu_supports("avxvnni") ? "yes" : "no");
    if (__builtin_cpu_supports("avx2") && m == 1 && k % 16 == 0) {
        int8_t *xi = malloc(k), *wi = malloc(n * k);
        int32_t *yi = malloc(n * 4);
        for (size_t i = 0; i < k; i++) xi[i] = (int8_t)next_u32();
        for (size_t i = 0; i < n * k; i++) wi[i] = (int8_t)next_u32();
        double t0 = now();
        for (int j = 0; j < reps; j++) gemv_i8_avx2(n, k, xi, wi, yi);
        report("int8 GEMV, native AVX2 loop (yardstick)", 1, n, k, now() - t0, reps);
    }
#endif
    return 0;
}
