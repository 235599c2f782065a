#ifndef QP_LAYOUTS_H
#define QP_LAYOUTS_H

/* The runtime's registry of packed-weight layout families (the C half of QPackPacking's
 * LayoutFamily rows): what the loader checks and sizes, and what dispatch looks kernels up by.
 * Adding a family adds a row here (qp_layouts.c) and its kernels' rows in qp_dispatch.c. */

#include "qp_model.h"

#include <stdint.h>

typedef struct qp_layout_traits {
    const char *id; /* KleidiAI layout id, as the manifest's layout.id */
    const char *scheme; /* the manifest scheme it holds ... */
    int scheme_is_prefix; /* ... or, when 1, every scheme starting so (qsi4c32, qsi4c32b64...) */
    qp_weight_kind kind;
    int grouped; /* has a block length bl */
    /* 1 when a tile read from a file is one this family's packers write (bounds already checked). */
    int (*tile_ok)(uint64_t k, uint64_t bl, uint64_t nr, uint64_t kr, uint64_t sr);
    uint64_t (*packed_size)(uint64_t n, uint64_t k, uint64_t bl, uint64_t nr, uint64_t kr, uint64_t sr);
} qp_layout_traits;

const qp_layout_traits *qp_layout_by_id(const char *id);
const qp_layout_traits *qp_layout_by_kind(qp_weight_kind kind);
/* 1 when `scheme` is one of the family's scheme names. */
int qp_layout_holds_scheme(const qp_layout_traits *layout, const char *scheme);

#endif
