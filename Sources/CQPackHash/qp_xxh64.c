#include "qp_xxh64.h"

#include <string.h>

#define P1 0x9E3779B185EBCA87ULL
#define P2 0xC2B2AE3D27D4EB4FULL
#define P3 0x165667B19E3779F9ULL
#define P4 0x85EBCA77C2B2AE63ULL
#define P5 0x27D4EB2F165667C5ULL

static inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

/* Little-endian loads through memcpy: no alignment or aliasing assumptions. */
static inline uint64_t read64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline uint32_t read32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}

static inline uint64_t round64(uint64_t acc, uint64_t input) {
    acc += input * P2;
    acc = rotl(acc, 31);
    return acc * P1;
}

static inline uint64_t merge(uint64_t acc, uint64_t val) {
    acc ^= round64(0, val);
    return acc * P1 + P4;
}

/* The bytes after the last whole 32-byte stripe, then the avalanche. */
static uint64_t finish(uint64_t h, const uint8_t *p, const uint8_t *end) {
    while (p + 8 <= end) {
        h ^= round64(0, read64(p));
        h = rotl(h, 27) * P1 + P4;
        p += 8;
    }
    if (p + 4 <= end) {
        h ^= (uint64_t)read32(p) * P1;
        h = rotl(h, 23) * P2 + P3;
        p += 4;
    }
    while (p < end) {
        h ^= (uint64_t)(*p) * P5;
        h = rotl(h, 11) * P1;
        p++;
    }
    h ^= h >> 33;
    h *= P2;
    h ^= h >> 29;
    h *= P3;
    h ^= h >> 32;
    return h;
}

static uint64_t converge(const uint64_t v[4]) {
    uint64_t h = rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18);
    for (int i = 0; i < 4; i++) h = merge(h, v[i]);
    return h;
}

/* Consumes whole 32-byte stripes; returns the first byte not consumed. */
static const uint8_t *stripes(uint64_t v[4], const uint8_t *p, const uint8_t *end) {
    uint64_t v1 = v[0], v2 = v[1], v3 = v[2], v4 = v[3];
    while (end - p >= 32) {
        v1 = round64(v1, read64(p));
        v2 = round64(v2, read64(p + 8));
        v3 = round64(v3, read64(p + 16));
        v4 = round64(v4, read64(p + 24));
        p += 32;
    }
    v[0] = v1, v[1] = v2, v[2] = v3, v[3] = v4;
    return p;
}

uint64_t qp_xxh64(const void *data, size_t length, uint64_t seed) {
    const uint8_t *p = data;
    const uint8_t *end = p + length;
    uint64_t h;
    if (length >= 32) {
        uint64_t v[4] = {seed + P1 + P2, seed + P2, seed, seed - P1};
        p = stripes(v, p, end);
        h = converge(v);
    } else {
        h = seed + P5;
    }
    return finish(h + (uint64_t)length, p, end);
}

void qp_xxh64_reset(qp_xxh64_state *s, uint64_t seed) {
    memset(s, 0, sizeof *s);
    s->seed = seed;
    s->v[0] = seed + P1 + P2, s->v[1] = seed + P2, s->v[2] = seed, s->v[3] = seed - P1;
}

void qp_xxh64_update(qp_xxh64_state *s, const void *data, size_t length) {
    const uint8_t *p = data, *end = p + length;
    s->total += length;
    if (s->buffered + length < 32) {
        if (length) memcpy(s->buffer + s->buffered, p, length);
        s->buffered += (uint32_t)length;
        return;
    }
    if (s->buffered) {
        size_t take = 32 - s->buffered;
        memcpy(s->buffer + s->buffered, p, take);
        stripes(s->v, s->buffer, s->buffer + 32);
        p += take;
        s->buffered = 0;
    }
    p = stripes(s->v, p, end);
    s->buffered = (uint32_t)(end - p);
    if (s->buffered) memcpy(s->buffer, p, s->buffered);
}

uint64_t qp_xxh64_digest(const qp_xxh64_state *s) {
    uint64_t h = s->total >= 32 ? converge(s->v) : s->seed + P5;
    return finish(h + s->total, s->buffer, s->buffer + s->buffered);
}
