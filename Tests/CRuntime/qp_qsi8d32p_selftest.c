/* Self-test of the qsi8d32p families against KleidiAI's golden vectors, built natively and for
 * AArch64 (qemu -cpu max and -cpu cortex-a53) by scripts/test-runtime.sh.
 *
 *   qp_qsi8d32p_selftest CASES_FILE ORACLE_DIR
 *
 * CASES_FILE (written by the script from the oracle's index.json), one case per line:
 *   lhs PACKER m k bl mr kr sr lhs_f32 output
 *   mm FAMILY PACKER m n k bl mr nr kr sr clamp_min_bits clamp_max_bits lhs_f32 lhs_packed rhs_packed output
 * PACKER: portable, 4x8sb or scalef32; FAMILY: qsi4c32p or qai4c32p. LHS packing must give
 * KleidiAI's bytes; every matmul must give KleidiAI's output bits through the scalar reference,
 * the dispatched kernel, each NEON variant that runs the tile on this CPU, and the NEON source
 * with the x86 extensions off. Random shapes: scalar and every variant agree. Exit 0 on success. */
#include "qp_runtime.h"

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
    const long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "short read %s\n", path);
        exit(2);
    }
    fclose(f);
    *size = (size_t)n;
    return b;
}

static float from_bits(unsigned long b) {
    const unsigned int u = (unsigned int)b;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

typedef void (*pack_fn)(size_t, size_t, size_t, size_t, size_t, size_t, const float *, size_t, void *);
typedef void (*matmul_fn)(size_t, size_t, size_t, size_t, qp_matmul_tile, const void *, const void *, float *, size_t,
                          float, float);

static pack_fn packer(const char *name) {
    if (!strcmp(name, "portable")) return qp_lhs_quant_pack_qsi8d32p_f32;
    if (!strcmp(name, "4x8sb")) return qp_lhs_quant_pack_qsi8d32p4x8sb_f32;
    return qp_lhs_quant_pack_qsi8d32pscalef32_f32;
}

static size_t packed_size(const char *name, size_t m, size_t k, size_t bl, size_t mr, size_t kr, size_t sr) {
    return strcmp(name, "scalef32") ? qp_lhs_packed_size_qsi8d32p(m, k, bl, mr, kr, sr)
                                    : qp_lhs_packed_size_qsi8d32pscalef32(m, k, bl, mr, kr, sr);
}

typedef struct {
    const char *name;
    matmul_fn fn;
    qp_variant variant; /* the CPU feature it needs, for qp_matmul_variant_runs */
} path;

/* The scalar reference, the dispatched entry and the NEON variants of a family. */
static size_t paths(const char *family, path out[4]) {
    const int a = !strcmp(family, "qsi4c32p");
    out[0] = (path){"scalar", a ? qp_matmul_f32_qsi8d32p_qsi4c32p_scalar : qp_matmul_f32_qsi8d32p_qai4c32p_scalar,
                    QP_VARIANT_SCALAR};
    out[1] =
        (path){"dispatched", a ? qp_matmul_f32_qsi8d32p_qsi4c32p : qp_matmul_f32_qsi8d32p_qai4c32p, QP_VARIANT_AUTO};
    out[2] = (path){"neon_dotprod",
                    a ? qp_matmul_f32_qsi8d32p_qsi4c32p_neon_dotprod : qp_matmul_f32_qsi8d32p_qai4c32p_neon_dotprod,
                    QP_VARIANT_NEON_DOTPROD};
    out[3] =
        (path){"neon_i8mm", a ? qp_matmul_f32_qsi8d32p_qsi4c32p_neon_i8mm : qp_matmul_f32_qsi8d32p_qai4c32p_neon_i8mm,
               QP_VARIANT_NEON_I8MM};
    return 4;
}

static const char *layout_of(const char *family) {
    return strcmp(family, "qsi4c32p") ? "qai4c32p" : "qsi4c32pscalef16";
}

/* 1 when this path can run the tile on this CPU (a variant never runs what it does not declare). */
static int runs(const char *family, path p, qp_matmul_tile t, size_t k, size_t bl) {
    if (p.variant == QP_VARIANT_AUTO || p.variant == QP_VARIANT_SCALAR) return 1;
    if (p.variant == QP_VARIANT_NEON_DOTPROD && !qp_cpu_has_dotprod()) return 0;
    if (p.variant == QP_VARIANT_NEON_I8MM && !qp_cpu_has_i8mm()) return 0;
    return qp_matmul_variant_runs(layout_of(family), p.variant, t, k, bl);
}

static unsigned long long rng = 0x9E3779B97F4A7C15ULL;
static unsigned int next_u32(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned int)(rng >> 11);
}

/* Random RHS panels (finite scales), a random LHS packed by the family's packer: every path
 * that runs the tile agrees with the scalar reference bit for bit. */
static int random_cross_check(int *count) {
    int failures = 0;
    for (int iter = 0; iter < 240; iter++) {
        const char *family = iter % 2 ? "qai4c32p" : "qsi4c32p";
        const int asym = iter % 2;
        const size_t L = (iter / 2) % 2 ? 8 : 4, bl = (iter / 4) % 2 ? 64 : 32, nr = (iter / 8) % 3 == 2 ? 8 : 4;
        const size_t mr = (iter / 24) % 2 ? 4 : 1;
        const size_t m = 1 + next_u32() % 19, n = 1 + next_u32() % 23, k = bl * (1 + next_u32() % 5);
        const qp_matmul_tile t = {mr, nr, 2 * L, 2};
        const size_t blocks = k / bl, record = asym ? nr * (bl / 2 + 8) : nr * (bl / 2 + 2);
        const size_t stride = blocks * record + (asym ? 4 * nr : 0), groups = (n + nr - 1) / nr;
        unsigned char *rhs = malloc(groups * stride);
        for (size_t i = 0; i < groups * stride; i++) rhs[i] = (unsigned char)next_u32();
        for (size_t g = 0; g < groups; g++)
            for (size_t b = 0; b < blocks; b++) {
                unsigned char *rec = rhs + g * stride + b * record;
                for (size_t r = 0; r < nr; r++) {
                    if (asym) {
                        float *meta = (float *)(rec + nr * bl / 2);
                        meta[r] = (float)((int)(next_u32() % 2001) - 1000) / 4096.0f;
                        meta[nr + r] = (float)(1 + next_u32() % 1000) / 65536.0f;
                    } else {
                        rec[2 * r + 1] = (unsigned char)(0x18 + next_u32() % 8); /* f16 around 2^-9 */
                    }
                }
            }
        for (size_t g = 0; asym && g < groups; g++) {
            float *bias = (float *)(rhs + g * stride + blocks * record);
            for (size_t r = 0; r < nr; r++) bias[r] = (float)((int)(next_u32() % 2001) - 1000) / 64.0f;
        }
        float *x = malloc(m * k * sizeof(float));
        for (size_t i = 0; i < m * k; i++) x[i] = (float)((int)(next_u32() % 20001) - 10000) / 3000.0f;
        const char *pk = asym ? "scalef32" : (iter / 3) % 2 ? "4x8sb" : "portable";
        unsigned char *lhs = calloc(1, packed_size(pk, m, k, bl, mr, 2 * L, 2));
        packer(pk)(m, k, bl, mr, 2 * L, 2, x, 4 * k, lhs);
        float *want = malloc(m * n * 4), *got = malloc(m * n * 4);
        path p[4];
        paths(family, p);
        p[0].fn(m, n, k, bl, t, lhs, rhs, want, 4 * n, -1e30f, 1e30f);
        for (size_t i = 1; i < 4; i++) {
            if (!runs(family, p[i], t, k, bl)) continue;
            memset(got, 0xFF, m * n * 4);
            p[i].fn(m, n, k, bl, t, lhs, rhs, got, 4 * n, -1e30f, 1e30f);
            (*count)++;
            if (memcmp(want, got, m * n * 4)) {
                fprintf(stderr, "random %s m %zu n %zu k %zu bl %zu mr %zu nr %zu L %zu: %s differs from scalar\n",
                        family, m, n, k, bl, mr, nr, L, p[i].name);
                failures++;
            }
        }
        free(rhs);
        free(x);
        free(lhs);
        free(want);
        free(got);
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
    printf("dotprod %s, i8mm %s\n", qp_cpu_has_dotprod() ? "yes" : "no", qp_cpu_has_i8mm() ? "yes" : "no");
    int lhs_cases = 0, mm_cases = 0, runs_done = 0, failures = 0;
    char kind[8];
    while (fscanf(cases, "%7s", kind) == 1) {
        char pk[16], family[16], xn[512], outn[512], lhsn[512], rhsn[512];
        size_t m, n = 0, k, bl, mr, nr = 0, kr, sr, xs, os;
        unsigned long lo_bits = 0, hi_bits = 0;
        if (!strcmp(kind, "lhs")) {
            if (fscanf(cases, "%15s %zu %zu %zu %zu %zu %zu %511s %511s", pk, &m, &k, &bl, &mr, &kr, &sr, xn, outn) !=
                9)
                return 2;
        } else if (fscanf(cases, "%15s %15s %zu %zu %zu %zu %zu %zu %zu %zu %lx %lx %511s %511s %511s %511s", family,
                          pk, &m, &n, &k, &bl, &mr, &nr, &kr, &sr, &lo_bits, &hi_bits, xn, lhsn, rhsn, outn) != 16) {
            return 2;
        }
        float *x = (float *)read_file(argv[2], xn, &xs);
        const size_t size = packed_size(pk, m, k, bl, mr, kr, sr);
        unsigned char *lhs = calloc(1, size + 1);
        packer(pk)(m, k, bl, mr, kr, sr, x, 4 * k, lhs);
        free(x);
        unsigned char *want_lhs = read_file(argv[2], !strcmp(kind, "lhs") ? outn : lhsn, &os);
        /* Bytes KleidiAI's packer leaves unwritten are stored as 0; so are ours (calloc). */
        if (os != size || memcmp(lhs, want_lhs, size)) {
            fprintf(stderr, "%s %s (m %zu k %zu bl %zu mr %zu kr %zu): LHS bytes differ from KleidiAI\n", kind, pk, m,
                    k, bl, mr, kr);
            failures++;
        }
        free(want_lhs);
        if (!strcmp(kind, "lhs")) {
            lhs_cases++;
            free(lhs);
            continue;
        }
        size_t rs;
        unsigned char *rhs = read_file(argv[2], rhsn, &rs), *want = read_file(argv[2], outn, &os);
        const qp_matmul_tile t = {mr, nr, kr, sr};
        float *dst = malloc(os);
        path p[4];
        paths(family, p);
        for (int x86 = 1; x86 >= 0; x86--) { /* then the NEON source through SIMDe (x86 only differs) */
            qp_use_x86_extensions(x86);
            for (size_t i = 0; i < 4; i++) {
                if (!runs(family, p[i], t, k, bl)) continue;
                memset(dst, 0xFF, os);
                p[i].fn(m, n, k, bl, t, lhs, rhs, dst, 4 * n, from_bits(lo_bits), from_bits(hi_bits));
                runs_done++;
                if (memcmp(dst, want, os)) {
                    fprintf(stderr, "%s %s (m %zu n %zu k %zu bl %zu, tile %zu/%zu/%zu): %s%s differs from KleidiAI\n",
                            family, outn, m, n, k, bl, mr, nr, kr, p[i].name, x86 ? "" : " (x86 extensions off)");
                    failures++;
                }
            }
        }
        qp_use_x86_extensions(1);
        mm_cases++;
        free(lhs);
        free(rhs);
        free(want);
        free(dst);
    }
    fclose(cases);
    int random_runs = 0;
    int random_failures = random_cross_check(&random_runs);
    qp_use_x86_extensions(0); /* again through the NEON source (x86 only differs) */
    random_failures += random_cross_check(&random_runs);
    qp_use_x86_extensions(1);
    printf("qsi8d32p: %d LHS packer cases, %d matmul cases (%d kernel runs), %d failures; %d random "
           "variant-vs-scalar runs (M 1-19, N not a multiple of nr, bl 32 and 64, x86 extensions on and off), "
           "%d failures\n",
           lhs_cases, mm_cases, runs_done, failures, random_runs, random_failures);
    return (failures || random_failures || mm_cases == 0) ? 1 : 0;
}
