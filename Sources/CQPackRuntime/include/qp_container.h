#ifndef QP_CONTAINER_H
#define QP_CONTAINER_H

/* Loader for .qpack files (Formats/qpack-container.md). Never aborts, exits or reads out of
 * bounds on file content: every problem is a qp_status with a message naming the field and
 * byte offset. */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum qp_status {
    QP_OK = 0,
    QP_ERR_ARGUMENT = 1, /* API misuse */
    QP_ERR_IO = 2, /* cannot open, stat or map */
    QP_ERR_FORMAT = 3, /* the bytes break the format */
    QP_ERR_UNSUPPORTED = 4, /* another major version or a required feature */
    QP_ERR_CHECKSUM = 5, /* a SHA-256 or zstd checksum does not match */
    QP_ERR_LIMIT = 6, /* a count or size beyond the loader's limits */
    QP_ERR_NOMEM = 7,
    QP_ERR_NOT_FOUND = 8,
} qp_status;

const char *qp_status_string(qp_status s);

typedef struct qp_container qp_container;

typedef struct qp_tensor_info {
    const char *name;
    const char *scheme; /* "qsi4c32", "f16", ... */
    const char *layout; /* "qsi4c32p", ... or NULL for float and keep */
    const char *section;
    size_t rows, columns; /* matrix N x K, 0 when not a matrix */
    size_t nr, kr, sr, bl;
    size_t length; /* uncompressed section bytes */
    int activation_static; /* 1: quantize inputs with [activation_min, activation_max] */
    float activation_min, activation_max;
    /* Smoothing (static only): the section of `columns` little-endian float32 divisors to set
     * as qp_linear.activation_divisor, or NULL. */
    const char *activation_divisor_section;
    /* Container 1.1: the tensor's slot in its architecture's graph (NULL when absent) and block
     * index (-1: none). */
    const char *slot;
    int64_t layer;
} qp_tensor_info;

/* Opens and validates `path`. On failure *out is NULL and `message` (if given) says why. */
qp_status qp_container_open(const char *path, qp_container **out, char *message, size_t message_size);
/* Same over a caller-owned buffer (must outlive the container). */
qp_status qp_container_open_memory(const uint8_t *data, size_t size, qp_container **out, char *message,
                                   size_t message_size);
void qp_container_close(qp_container *c);

size_t qp_container_tensor_count(const qp_container *c);
qp_status qp_container_tensor(const qp_container *c, size_t index, qp_tensor_info *info);
qp_status qp_container_find_tensor(const qp_container *c, const char *name, qp_tensor_info *info);
/* A section's uncompressed bytes, checksum verified (decompressed once and kept). */
qp_status qp_container_section(qp_container *c, const char *name, const uint8_t **data, size_t *length, char *message,
                               size_t message_size);
/* Sections by index (names of tensor, tokenizer and provenance sections). */
size_t qp_container_section_count(const qp_container *c);
const char *qp_container_section_name(const qp_container *c, size_t index);
/* The manifest's content digest (64 hex digits + NUL). */
const char *qp_container_digest(const qp_container *c);

/* The manifest's model object (§4.7): a text member ("architecture", "source_format"), NULL when
 * absent; whether the file is runnable (a missing "runnable" means yes). */
const char *qp_container_model_string(const qp_container *c, const char *key);
int qp_container_runnable(const qp_container *c);
/* model.<object>.<key>, e.g. ("config", "hidden") or ("hyperparameters", "rope.scaling.type"); '/'
 * in `key` goes into nested objects ("rope_scaling/factor"):
 * QP_OK, QP_ERR_NOT_FOUND when absent or null, QP_ERR_FORMAT when of another type (numbers also
 * accept integers; a non-finite number is FORMAT). Strings live as long as the container. */
qp_status qp_container_model_int(const qp_container *c, const char *object, const char *key, int64_t *value);
qp_status qp_container_model_number(const qp_container *c, const char *object, const char *key, double *value);
qp_status qp_container_model_bool(const qp_container *c, const char *object, const char *key, int *value);
qp_status qp_container_model_text(const qp_container *c, const char *object, const char *key, const char **value);
/* An integer member of the manifest's tokenizer object (§4.8), e.g. "eos_token_id". */
qp_status qp_container_tokenizer_int(const qp_container *c, const char *key, int64_t *value);
qp_status qp_container_tokenizer_bool(const qp_container *c, const char *key, int *value);
qp_status qp_container_tokenizer_text(const qp_container *c, const char *key, const char **value);
/* Whether the manifest has a tokenizer object. */
int qp_container_has_tokenizer(const qp_container *c);

#ifdef __cplusplus
}
#endif

#endif
