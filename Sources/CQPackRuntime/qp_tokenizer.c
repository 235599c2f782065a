/* WordPiece and byte-level BPE, step for step as Hugging Face `tokenizers` runs them
 * (qp_tokenizer.h). Character properties come from qp_unicode_tables.c. */
#include "qp_tokenizer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qp_unicode.h"

enum { PRE_NONE = 0, PRE_SMOLLM = 1, PRE_GPT2 = 2 };
enum { MAX_WORD_CHARACTERS = 100 }; /* WordPiece's max_input_chars_per_word */
static const char *const WORDPIECE_SPECIALS[] = {"[CLS]", "[SEP]", "[UNK]", "[PAD]", "[MASK]"};
enum { WORDPIECE_SPECIAL_COUNT = 5 };

typedef struct span {
    uint32_t offset, length;
} span;

typedef struct merge_slot {
    uint64_t key; /* ((left << 32) | right) + 1; 0 marks an empty slot */
    uint32_t rank;
    int32_t merged;
} merge_slot;

struct qp_tokenizer {
    qp_tokenizer_type type;
    char *pool; /* every token's bytes */
    span *tokens;
    size_t vocab;
    int32_t *slots; /* string -> id, open addressing, -1 empty */
    size_t slot_mask;
    qp_tokenizer_specials specials;
    /* WordPiece */
    int lower_case;
    int32_t wordpiece_special_ids[WORDPIECE_SPECIAL_COUNT];
    /* BPE */
    int pre;
    char unsupported[200];
    int32_t byte_ids[256];
    merge_slot *merges;
    size_t merge_mask;
    int32_t *types;
};

static void say(char *message, size_t size, const char *format, ...) {
    if (!message || size == 0) return;
    va_list args;
    va_start(args, format);
    vsnprintf(message, size, format, args);
    va_end(args);
}

/* ---- growable arrays ---- */

typedef struct u32_vec {
    uint32_t *data;
    size_t count, capacity;
} u32_vec;

static int u32_push(u32_vec *v, uint32_t x) {
    if (v->count == v->capacity) {
        size_t capacity = v->capacity ? v->capacity * 2 : 64;
        if (capacity > SIZE_MAX / sizeof(uint32_t)) return 0;
        uint32_t *data = realloc(v->data, capacity * sizeof(uint32_t));
        if (!data) return 0;
        v->data = data;
        v->capacity = capacity;
    }
    v->data[v->count++] = x;
    return 1;
}

typedef struct id_vec {
    int32_t *data;
    size_t count, capacity;
} id_vec;

static int id_push(id_vec *v, int32_t x) {
    if (v->count == v->capacity) {
        size_t capacity = v->capacity ? v->capacity * 2 : 64;
        if (capacity > SIZE_MAX / sizeof(int32_t)) return 0;
        int32_t *data = realloc(v->data, capacity * sizeof(int32_t));
        if (!data) return 0;
        v->data = data;
        v->capacity = capacity;
    }
    v->data[v->count++] = x;
    return 1;
}

/* ---- UTF-8 ---- */

/* Decodes one strict UTF-8 character at s[*at], advancing *at; 0 when invalid. */
static int utf8_next(const uint8_t *s, size_t n, size_t *at, uint32_t *cp) {
    size_t i = *at;
    uint8_t b = s[i];
    uint32_t c, min;
    size_t extra;
    if (b < 0x80) {
        *cp = b;
        *at = i + 1;
        return 1;
    } else if ((b & 0xE0) == 0xC0)
        c = b & 0x1F, extra = 1, min = 0x80;
    else if ((b & 0xF0) == 0xE0)
        c = b & 0x0F, extra = 2, min = 0x800;
    else if ((b & 0xF8) == 0xF0)
        c = b & 0x07, extra = 3, min = 0x10000;
    else
        return 0;
    if (n - i <= extra) return 0;
    for (size_t k = 1; k <= extra; k++) {
        if ((s[i + k] & 0xC0) != 0x80) return 0;
        c = (c << 6) | (s[i + k] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c < 0xE000)) return 0;
    *cp = c;
    *at = i + 1 + extra;
    return 1;
}

static size_t utf8_put(uint32_t cp, char out[4]) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static int utf8_valid(const uint8_t *s, size_t n, size_t *bad) {
    size_t at = 0;
    uint32_t cp;
    while (at < n)
        if (!utf8_next(s, n, &at, &cp)) {
            *bad = at;
            return 0;
        }
    return 1;
}

/* Code points of valid UTF-8 text and each one's byte offset (offsets[count] = n). */
static qp_status decode_text(const char *text, size_t n, u32_vec *cps, u32_vec *offsets, char *message, size_t size) {
    const uint8_t *s = (const uint8_t *)text;
    size_t at = 0;
    if (n > UINT32_MAX) {
        say(message, size, "text of %zu bytes is longer than 4 GiB", n);
        return QP_ERR_LIMIT;
    }
    while (at < n) {
        uint32_t cp;
        size_t start = at;
        if (!utf8_next(s, n, &at, &cp)) {
            say(message, size, "text is not valid UTF-8 at byte %zu", start);
            return QP_ERR_FORMAT;
        }
        if (!u32_push(cps, cp) || (offsets && !u32_push(offsets, (uint32_t)start))) return QP_ERR_NOMEM;
    }
    if (offsets && !u32_push(offsets, (uint32_t)n)) return QP_ERR_NOMEM;
    return QP_OK;
}

/* ---- vocabulary: string -> id (FNV-1a, open addressing; a later duplicate wins, as in a dict) ---- */

static uint64_t hash_bytes(const void *a, size_t na, const void *b, size_t nb) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < na; i++) h = (h ^ ((const uint8_t *)a)[i]) * 1099511628211ull;
    for (size_t i = 0; i < nb; i++) h = (h ^ ((const uint8_t *)b)[i]) * 1099511628211ull;
    return h;
}

/* Id of the concatenation a + b, or -1. */
static int32_t lookup2(const qp_tokenizer *t, const char *a, size_t na, const char *b, size_t nb) {
    for (size_t i = (size_t)hash_bytes(a, na, b, nb) & t->slot_mask;; i = (i + 1) & t->slot_mask) {
        int32_t id = t->slots[i];
        if (id < 0) return -1;
        const span *s = &t->tokens[id];
        if (s->length == na + nb && memcmp(t->pool + s->offset, a, na) == 0 &&
            memcmp(t->pool + s->offset + na, b, nb) == 0)
            return id;
    }
}

static int32_t lookup(const qp_tokenizer *t, const char *a, size_t na) { return lookup2(t, a, na, "", 0); }

static qp_status index_vocabulary(qp_tokenizer *t) {
    size_t slots = 16;
    while (slots < t->vocab * 2) {
        if (slots > SIZE_MAX / 4 / sizeof(int32_t)) return QP_ERR_LIMIT;
        slots *= 2;
    }
    t->slots = malloc(slots * sizeof(int32_t));
    if (!t->slots) return QP_ERR_NOMEM;
    memset(t->slots, 0xFF, slots * sizeof(int32_t));
    t->slot_mask = slots - 1;
    for (size_t id = 0; id < t->vocab; id++) {
        const char *s = t->pool + t->tokens[id].offset;
        size_t n = t->tokens[id].length;
        for (size_t i = (size_t)hash_bytes(s, n, "", 0) & t->slot_mask;; i = (i + 1) & t->slot_mask) {
            int32_t other = t->slots[i];
            if (other < 0 || (t->tokens[other].length == n && memcmp(t->pool + t->tokens[other].offset, s, n) == 0)) {
                t->slots[i] = (int32_t)id;
                break;
            }
        }
    }
    return QP_OK;
}

static qp_tokenizer *new_tokenizer(qp_tokenizer_type type) {
    qp_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->type = type;
    t->specials = (qp_tokenizer_specials){-1, -1, -1, -1, -1, -1, -1, 0, 0};
    for (int i = 0; i < WORDPIECE_SPECIAL_COUNT; i++) t->wordpiece_special_ids[i] = -1;
    return t;
}

void qp_tokenizer_free(qp_tokenizer *t) {
    if (!t) return;
    free(t->pool);
    free(t->tokens);
    free(t->slots);
    free(t->merges);
    free(t->types);
    free(t);
}

/* ---- WordPiece ---- */

qp_status qp_tokenizer_create_wordpiece(const char *vocab, size_t length, int lower_case, qp_tokenizer **out,
                                        char *message, size_t message_size) {
    if (!out || (!vocab && length)) return QP_ERR_ARGUMENT;
    *out = NULL;
    if (length >= UINT32_MAX) {
        say(message, message_size, "vocabulary of %zu bytes is too large", length);
        return QP_ERR_LIMIT;
    }
    qp_tokenizer *t = new_tokenizer(QP_TOKENIZER_WORDPIECE);
    if (!t) return QP_ERR_NOMEM;
    t->lower_case = lower_case != 0;
    size_t lines = 0;
    for (size_t i = 0; i < length; i++) lines += vocab[i] == '\n';
    if (length && vocab[length - 1] != '\n') lines++;
    t->pool = malloc(length ? length : 1);
    t->tokens = calloc(lines ? lines : 1, sizeof(span));
    if (!t->pool || !t->tokens) {
        qp_tokenizer_free(t);
        return QP_ERR_NOMEM;
    }
    if (length) memcpy(t->pool, vocab, length);
    size_t start = 0, line = 0;
    while (start < length) {
        const char *end = memchr(vocab + start, '\n', length - start);
        size_t stop = end ? (size_t)(end - vocab) : length, n = stop - start, bad;
        if (!utf8_valid((const uint8_t *)vocab + start, n, &bad)) {
            say(message, message_size, "vocabulary line %zu (byte %zu) is not valid UTF-8", line + 1, start + bad);
            qp_tokenizer_free(t);
            return QP_ERR_FORMAT;
        }
        /* `tokenizers` reads each line with trailing whitespace trimmed. */
        while (n > 0) {
            size_t last = start + n - 1, at;
            while (last > start && ((unsigned char)vocab[last] & 0xC0) == 0x80) last--;
            uint32_t cp = 0;
            at = last;
            utf8_next((const uint8_t *)vocab, start + n, &at, &cp);
            if (!(qp_unicode_flags(cp) & QP_UC_WHITESPACE)) break;
            n = last - start;
        }
        t->tokens[line++] = (span){(uint32_t)start, (uint32_t)n};
        start = stop + 1;
    }
    t->vocab = line;
    qp_status s = index_vocabulary(t);
    if (s != QP_OK) {
        qp_tokenizer_free(t);
        return s;
    }
    for (int i = 0; i < WORDPIECE_SPECIAL_COUNT; i++)
        t->wordpiece_special_ids[i] = lookup(t, WORDPIECE_SPECIALS[i], strlen(WORDPIECE_SPECIALS[i]));
    t->specials.cls = t->wordpiece_special_ids[0];
    t->specials.sep = t->wordpiece_special_ids[1];
    t->specials.unknown = t->wordpiece_special_ids[2];
    t->specials.padding = t->wordpiece_special_ids[3];
    t->specials.mask = t->wordpiece_special_ids[4];
    if (t->specials.cls < 0 || t->specials.sep < 0 || t->specials.unknown < 0) {
        say(message, message_size, "vocabulary lacks %s",
            t->specials.cls < 0   ? "[CLS]"
            : t->specials.sep < 0 ? "[SEP]"
                                  : "[UNK]");
        qp_tokenizer_free(t);
        return QP_ERR_FORMAT;
    }
    *out = t;
    return QP_OK;
}

/* BertNormalizer: clean text, spaces around CJK, then (uncased) NFD with canonical ordering,
 * nonspacing marks dropped, lower case. */
static int bert_normalize(const qp_tokenizer *t, const uint32_t *cps, size_t n, u32_vec *out) {
    u32_vec cleaned = {0};
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++) {
        uint32_t c = cps[i], f = qp_unicode_flags(c);
        if (f & QP_UC_BERT_DROP) continue;
        if (f & QP_UC_BERT_SPACE)
            ok = u32_push(&cleaned, ' ');
        else if (f & QP_UC_CJK)
            ok = u32_push(&cleaned, ' ') && u32_push(&cleaned, c) && u32_push(&cleaned, ' ');
        else
            ok = u32_push(&cleaned, c);
    }
    if (!ok || !t->lower_case) {
        *out = cleaned;
        return ok;
    }
    u32_vec nfd = {0};
    for (size_t i = 0; i < cleaned.count && ok; i++) {
        uint32_t d[4];
        size_t k = qp_unicode_decompose(cleaned.data[i], d);
        for (size_t j = 0; j < k && ok; j++) ok = u32_push(&nfd, d[j]);
    }
    free(cleaned.data);
    /* Canonical ordering: a stable sort of each run of non-starters by combining class. */
    for (size_t i = 1; ok && i < nfd.count; i++) {
        uint32_t c = nfd.data[i], cc = qp_unicode_combining(c);
        if (cc == 0) continue;
        size_t j = i;
        while (j > 0) {
            uint32_t prev = qp_unicode_combining(nfd.data[j - 1]);
            if (prev == 0 || prev <= cc) break;
            nfd.data[j] = nfd.data[j - 1];
            j--;
        }
        nfd.data[j] = c;
    }
    for (size_t i = 0; i < nfd.count && ok; i++) {
        uint32_t c = nfd.data[i], low[3];
        if (qp_unicode_flags(c) & QP_UC_MARK_NONSPACING) continue;
        size_t k = qp_unicode_lowercase(c, low);
        for (size_t j = 0; j < k && ok; j++) ok = u32_push(out, low[j]);
    }
    free(nfd.data);
    return ok;
}

/* Greedy longest-match WordPiece of one word (code points), appending ids. */
static int wordpiece_word(const qp_tokenizer *t, const uint32_t *word, size_t n, id_vec *ids) {
    if (n > MAX_WORD_CHARACTERS) return id_push(ids, t->specials.unknown);
    char bytes[MAX_WORD_CHARACTERS * 4];
    size_t offsets[MAX_WORD_CHARACTERS + 1], at = 0;
    for (size_t i = 0; i < n; i++) {
        offsets[i] = at;
        at += utf8_put(word[i], bytes + at);
    }
    offsets[n] = at;
    size_t first = ids->count, start = 0;
    while (start < n) {
        int32_t found = -1;
        size_t end = n;
        for (; end > start; end--) {
            const char *piece = bytes + offsets[start];
            size_t length = offsets[end] - offsets[start];
            found = start > 0 ? lookup2(t, "##", 2, piece, length) : lookup(t, piece, length);
            if (found >= 0) break;
        }
        if (found < 0) {
            ids->count = first;
            return id_push(ids, t->specials.unknown);
        }
        if (!id_push(ids, found)) return 0;
        start = end;
    }
    return 1;
}

/* BertPreTokenizer over normalized text, then WordPiece per word. */
static int wordpiece_segment(const qp_tokenizer *t, const uint32_t *cps, size_t n, id_vec *ids) {
    u32_vec normal = {0};
    if (!bert_normalize(t, cps, n, &normal)) {
        free(normal.data);
        return 0;
    }
    int ok = 1;
    size_t start = 0;
    for (size_t i = 0; i <= normal.count && ok; i++) {
        uint32_t f = i < normal.count ? qp_unicode_flags(normal.data[i]) : QP_UC_WHITESPACE;
        int space = (f & QP_UC_WHITESPACE) || (i < normal.count && normal.data[i] == ' ');
        if (!space && !(f & QP_UC_BERT_PUNCT)) continue;
        if (i > start) ok = wordpiece_word(t, normal.data + start, i - start, ids);
        if (ok && !space) ok = wordpiece_word(t, normal.data + i, 1, ids);
        start = i + 1;
    }
    free(normal.data);
    return ok;
}

/* Which WordPiece special token (written literally) starts at cps[i]: its index and length, or -1. */
static int wordpiece_special_at(const qp_tokenizer *t, const uint32_t *cps, size_t n, size_t i, size_t *length) {
    int best = -1;
    size_t best_length = 0;
    for (int s = 0; s < WORDPIECE_SPECIAL_COUNT; s++) {
        if (t->wordpiece_special_ids[s] < 0) continue;
        const char *name = WORDPIECE_SPECIALS[s];
        size_t k = strlen(name), j = 0;
        while (j < k && i + j < n && cps[i + j] == (uint32_t)(unsigned char)name[j]) j++;
        if (j == k && k > best_length) best = s, best_length = k;
    }
    *length = best_length;
    return best;
}

static int wordpiece_encode(const qp_tokenizer *t, const uint32_t *cps, size_t n, unsigned flags, id_vec *ids) {
    if ((flags & QP_ENCODE_SPECIAL) && !id_push(ids, t->specials.cls)) return 0;
    size_t segment = 0;
    for (size_t i = 0; i < n;) {
        size_t length;
        int s = cps[i] == '[' ? wordpiece_special_at(t, cps, n, i, &length) : -1;
        if (s < 0) {
            i++;
            continue;
        }
        if (!wordpiece_segment(t, cps + segment, i - segment, ids) || !id_push(ids, t->wordpiece_special_ids[s]))
            return 0;
        i += length;
        segment = i;
    }
    if (!wordpiece_segment(t, cps + segment, n - segment, ids)) return 0;
    return !(flags & QP_ENCODE_SPECIAL) || id_push(ids, t->specials.sep);
}

/* ---- byte-level BPE ---- */

/* GPT-2's byte -> printable character table: bytes that are printable stay, the others map to
 * 256, 257, ... in order. */
static uint32_t byte_character(unsigned b) {
    if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255)) return b;
    unsigned n = 0;
    for (unsigned x = 0; x < b; x++)
        if (!((x >= 33 && x <= 126) || (x >= 161 && x <= 172) || (x >= 174 && x <= 255))) n++;
    return 256 + n;
}

/* The byte a GPT-2 character stands for, or -1. */
static int character_byte(uint32_t cp) {
    if ((cp >= 33 && cp <= 126) || (cp >= 161 && cp <= 172) || (cp >= 174 && cp <= 255)) return (int)cp;
    if (cp < 256 || cp >= 256 + 68) return -1;
    for (unsigned b = 0; b < 256; b++)
        if (byte_character(b) == cp) return (int)b;
    return -1;
}

static uint64_t merge_key(int32_t left, int32_t right) {
    return (((uint64_t)(uint32_t)left << 32) | (uint32_t)right) + 1;
}

static size_t merge_hash(uint64_t key) { return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20); }

static const merge_slot *find_merge(const qp_tokenizer *t, int32_t left, int32_t right) {
    if (!t->merges) return NULL;
    uint64_t key = merge_key(left, right);
    for (size_t i = merge_hash(key) & t->merge_mask;; i = (i + 1) & t->merge_mask) {
        if (t->merges[i].key == 0) return NULL;
        if (t->merges[i].key == key) return &t->merges[i];
    }
}

/* Splits a section of u32-length-prefixed strings into spans over it; *count strings. */
static qp_status read_strings(const char *what, const uint8_t *data, size_t length, span **out, size_t *count,
                              char *message, size_t size) {
    size_t n = 0, at = 0;
    while (at < length) {
        if (length - at < 4) {
            say(message, size, "%s: entry %zu at byte %zu: truncated length", what, n, at);
            return QP_ERR_FORMAT;
        }
        uint32_t k = (uint32_t)data[at] | (uint32_t)data[at + 1] << 8 | (uint32_t)data[at + 2] << 16 |
                     (uint32_t)data[at + 3] << 24;
        if (k > length - at - 4) {
            say(message, size, "%s: entry %zu at byte %zu: length %u runs past the end (%zu bytes)", what, n, at, k,
                length);
            return QP_ERR_FORMAT;
        }
        size_t bad;
        if (!utf8_valid(data + at + 4, k, &bad)) {
            say(message, size, "%s: entry %zu at byte %zu is not valid UTF-8", what, n, at + 4 + bad);
            return QP_ERR_FORMAT;
        }
        at += 4 + (size_t)k;
        n++;
    }
    if (length > UINT32_MAX) {
        say(message, size, "%s: %zu bytes is too large", what, length);
        return QP_ERR_LIMIT;
    }
    span *spans = calloc(n ? n : 1, sizeof(span));
    if (!spans) return QP_ERR_NOMEM;
    at = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t k = (uint32_t)data[at] | (uint32_t)data[at + 1] << 8 | (uint32_t)data[at + 2] << 16 |
                     (uint32_t)data[at + 3] << 24;
        spans[i] = (span){(uint32_t)(at + 4), k};
        at += 4 + (size_t)k;
    }
    *out = spans;
    *count = n;
    return QP_OK;
}

static qp_status index_merges(qp_tokenizer *t, const uint8_t *merges, size_t length, char *message, size_t size) {
    span *list = NULL;
    size_t count = 0;
    qp_status s = read_strings("tokenizer.merges", merges, length, &list, &count, message, size);
    if (s != QP_OK) return s;
    size_t slots = 16;
    while (slots < count * 2) slots *= 2;
    t->merges = calloc(slots, sizeof(merge_slot));
    if (!t->merges) {
        free(list);
        return QP_ERR_NOMEM;
    }
    t->merge_mask = slots - 1;
    for (size_t rank = 0; rank < count && rank < UINT32_MAX; rank++) {
        const char *m = (const char *)merges + list[rank].offset;
        const char *space = memchr(m, ' ', list[rank].length);
        if (!space) continue; /* not "left right": no pair to merge */
        size_t nl = (size_t)(space - m), nr = list[rank].length - nl - 1;
        int32_t left = lookup(t, m, nl), right = lookup(t, space + 1, nr), merged = lookup2(t, m, nl, space + 1, nr);
        if (left < 0 || right < 0 || merged < 0) continue; /* a merge outside the vocabulary never applies */
        uint64_t key = merge_key(left, right);
        for (size_t i = merge_hash(key) & t->merge_mask;; i = (i + 1) & t->merge_mask) {
            if (t->merges[i].key == 0 || t->merges[i].key == key) {
                t->merges[i] = (merge_slot){key, (uint32_t)rank, merged}; /* a later duplicate wins */
                break;
            }
        }
    }
    free(list);
    return QP_OK;
}

qp_status qp_tokenizer_create_bpe(const uint8_t *tokens, size_t tokens_length, const uint8_t *merges,
                                  size_t merges_length, const int32_t *token_types, size_t token_type_count,
                                  const char *pre, const qp_tokenizer_specials *specials, qp_tokenizer **out,
                                  char *message, size_t message_size) {
    if (!out || (!tokens && tokens_length) || (!merges && merges_length)) return QP_ERR_ARGUMENT;
    *out = NULL;
    qp_tokenizer *t = new_tokenizer(QP_TOKENIZER_BPE);
    if (!t) return QP_ERR_NOMEM;
    qp_status s = read_strings("tokenizer.tokens", tokens, tokens_length, &t->tokens, &t->vocab, message, message_size);
    if (s == QP_OK && t->vocab > INT32_MAX) {
        say(message, message_size, "tokenizer.tokens: %zu tokens is more than ids can number", t->vocab);
        s = QP_ERR_LIMIT;
    }
    if (s == QP_OK && !(t->pool = malloc(tokens_length ? tokens_length : 1))) s = QP_ERR_NOMEM;
    if (s == QP_OK) {
        if (tokens_length) memcpy(t->pool, tokens, tokens_length);
        s = index_vocabulary(t);
    }
    if (s == QP_OK && merges) s = index_merges(t, merges, merges_length, message, message_size);
    if (s == QP_OK && token_types && token_type_count != t->vocab) {
        say(message, message_size, "tokenizer.token_types: %zu values for %zu tokens", token_type_count, t->vocab);
        s = QP_ERR_FORMAT;
    }
    if (s == QP_OK && token_types) {
        if (!(t->types = malloc((t->vocab ? t->vocab : 1) * sizeof(int32_t))))
            s = QP_ERR_NOMEM;
        else if (t->vocab)
            memcpy(t->types, token_types, t->vocab * sizeof(int32_t));
    }
    if (s != QP_OK) {
        qp_tokenizer_free(t);
        return s;
    }
    if (specials) {
        t->specials = *specials;
        t->specials.cls = t->specials.sep = t->specials.mask = -1;
        int32_t *ids[] = {&t->specials.bos, &t->specials.eos, &t->specials.unknown, &t->specials.padding};
        for (int i = 0; i < 4; i++)
            if (*ids[i] < -1 || *ids[i] >= (int64_t)t->vocab) *ids[i] = -1;
    }
    for (unsigned b = 0; b < 256; b++) {
        char c[4];
        t->byte_ids[b] = lookup(t, c, utf8_put(byte_character(b), c));
    }
    if (pre && strcmp(pre, "smollm") == 0)
        t->pre = PRE_SMOLLM;
    else if (pre && strcmp(pre, "gpt2") == 0)
        t->pre = PRE_GPT2;
    else
        snprintf(t->unsupported, sizeof t->unsupported,
                 "pre-tokenizer '%.80s' is not supported (smollm and gpt2 are); give token ids instead of text",
                 pre ? pre : "(none)");
    *out = t;
    return QP_OK;
}

/* Whether a character is in the regex class k: 0 \p{L}, 1 \p{N}, 2 [^\s\p{L}\p{N}]. */
static int in_class(uint32_t cp, int k) {
    uint32_t f = qp_unicode_flags(cp);
    if (k == 0) return (f & QP_UC_LETTER) != 0;
    if (k == 1) return (f & QP_UC_NUMBER) != 0;
    return (f & (QP_UC_LETTER | QP_UC_NUMBER | QP_UC_REGEX_SPACE)) == 0;
}

/* Length in code points of GPT-2's regex match at cps[i] (the leftmost alternative wins):
 * 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
static size_t gpt2_match(const uint32_t *cps, size_t n, size_t i) {
    if (cps[i] == '\'' && i + 1 < n) {
        uint32_t a = cps[i + 1], b = i + 2 < n ? cps[i + 2] : 0;
        if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
    }
    for (int k = 0; k < 3; k++) {
        size_t j = cps[i] == ' ' && i + 1 < n && in_class(cps[i + 1], k) ? i + 1 : i;
        if (!in_class(cps[j], k)) continue;
        size_t e = j;
        while (e < n && in_class(cps[e], k)) e++;
        return e - i;
    }
    /* Whitespace (the only class left): the run, less its last character when more text follows
     * it (\s+(?!\S)), or a lone space before text (\s+). */
    size_t e = i + 1;
    while (e < n && (qp_unicode_flags(cps[e]) & QP_UC_REGEX_SPACE)) e++;
    return e < n && e - i >= 2 ? e - i - 1 : e - i;
}

typedef struct bpe_symbol {
    int32_t id;
    int32_t prev, next; /* -1: none */
    int alive;
} bpe_symbol;

typedef struct bpe_merge {
    uint32_t rank;
    int32_t pos, merged;
} bpe_merge;

static int merge_before(bpe_merge a, bpe_merge b) { return a.rank != b.rank ? a.rank < b.rank : a.pos < b.pos; }

typedef struct bpe_scratch {
    bpe_symbol *symbols;
    bpe_merge *heap;
    size_t symbol_capacity, heap_count, heap_capacity;
} bpe_scratch;

static int heap_push(bpe_scratch *w, bpe_merge m) {
    if (w->heap_count == w->heap_capacity) {
        size_t capacity = w->heap_capacity ? w->heap_capacity * 2 : 64;
        bpe_merge *heap = realloc(w->heap, capacity * sizeof(bpe_merge));
        if (!heap) return 0;
        w->heap = heap;
        w->heap_capacity = capacity;
    }
    size_t i = w->heap_count++;
    while (i > 0 && merge_before(m, w->heap[(i - 1) / 2])) {
        w->heap[i] = w->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    w->heap[i] = m;
    return 1;
}

static bpe_merge heap_pop(bpe_scratch *w) {
    bpe_merge top = w->heap[0], last = w->heap[--w->heap_count];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= w->heap_count) break;
        if (c + 1 < w->heap_count && merge_before(w->heap[c + 1], w->heap[c])) c++;
        if (!merge_before(w->heap[c], last)) break;
        w->heap[i] = w->heap[c];
        i = c;
    }
    if (w->heap_count) w->heap[i] = last;
    return top;
}

static int push_pair(const qp_tokenizer *t, bpe_scratch *w, int32_t pos) {
    const bpe_symbol *a = &w->symbols[pos];
    if (a->next < 0) return 1;
    const merge_slot *m = find_merge(t, a->id, w->symbols[a->next].id);
    return !m || heap_push(w, (bpe_merge){m->rank, pos, m->merged});
}

/* BPE of one pre-tokenized word's bytes: each byte's character a symbol, then the lowest-ranked
 * adjacent pair (leftmost on ties) merged until none is in the merges. */
static int bpe_word(const qp_tokenizer *t, const uint8_t *bytes, size_t n, bpe_scratch *w, id_vec *ids) {
    if (n > INT32_MAX / 4) return 0;
    if (n > w->symbol_capacity) {
        bpe_symbol *symbols = realloc(w->symbols, n * sizeof(bpe_symbol));
        if (!symbols) return 0;
        w->symbols = symbols;
        w->symbol_capacity = n;
    }
    int32_t count = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t id = t->byte_ids[bytes[i]];
        if (id < 0) continue; /* no token for the byte and no unknown token: dropped, as in `tokenizers` */
        w->symbols[count] = (bpe_symbol){id, count - 1, -1, 1};
        if (count > 0) w->symbols[count - 1].next = count;
        count++;
    }
    w->heap_count = 0;
    for (int32_t i = 0; i + 1 < count; i++)
        if (!push_pair(t, w, i)) return 0;
    while (w->heap_count) {
        bpe_merge top = heap_pop(w);
        bpe_symbol *a = &w->symbols[top.pos];
        if (!a->alive || a->next < 0) continue;
        bpe_symbol *b = &w->symbols[a->next];
        const merge_slot *m = find_merge(t, a->id, b->id);
        if (!m || m->merged != top.merged) continue; /* stale: a neighbour merged since */
        a->id = top.merged;
        b->alive = 0;
        a->next = b->next;
        if (a->next >= 0) w->symbols[a->next].prev = top.pos;
        if ((a->prev >= 0 && !push_pair(t, w, a->prev)) || !push_pair(t, w, top.pos)) return 0;
    }
    for (int32_t i = 0; i < count; i = w->symbols[i].next < 0 ? count : w->symbols[i].next)
        if (!id_push(ids, w->symbols[i].id)) return 0;
    return 1;
}

static int bpe_encode(const qp_tokenizer *t, const char *text, const uint32_t *cps, const uint32_t *offsets, size_t n,
                      unsigned flags, id_vec *ids) {
    int ok = 1;
    bpe_scratch w = {0};
    if ((flags & QP_ENCODE_SPECIAL) && t->specials.add_bos && t->specials.bos >= 0) ok = id_push(ids, t->specials.bos);
    size_t piece = 0;
    while (ok && piece < n) {
        /* smollm: every numeric character is a piece of its own (Digits(individual_digits)). */
        size_t end = piece + 1;
        if (t->pre != PRE_SMOLLM)
            end = n;
        else if (!(qp_unicode_flags(cps[piece]) & QP_UC_NUMERIC))
            while (end < n && !(qp_unicode_flags(cps[end]) & QP_UC_NUMERIC)) end++;
        for (size_t i = piece; ok && i < end;) {
            size_t k = gpt2_match(cps + piece, end - piece, i - piece);
            ok = bpe_word(t, (const uint8_t *)text + offsets[i], offsets[i + k] - offsets[i], &w, ids);
            i += k;
        }
        piece = end;
    }
    if (ok && (flags & QP_ENCODE_SPECIAL) && t->specials.add_eos && t->specials.eos >= 0)
        ok = id_push(ids, t->specials.eos);
    free(w.symbols);
    free(w.heap);
    return ok;
}

/* ---- public entry points ---- */

qp_tokenizer_type qp_tokenizer_kind(const qp_tokenizer *t) { return t->type; }
size_t qp_tokenizer_vocab_size(const qp_tokenizer *t) { return t->vocab; }
void qp_tokenizer_special_ids(const qp_tokenizer *t, qp_tokenizer_specials *specials) { *specials = t->specials; }

const char *qp_tokenizer_token(const qp_tokenizer *t, int32_t id, size_t *length) {
    if (!t || id < 0 || (size_t)id >= t->vocab) return NULL;
    if (length) *length = t->tokens[id].length;
    return t->pool + t->tokens[id].offset;
}

const char *qp_tokenizer_text_unsupported(const qp_tokenizer *t) {
    return t->type == QP_TOKENIZER_BPE && t->pre == PRE_NONE ? t->unsupported : NULL;
}

qp_status qp_tokenizer_encode(const qp_tokenizer *t, const char *text, size_t length, unsigned flags, int32_t *ids,
                              size_t capacity, size_t *count, char *message, size_t message_size) {
    if (!t || (!text && length) || !count || (!ids && capacity)) return QP_ERR_ARGUMENT;
    *count = 0;
    const char *why = qp_tokenizer_text_unsupported(t);
    if (why) {
        say(message, message_size, "%s", why);
        return QP_ERR_UNSUPPORTED;
    }
    u32_vec cps = {0}, offsets = {0};
    id_vec out = {0};
    qp_status s = decode_text(text, length, &cps, t->type == QP_TOKENIZER_BPE ? &offsets : NULL, message, message_size);
    if (s == QP_OK) {
        int ok = t->type == QP_TOKENIZER_WORDPIECE
                     ? wordpiece_encode(t, cps.data, cps.count, flags, &out)
                     : bpe_encode(t, text, cps.data, offsets.data, cps.count, flags, &out);
        if (!ok) s = QP_ERR_NOMEM;
    }
    if (s == QP_OK) {
        *count = out.count;
        if (out.count > capacity) {
            say(message, message_size, "%zu ids do not fit in %zu", out.count, capacity);
            s = QP_ERR_LIMIT;
        } else if (out.count)
            memcpy(ids, out.data, out.count * sizeof(int32_t));
    }
    free(cps.data);
    free(offsets.data);
    free(out.data);
    return s;
}

/* Appends bytes to a bounded output, counting what does not fit. */
typedef struct text_out {
    char *data;
    size_t capacity, length;
} text_out;

static void put(text_out *o, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++, o->length++)
        if (o->length < o->capacity) o->data[o->length] = s[i];
}

static int is_wordpiece_special(const qp_tokenizer *t, int32_t id) {
    for (int i = 0; i < WORDPIECE_SPECIAL_COUNT; i++)
        if (t->wordpiece_special_ids[i] == id) return 1;
    return 0;
}

/* The WordPiece decoder's cleanup, applied to each token's text (as `tokenizers` does). */
static size_t wordpiece_cleanup(char *s, size_t n) {
    static const char *const from[] = {" .", " ?", " !", " ,", " ' ", " n't", " 'm", " do not", " 's", " 've", " 're"};
    static const char *const to[] = {".", "?", "!", ",", "'", "n't", "'m", " don't", "'s", "'ve", "'re"};
    for (size_t r = 0; r < sizeof from / sizeof from[0]; r++) {
        size_t nf = strlen(from[r]), nt = strlen(to[r]), w = 0;
        for (size_t i = 0; i < n;) {
            if (n - i >= nf && memcmp(s + i, from[r], nf) == 0) { /* replacements never lengthen */
                memmove(s + w, to[r], nt);
                w += nt;
                i += nf;
            } else
                s[w++] = s[i++];
        }
        n = w;
    }
    return n;
}

qp_status qp_tokenizer_decode(const qp_tokenizer *t, const int32_t *ids, size_t count, unsigned flags, char *text,
                              size_t capacity, size_t *length) {
    if (!t || (!ids && count) || !length || (!text && capacity)) return QP_ERR_ARGUMENT;
    *length = 0;
    for (size_t i = 0; i < count; i++)
        if (ids[i] < 0 || (size_t)ids[i] >= t->vocab) return QP_ERR_ARGUMENT;
    text_out o = {text, capacity, 0};
    size_t written = 0;
    for (size_t i = 0; i < count; i++) {
        int32_t id = ids[i];
        const char *s = t->pool + t->tokens[id].offset;
        size_t n = t->tokens[id].length;
        if (t->type == QP_TOKENIZER_WORDPIECE) {
            if ((flags & QP_DECODE_SKIP_SPECIAL) && is_wordpiece_special(t, id)) continue;
            char piece[1024];
            size_t k = 0;
            if (n >= 2 && s[0] == '#' && s[1] == '#')
                s += 2, n -= 2;
            else if (written > 0)
                piece[k++] = ' ';
            written++;
            if (n > sizeof piece - 1) { /* longer than any cleanup pattern can matter for: as is */
                put(&o, piece, k);
                put(&o, s, n);
                continue;
            }
            memcpy(piece + k, s, n);
            put(&o, piece, wordpiece_cleanup(piece, k + n));
            continue;
        }
        if ((flags & QP_DECODE_SKIP_SPECIAL) &&
            (t->types ? t->types[id] == 3
                      : (id == t->specials.bos || id == t->specials.eos || id == t->specials.padding)))
            continue;
        /* A token whose every character is a byte character gives those bytes; any other token
         * gives its own UTF-8 (the ByteLevel decoder). Tokens were validated as UTF-8. */
        size_t at = 0;
        int mapped = 1;
        while (at < n && mapped) {
            uint32_t cp;
            utf8_next((const uint8_t *)s, n, &at, &cp);
            mapped = character_byte(cp) >= 0;
        }
        if (!mapped) {
            put(&o, s, n);
            continue;
        }
        for (at = 0; at < n;) {
            uint32_t cp;
            utf8_next((const uint8_t *)s, n, &at, &cp);
            char b = (char)character_byte(cp);
            put(&o, &b, 1);
        }
    }
    *length = o.length;
    return o.length > capacity ? QP_ERR_LIMIT : QP_OK;
}
