/* Self-test of the runtime kernels, built natively and cross-compiled for AArch64 (run under
 * qemu-aarch64 with -cpu max and -cpu cortex-a53) by scripts/test-runtime.sh.
 *
 *   qp_runtime_selftest CASES_FILE ORACLE_DIR
 *
 * CASES_FILE lists the KleidiAI matmul cases, one per line:
 *   family m n k bl mr nr kr sr clamp_min_bits clamp_max_bits lhs_packed rhs_packed output lhs_f32
 * The LHS is packed here from the float activations and must equal KleidiAI's packed LHS.
 * Checks: every case bit-exact through the dispatched kernel and the scalar reference; scalar
 * and NEON agree on random shapes (M 1-19: whole and partial row groups; N not a multiple of nr). Exit 0 on success. */
#include "qp_activation.h"
#include "qp_model.h"
#include "qp_runtime.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *read_file(const char *dir, const char *name, size_t *size) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "short read %s\n", path);
        exit(2);
    }
    fclose(f);
    *size = (size_t)n;
    return b;
}

static float from_bits(unsigned long b) {
    unsigned int u = (unsigned int)b;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

typedef void (*kernel_fn)(size_t, size_t, size_t, size_t, qp_matmul_tile, const void *, const void *, float *, size_t,
                          float, float);

static void run(const char *family, size_t m, size_t n, size_t k, size_t bl, qp_matmul_tile t, const void *lhs,
                const void *rhs, float *dst, float lo, float hi, int scalar_only) {
    if (!strcmp(family, "qsi4c32p")) {
        if (scalar_only)
            qp_matmul_f32_qai8dxp_qsi4c32p_scalar(m, n, k, bl, t, lhs, rhs, dst, 4 * n, lo, hi);
        else
            qp_matmul_f32_qai8dxp_qsi4c32p(m, n, k, bl, t, lhs, rhs, dst, 4 * n, lo, hi);
    } else if (!strcmp(family, "qsi4cxp")) {
        if (scalar_only)
            qp_matmul_f32_qai8dxp_qsi4cxp_scalar(m, n, k, t, lhs, rhs, dst, 4 * n, lo, hi);
        else
            qp_matmul_f32_qai8dxp_qsi4cxp(m, n, k, t, lhs, rhs, dst, 4 * n, lo, hi);
    } else {
        if (scalar_only)
            qp_matmul_f32_qai8dxp_qsi8cxp_scalar(m, n, k, t, lhs, rhs, dst, 4 * n, lo, hi);
        else
            qp_matmul_f32_qai8dxp_qsi8cxp(m, n, k, t, lhs, rhs, dst, 4 * n, lo, hi);
    }
}

static unsigned long long rng = 88172645463325252ULL;
static unsigned int next_u32(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned int)(rng >> 11);
}

/* Random qsi4c32p panels for n rows of k (valid bf16 scales, finite sums). */
/* m rows of k activations, each row shifted by its own offset so that rows get different
 * quantization zero points (a row-independent range gives every row the same one, and a kernel
 * applying one row's zero point to another would pass). */
static void random_rows(float *x, size_t m, size_t k) {
    for (size_t r = 0; r < m; r++) {
        const float offset = (float)((int)(next_u32() % 401) - 200) / 100.0f;
        for (size_t i = 0; i < k; i++) x[r * k + i] = offset + (float)((int)(next_u32() % 20001) - 10000) / 3000.0f;
    }
}

static unsigned char *random_qsi4c32p_panels(size_t n, size_t k, size_t bl, size_t nr) {
    const size_t panels = (n + nr - 1) / nr, stride = nr * ((k / bl) * (bl / 2 + 2) + 8);
    unsigned char *rhs = malloc(panels * stride);
    for (size_t i = 0; i < panels * stride; i++) rhs[i] = (unsigned char)next_u32();
    for (size_t g = 0; g < panels; g++) { /* make scales and sums finite */
        unsigned char *p = rhs + g * stride;
        for (size_t b = 0; b < k / bl; b++) {
            unsigned char *s = p + b * nr * (bl / 2 + 2) + nr * bl / 2;
            for (size_t r = 0; r < nr; r++) {
                s[2 * r] = (unsigned char)next_u32();
                s[2 * r + 1] = (unsigned char)(0x3A + next_u32() % 8);
            }
        }
        float *tail = (float *)(p + (k / bl) * nr * (bl / 2 + 2));
        for (size_t r = 0; r < 2 * nr; r++) tail[r] = (float)((int)(next_u32() % 2001) - 1000) / 64.0f;
    }
    return rhs;
}

/* Random qsi4c32p panels (valid bf16 scales) and a packed LHS: scalar vs dispatched variant. */
static int random_cross_check(void) {
    int failures = 0;
    for (int iter = 0; iter < 200; iter++) {
        const size_t Ls[2] = {4, 8};
        const size_t L = Ls[iter % 2], nr = (iter / 2) % 2 ? 8 : 4, bl = 32 * (1 + next_u32() % 4);
        const size_t m = 1 + next_u32() % 19, n = 1 + next_u32() % 37, k = bl * (1 + next_u32() % 4);
        qp_matmul_tile t = {iter % 3 ? 4 : 1, nr, 2 * L, 2};
        unsigned char *rhs = random_qsi4c32p_panels(n, k, bl, nr);
        float *x = malloc(m * k * sizeof(float));
        random_rows(x, m, k);
        unsigned char *lhs = calloc(1, qp_lhs_packed_size_qai8dxp(m, k, t.mr));
        qp_lhs_quant_pack_qai8dxp_f32(m, k, t.mr, t.kr, t.sr, x, 4 * k, lhs);
        float *a = malloc(m * n * 4), *b = malloc(m * n * 4);
        qp_matmul_f32_qai8dxp_qsi4c32p_scalar(m, n, k, bl, t, lhs, rhs, a, 4 * n, -1e30f, 1e30f);
        qp_matmul_f32_qai8dxp_qsi4c32p(m, n, k, bl, t, lhs, rhs, b, 4 * n, -1e30f, 1e30f);
        if (memcmp(a, b, m * n * 4)) {
            fprintf(stderr, "random case %d (m %zu n %zu k %zu bl %zu nr %zu L %zu): variants differ\n", iter, m, n, k,
                    bl, nr, L);
            failures++;
        }
        free(rhs);
        free(x);
        free(lhs);
        free(a);
        free(b);
    }
    return failures;
}

/* Random qsi4cxp / qsi8cxp panels (K tails included): scalar vs dispatched variant. */
static int random_cross_check_cx(void) {
    int failures = 0;
    for (int iter = 0; iter < 200; iter++) {
        const int int8 = iter % 2;
        const size_t nr = (iter / 2) % 2 ? 8 : 4, L = (iter / 4) % 2 ? 8 : 4;
        const size_t m = 1 + next_u32() % 19, n = 1 + next_u32() % 37, k = 1 + next_u32() % 300,
                     kp = (k + 31) / 32 * 32;
        qp_matmul_tile t =
            int8 ? (qp_matmul_tile){iter % 3 ? 4 : 1, 4, L, 1} : (qp_matmul_tile){iter % 3 ? 4 : 1, nr, 2 * L, 2};
        const size_t data = int8 ? t.nr * kp : t.nr * kp / 2, panels = (n + t.nr - 1) / t.nr, stride = data + 12 * t.nr;
        unsigned char *rhs = malloc(panels * stride);
        for (size_t g = 0; g < panels; g++) {
            unsigned char *p = rhs + g * stride;
            for (size_t i = 0; i < data; i++) p[i] = (unsigned char)next_u32();
            int32_t *rsum = (int32_t *)(p + data);
            float *scale = (float *)(p + data + 4 * t.nr), *bias = (float *)(p + data + 8 * t.nr);
            for (size_t r = 0; r < t.nr; r++) {
                rsum[r] = (int32_t)(next_u32() % 20001) - 10000;
                scale[r] = (float)(1 + next_u32() % 1000) / 65536.0f;
                bias[r] = (float)((int)(next_u32() % 2001) - 1000) / 64.0f;
            }
        }
        float *x = malloc(m * k * sizeof(float));
        random_rows(x, m, k);
        unsigned char *lhs = calloc(1, qp_lhs_packed_size_qai8dxp(m, k, t.mr));
        qp_lhs_quant_pack_qai8dxp_f32(m, k, t.mr, t.kr, t.sr, x, 4 * k, lhs);
        float *a = malloc(m * n * 4), *b = malloc(m * n * 4);
        if (int8) {
            qp_matmul_f32_qai8dxp_qsi8cxp_scalar(m, n, k, t, lhs, rhs, a, 4 * n, -1e30f, 1e30f);
            qp_matmul_f32_qai8dxp_qsi8cxp(m, n, k, t, lhs, rhs, b, 4 * n, -1e30f, 1e30f);
        } else {
            qp_matmul_f32_qai8dxp_qsi4cxp_scalar(m, n, k, t, lhs, rhs, a, 4 * n, -1e30f, 1e30f);
            qp_matmul_f32_qai8dxp_qsi4cxp(m, n, k, t, lhs, rhs, b, 4 * n, -1e30f, 1e30f);
        }
        if (memcmp(a, b, m * n * 4)) {
            fprintf(stderr, "random %s case %d (m %zu n %zu k %zu): variants differ\n", int8 ? "qsi8cxp" : "qsi4cxp",
                    iter, m, n, k);
            failures++;
        }
        free(rhs);
        free(x);
        free(lhs);
        free(a);
        free(b);
    }
    return failures;
}

/* Float linear kernels: scalar vs NEON, bit for bit, on random shapes with K tails. */
static int random_linear_check(void) {
    int failures = 0;
    for (int iter = 0; iter < 100; iter++) {
        const size_t m = 1 + next_u32() % 9, n = 1 + next_u32() % 40, k = 1 + next_u32() % 200;
        float *x = malloc(m * k * 4), *w = malloc(n * k * 4), *bias = malloc(n * 4), *a = malloc(m * n * 4),
              *b = malloc(m * n * 4);
        uint16_t *h = malloc(n * k * 2);
        for (size_t i = 0; i < m * k; i++) x[i] = (float)((int)(next_u32() % 2001) - 1000) / 997.0f;
        for (size_t i = 0; i < n * k; i++) {
            w[i] = (float)((int)(next_u32() % 2001) - 1000) / 991.0f;
            h[i] = (uint16_t)(next_u32() & 0x7BFF);
        }
        for (size_t i = 0; i < n; i++) bias[i] = (float)((int)(next_u32() % 2001) - 1000) / 983.0f;
        qp_linear_f32_scalar(m, n, k, x, w, bias, a, -1e30f, 1e30f);
        qp_linear_f32_neon(m, n, k, x, w, bias, b, -1e30f, 1e30f);
        if (memcmp(a, b, m * n * 4)) {
            fprintf(stderr, "linear f32 m %zu n %zu k %zu: variants differ\n", m, n, k);
            failures++;
        }
        qp_linear_f16_scalar(m, n, k, x, h, bias, a, -1e30f, 1e30f);
        qp_linear_f16_neon(m, n, k, x, h, bias, b, -1e30f, 1e30f);
        if (memcmp(a, b, m * n * 4)) {
            fprintf(stderr, "linear f16 m %zu n %zu k %zu: variants differ\n", m, n, k);
            failures++;
        }
        free(x);
        free(w);
        free(bias);
        free(a);
        free(b);
        free(h);
    }
    return failures;
}

static uint32_t float_bits(float f) {
    uint32_t b;
    memcpy(&b, &f, 4);
    return b;
}

/* The runtime's 1 + e^y against libm's double exp: within 1.5 ulp (its polynomial's 0.9 and the sum's rounding)
 * on [−87, 88] (and the clamp outside); SiLU's vector lanes against its scalar tail, bit for bit,
 * on random and special inputs (NaN stays NaN). */
static int activation_check(void) {
    int failures = 0;
    for (int i = 0; i <= 200000; i++) {
        const float y = -87.0f + 175.0f * (float)i / 200000.0f;
        const double want = 1.0 + exp((double)y);
        const float got = qp_one_plus_exp(y), near = (float)want;
        const double ulp = (double)nextafterf(near, INFINITY) - (double)near;
        if (fabs((double)got - want) > 1.5 * ulp) {
            fprintf(stderr, "1 + exp(%a): %a, libm %a\n", (double)y, (double)got, want);
            if (++failures > 5) return failures;
        }
    }
    if (qp_one_plus_exp(-1000.0f) != 1.0f || qp_one_plus_exp(1000.0f) != qp_one_plus_exp(88.0f)) {
        fprintf(stderr, "1 + exp: the clamp to [-87, 88] does not hold\n");
        failures++;
    }
    static const float special[] = {0.0f,   -0.0f, 1e-30f, -1e-30f,  87.5f,     -87.5f, 88.5f,
                                    -88.5f, 1e30f, -1e30f, INFINITY, -INFINITY, NAN};
    for (int iter = 0; iter < 200; iter++) {
        const size_t n = 1 + next_u32() % 37;
        float g[37], u[37], want[37];
        for (size_t i = 0; i < n; i++) {
            g[i] = next_u32() % 5 == 0 ? special[next_u32() % 13] : ((float)(int)(next_u32() % 40001) - 20000) / 997.0f;
            u[i] = ((float)(int)(next_u32() % 2001) - 1000) / 991.0f;
            want[i] = g[i] / qp_one_plus_exp(-g[i]) * u[i];
        }
        qp_silu_mul(g, u, n);
        for (size_t i = 0; i < n; i++)
            if (isnan(want[i]) ? !isnan(g[i]) : float_bits(g[i]) != float_bits(want[i])) {
                fprintf(stderr, "silu lane %zu of %zu: %a, scalar %a\n", i, n, (double)g[i], (double)want[i]);
                failures++;
            }
    }
    return failures;
}

/* Linears over one input through qp_linears_forward_scratch (which reuses a packed LHS where the
 * packing would be the same) against one qp_linear_forward_scratch each: the same bits. The
 * group mixes tiles whose LHS packings differ where the CPU has i8mm (kr 8 packed for the dotprod
 * GEMV, mr 1; kr 16 for the i8mm GEMM, mr 4: a reuse across them is wrong, and fails here under
 * qemu -cpu max) with repeats of a tile (reused). */
static int shared_lhs_check(void) {
    int failures = 0;
    for (int iter = 0; iter < 20; iter++) {
        const size_t bl = 32 * (1 + next_u32() % 2), m = 1 + next_u32() % 9, k = bl * (1 + next_u32() % 4);
        qp_linear l[4];
        const qp_linear *group[4];
        float *shared[4], *single[4];
        size_t scratch_size = 0;
        for (int j = 0; j < 4; j++) {
            const size_t n = 1 + next_u32() % 20, L = j == 1 ? 4 : 8, nr = j == 1 ? 8 : 4;
            memset(&l[j], 0, sizeof l[j]);
            l[j].kind = QP_WEIGHT_QSI4C32P;
            l[j].n = n, l[j].k = k, l[j].bl = bl;
            l[j].tile = (qp_matmul_tile){1, nr, 2 * L, 2};
            l[j].weights = random_qsi4c32p_panels(n, k, bl, nr);
            l[j].activation = QP_ACTIVATION_DYNAMIC;
            group[j] = &l[j];
            shared[j] = malloc(m * n * 4);
            single[j] = malloc(m * n * 4);
            const size_t z = qp_linear_scratch_size(&l[j], m);
            if (z > scratch_size) scratch_size = z;
        }
        float *x = malloc(m * k * 4);
        for (size_t i = 0; i < m * k; i++) x[i] = (float)((int)(next_u32() % 20001) - 10000) / 3000.0f;
        void *scratch = malloc(scratch_size);
        int st = qp_linears_forward_scratch(group, 4, m, x, shared, scratch, scratch_size);
        for (int j = 0; j < 4; j++) st |= qp_linear_forward_scratch(&l[j], m, x, single[j], scratch, scratch_size);
        for (int j = 0; j < 4; j++)
            if (st != QP_OK || memcmp(shared[j], single[j], m * l[j].n * 4)) {
                fprintf(stderr, "shared LHS, linear %d of 4 (m %zu k %zu bl %zu): differs from its own packing\n", j, m,
                        k, bl);
                failures++;
            }
        for (int j = 0; j < 4; j++) {
            free((void *)l[j].weights);
            free(shared[j]);
            free(single[j]);
        }
        free(x);
        free(scratch);
    }
    return failures;
}

/* The qai8dxp packer on values a static range does not hold (NaN, infinities, far outside, ties
 * at half a step) against the definition written out here: q = saturate8((int)clamp(roundf(x ·
 * scale), ±1e6) + zp) with a NaN clamped to -1e6 (fmaxf), scale = 255 / (rmax − rmin) and zp read
 * back from the packed row. Sixteen-value groups take the packer's vector path on AArch64. */
static int lhs_pack_edge_check(void) {
    int failures = 0;
    const size_t k = 64;
    static const size_t tiles[][3] = {{1, 4, 1}, {1, 8, 1}, {4, 4, 1}, {4, 8, 1}, {4, 16, 2}};
    for (size_t ti = 0; ti < 2 * sizeof tiles / sizeof tiles[0]; ti++) {
        const size_t mr = tiles[ti / 2][0], kr = tiles[ti / 2][1], sr = tiles[ti / 2][2], L = kr / sr, m = 5;
        /* a negative and a positive zero point */
        const float range_min = ti % 2 ? -1.5f : -0.75f, range_max = ti % 2 ? 0.75f : 1.5f,
                    scale = 255.0f / (range_max - range_min);
        float x[5 * 64];
        for (size_t i = 0; i < m * k; i++) {
            static const float specials[] = {NAN, INFINITY, -INFINITY, 1e20f, -1e20f, 3e9f, -3e9f, 2.5f, -2.5f};
            const size_t s = next_u32() % 16;
            x[i] = s < 9    ? specials[s]
                   : s < 12 ? (float)((int)(next_u32() % 61) - 30) * 0.5f / scale /* ties at half a step */
                            : (float)((int)(next_u32() % 20001) - 10000) / 3000.0f;
        }
        unsigned char *lhs = calloc(1, qp_lhs_packed_size_qai8dxp(m, k, mr));
        qp_lhs_quant_pack_qai8dxp_f32_range(m, k, mr, kr, sr, x, 4 * k, lhs, range_min, range_max);
        for (size_t r = 0; r < m; r++) {
            const unsigned char *panel = lhs + r / mr * mr * (k + 8);
            int32_t neg_zp;
            memcpy(&neg_zp, panel + mr * k + 4 * (r % mr), 4);
            for (size_t c = 0; c < k; c++) {
                const float v = fminf(fmaxf(roundf(x[r * k + c] * scale), -1e6f), 1e6f);
                const int32_t iv = (int32_t)v - neg_zp;
                const int8_t want = (int8_t)(iv < -128 ? -128 : iv > 127 ? 127 : iv);
                const int8_t got = (int8_t)panel[(c / L * mr + r % mr) * L + c % L];
                if (got != want) {
                    fprintf(stderr, "qai8dxp packer, mr %zu kr %zu sr %zu, row %zu value %zu (%g): %d, want %d\n", mr,
                            kr, sr, r, c, (double)x[r * k + c], got, want);
                    failures++;
                }
            }
        }
        free(lhs);
    }
    return failures;
}

/* K = 0 (no blocks): every variant's loops must not run at all (assembly loops count down from
 * their block count) and give the scalar's outputs: the bias, clamped. */
static int zero_k_check(void) {
    int failures = 0;
    static const qp_matmul_tile tiles[] = {{1, 4, 4, 1}, {4, 4, 8, 1}, {1, 4, 8, 2}, {4, 8, 16, 2}, {1, 8, 16, 2}};
    for (size_t ti = 0; ti < sizeof tiles / sizeof tiles[0]; ti++)
        for (size_t m = 1; m <= 9; m += 4) {
            const qp_matmul_tile t = tiles[ti];
            const int int8 = t.sr == 1;
            const size_t n = 9, panels = (n + t.nr - 1) / t.nr;
            unsigned char *rhs = calloc(panels, 12 * t.nr);
            for (size_t g = 0; g < panels; g++)
                for (size_t r = 0; r < t.nr; r++) {
                    const float bias = (float)g - (float)r / 4.0f;
                    memcpy(rhs + g * 12 * t.nr + 8 * t.nr + 4 * r, &bias, 4);
                }
            unsigned char *lhs = calloc(1, qp_lhs_packed_size_qai8dxp(m, 0, t.mr) + 1);
            float x = 0.0f, a[9 * 9], b[9 * 9];
            qp_lhs_quant_pack_qai8dxp_f32(m, 0, t.mr, t.kr, t.sr, &x, 0, lhs);
            if (int8) {
                qp_matmul_f32_qai8dxp_qsi8cxp_scalar(m, n, 0, t, lhs, rhs, a, 4 * n, -2.0f, 1.5f);
                qp_matmul_f32_qai8dxp_qsi8cxp(m, n, 0, t, lhs, rhs, b, 4 * n, -2.0f, 1.5f);
            } else {
                qp_matmul_f32_qai8dxp_qsi4cxp_scalar(m, n, 0, t, lhs, rhs, a, 4 * n, -2.0f, 1.5f);
                qp_matmul_f32_qai8dxp_qsi4cxp(m, n, 0, t, lhs, rhs, b, 4 * n, -2.0f, 1.5f);
            }
            if (memcmp(a, b, m * n * 4)) {
                fprintf(stderr, "K = 0, %s tile %zu (m %zu): variants differ\n", int8 ? "qsi8cxp" : "qsi4cxp", ti, m);
                failures++;
            }
            free(rhs);
            free(lhs);
        }
    return failures;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s CASES_FILE ORACLE_DIR\n", argv[0]);
        return 64;
    }
    FILE *cases = fopen(argv[1], "r");
    if (!cases) {
        perror(argv[1]);
        return 2;
    }
    static const char *names[] = {"auto", "scalar", "neon_dotprod", "neon_i8mm"};
    printf("variant: %s (dotprod %s, i8mm %s)\n", names[qp_selected_variant()], qp_cpu_has_dotprod() ? "yes" : "no",
           qp_cpu_has_i8mm() ? "yes" : "no");
    char family[32], lhsn[512], rhsn[512], outn[512], xn[512];
    size_t m, n, k, bl, mr, nr, kr, sr;
    unsigned long lo_bits, hi_bits;
    int total = 0, failures = 0;
    while (fscanf(cases, "%31s %zu %zu %zu %zu %zu %zu %zu %zu %lx %lx %511s %511s %511s %511s", family, &m, &n, &k,
                  &bl, &mr, &nr, &kr, &sr, &lo_bits, &hi_bits, lhsn, rhsn, outn, xn) == 15) {
        size_t ls, rs, os, xs;
        unsigned char *oracle_lhs = read_file(argv[2], lhsn, &ls), *rhs = read_file(argv[2], rhsn, &rs),
                      *want = read_file(argv[2], outn, &os);
        float *x = (float *)read_file(argv[2], xn, &xs);
        qp_matmul_tile t = {mr, nr, kr, sr};
        unsigned char *lhs = calloc(1, qp_lhs_packed_size_qai8dxp(m, k, mr));
        qp_lhs_quant_pack_qai8dxp_f32(m, k, mr, kr, sr, x, 4 * k, lhs);
        if (ls != qp_lhs_packed_size_qai8dxp(m, k, mr) || memcmp(lhs, oracle_lhs, ls)) {
            fprintf(stderr, "case %s: LHS packing differs from KleidiAI\n", outn);
            failures++;
        }
        free(oracle_lhs);
        free(x);
        float *dst = malloc(os);
        /* 0 dispatch, 1 scalar, 2 dispatch with the x86 extensions off (the NEON source through
         * SIMDe; the same as 0 elsewhere). */
        for (int path = 0; path < 3; path++) {
            memset(dst, 0xFF, os);
            qp_use_x86_extensions(path != 2);
            run(family, m, n, k, bl, t, lhs, rhs, dst, from_bits(lo_bits), from_bits(hi_bits), path == 1);
            qp_use_x86_extensions(1);
            if (memcmp(dst, want, os)) {
                fprintf(stderr, "case %s %s (m %zu n %zu k %zu, %s): output differs from KleidiAI\n", family, outn, m,
                        n, k,
                        path == 1   ? "scalar"
                        : path == 2 ? "dispatched, NEON source"
                                    : "dispatched");
                failures++;
            }
        }
        total++;
        free(lhs);
        free(rhs);
        free(want);
        free(dst);
    }
    fclose(cases);
    int random_failures = random_cross_check() + random_cross_check_cx() + random_linear_check() + activation_check() +
                          shared_lhs_check() + lhs_pack_edge_check() + zero_k_check();
    qp_use_x86_extensions(0); /* the same checks through the NEON source (AVX2 only) on x86 */
    random_failures += random_cross_check() + random_cross_check_cx() + activation_check();
    qp_use_x86_extensions(1);
    qp_force_variant(QP_VARIANT_NEON_I8MM); /* x86 dispatches to dotprod; cover the i8mm source too */
    random_failures += random_cross_check() + random_cross_check_cx();
    qp_force_variant(QP_VARIANT_AUTO);
    printf("%d KleidiAI matmul cases, %d failures; 1300 random scalar-vs-variant checks (matmuls with M 1-19, N not a "
           "multiple of nr, K tails: dispatched, with the x86 extras off, and forced i8mm; f32/f16 linears; SiLU; "
           "shared LHS), %d "
           "failures\n",
           total, failures, random_failures);
    return (failures || random_failures || total == 0) ? 1 : 0;
}
