/* Loads a .qpack file and runs one linear layer with qpack's C runtime, whatever its layout.
 *
 *   cc linear.c $(pkg-config --cflags --libs qpack-runtime) -o linear
 *   ./linear model.qpack TENSOR_NAME
 *
 * The tensor may be f32 or f16, or packed in any layout the runtime has kernels for (qsi4c32p,
 * qsi4cxp, qsi8cxp, qsi4c32pscalef16, qai4c32p): qp_linear_forward quantizes the input with the
 * layout's activation packer and dispatch picks the micro-kernel. The input row is
 * x[k] = sin(k); the program prints the first outputs y = W x. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qp_model.h"

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s FILE.qpack TENSOR\n", argv[0]);
        return 64;
    }
    char message[512];
    qp_container *file = NULL;
    qp_status s = qp_container_open(argv[1], &file, message, sizeof message);
    if (s != QP_OK) {
        fprintf(stderr, "%s (%s)\n", message, qp_status_string(s));
        return 65;
    }
    qp_tensor_info t;
    qp_linear l = {0};
    if (qp_container_find_tensor(file, argv[2], &t) != QP_OK || t.rows == 0) {
        fprintf(stderr, "%s: no matrix named '%s'\n", argv[1], argv[2]);
        qp_container_close(file);
        return 65;
    }
    if (!strcmp(t.scheme, "f32") || !strcmp(t.scheme, "f16")) {
        l.kind = strcmp(t.scheme, "f32") ? QP_WEIGHT_F16 : QP_WEIGHT_F32;
    } else if (!t.layout || !qp_layout_weight_kind(t.layout, &l.kind)) {
        fprintf(stderr, "%s: tensor '%s' (%s) is in no layout this runtime runs\n", argv[1], argv[2], t.scheme);
        qp_container_close(file);
        return 65;
    }
    const uint8_t *weights;
    size_t length;
    if ((s = qp_container_section(file, t.section, &weights, &length, message, sizeof message)) != QP_OK) {
        fprintf(stderr, "%s\n", message);
        qp_container_close(file);
        return 65;
    }
    l.n = t.rows;
    l.k = t.columns;
    l.bl = t.bl;
    l.tile = (qp_matmul_tile){0, t.nr, t.kr, t.sr};
    l.weights = weights;
    l.activation = t.activation_static ? QP_ACTIVATION_STATIC : QP_ACTIVATION_DYNAMIC;
    l.activation_min = t.activation_min;
    l.activation_max = t.activation_max;
    float *x = malloc(l.k * sizeof *x), *y = malloc(l.n * sizeof *y);
    for (size_t i = 0; i < l.k; i++) x[i] = sinf((float)i);
    s = qp_linear_forward(&l, 1, x, y); /* one row: the GEMV case */
    static const char *variants[] = {"auto", "scalar", "neon_dotprod", "neon_i8mm"};
    if (s == QP_OK) {
        printf("%s: %zu x %zu, %s (%s), variant %s\n", t.name, l.n, l.k, t.scheme, t.layout ? t.layout : "float",
               variants[qp_selected_variant()]);
        for (size_t i = 0; i < l.n && i < 4; i++) printf("y[%zu] = %.6f\n", i, y[i]);
    } else {
        fprintf(stderr, "%s: %s\n", t.name, qp_status_string(s));
    }
    free(x);
    free(y);
    qp_container_close(file);
    return s == QP_OK ? 0 : 1;
}
