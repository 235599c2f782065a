/* Lookups in the generated character tables (qp_unicode_tables.c). */
#include "qp_unicode.h"

static uint32_t property(uint32_t cp) {
    if (cp > 0x10FFFF) return 0;
    size_t lo = 0, hi = qp_unicode_property_count; /* last start <= cp; the first start is 0 */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (qp_unicode_property_starts[mid] <= cp)
            lo = mid;
        else
            hi = mid;
    }
    return qp_unicode_property_values[lo];
}

uint32_t qp_unicode_flags(uint32_t cp) { return property(cp) & 0xFFFF; }
uint32_t qp_unicode_combining(uint32_t cp) { return property(cp) >> 16; }

static const qp_unicode_mapping *find(const qp_unicode_mapping *table, size_t count, uint32_t cp) {
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (table[mid].code_point == cp) return &table[mid];
        if (table[mid].code_point < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

enum { HANGUL_BASE = 0xAC00, HANGUL_COUNT = 11172, JAMO_L = 0x1100, JAMO_V = 0x1161, JAMO_T = 0x11A7 };

size_t qp_unicode_decompose(uint32_t cp, uint32_t out[4]) {
    if (cp >= HANGUL_BASE && cp < HANGUL_BASE + HANGUL_COUNT) {
        uint32_t s = cp - HANGUL_BASE;
        out[0] = JAMO_L + s / 588;
        out[1] = JAMO_V + (s % 588) / 28;
        if (s % 28 == 0) return 2;
        out[2] = JAMO_T + s % 28;
        return 3;
    }
    const qp_unicode_mapping *m = find(qp_unicode_decompositions, qp_unicode_decomposition_count, cp);
    if (!m || m->length > 4) {
        out[0] = cp;
        return 1;
    }
    for (uint32_t i = 0; i < m->length; i++) out[i] = qp_unicode_decomposition_pool[m->offset + i];
    return m->length;
}

size_t qp_unicode_lowercase(uint32_t cp, uint32_t out[3]) {
    const qp_unicode_mapping *m = find(qp_unicode_lowercases, qp_unicode_lowercase_count, cp);
    if (!m || m->length > 3) {
        out[0] = cp;
        return 1;
    }
    for (uint32_t i = 0; i < m->length; i++) out[i] = qp_unicode_lowercase_pool[m->offset + i];
    return m->length;
}
