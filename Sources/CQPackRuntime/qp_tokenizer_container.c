/* A container's tokenizer (Formats/qpack-container.md §4.8) as a qp_tokenizer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qp_tokenizer.h"

static qp_status section(qp_container *c, const char *key, const char *fallback, const uint8_t **data, size_t *length,
                         char *message, size_t size) {
    const char *name = fallback;
    qp_status s = qp_container_tokenizer_text(c, key, &name);
    if (s == QP_ERR_FORMAT) {
        snprintf(message ? message : (char[1]){0}, message ? size : 1, "tokenizer.%s is not a string", key);
        return s;
    }
    if (s == QP_ERR_NOT_FOUND) name = fallback;
    if (!name) return QP_ERR_NOT_FOUND;
    return qp_container_section(c, name, data, length, message, size);
}

static int32_t special(const qp_container *c, const char *key) {
    int64_t v;
    return qp_container_tokenizer_int(c, key, &v) == QP_OK && v >= 0 && v <= INT32_MAX ? (int32_t)v : -1;
}

qp_status qp_tokenizer_open(qp_container *c, qp_tokenizer **out, char *message, size_t size) {
    if (!c || !out) return QP_ERR_ARGUMENT;
    *out = NULL;
    char scratch[1];
    if (!message || size == 0) message = scratch, size = sizeof scratch;
    if (!qp_container_has_tokenizer(c)) {
        snprintf(message, size, "the file has no tokenizer");
        return QP_ERR_NOT_FOUND;
    }
    const char *type = NULL;
    if (qp_container_tokenizer_text(c, "type", &type) != QP_OK) {
        snprintf(message, size, "tokenizer.type is missing or not a string");
        return QP_ERR_FORMAT;
    }
    const uint8_t *data = NULL, *merges = NULL, *types = NULL;
    size_t length = 0, merges_length = 0, types_length = 0;
    qp_status s;
    if (strcmp(type, "wordpiece") == 0) {
        if ((s = section(c, "vocab_section", "tokenizer.vocab", &data, &length, message, size)) != QP_OK) return s;
        int lower = 1;
        if (qp_container_tokenizer_bool(c, "lower_case", &lower) == QP_ERR_FORMAT) {
            snprintf(message, size, "tokenizer.lower_case is not a boolean");
            return QP_ERR_FORMAT;
        }
        return qp_tokenizer_create_wordpiece((const char *)data, length, lower, out, message, size);
    }
    if (strcmp(type, "bpe") != 0) {
        snprintf(message, size, "tokenizer.type '%.40s' is not one the runtime runs (wordpiece, bpe)", type);
        return QP_ERR_UNSUPPORTED;
    }
    if ((s = section(c, "tokens_section", "tokenizer.tokens", &data, &length, message, size)) != QP_OK) return s;
    s = section(c, "merges_section", NULL, &merges, &merges_length, message, size);
    if (s != QP_OK && s != QP_ERR_NOT_FOUND) return s;
    s = section(c, "token_types_section", NULL, &types, &types_length, message, size);
    if (s != QP_OK && s != QP_ERR_NOT_FOUND) return s;
    int32_t *type_values = NULL;
    if (types) {
        if (types_length % 4) {
            snprintf(message, size, "tokenizer.token_types: %zu bytes is not a whole number of int32", types_length);
            return QP_ERR_FORMAT;
        }
        if (!(type_values = malloc(types_length ? types_length : 1))) return QP_ERR_NOMEM;
        for (size_t i = 0; i < types_length / 4; i++)
            type_values[i] = (int32_t)((uint32_t)types[4 * i] | (uint32_t)types[4 * i + 1] << 8 |
                                       (uint32_t)types[4 * i + 2] << 16 | (uint32_t)types[4 * i + 3] << 24);
    }
    const char *pre = NULL;
    qp_container_tokenizer_text(c, "pre", &pre);
    qp_tokenizer_specials specials = {special(c, "bos_token_id"),
                                      special(c, "eos_token_id"),
                                      special(c, "unknown_token_id"),
                                      special(c, "padding_token_id"),
                                      -1,
                                      -1,
                                      -1,
                                      0,
                                      0};
    if (qp_container_tokenizer_bool(c, "add_bos_token", &specials.add_bos) != QP_OK) specials.add_bos = 0;
    if (qp_container_tokenizer_bool(c, "add_eos_token", &specials.add_eos) != QP_OK) specials.add_eos = 0;
    s = qp_tokenizer_create_bpe(data, length, merges, merges_length, type_values, types_length / 4, pre, &specials, out,
                                message, size);
    free(type_values);
    return s;
}
