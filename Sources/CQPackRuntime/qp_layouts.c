/* The layout registry rows: per family its sizes and tile constraints (Formats/qpack-container.md §5), its
 * LHS packer and its micro-kernel variants with what each runs. */
#include "qp_layouts.h"

#include <string.h>

static uint64_t panels(uint64_t n, uint64_t nr) { return (n + nr - 1) / nr; }
static uint64_t kp32(uint64_t k) { return (k + 31) / 32 * 32; }

static int qsi4c32p_tile(uint64_t k, uint64_t bl, uint64_t nr, uint64_t kr, uint64_t sr) {
    return bl != 0 && bl % 32 == 0 && k % bl == 0 && bl % kr == 0 && 16 % (kr / sr) == 0 && nr % 4 == 0;
}
static uint64_t qsi4c32p_size(uint64_t n, uint64_t k, uint64_t bl, uint64_t nr, uint64_t kr, uint64_t sr) {
    (void)kr;
    (void)sr;
    return panels(n, nr) * nr * ((k / bl) * (bl / 2 + 2) + 8);
}

static int qsi4cxp_tile(uint64_t k, uint64_t bl, uint64_t nr, uint64_t kr, uint64_t sr) {
    (void)k;
    (void)bl;
    (void)nr;
    return 16 % (kr / sr) == 0;
}
static uint64_t qsi4cxp_size(uint64_t n, uint64_t k, uint64_t bl, uint64_t nr, uint64_t kr, uint64_t sr) {
    (void)bl;
    (void)kr;
    (void)sr;
    return panels(n, nr) * nr * (kp32(k) / 2 + 12);
}

static int qsi8cxp_tile(uint64_t k, uint64_t bl, uint64_t nr, uint64_t kr, uint64_t sr) {
    (void)bl;
    (void)nr;
    return sr == 1 && kp32(k) % kr == 0;
}
static uint64_t qsi8cxp_size(uint64_t n, uint64_t k, uint64_t bl, uint64_t nr, uint64_t kr, uint64_t sr) {
    (void)bl;
    (void)kr;
    (void)sr;
    return panels(n, nr) * nr * (kp32(k) + 12);
}

static int qsi4c32pscalef16_tile(uint64_t k, uint64_t bl, uint64_t nr, uint64_t kr, uint64_t sr) {
    (void)nr;
    (void)sr;
    /* Blocks of 32 (Q4_0's), moved kr/2 bytes (pairs of nibbles) at a time. */
    return bl == 32 && k % 32 == 0 && 32 % kr == 0 && kr % 2 == 0;
}
static uint64_t qsi4c32pscalef16_size(uint64_t n, uint64_t k, uint64_t bl, uint64_t nr, uint64_t kr, uint64_t sr) {
    (void)kr;
    (void)sr;
    return panels(n, nr) * nr * (k / bl) * (bl / 2 + 2);
}

static int qai4c32p_tile(uint64_t k, uint64_t bl, uint64_t nr, uint64_t kr, uint64_t sr) {
    (void)nr;
    /* KleidiAI's packer: sr 2, kr at most 16, blocks of 32 values (the kernels' unit). */
    return bl == 32 && k % 32 == 0 && sr == 2 && kr <= 16 && 32 % kr == 0 && kr % 2 == 0;
}
static uint64_t qai4c32p_size(uint64_t n, uint64_t k, uint64_t bl, uint64_t nr, uint64_t kr, uint64_t sr) {
    (void)kr;
    (void)sr;
    return panels(n, nr) * nr * ((k / bl) * (bl / 2 + 8) + 4);
}

/* What each micro-kernel variant runs (dispatch never gives it anything else). */
static size_t depth(qp_matmul_tile t) { return t.sr ? t.kr / t.sr : 0; }
static int blocks_ok(size_t k, size_t bl) { return bl != 0 && bl % 32 == 0 && k % bl == 0; }

static int any_tile(qp_matmul_tile t, size_t k, size_t bl) {
    (void)t;
    (void)k;
    (void)bl;
    return 1;
}
static int c32_dotprod(qp_matmul_tile t, size_t k, size_t bl) {
    return (depth(t) == 4 || depth(t) == 8) && t.nr % 4 == 0 && blocks_ok(k, bl) && k <= 65536;
}
static int c32_i8mm(qp_matmul_tile t, size_t k, size_t bl) {
    return depth(t) == 8 && t.nr % 4 == 0 && t.nr <= 64 && blocks_ok(k, bl);
}
static int cx4_dotprod(qp_matmul_tile t, size_t k, size_t bl) {
    (void)bl;
    return (depth(t) == 4 || depth(t) == 8) && t.nr % 4 == 0 && kp32(k) <= 65536;
}
static int cx4_i8mm(qp_matmul_tile t, size_t k, size_t bl) {
    (void)k;
    (void)bl;
    return depth(t) == 8 && t.nr % 4 == 0 && t.nr <= 64;
}
static int cx8_dotprod(qp_matmul_tile t, size_t k, size_t bl) {
    (void)bl;
    return (t.kr == 4 || t.kr == 8) && t.sr == 1 && t.nr % 4 == 0 && kp32(k) <= 65536;
}
static int cx8_i8mm(qp_matmul_tile t, size_t k, size_t bl) {
    (void)k;
    (void)bl;
    return t.kr == 8 && t.sr == 1 && t.nr % 4 == 0 && t.nr <= 64;
}

static int d32_any(qp_matmul_tile t, size_t k, size_t bl) { return t.sr == 2 && t.kr % 2 == 0 && blocks_ok(k, bl); }
static int d32_dotprod(qp_matmul_tile t, size_t k, size_t bl) {
    return t.sr == 2 && (depth(t) == 4 || depth(t) == 8) && t.nr % 4 == 0 && blocks_ok(k, bl) && bl <= 256;
}
static int d32_i8mm(qp_matmul_tile t, size_t k, size_t bl) {
    return t.kr == 16 && t.sr == 2 && t.nr % 4 == 0 && blocks_ok(k, bl);
}

#define CX_WRAP(NAME, FN)                                                                                         \
    static void NAME(size_t m, size_t n, size_t k, size_t bl, qp_matmul_tile t, const void *lhs, const void *rhs, \
                     float *dst, size_t stride, float lo, float hi) {                                             \
        (void)bl;                                                                                                 \
        FN(m, n, k, t, lhs, rhs, dst, stride, lo, hi);                                                            \
    }
CX_WRAP(cx4_scalar_run, qp_matmul_f32_qai8dxp_qsi4cxp_scalar)
CX_WRAP(cx4_dotprod_run, qp_matmul_f32_qai8dxp_qsi4cxp_neon_dotprod)
CX_WRAP(cx4_i8mm_run, qp_matmul_f32_qai8dxp_qsi4cxp_neon_i8mm)
CX_WRAP(cx8_scalar_run, qp_matmul_f32_qai8dxp_qsi8cxp_scalar)
CX_WRAP(cx8_dotprod_run, qp_matmul_f32_qai8dxp_qsi8cxp_neon_dotprod)
CX_WRAP(cx8_i8mm_run, qp_matmul_f32_qai8dxp_qsi8cxp_neon_i8mm)

/* Variants in order of preference. */
static const qp_matmul_variant_row qsi4c32p_variants[] = {
    {"qsi4c32p neon_i8mm 4x", QP_VARIANT_NEON_I8MM, 4, c32_i8mm, qp_matmul_f32_qai8dxp_qsi4c32p_neon_i8mm},
    {"qsi4c32p neon_dotprod", QP_VARIANT_NEON_DOTPROD, 0, c32_dotprod, qp_matmul_f32_qai8dxp_qsi4c32p_neon_dotprod},
    {"qsi4c32p scalar", QP_VARIANT_SCALAR, 0, any_tile, qp_matmul_f32_qai8dxp_qsi4c32p_scalar},
};
static const qp_matmul_variant_row qsi4cxp_variants[] = {
    {"qsi4cxp neon_i8mm 4x", QP_VARIANT_NEON_I8MM, 4, cx4_i8mm, cx4_i8mm_run},
    {"qsi4cxp neon_dotprod", QP_VARIANT_NEON_DOTPROD, 0, cx4_dotprod, cx4_dotprod_run},
    {"qsi4cxp scalar", QP_VARIANT_SCALAR, 0, any_tile, cx4_scalar_run},
};
static const qp_matmul_variant_row qsi8cxp_variants[] = {
    {"qsi8cxp neon_i8mm 4x", QP_VARIANT_NEON_I8MM, 4, cx8_i8mm, cx8_i8mm_run},
    {"qsi8cxp neon_dotprod", QP_VARIANT_NEON_DOTPROD, 0, cx8_dotprod, cx8_dotprod_run},
    {"qsi8cxp scalar", QP_VARIANT_SCALAR, 0, any_tile, cx8_scalar_run},
};
static const qp_matmul_variant_row qsi4c32pscalef16_variants[] = {
    {"qsi4c32pscalef16 neon_i8mm 4x", QP_VARIANT_NEON_I8MM, 4, d32_i8mm, qp_matmul_f32_qsi8d32p_qsi4c32p_neon_i8mm},
    {"qsi4c32pscalef16 neon_dotprod", QP_VARIANT_NEON_DOTPROD, 0, d32_dotprod,
     qp_matmul_f32_qsi8d32p_qsi4c32p_neon_dotprod},
    {"qsi4c32pscalef16 scalar", QP_VARIANT_SCALAR, 0, d32_any, qp_matmul_f32_qsi8d32p_qsi4c32p_scalar},
};
static const qp_matmul_variant_row qai4c32p_variants[] = {
    {"qai4c32p neon_i8mm 4x", QP_VARIANT_NEON_I8MM, 4, d32_i8mm, qp_matmul_f32_qsi8d32p_qai4c32p_neon_i8mm},
    {"qai4c32p neon_dotprod", QP_VARIANT_NEON_DOTPROD, 0, d32_dotprod, qp_matmul_f32_qsi8d32p_qai4c32p_neon_dotprod},
    {"qai4c32p scalar", QP_VARIANT_SCALAR, 0, d32_any, qp_matmul_f32_qsi8d32p_qai4c32p_scalar},
};

/* The qai8dxp LHS (per-row asymmetric int8) in the registry's signature: bl is not used. */
static size_t qai8dxp_size(size_t m, size_t k, size_t bl, size_t mr, size_t kr, size_t sr) {
    (void)bl;
    (void)kr;
    (void)sr;
    return qp_lhs_packed_size_qai8dxp(m, k, mr);
}
static void qai8dxp_pack(size_t m, size_t k, size_t bl, size_t mr, size_t kr, size_t sr, const float *x, size_t stride,
                         void *packed) {
    (void)bl;
    qp_lhs_quant_pack_qai8dxp_f32(m, k, mr, kr, sr, x, stride, packed);
}
static void qai8dxp_pack_range(size_t m, size_t k, size_t bl, size_t mr, size_t kr, size_t sr, const float *x,
                               size_t stride, void *packed, float lo, float hi) {
    (void)bl;
    qp_lhs_quant_pack_qai8dxp_f32_range(m, k, mr, kr, sr, x, stride, packed, lo, hi);
}

#define QAI8DXP qai8dxp_size, qai8dxp_pack, qai8dxp_pack_range
/* Per-block activations: KleidiAI's portable packer (ties away from zero, as ggml's Q8_0) for
 * the f16-scale family, the f32 scale and block sum for the asymmetric one; no static ranges. */
#define QSI8D32P qp_lhs_packed_size_qsi8d32p, qp_lhs_quant_pack_qsi8d32p_f32, NULL
#define QSI8D32PSCALEF32 qp_lhs_packed_size_qsi8d32pscalef32, qp_lhs_quant_pack_qsi8d32pscalef32_f32, NULL
#define VARIANTS(A) A, sizeof A / sizeof A[0]

static const qp_layout_traits layouts[] = {
    {"qsi4c32p",
     {"qsi4c32*", NULL},
     QP_WEIGHT_QSI4C32P,
     1,
     qsi4c32p_tile,
     qsi4c32p_size,
     QAI8DXP,
     VARIANTS(qsi4c32p_variants)},
    {"qsi4cxp",
     {"qsi4cx", NULL},
     QP_WEIGHT_QSI4CXP,
     0,
     qsi4cxp_tile,
     qsi4cxp_size,
     QAI8DXP,
     VARIANTS(qsi4cxp_variants)},
    {"qsi8cxp",
     {"qsi8cx", NULL},
     QP_WEIGHT_QSI8CXP,
     0,
     qsi8cxp_tile,
     qsi8cxp_size,
     QAI8DXP,
     VARIANTS(qsi8cxp_variants)},
    {"qsi4c32pscalef16",
     {"q4_0-repack", NULL},
     QP_WEIGHT_QSI4C32PSCALEF16,
     1,
     qsi4c32pscalef16_tile,
     qsi4c32pscalef16_size,
     QSI8D32P,
     VARIANTS(qsi4c32pscalef16_variants)},
    {"qai4c32p",
     {"q4_1-repack", "qai4c32", "q4_k-repack", NULL},
     QP_WEIGHT_QAI4C32P,
     1,
     qai4c32p_tile,
     qai4c32p_size,
     QSI8D32PSCALEF32,
     VARIANTS(qai4c32p_variants)},
};

size_t qp_layout_count(void) { return sizeof layouts / sizeof layouts[0]; }
const qp_layout_traits *qp_layout_at(size_t index) { return index < qp_layout_count() ? &layouts[index] : NULL; }

const qp_layout_traits *qp_layout_by_id(const char *id) {
    for (size_t i = 0; id && i < sizeof layouts / sizeof layouts[0]; i++)
        if (!strcmp(layouts[i].id, id)) return &layouts[i];
    return NULL;
}

const qp_layout_traits *qp_layout_by_kind(qp_weight_kind kind) {
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++)
        if (layouts[i].kind == kind) return &layouts[i];
    return NULL;
}

int qp_layout_holds_scheme(const qp_layout_traits *l, const char *scheme) {
    if (!l || !scheme) return 0;
    for (size_t i = 0; i < sizeof l->schemes / sizeof l->schemes[0] && l->schemes[i]; i++) {
        const size_t length = strlen(l->schemes[i]);
        if (length && l->schemes[i][length - 1] == '*' ? !strncmp(scheme, l->schemes[i], length - 1)
                                                       : !strcmp(scheme, l->schemes[i]))
            return 1;
    }
    return 0;
}

int qp_layout_weight_kind(const char *layout_id, qp_weight_kind *kind) {
    const qp_layout_traits *l = qp_layout_by_id(layout_id);
    if (!l || !kind) return 0;
    *kind = l->kind;
    return 1;
}

int qp_layout_packed_size(const char *layout_id, const char *scheme, uint64_t n, uint64_t k, uint64_t bl, uint64_t nr,
                          uint64_t kr, uint64_t sr, uint64_t *size) {
    const qp_layout_traits *l = qp_layout_by_id(layout_id);
    if (!l || !size || !qp_layout_holds_scheme(l, scheme) || nr == 0 || kr == 0 || sr == 0 || kr % sr) return 0;
    if (!l->tile_ok(k, bl, nr, kr, sr)) return 0;
    *size = l->packed_size(n, k, bl, nr, kr, sr);
    return 1;
}
