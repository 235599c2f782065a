/* .qpack loader: validates a file as Formats/qpack-container.md §6 says, with json-c for the
 * manifest (strict mode, plus the checks json-c does not do) and libzstd for sections. All
 * arithmetic on file values is overflow-checked; nothing is read outside the mapping. */
#define _POSIX_C_SOURCE 200809L
#include "qp_container.h"
#include "qp_layouts.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "qp_sha256.h"

#define HEADER 64
#define FOOTER 64
#define ALIGN 64
#define MAX_MANIFEST (64u << 20)
/* Container spec §4.4, §4.5. */
#define MAX_SECTIONS 250000
#define MAX_TENSORS 100000
#define MAX_DECLARED ((uint64_t)64 << 30)
#define WINDOW_LOG_MAX 27

typedef struct {
    char *name;
    uint64_t offset, stored, length;
    int zstd;
    char sha256[65];
    uint8_t *decoded; /* owned, for zstd sections once read */
    int verified;
} section;

typedef struct {
    char *name, *scheme, *layout, *section;
    char *slot; /* container 1.1, or NULL */
    int64_t layer; /* -1: none */
    size_t rows, columns, nr, kr, sr, bl, length;
    int activation_static;
    float activation_min, activation_max;
    char *divisor_section; /* smoothing: k float32 divisors, or NULL */
} tensor;

struct qp_container {
    const uint8_t *data;
    size_t size;
    int mapped;
    char digest[65];
    section *sections;
    size_t section_count;
    tensor *tensors;
    size_t tensor_count;
    struct json_object *model, *tokenizer; /* the manifest's objects (a reference each), or NULL */
};

const char *qp_status_string(qp_status s) {
    switch (s) {
    case QP_OK: return "ok";
    case QP_ERR_ARGUMENT: return "invalid argument";
    case QP_ERR_IO: return "I/O error";
    case QP_ERR_FORMAT: return "malformed file";
    case QP_ERR_UNSUPPORTED: return "unsupported version or feature";
    case QP_ERR_CHECKSUM: return "checksum mismatch";
    case QP_ERR_LIMIT: return "limit exceeded";
    case QP_ERR_NOMEM: return "out of memory";
    case QP_ERR_NOT_FOUND: return "not found";
    }
    return "unknown status";
}

static qp_status fail(char *msg, size_t cap, qp_status s, const char *fmt, ...) {
    if (msg && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, cap, fmt, ap);
        va_end(ap);
    }
    return s;
}

static uint64_t rd64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}
static uint32_t rd32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
static uint16_t rd16(const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

static void hex(const uint8_t d[32], char out[65]) {
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[64] = 0;
}

static uint64_t align64(uint64_t v) { return (v + ALIGN - 1) / ALIGN * ALIGN; }

/* ---- JSON: what json-c does not check --------------------------------------------------------
 * Counts the keys of every object in document order with a small scanner, so a duplicate key
 * (which json-c silently replaces) shows up as an object with fewer members than keys. */
typedef struct {
    size_t *counts;
    size_t n, cap;
} key_counts;

static int push_count(key_counts *k) {
    if (k->n == k->cap) {
        size_t cap = k->cap ? 2 * k->cap : 64;
        size_t *c = realloc(k->counts, cap * sizeof *c);
        if (!c) return 0;
        k->counts = c;
        k->cap = cap;
    }
    k->counts[k->n++] = 0;
    return 1;
}

static int scan_keys(const char *s, size_t len, key_counts *k) {
    size_t stack[40]; /* index into counts for objects, SIZE_MAX for arrays */
    int expect_key[40];
    int depth = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (ch == '"') {
            if (depth > 0 && expect_key[depth - 1] && stack[depth - 1] != (size_t)-1) {
                k->counts[stack[depth - 1]]++;
                expect_key[depth - 1] = 0;
            }
            for (i++; i < len && s[i] != '"'; i++) {
                if (s[i] == '\\') i++;
            }
        } else if (ch == '{' || ch == '[') {
            if (depth >= 40) return 0;
            if (ch == '{') {
                if (!push_count(k)) return 0;
                stack[depth] = k->n - 1;
            } else {
                stack[depth] = (size_t)-1;
            }
            expect_key[depth] = ch == '{';
            depth++;
        } else if (ch == '}' || ch == ']') {
            if (depth == 0) return 0;
            depth--;
        } else if (ch == ',' && depth > 0) {
            expect_key[depth - 1] = stack[depth - 1] != (size_t)-1;
        }
    }
    return depth == 0;
}

static int tree_matches(struct json_object *o, const key_counts *k, size_t *at) {
    if (json_object_is_type(o, json_type_object)) {
        if (*at >= k->n || (size_t)json_object_object_length(o) != k->counts[*at]) return 0;
        (*at)++;
        json_object_object_foreach(o, key, val) {
            (void)key;
            if (val && !tree_matches(val, k, at)) return 0;
        }
    } else if (json_object_is_type(o, json_type_array)) {
        size_t n = json_object_array_length(o);
        for (size_t i = 0; i < n; i++) {
            struct json_object *v = json_object_array_get_idx(o, i);
            if (v && !tree_matches(v, k, at)) return 0;
        }
    }
    return 1;
}

/* Strings without NUL, of printable characters when `printable`. */
static const char *get_string(struct json_object *o, const char *key, int printable) {
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string)) return NULL;
    const char *s = json_object_get_string(v);
    size_t n = (size_t)json_object_get_string_len(v);
    if (strlen(s) != n) return NULL;
    if (printable) {
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F) return NULL;
    }
    return s;
}

/* Non-negative integers only: json-c coerces strings and doubles and saturates, so check type. */
static int get_uint(struct json_object *o, const char *key, uint64_t *out) {
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int)) return 0;
    errno = 0;
    int64_t x = json_object_get_int64(v);
    if (x < 0 || x == INT64_MAX) return 0; /* INT64_MAX: saturated or absurd either way */
    *out = (uint64_t)x;
    return 1;
}

/* A finite JSON number (int or double) that fits a float. */
static int get_float(struct json_object *o, const char *key, float *out) {
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v)) return 0;
    if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int)) return 0;
    const double d = json_object_get_double(v);
    if (!isfinite(d) || fabs(d) > 3.4e38) return 0;
    *out = (float)d;
    return 1;
}

static char *dup_string(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static uint64_t expected_length(const tensor *t, uint64_t elements, uint64_t source_bytes, int *ok) {
    *ok = 1;
    const char *s = t->scheme;
    uint64_t n = t->rows, k = t->columns, nr = t->nr, kr = t->kr, sr = t->sr, bl = t->bl;
    if (!strcmp(s, "keep")) return source_bytes;
    if (!strcmp(s, "f32")) return elements > UINT64_MAX / 4 ? (*ok = 0) : 4 * elements;
    if (!strcmp(s, "f16") || !strcmp(s, "bf16")) return elements > UINT64_MAX / 2 ? (*ok = 0) : 2 * elements;
    if (!t->layout || nr == 0 || nr > 64 || kr == 0 || kr > 64 || sr == 0 || kr % sr || n == 0 || k == 0 ||
        n > (1u << 24) || k > (1u << 24)) {
        *ok = 0;
        return 0;
    }
    /* A packed scheme: its layout family's tile constraints and size formula (qp_layouts.c). */
    const qp_layout_traits *l = qp_layout_by_id(t->layout);
    if (l && qp_layout_holds_scheme(l, s) && l->tile_ok(k, bl, nr, kr, sr)) return l->packed_size(n, k, bl, nr, kr, sr);
    *ok = 0;
    return 0;
}

void qp_container_close(qp_container *c) {
    if (!c) return;
    for (size_t i = 0; i < c->section_count; i++) {
        free(c->sections[i].name);
        free(c->sections[i].decoded);
    }
    for (size_t i = 0; i < c->tensor_count; i++) {
        free(c->tensors[i].name);
        free(c->tensors[i].scheme);
        free(c->tensors[i].layout);
        free(c->tensors[i].section);
        free(c->tensors[i].divisor_section);
        free(c->tensors[i].slot);
    }
    if (c->model) json_object_put(c->model);
    if (c->tokenizer) json_object_put(c->tokenizer);
    free(c->sections);
    free(c->tensors);
    if (c->mapped && c->size) munmap((void *)c->data, c->size);
    free(c);
}

static qp_status parse_manifest(qp_container *c, uint64_t moff, uint64_t mlen, char *msg, size_t cap) {
    const char *text = (const char *)c->data + moff;
    key_counts keys = {0};
    if (!scan_keys(text, (size_t)mlen, &keys)) {
        free(keys.counts);
        return fail(msg, cap, QP_ERR_FORMAT, "manifest at offset %llu: unbalanced or nested deeper than 32",
                    (unsigned long long)moff);
    }
    struct json_tokener *tok = json_tokener_new_ex(32);
    if (!tok) {
        free(keys.counts);
        return fail(msg, cap, QP_ERR_NOMEM, "out of memory");
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    struct json_object *root = json_tokener_parse_ex(tok, text, (int)mlen);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    qp_status st = QP_OK;
    if (!root || jerr != json_tokener_success) {
        st = fail(msg, cap, QP_ERR_FORMAT, "manifest at offset %llu: invalid JSON near byte %llu: %s",
                  (unsigned long long)moff, (unsigned long long)(moff + end), json_tokener_error_desc(jerr));
        goto done;
    }
    for (size_t i = end; i < mlen; i++) {
        if (text[i] != ' ' && text[i] != '\n' && text[i] != '\t' && text[i] != '\r') {
            st = fail(msg, cap, QP_ERR_FORMAT, "manifest: unexpected bytes after the JSON value at offset %llu",
                      (unsigned long long)(moff + i));
            goto done;
        }
    }
    size_t at = 0;
    if (!tree_matches(root, &keys, &at) || at != keys.n) {
        st = fail(msg, cap, QP_ERR_FORMAT, "manifest at offset %llu: duplicate key in an object",
                  (unsigned long long)moff);
        goto done;
    }
    if (!json_object_is_type(root, json_type_object) || !get_string(root, "format", 1) ||
        strcmp(get_string(root, "format", 1), "qpack")) {
        st = fail(msg, cap, QP_ERR_FORMAT, "manifest: 'format' must be \"qpack\"");
        goto done;
    }
    struct json_object *secs, *tens;
    if (!json_object_object_get_ex(root, "sections", &secs) || !json_object_is_type(secs, json_type_array) ||
        !json_object_object_get_ex(root, "tensors", &tens) || !json_object_is_type(tens, json_type_array)) {
        st = fail(msg, cap, QP_ERR_FORMAT, "manifest: 'sections' and 'tensors' must be arrays");
        goto done;
    }
    size_t ns = json_object_array_length(secs), nt = json_object_array_length(tens);
    if (ns > MAX_SECTIONS || nt > MAX_TENSORS) {
        st = fail(msg, cap, QP_ERR_LIMIT, "manifest: %zu sections and %zu tensors exceed the limits (%d, %d)", ns, nt,
                  MAX_SECTIONS, MAX_TENSORS);
        goto done;
    }
    c->sections = calloc(ns ? ns : 1, sizeof(section));
    c->tensors = calloc(nt ? nt : 1, sizeof(tensor));
    if (!c->sections || !c->tensors) {
        st = fail(msg, cap, QP_ERR_NOMEM, "out of memory");
        goto done;
    }
    uint64_t min_offset = HEADER, pad_start = HEADER;
    for (size_t i = 0; i < ns; i++) {
        struct json_object *o = json_object_array_get_idx(secs, i);
        section *s = &c->sections[c->section_count];
        const char *name = json_object_is_type(o, json_type_object) ? get_string(o, "name", 1) : NULL;
        const char *comp = name ? get_string(o, "compression", 1) : NULL;
        const char *sha = comp ? get_string(o, "sha256", 1) : NULL;
        if (!name || !*name || strlen(name) > 256 || !comp || !sha || strlen(sha) != 64 ||
            !get_uint(o, "offset", &s->offset) || !get_uint(o, "stored_length", &s->stored) ||
            !get_uint(o, "length", &s->length)) {
            st = fail(msg, cap, QP_ERR_FORMAT, "manifest: section %zu: missing or mistyped member", i);
            goto done;
        }
        for (size_t j = 0; j < c->section_count; j++) {
            if (!strcmp(c->sections[j].name, name)) {
                st = fail(msg, cap, QP_ERR_FORMAT, "section '%s': duplicate name", name);
                goto done;
            }
        }
        for (int j = 0; j < 64; j++) {
            if (!((sha[j] >= '0' && sha[j] <= '9') || (sha[j] >= 'a' && sha[j] <= 'f'))) {
                st = fail(msg, cap, QP_ERR_FORMAT, "section '%s': sha256 is not lower-case hex", name);
                goto done;
            }
        }
        if (s->offset % ALIGN || s->offset < min_offset || s->stored > moff || s->offset > moff - s->stored) {
            st = fail(msg, cap, QP_ERR_FORMAT,
                      "section '%s' at offset %llu: unaligned, out of order, overlapping or past the manifest", name,
                      (unsigned long long)s->offset);
            goto done;
        }
        for (uint64_t b = pad_start; b < s->offset; b++) {
            if (c->data[b]) {
                st = fail(msg, cap, QP_ERR_FORMAT, "non-zero padding at offset %llu", (unsigned long long)b);
                goto done;
            }
        }
        if (!strcmp(comp, "none")) {
            if (s->stored != s->length) {
                st = fail(msg, cap, QP_ERR_FORMAT, "section '%s': stored_length differs from length", name);
                goto done;
            }
        } else if (!strcmp(comp, "zstd")) {
            if (s->length > MAX_DECLARED) {
                st = fail(msg, cap, QP_ERR_LIMIT, "section '%s': declared length over 64 GiB", name);
                goto done;
            }
            /* A zstd block holds at most 128 KiB in at least 4 bytes: more is a lie. */
            if (s->length / 32768 > s->stored) {
                st = fail(msg, cap, QP_ERR_FORMAT,
                          "section '%s': declared length %llu exceeds what %llu zstd bytes can hold", name,
                          (unsigned long long)s->length, (unsigned long long)s->stored);
                goto done;
            }
            s->zstd = 1;
        } else {
            st = fail(msg, cap, QP_ERR_UNSUPPORTED, "section '%s': unknown compression '%s'", name, comp);
            goto done;
        }
        memcpy(s->sha256, sha, 65);
        s->name = dup_string(name);
        if (!s->name) {
            st = fail(msg, cap, QP_ERR_NOMEM, "out of memory");
            goto done;
        }
        c->section_count++;
        min_offset = align64(s->offset + s->stored);
        pad_start = s->offset + s->stored;
    }
    for (uint64_t b = pad_start; b < moff; b++) {
        if (c->data[b]) {
            st = fail(msg, cap, QP_ERR_FORMAT, "non-zero padding at offset %llu", (unsigned long long)b);
            goto done;
        }
    }
    for (size_t i = 0; i < nt; i++) {
        struct json_object *o = json_object_array_get_idx(tens, i), *v;
        /* Counted from the start (the array is zeroed), so qp_container_close frees what a
         * tensor rejected halfway had already copied. */
        tensor *t = &c->tensors[c->tensor_count++];
        const char *name = json_object_is_type(o, json_type_object) ? get_string(o, "name", 0) : NULL;
        const char *scheme = name ? get_string(o, "scheme", 1) : NULL;
        const char *sec = scheme ? get_string(o, "section", 1) : NULL;
        uint64_t source_bytes = 0;
        if (!name || !scheme || !sec || !get_uint(o, "source_bytes", &source_bytes)) {
            st = fail(msg, cap, QP_ERR_FORMAT, "manifest: tensor %zu: missing or mistyped member", i);
            goto done;
        }
        uint64_t elements = 1;
        if (!json_object_object_get_ex(o, "shape", &v) || !json_object_is_type(v, json_type_array) ||
            json_object_array_length(v) > 8) {
            st = fail(msg, cap, QP_ERR_FORMAT, "tensor '%s': shape must be an array of at most 8 integers", name);
            goto done;
        }
        for (size_t d = 0; d < json_object_array_length(v); d++) {
            struct json_object *e = json_object_array_get_idx(v, d);
            int64_t x = json_object_is_type(e, json_type_int) ? json_object_get_int64(e) : -1;
            if (x < 0 || (x && elements > UINT64_MAX / (uint64_t)x)) {
                st = fail(msg, cap, QP_ERR_FORMAT, "tensor '%s': shape element %zu is invalid or overflows", name, d);
                goto done;
            }
            elements *= (uint64_t)x;
        }
        if (json_object_object_get_ex(o, "matrix", &v) && !json_object_is_type(v, json_type_null)) {
            struct json_object *a =
                json_object_is_type(v, json_type_array) && json_object_array_length(v) == 2 ? v : NULL;
            int64_t r = a && json_object_is_type(json_object_array_get_idx(a, 0), json_type_int)
                            ? json_object_get_int64(json_object_array_get_idx(a, 0))
                            : -1;
            int64_t k = a && json_object_is_type(json_object_array_get_idx(a, 1), json_type_int)
                            ? json_object_get_int64(json_object_array_get_idx(a, 1))
                            : -1;
            if (r <= 0 || k <= 0 || (uint64_t)r > UINT64_MAX / (uint64_t)k || (uint64_t)r * (uint64_t)k != elements) {
                st = fail(msg, cap, QP_ERR_FORMAT, "tensor '%s': matrix must be [N, K] with N x K elements", name);
                goto done;
            }
            t->rows = (size_t)r;
            t->columns = (size_t)k;
        }
        if (json_object_object_get_ex(o, "layout", &v) && !json_object_is_type(v, json_type_null)) {
            uint64_t nr, kr, sr, bl = 0;
            const char *id = json_object_is_type(v, json_type_object) ? get_string(v, "id", 1) : NULL;
            if (!id || !get_uint(v, "nr", &nr) || !get_uint(v, "kr", &kr) || !get_uint(v, "sr", &sr) ||
                (json_object_object_get_ex(v, "bl", NULL) && !get_uint(v, "bl", &bl)) || nr > 64 || kr > 64 ||
                sr > 64 || bl > (1u << 20)) {
                st = fail(msg, cap, QP_ERR_FORMAT, "tensor '%s': invalid layout", name);
                goto done;
            }
            t->layout = dup_string(id);
            t->nr = (size_t)nr;
            t->kr = (size_t)kr;
            t->sr = (size_t)sr;
            t->bl = (size_t)bl;
        }
        if (json_object_object_get_ex(o, "activation", &v) && !json_object_is_type(v, json_type_null)) {
            const char *mode = json_object_is_type(v, json_type_object) ? get_string(v, "mode", 1) : NULL;
            if (!mode || (strcmp(mode, "static") && strcmp(mode, "dynamic"))) {
                st = fail(msg, cap, QP_ERR_FORMAT, "tensor '%s': activation.mode must be \"static\" or \"dynamic\"",
                          name);
                goto done;
            }
            if (!strcmp(mode, "static")) {
                if (!t->layout || !get_float(v, "min", &t->activation_min) ||
                    !get_float(v, "max", &t->activation_max) || t->activation_min > 0 || t->activation_max < 0 ||
                    !get_string(v, "observer", 1)) {
                    st = fail(msg, cap, QP_ERR_FORMAT,
                              "tensor '%s': static activation needs a packed tensor, an observer and a finite range "
                              "containing 0",
                              name);
                    goto done;
                }
                t->activation_static = 1;
                struct json_object *sm;
                if (json_object_object_get_ex(v, "smoothing", &sm) && !json_object_is_type(sm, json_type_null)) {
                    const char *dsec = json_object_is_type(sm, json_type_object) ? get_string(sm, "section", 1) : NULL;
                    float alpha = 0;
                    const section *ds = NULL;
                    for (size_t j = 0; dsec && j < c->section_count; j++)
                        if (!strcmp(c->sections[j].name, dsec)) ds = &c->sections[j];
                    if (!dsec || !get_float(sm, "alpha", &alpha) || !(alpha > 0 && alpha <= 1) || !ds ||
                        t->columns == 0 || ds->length != (uint64_t)t->columns * 4) {
                        st = fail(msg, cap, QP_ERR_FORMAT,
                                  "tensor '%s': activation.smoothing needs alpha in (0, 1] and a section of K float32 "
                                  "divisors",
                                  name);
                        goto done;
                    }
                    t->divisor_section = dup_string(dsec);
                    if (!t->divisor_section) {
                        st = fail(msg, cap, QP_ERR_NOMEM, "out of memory");
                        goto done;
                    }
                }
            }
        }
        t->layer = -1;
        if (json_object_object_get_ex(o, "layer", &v) && !json_object_is_type(v, json_type_null)) {
            int64_t layer = json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : -1;
            if (layer < 0 || layer > (1 << 20)) {
                st = fail(msg, cap, QP_ERR_FORMAT, "tensor '%s': layer must be null or an integer >= 0", name);
                goto done;
            }
            t->layer = layer;
        }
        if (json_object_object_get_ex(o, "slot", &v)) {
            const char *slot = get_string(o, "slot", 1);
            if (!slot || !*slot || strlen(slot) > 128) {
                st = fail(msg, cap, QP_ERR_FORMAT, "tensor '%s': slot must be a non-empty printable string", name);
                goto done;
            }
            t->slot = dup_string(slot);
            if (!t->slot) {
                st = fail(msg, cap, QP_ERR_NOMEM, "out of memory");
                goto done;
            }
        }
        t->name = dup_string(name);
        t->scheme = dup_string(scheme);
        t->section = dup_string(sec);
        if (!t->name || !t->scheme || !t->section) {
            st = fail(msg, cap, QP_ERR_NOMEM, "out of memory");
            goto done;
        }
        const section *s = NULL;
        for (size_t j = 0; j < c->section_count; j++)
            if (!strcmp(c->sections[j].name, sec)) s = &c->sections[j];
        if (!s) {
            st = fail(msg, cap, QP_ERR_FORMAT, "tensor '%s': section '%s' does not exist", name, sec);
            goto done;
        }
        for (size_t j = 0; j + 1 < c->tensor_count; j++) {
            if (!strcmp(c->tensors[j].section, sec)) {
                st = fail(msg, cap, QP_ERR_FORMAT, "tensor '%s': shares section '%s'", name, sec);
                goto done;
            }
        }
        /* At least a bit per element (container spec §4.5): a larger count is a lie. */
        if (elements / 8 > s->length) {
            st = fail(msg, cap, QP_ERR_FORMAT,
                      "tensor '%s': shape holds more elements than its %llu-byte section can store", name,
                      (unsigned long long)s->length);
            goto done;
        }
        int ok;
        uint64_t want = expected_length(t, elements, source_bytes, &ok);
        if (!ok || want != s->length) {
            st = fail(msg, cap, QP_ERR_FORMAT, "tensor '%s': section '%s' holds %llu bytes, scheme %s needs %llu", name,
                      sec, (unsigned long long)s->length, scheme, (unsigned long long)want);
            goto done;
        }
        t->length = (size_t)s->length;
    }
    struct json_object *model, *tokenizer;
    if (json_object_object_get_ex(root, "model", &model) && !json_object_is_type(model, json_type_null)) {
        if (!json_object_is_type(model, json_type_object)) {
            st = fail(msg, cap, QP_ERR_FORMAT, "manifest: 'model' must be an object");
            goto done;
        }
        c->model = json_object_get(model);
    }
    if (json_object_object_get_ex(root, "tokenizer", &tokenizer) && json_object_is_type(tokenizer, json_type_object))
        c->tokenizer = json_object_get(tokenizer);
done:
    if (root) json_object_put(root);
    free(keys.counts);
    return st;
}

qp_status qp_container_open_memory(const uint8_t *data, size_t size, qp_container **out, char *msg, size_t cap) {
    if (!out || (!data && size)) return fail(msg, cap, QP_ERR_ARGUMENT, "invalid arguments");
    *out = NULL;
    qp_container *c = calloc(1, sizeof *c);
    if (!c) return fail(msg, cap, QP_ERR_NOMEM, "out of memory");
    c->data = data;
    c->size = size;
    qp_status st = QP_OK;
    if (size < HEADER + FOOTER) {
        st = fail(msg, cap, QP_ERR_FORMAT, "header: file of %zu bytes is too small", size);
        goto bad;
    }
    if (memcmp(data, "QPACK\r\n\x1a", 8)) {
        st = fail(msg, cap, QP_ERR_FORMAT, "magic at offset 0: not a .qpack file");
        goto bad;
    }
    if (rd16(data + 8) != 1) {
        st = fail(msg, cap, QP_ERR_UNSUPPORTED, "version at offset 8: major version %u is not supported",
                  rd16(data + 8));
        goto bad;
    }
    if (rd32(data + 12)) {
        st = fail(msg, cap, QP_ERR_UNSUPPORTED, "required_features at offset 12: unknown bits 0x%x", rd32(data + 12));
        goto bad;
    }
    const uint8_t *f = data + size - FOOTER;
    if (memcmp(f, "QPACKEND", 8)) {
        st = fail(msg, cap, QP_ERR_FORMAT, "footer at offset %zu: missing commit record (incomplete file)",
                  size - FOOTER);
        goto bad;
    }
    if (rd64(f + 8) != rd64(data + 16) || rd64(f + 16) != rd64(data + 24) || memcmp(f + 32, data + 32, 32)) {
        st = fail(msg, cap, QP_ERR_FORMAT, "footer at offset %zu: header and footer disagree", size - FOOTER);
        goto bad;
    }
    if (rd64(f + 24) != size) {
        st = fail(msg, cap, QP_ERR_FORMAT, "footer at offset %zu: records another file length", size - FOOTER + 24);
        goto bad;
    }
    uint64_t moff = rd64(data + 16), mlen = rd64(data + 24);
    if (moff < HEADER || moff % ALIGN || mlen == 0 || mlen > MAX_MANIFEST || moff > size - FOOTER ||
        mlen != size - FOOTER - moff) {
        st = fail(msg, cap, QP_ERR_FORMAT, "manifest_offset at offset 16: range does not end at the footer");
        goto bad;
    }
    uint8_t d[32];
    qp_sha256 h;
    qp_sha256_init(&h);
    qp_sha256_update(&h, data + moff, (size_t)mlen);
    qp_sha256_final(&h, d);
    if (memcmp(d, data + 32, 32)) {
        st = fail(msg, cap, QP_ERR_CHECKSUM, "manifest_sha256 at offset 32: manifest checksum mismatch");
        goto bad;
    }
    hex(d, c->digest);
    st = parse_manifest(c, moff, mlen, msg, cap);
    if (st != QP_OK) goto bad;
    *out = c;
    return QP_OK;
bad:
    c->mapped = 0;
    qp_container_close(c);
    return st;
}

qp_status qp_container_open(const char *path, qp_container **out, char *msg, size_t cap) {
    if (!path || !out) return fail(msg, cap, QP_ERR_ARGUMENT, "invalid arguments");
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(msg, cap, QP_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        close(fd);
        return fail(msg, cap, QP_ERR_IO, "%s: not a regular file", path);
    }
    size_t size = (size_t)st.st_size;
    void *p = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    close(fd);
    if (size && p == MAP_FAILED) return fail(msg, cap, QP_ERR_IO, "%s: cannot map: %s", path, strerror(errno));
    qp_container *c = NULL;
    qp_status s = qp_container_open_memory(p, size, &c, msg, cap);
    if (s != QP_OK) {
        if (size) munmap(p, size);
        return s;
    }
    c->mapped = 1;
    *out = c;
    return QP_OK;
}

size_t qp_container_tensor_count(const qp_container *c) { return c ? c->tensor_count : 0; }

const char *qp_container_digest(const qp_container *c) { return c ? c->digest : ""; }

size_t qp_container_section_count(const qp_container *c) { return c ? c->section_count : 0; }

const char *qp_container_section_name(const qp_container *c, size_t index) {
    return c && index < c->section_count ? c->sections[index].name : NULL;
}

static void fill_info(const tensor *t, qp_tensor_info *info) {
    info->name = t->name;
    info->scheme = t->scheme;
    info->layout = t->layout;
    info->section = t->section;
    info->rows = t->rows;
    info->columns = t->columns;
    info->nr = t->nr;
    info->kr = t->kr;
    info->sr = t->sr;
    info->bl = t->bl;
    info->length = t->length;
    info->activation_static = t->activation_static;
    info->activation_min = t->activation_min;
    info->activation_max = t->activation_max;
    info->activation_divisor_section = t->divisor_section;
    info->slot = t->slot;
    info->layer = t->layer;
}

const char *qp_container_model_string(const qp_container *c, const char *key) {
    return c && c->model && key ? get_string(c->model, key, 1) : NULL;
}

int qp_container_runnable(const qp_container *c) {
    struct json_object *v;
    if (!c || !c->model || !json_object_object_get_ex(c->model, "runnable", &v)) return 1;
    return json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

/* model.<object>.<key>, where `key` may go deeper with '/' ("rope_scaling/factor"): absent or
 * null -> NOT_FOUND. */
static qp_status member(const qp_container *c, const char *object, const char *key, struct json_object **out) {
    struct json_object *o;
    if (!c || !object || !key || !out) return QP_ERR_ARGUMENT;
    if (!c->model || !json_object_object_get_ex(c->model, object, &o)) return QP_ERR_NOT_FOUND;
    char part[256];
    for (const char *p = key;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n >= sizeof part) return QP_ERR_NOT_FOUND;
        memcpy(part, p, n);
        part[n] = 0;
        if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, part, &o))
            return QP_ERR_NOT_FOUND;
        if (!slash) break;
        p = slash + 1;
    }
    if (json_object_is_type(o, json_type_null)) return QP_ERR_NOT_FOUND;
    *out = o;
    return QP_OK;
}

qp_status qp_container_model_int(const qp_container *c, const char *object, const char *key, int64_t *value) {
    struct json_object *v;
    qp_status s = member(c, object, key, &v);
    if (s != QP_OK) return s;
    if (!value || !json_object_is_type(v, json_type_int)) return QP_ERR_FORMAT;
    *value = json_object_get_int64(v);
    return QP_OK;
}

qp_status qp_container_model_number(const qp_container *c, const char *object, const char *key, double *value) {
    struct json_object *v;
    qp_status s = member(c, object, key, &v);
    if (s != QP_OK) return s;
    if (!value || !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
        return QP_ERR_FORMAT;
    *value = json_object_get_double(v);
    return isfinite(*value) ? QP_OK : QP_ERR_FORMAT;
}

qp_status qp_container_tokenizer_int(const qp_container *c, const char *key, int64_t *value) {
    struct json_object *v;
    if (!c || !key || !value) return QP_ERR_ARGUMENT;
    if (!c->tokenizer || !json_object_object_get_ex(c->tokenizer, key, &v) || json_object_is_type(v, json_type_null))
        return QP_ERR_NOT_FOUND;
    if (!json_object_is_type(v, json_type_int)) return QP_ERR_FORMAT;
    *value = json_object_get_int64(v);
    return QP_OK;
}

qp_status qp_container_tokenizer_text(const qp_container *c, const char *key, const char **value) {
    struct json_object *v;
    if (!c || !key || !value) return QP_ERR_ARGUMENT;
    if (!c->tokenizer || !json_object_object_get_ex(c->tokenizer, key, &v) || json_object_is_type(v, json_type_null))
        return QP_ERR_NOT_FOUND;
    if (!json_object_is_type(v, json_type_string)) return QP_ERR_FORMAT;
    *value = json_object_get_string(v);
    return QP_OK;
}

int qp_container_has_tokenizer(const qp_container *c) { return c && c->tokenizer != NULL; }

qp_status qp_container_tokenizer_bool(const qp_container *c, const char *key, int *value) {
    struct json_object *v;
    if (!c || !key || !value) return QP_ERR_ARGUMENT;
    if (!c->tokenizer || !json_object_object_get_ex(c->tokenizer, key, &v) || json_object_is_type(v, json_type_null))
        return QP_ERR_NOT_FOUND;
    if (!json_object_is_type(v, json_type_boolean)) return QP_ERR_FORMAT;
    *value = json_object_get_boolean(v);
    return QP_OK;
}

qp_status qp_container_model_bool(const qp_container *c, const char *object, const char *key, int *value) {
    struct json_object *v;
    qp_status s = member(c, object, key, &v);
    if (s != QP_OK) return s;
    if (!value || !json_object_is_type(v, json_type_boolean)) return QP_ERR_FORMAT;
    *value = json_object_get_boolean(v);
    return QP_OK;
}

qp_status qp_container_model_text(const qp_container *c, const char *object, const char *key, const char **value) {
    struct json_object *v;
    qp_status s = member(c, object, key, &v);
    if (s != QP_OK) return s;
    if (!value || !json_object_is_type(v, json_type_string)) return QP_ERR_FORMAT;
    *value = json_object_get_string(v);
    return QP_OK;
}

qp_status qp_container_tensor(const qp_container *c, size_t index, qp_tensor_info *info) {
    if (!c || !info || index >= c->tensor_count) return QP_ERR_ARGUMENT;
    fill_info(&c->tensors[index], info);
    return QP_OK;
}

qp_status qp_container_find_tensor(const qp_container *c, const char *name, qp_tensor_info *info) {
    if (!c || !name || !info) return QP_ERR_ARGUMENT;
    for (size_t i = 0; i < c->tensor_count; i++) {
        if (!strcmp(c->tensors[i].name, name)) {
            fill_info(&c->tensors[i], info);
            return QP_OK;
        }
    }
    return QP_ERR_NOT_FOUND;
}

qp_status qp_container_section(qp_container *c, const char *name, const uint8_t **data, size_t *length, char *msg,
                               size_t cap) {
    if (!c || !name || !data || !length) return fail(msg, cap, QP_ERR_ARGUMENT, "invalid arguments");
    section *s = NULL;
    for (size_t i = 0; i < c->section_count; i++)
        if (!strcmp(c->sections[i].name, name)) s = &c->sections[i];
    if (!s) return fail(msg, cap, QP_ERR_NOT_FOUND, "section '%s': not found", name);
    const uint8_t *bytes = c->data + s->offset;
    if (s->zstd && !s->decoded) {
        /* Size the buffer from the manifest only; the frame must declare exactly that size. */
        unsigned long long fsize = ZSTD_getFrameContentSize(bytes, (size_t)s->stored);
        size_t csize = ZSTD_findFrameCompressedSize(bytes, (size_t)s->stored);
        if (fsize != s->length || ZSTD_isError(csize) || csize != s->stored) {
            return fail(msg, cap, QP_ERR_FORMAT,
                        "section '%s' at offset %llu: not exactly one zstd frame of the declared size", name,
                        (unsigned long long)s->offset);
        }
        uint8_t *buf = malloc(s->length ? (size_t)s->length : 1);
        if (!buf) return fail(msg, cap, QP_ERR_NOMEM, "out of memory");
        ZSTD_DCtx *dctx = ZSTD_createDCtx();
        if (!dctx) {
            free(buf);
            return fail(msg, cap, QP_ERR_NOMEM, "out of memory");
        }
        ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, WINDOW_LOG_MAX);
        ZSTD_inBuffer in = {bytes, (size_t)s->stored, 0};
        ZSTD_outBuffer outb = {buf, (size_t)s->length, 0};
        size_t r = ZSTD_decompressStream(dctx, &outb, &in);
        ZSTD_freeDCtx(dctx);
        if (ZSTD_isError(r) || r != 0 || outb.pos != s->length || in.pos != s->stored) {
            free(buf);
            return fail(msg, cap, QP_ERR_CHECKSUM, "section '%s' at offset %llu: zstd frame invalid or corrupt", name,
                        (unsigned long long)s->offset);
        }
        s->decoded = buf;
    }
    const uint8_t *plain = s->zstd ? s->decoded : bytes;
    if (!s->verified) {
        uint8_t d[32];
        char hx[65];
        qp_sha256 h;
        qp_sha256_init(&h);
        qp_sha256_update(&h, plain, (size_t)s->length);
        qp_sha256_final(&h, d);
        hex(d, hx);
        if (strcmp(hx, s->sha256)) {
            return fail(msg, cap, QP_ERR_CHECKSUM, "section '%s' at offset %llu: checksum mismatch", name,
                        (unsigned long long)s->offset);
        }
        s->verified = 1;
    }
    *data = plain;
    *length = (size_t)s->length;
    return QP_OK;
}
