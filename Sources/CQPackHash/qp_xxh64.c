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

/* Feeds the buffer from `p` until it holds a whole stripe (consumed) or `p` runs out. */
static const uint8_t *drain_buffer(qp_xxh64_state *s, const uint8_t *p, const uint8_t *end) {
    if (s->buffered == 0) return p;
    size_t take = 32 - s->buffered;
    if ((size_t)(end - p) < take) take = (size_t)(end - p);
    memcpy(s->buffer + s->buffered, p, take);
    s->buffered += (uint32_t)take;
    if (s->buffered == 32) {
        stripes(s->v, s->buffer, s->buffer + 32);
        s->buffered = 0;
    }
    return p + take;
}

void qp_xxh64_update_pair(qp_xxh64_state *a, const void *data_a, size_t length_a, qp_xxh64_state *b, const void *data_b,
                          size_t length_b) {
    const uint8_t *pa = data_a, *ea = pa + length_a, *pb = data_b, *eb = pb + length_b;
    a->total += length_a;
    b->total += length_b;
    pa = drain_buffer(a, pa, ea);
    pb = drain_buffer(b, pb, eb);
    if (a->buffered == 0 && b->buffered == 0) {
        /* Both states at a stripe boundary: one stripe of each per step. Each lane is a chain
         * of dependent multiplies, so two streams side by side run in about the time of one. */
        uint64_t a1 = a->v[0], a2 = a->v[1], a3 = a->v[2], a4 = a->v[3];
        uint64_t b1 = b->v[0], b2 = b->v[1], b3 = b->v[2], b4 = b->v[3];
        while (ea - pa >= 32 && eb - pb >= 32) {
            a1 = round64(a1, read64(pa)), b1 = round64(b1, read64(pb));
            a2 = round64(a2, read64(pa + 8)), b2 = round64(b2, read64(pb + 8));
            a3 = round64(a3, read64(pa + 16)), b3 = round64(b3, read64(pb + 16));
            a4 = round64(a4, read64(pa + 24)), b4 = round64(b4, read64(pb + 24));
            pa += 32, pb += 32;
        }
        a->v[0] = a1, a->v[1] = a2, a->v[2] = a3, a->v[3] = a4;
        b->v[0] = b1, b->v[1] = b2, b->v[2] = b3, b->v[3] = b4;
    }
    /* The rest of each stream on its own (totals are already counted). */
    a->total -= (uint64_t)(ea - pa);
    b->total -= (uint64_t)(eb - pb);
    qp_xxh64_update(a, pa, (size_t)(ea - pa));
    qp_xxh64_update(b, pb, (size_t)(eb - pb));
}
