/* Loads a .qpack file and runs one packed linear layer with qpack's C runtime.
 *
 *   cc linear.c $(pkg-config --cflags --libs qpack-runtime) -o linear
 *   ./linear model.qpack TENSOR_NAME
 *
 * The tensor must use the qsi4c32 scheme (int4 blocks with bf16 scales, layout qsi4c32p). The
 * input row is x[k] = sin(k); the program prints the first outputs y = W x. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qp_container.h"
#include "qp_runtime.h"

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s FILE.qpack TENSOR\n", argv[0]);
        return 64;
    }
    char message[512];
    qp_container *model = NULL;
    qp_status s = qp_container_open(argv[1], &model, message, sizeof message);
    if (s != QP_OK) {
        fprintf(stderr, "%s (%s)\n", message, qp_status_string(s));
        return 65;
    }
    qp_tensor_info t;
    if (qp_container_find_tensor(model, argv[2], &t) != QP_OK || !t.layout || strcmp(t.layout, "qsi4c32p")) {
        fprintf(stderr, "%s: no qsi4c32p tensor named '%s'\n", argv[1], argv[2]);
        qp_container_close(model);
        return 65;
    }
    const uint8_t *packed;
    size_t packed_size;
    if ((s = qp_container_section(model, t.section, &packed, &packed_size, message, sizeof message)) != QP_OK) {
        fprintf(stderr, "%s\n", message);
        qp_container_close(model);
        return 65;
    }
    /* One activation row (m = 1: the GEMV case), quantized and packed with the kernel's tile. */
    const size_t m = 1, n = t.rows, k = t.columns;
    const qp_matmul_tile tile = {1, t.nr, t.kr, t.sr};
    float *x = malloc(k * sizeof *x), *y = malloc(n * sizeof *y);
    void *lhs = calloc(1, qp_lhs_packed_size_qai8dxp(m, k, tile.mr));
    for (size_t i = 0; i < k; i++) x[i] = sinf((float)i);
    qp_lhs_quant_pack_qai8dxp_f32(m, k, tile.mr, tile.kr, tile.sr, x, k * sizeof *x, lhs);
    qp_matmul_f32_qai8dxp_qsi4c32p(m, n, k, t.bl, tile, lhs, packed, y, n * sizeof *y, -INFINITY, INFINITY);
    static const char *variants[] = {"auto", "scalar", "neon_dotprod", "neon_i8mm"};
    printf("%s: %zu x %zu, %s, variant %s\n", t.name, n, k, t.scheme, variants[qp_selected_variant()]);
    for (size_t i = 0; i < n && i < 4; i++) printf("y[%zu] = %.6f\n", i, y[i]);
    free(x);
    free(y);
    free(lhs);
    qp_container_close(model);
    return 0;
}
