/* SHA-256: FIPS 180-4 example digests, then the hardware path (x86 SHA extensions, Armv8
 * SHA-256 instructions) against the portable loop on random messages of every length up to
 * 1100 bytes, fed in random pieces. Prints whether the hardware path ran; with "require" as the
 * argument, fails when it did not (the CPU under test has it). */
#include <stdio.h>
#include <string.h>

#include "qp_sha256.h"

static void digest(const void *data, size_t length, size_t piece, uint8_t out[32]) {
    qp_sha256 c;
    qp_sha256_init(&c);
    const uint8_t *p = data;
    for (size_t done = 0; done < length;) {
        const size_t n = length - done < piece ? length - done : piece;
        qp_sha256_update(&c, p + done, n);
        done += n;
    }
    qp_sha256_final(&c, out);
}

static void hex(const uint8_t d[32], char out[65]) {
    for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

int main(int argc, char **argv) {
    static const struct {
        const char *message;
        size_t repeat;
        const char *sha256;
    } known[] = {
        {"abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"a", 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
    };
    static uint8_t buffer[1000000];
    int failures = 0;
    for (int portable = 0; portable < 2; portable++) {
        qp_sha256_force_portable(portable);
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
            const size_t len = strlen(known[i].message);
            for (size_t r = 0; r < known[i].repeat; r++) memcpy(buffer + r * len, known[i].message, len);
            uint8_t d[32];
            char h[65];
            digest(buffer, len * known[i].repeat, 4096, d);
            hex(d, h);
            if (strcmp(h, known[i].sha256)) {
                fprintf(stderr, "sha256 (%s) of example %zu: %s, expected %s\n", portable ? "portable" : "automatic", i,
                        h, known[i].sha256);
                failures++;
            }
        }
    }
    qp_sha256_force_portable(0);
    const int accelerated = qp_sha256_accelerated();
    uint32_t state = 7;
    for (size_t i = 0; i < sizeof buffer; i++) {
        state = state * 1664525u + 1013904223u;
        buffer[i] = (uint8_t)(state >> 24);
    }
    for (size_t length = 0; length <= 1100; length++) {
        uint8_t a[32], b[32];
        state = state * 1664525u + 1013904223u;
        const size_t piece = 1 + (state >> 16) % 150;
        qp_sha256_force_portable(0);
        digest(buffer + length, length, piece, a);
        qp_sha256_force_portable(1);
        digest(buffer + length, length, length + 1, b);
        if (memcmp(a, b, 32)) {
            fprintf(stderr, "sha256 of %zu random bytes: the hardware and portable digests differ\n", length);
            failures++;
        }
    }
    printf("sha256: 4 FIPS examples (both paths), 1101 random lengths hardware vs portable, %d failures; hardware path "
           "%s\n",
           failures, accelerated ? "used" : "not available");
    if (argc > 1 && !strcmp(argv[1], "require") && !accelerated) {
        fprintf(stderr, "sha256: the hardware path was expected on this CPU\n");
        failures++;
    }
    return failures != 0;
}
