#ifndef QP_XXH64_H
#define QP_XXH64_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* XXH64 (Yann Collet's xxHash, 64-bit variant), one-shot. A fast non-cryptographic checksum
 * for per-tensor integrity; Used for per-tensor source checksums and,
 * by default, input file digests (SHA-256 on request). */
uint64_t qp_xxh64(const void *data, size_t length, uint64_t seed);

/* The same hash over data given in pieces: reset, update any number of times, digest. */
typedef struct {
    uint64_t v[4];
    uint64_t total;
    uint64_t seed;
    uint8_t buffer[32];
    uint32_t buffered;
} qp_xxh64_state;

void qp_xxh64_reset(qp_xxh64_state *s, uint64_t seed);
void qp_xxh64_update(qp_xxh64_state *s, const void *data, size_t length);
uint64_t qp_xxh64_digest(const qp_xxh64_state *s);

/* qp_xxh64_update(a, data_a, length_a) and qp_xxh64_update(b, data_b, length_b), interleaved:
 * two independent streams (a file's digest and the checksum of a tensor in it, over the same
 * bytes) cost about as much as one. */
void qp_xxh64_update_pair(qp_xxh64_state *a, const void *data_a, size_t length_a, qp_xxh64_state *b, const void *data_b,
                          size_t length_b);

#ifdef __cplusplus
}
#endif

#endif
