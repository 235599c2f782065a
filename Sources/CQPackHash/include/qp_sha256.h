#ifndef QP_SHA256_H
#define QP_SHA256_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Incremental SHA-256 (FIPS 180-4). Uses the x86 SHA extensions or the Armv8 SHA-256
 * instructions when the CPU has them, a portable C loop otherwise; all give the same digests
 * (tested natively and under qemu-aarch64). */
typedef struct qp_sha256 {
    uint32_t state[8];
    uint64_t length;
    uint8_t buffer[64];
    size_t buffered;
} qp_sha256;

void qp_sha256_init(qp_sha256 *ctx);
void qp_sha256_update(qp_sha256 *ctx, const void *data, size_t length);
void qp_sha256_final(qp_sha256 *ctx, uint8_t digest[32]);

/* 1 when the hardware path is in use. */
int qp_sha256_accelerated(void);
/* Forces the portable path (for tests): 1 = portable only, 0 = automatic. */
void qp_sha256_force_portable(int on);

#ifdef __cplusplus
}
#endif

#endif
