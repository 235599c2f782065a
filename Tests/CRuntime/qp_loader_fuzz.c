/* libFuzzer target for the .qpack loader: open any bytes, read every section. Built with the
 * Swift toolchain's clang (-fsanitize=fuzzer,address,undefined) by scripts/test-runtime.sh and
 * run for a short time on the seed corpus Fixtures/qpack/. */
#include "qp_container.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    memcpy(copy, data, size);
    qp_container *c = NULL;
    if (qp_container_open_memory(copy, size, &c, NULL, 0) == QP_OK) {
        for (size_t i = 0; i < qp_container_tensor_count(c); i++) {
            qp_tensor_info t;
            const uint8_t *d;
            size_t n;
            if (qp_container_tensor(c, i, &t) == QP_OK) (void)qp_container_section(c, t.section, &d, &n, NULL, 0);
        }
        qp_container_close(c);
    }
    free(copy);
    return 0;
}
