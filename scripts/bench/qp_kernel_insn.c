#define _POSIX_C_SOURCE 200809L
/* One LHS pack and one matmul of a runtime layout family on random data, for instruction counts
 * under qemu (scripts/bench/kernel-insncount.sh; not a test).
 *   qp_kernel_insn LAYOUT NR KR SR BL M N K STAGE
 * STAGE 0 stops after the setup, 1 after packing the LHS, 2 after the matmul: the differences
 * between the three runs' counts are the packer's and the kernel's own. Prints the variant
 * dispatch chose to stderr. Random bytes make a valid packed RHS for counting: the kernels'
 * instruction paths do not depend on the values. */
#include "qp_layouts.h"
#include "qp_runtime.h"

#include <stdio.h>
#include <stdlib.h>

static unsigned long long rng = 0x9E3779B97F4A7C15ULL;
static unsigned next_u32(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng >> 11);
}

int main(int argc, char **argv) {
    if (argc != 10) {
        fprintf(stderr, "usage: qp_kernel_insn LAYOUT NR KR SR BL M N K STAGE\n");
        return 64;
    }
    const qp_layout_traits *layout = qp_layout_by_id(argv[1]);
    const size_t nr = (size_t)atol(argv[2]), kr = (size_t)atol(argv[3]), sr = (size_t)atol(argv[4]);
    const size_t bl = (size_t)atol(argv[5]), m = (size_t)atol(argv[6]), n = (size_t)atol(argv[7]);
    const size_t k = (size_t)atol(argv[8]);
    const int stage = atoi(argv[9]);
    if (!layout) {
        fprintf(stderr, "unknown layout %s\n", argv[1]);
        return 64;
    }
    const qp_matmul_tile tile = {0, nr, kr, sr};
    qp_matmul_choice choice;
    if (!qp_matmul_choose(argv[1], tile, m, k, bl, 0, &choice)) {
        fprintf(stderr, "no variant runs %s (%zu, %zu, %zu) bl %zu\n", argv[1], nr, kr, sr, bl);
        return 65;
    }
    const size_t rhs_bytes = (size_t)layout->packed_size(n, k, bl, nr, kr, sr);
    const size_t lhs_bytes = layout->lhs_packed_size(m, k, bl, choice.mr, kr, sr);
    unsigned char *rhs = malloc(rhs_bytes), *lhs = calloc(1, lhs_bytes);
    float *x = malloc(m * k * sizeof(float)), *y = malloc(m * n * sizeof(float));
    if (!rhs || !lhs || !x || !y) return 70;
    for (size_t i = 0; i < rhs_bytes; i++) rhs[i] = (unsigned char)next_u32();
    /* Finite scales and offsets where the packed bytes hold floats: random small exponents. */
    for (size_t i = 3; i < rhs_bytes; i += 4) rhs[i] = (unsigned char)(0x38 + next_u32() % 8);
    for (size_t i = 0; i < m * k; i++) x[i] = (float)((int)(next_u32() % 2001) - 1000) / 997.0f;
    fprintf(stderr, "%s\n", choice.name);
    if (stage >= 1) layout->lhs_pack(m, k, bl, choice.mr, kr, sr, x, k * sizeof(float), lhs);
    if (stage >= 2) qp_matmul_run(argv[1], &choice, m, n, k, bl, tile, lhs, rhs, y, n * sizeof(float), -1e30f, 1e30f);
    printf("%g\n", (double)y[0] * 0); /* keep the result live */
    return 0;
}
