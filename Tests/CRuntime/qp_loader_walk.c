/* Robustness walk for the .qpack loader, built with AddressSanitizer and UBSan by
 * scripts/test-runtime.sh: every truncation and every single-byte flip of a container must end
 * in a status code, or in a file whose every section reads back exactly as the original.
 *   qp_loader_walk FILE.qpack [STEP]
 * STEP > 1 tries every STEP-th position inside sections (all positions elsewhere). */
#include "qp_container.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*n);
    if (fread(b, 1, *n, f) != *n) exit(2);
    fclose(f);
    return b;
}

/* 0 = rejected, 1 = accepted with identical content, 2 = accepted with different content. */
static int check(const unsigned char *buf, size_t n, qp_container *original) {
    unsigned char *copy = malloc(n ? n : 1); /* exact-size heap copy: ASan sees any overread */
    memcpy(copy, buf, n);
    qp_container *c = NULL;
    char msg[256];
    int result = 0;
    if (qp_container_open_memory(copy, n, &c, msg, sizeof msg) == QP_OK) {
        result = 1;
        if (qp_container_tensor_count(c) != qp_container_tensor_count(original)) result = 2;
        for (size_t i = 0; result == 1 && i < qp_container_section_count(c); i++) {
            const char *name = qp_container_section_name(c, i);
            const unsigned char *d, *od;
            size_t len, olen;
            if (qp_container_section(c, name, &d, &len, msg, sizeof msg) != QP_OK) {
                result = 0;
                break;
            }
            if (qp_container_section(original, name, &od, &olen, NULL, 0) != QP_OK || olen != len || memcmp(d, od, len))
                result = 2;
        }
        qp_container_close(c);
    }
    free(copy);
    return result;
}

int main(int argc, char **argv) {
    if (argc != 2 && argc != 3) return 64;
    const size_t step = argc == 3 ? (size_t)atoi(argv[2]) : 1;
    size_t n;
    unsigned char *b = slurp(argv[1], &n);
    qp_container *original = NULL;
    char msg[256];
    if (qp_container_open_memory(b, n, &original, msg, sizeof msg) != QP_OK) {
        fprintf(stderr, "%s: %s\n", argv[1], msg);
        return 1;
    }
    int accepted_truncations = 0, wrong = 0, accepted_flips = 0;
    /* Sections lie between the header and the manifest; outside them every position is tried. */
    size_t manifest = 0;
    memcpy(&manifest, b + 16, sizeof manifest < 8 ? sizeof manifest : 8);
    for (size_t len = 0; len < n; len++) {
        if (step > 1 && len > 64 && len < manifest && len % step) continue;
        int r = check(b, len, original);
        accepted_truncations += r != 0;
        wrong += r == 2;
    }
    unsigned char *m = malloc(n);
    for (size_t i = 0; i < n; i++) {
        if (step > 1 && i > 64 && i < manifest && i % step) continue;
        memcpy(m, b, n);
        m[i] ^= 0x01;
        int r = check(m, n, original);
        /* The minor version (bytes 10-11) is ignored by design; a flip inside a zstd frame may
         * decode to the same bytes, which check() has then verified. */
        if (r == 1 && !(i == 10 || i == 11)) accepted_flips++;
        wrong += r == 2;
    }
    printf("%s: %zu bytes; %d truncations accepted, %d flips accepted with identical content, %d accepted with "
           "different content\n",
           argv[1], n, accepted_truncations, accepted_flips, wrong);
    qp_container_close(original);
    free(m);
    free(b);
    return (accepted_truncations || wrong) ? 1 : 0;
}
