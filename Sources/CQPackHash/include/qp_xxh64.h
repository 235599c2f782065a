#ifndef QP_XXH64_H
#define QP_XXH64_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* XXH64 (Yann Collet's xxHash, 64-bit variant), one-shot. A fast non-cryptographic checksum
 * for per-tensor integrity; qpack uses SHA-256 wherever a digest identifies content. */
uint64_t qp_xxh64(const void *data, size_t length, uint64_t seed);

#ifdef __cplusplus
}
#endif

#endif
