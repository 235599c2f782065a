#ifndef QP_LAYOUTS_H
#define QP_LAYOUTS_H

/* The runtime's registry of packed-weight layout families (the C half of QPackPacking's
 * LayoutFamily rows): what the loader checks and sizes, the LHS packer the family's kernels read,
 * and its micro-kernel variants with the tiles each runs. Dispatch (qp_dispatch.c) chooses among
 * the variants; adding a family adds one row to qp_layouts.c. */

#include "qp_model.h"

#include <stdint.h>

typedef void (*qp_matmul_fn)(size_t m, size_t n, size_t k, size_t bl, qp_matmul_tile t, const void *lhs,
                             const void *rhs, float *dst, size_t dst_stride_row, float clamp_min, float clamp_max);

/* One micro-kernel variant: the LHS mr it reads (0: any), the CPU feature it needs, and the
 * tiles and shapes it runs; in the family's row in order of preference. */
typedef struct qp_matmul_variant_row {
    const char *name;
    qp_variant variant;
    size_t mr;
    int (*supports)(qp_matmul_tile t, size_t k, size_t bl);
    qp_matmul_fn run;
} qp_matmul_variant_row;

typedef struct qp_layout_traits {
    const char *id; /* KleidiAI layout id, as the manifest's layout.id */
    /* The manifest schemes it holds; an entry ending in '*' holds every scheme starting so
     * (qsi4c32*: qsi4c32, qsi4c32b64...). NULL-terminated. */
    const char *schemes[4];
    qp_weight_kind kind;
    int grouped; /* has a block length bl */
    /* 1 when a tile read from a file is one this family's packers write (bounds already checked). */
    int (*tile_ok)(uint64_t k, uint64_t bl, uint64_t nr, uint64_t kr, uint64_t sr);
    uint64_t (*packed_size)(uint64_t n, uint64_t k, uint64_t bl, uint64_t nr, uint64_t kr, uint64_t sr);
    /* The activation (LHS) packer the kernels read: size, dynamic packing, and packing with one
     * static range (NULL: the family has no static activations). */
    size_t (*lhs_packed_size)(size_t m, size_t k, size_t bl, size_t mr, size_t kr, size_t sr);
    void (*lhs_pack)(size_t m, size_t k, size_t bl, size_t mr, size_t kr, size_t sr, const float *x,
                     size_t stride_bytes, void *packed);
    void (*lhs_pack_range)(size_t m, size_t k, size_t bl, size_t mr, size_t kr, size_t sr, const float *x,
                           size_t stride_bytes, void *packed, float range_min, float range_max);
    const qp_matmul_variant_row *variants; /* none for a layout the runtime only loads */
    size_t variant_count;
} qp_layout_traits;

/* Every row, for dispatch's iteration. */
size_t qp_layout_count(void);
const qp_layout_traits *qp_layout_at(size_t index);

const qp_layout_traits *qp_layout_by_id(const char *id);
const qp_layout_traits *qp_layout_by_kind(qp_weight_kind kind);
/* 1 when `scheme` is one of the family's scheme names. */
int qp_layout_holds_scheme(const qp_layout_traits *layout, const char *scheme);

#endif
