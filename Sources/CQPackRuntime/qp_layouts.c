/* The layout registry rows: sizes and tile constraints per family (Formats/qpack-container.md §5). */
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
    (void)bl;
    (void)nr;
    (void)sr;
    return k % 32 == 0 && 32 % kr == 0;
}
static uint64_t qsi4c32pscalef16_size(uint64_t n, uint64_t k, uint64_t bl, uint64_t nr, uint64_t kr, uint64_t sr) {
    (void)bl;
    (void)kr;
    (void)sr;
    return panels(n, nr) * nr * (k / 32) * 18;
}

static const qp_layout_traits layouts[] = {
    {"qsi4c32p", "qsi4c32", 1, QP_WEIGHT_QSI4C32P, 1, qsi4c32p_tile, qsi4c32p_size},
    {"qsi4cxp", "qsi4cx", 0, QP_WEIGHT_QSI4CXP, 0, qsi4cxp_tile, qsi4cxp_size},
    {"qsi8cxp", "qsi8cx", 0, QP_WEIGHT_QSI8CXP, 0, qsi8cxp_tile, qsi8cxp_size},
    /* GGUF Q4_0 repacked losslessly; the runtime has no kernels for it yet. */
    {"qsi4c32pscalef16", "q4_0-repack", 0, QP_WEIGHT_QSI4C32PSCALEF16, 1, qsi4c32pscalef16_tile, qsi4c32pscalef16_size},
};

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
    return l->scheme_is_prefix ? !strncmp(scheme, l->scheme, strlen(l->scheme)) : !strcmp(scheme, l->scheme);
}

int qp_layout_weight_kind(const char *layout_id, qp_weight_kind *kind) {
    const qp_layout_traits *l = qp_layout_by_id(layout_id);
    if (!l || !kind) return 0;
    *kind = l->kind;
    return 1;
}
