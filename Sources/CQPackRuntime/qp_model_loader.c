/* qp_model_open: a runnable model from a .qpack alone. The graph is assembled from the tensors'
 * slots and the manifest's typed hyperparameters (Formats/qpack-container.md §4.7); every
 * hyperparameter is checked against the tensors' shapes and layouts before anything runs, so a
 * manifest that lies is refused with a message naming the field, never run. */
#include "qp_layouts.h"
#include "qp_model.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COUNT ((int64_t)1 << 24) /* hidden sizes, vocabularies, positions */
#define MAX_LAYERS 4096

struct qp_model {
    qp_container *container;
    qp_model_description description;
    qp_bert bert;
    qp_llama llama;
    qp_bert_layer *bert_layers;
    qp_llama_layer *llama_layers;
    double *rope_inv_freq;
    qp_pool *pool; /* options.threads > 1 (a mixed model borrows its sources' pools) */
    /* Every linear in observer order (layer by layer, the graph's order within one, then the
     * head): where the graph holds it, and its weight tensor's name. `tied`: the head is the
     * embedding table, so replacing it replaces the table too. */
    qp_linear **linears;
    const char **linear_names;
    size_t linear_count, per_layer;
    qp_linear *tied;
    int borrowed; /* a mix: no container, tensors owned by other models */
    void **owned; /* decoded buffers (bf16 and f16 vectors, smoothing divisors) */
    size_t owned_count, owned_capacity;
};

static qp_status fail(char *msg, size_t cap, qp_status s, const char *fmt, ...) {
    if (msg && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, cap, fmt, ap);
        va_end(ap);
    }
    return s;
}

static void *own(qp_model *m, size_t bytes) {
    if (m->owned_count == m->owned_capacity) {
        size_t cap = m->owned_capacity ? 2 * m->owned_capacity : 64;
        void **p = realloc(m->owned, cap * sizeof *p);
        if (!p) return NULL;
        m->owned = p;
        m->owned_capacity = cap;
    }
    void *b = malloc(bytes ? bytes : 1);
    if (b) m->owned[m->owned_count++] = b;
    return b;
}

/* Records the graph's linear `index` (see struct qp_model) and its tensor's name. */
static qp_status index_linears(qp_model *m, size_t per_layer, size_t count) {
    m->linears = calloc(count, sizeof *m->linears);
    m->linear_names = calloc(count, sizeof *m->linear_names);
    if (!m->linears || !m->linear_names) return QP_ERR_NOMEM;
    m->linear_count = count;
    m->per_layer = per_layer;
    return QP_OK;
}

/* ---- hyperparameters ------------------------------------------------------------------------ */

typedef struct {
    qp_model *m;
    char *msg;
    size_t cap;
} ctx;

/* config.<key> as a count in [1, max]; `fallback` < 0: required. */
static qp_status count(ctx *x, const char *key, int64_t fallback, int64_t max, size_t *out) {
    int64_t v;
    qp_status s = qp_container_model_int(x->m->container, "config", key, &v);
    if (s == QP_ERR_NOT_FOUND && fallback >= 0) {
        *out = (size_t)fallback;
        return QP_OK;
    }
    if (s == QP_ERR_NOT_FOUND)
        return fail(x->msg, x->cap, QP_ERR_FORMAT, "model.config.%s: missing (the runtime needs it)", key);
    if (s != QP_OK || v < 1 || v > max)
        return fail(x->msg, x->cap, QP_ERR_FORMAT, "model.config.%s: must be an integer in 1 ... %lld", key,
                    (long long)max);
    *out = (size_t)v;
    return QP_OK;
}

static qp_status number(ctx *x, const char *key, double fallback, int required, double *out) {
    qp_status s = qp_container_model_number(x->m->container, "config", key, out);
    if (s == QP_ERR_NOT_FOUND && !required) {
        *out = fallback;
        return QP_OK;
    }
    if (s != QP_OK || !(*out > 0) || !isfinite((float)*out))
        return fail(x->msg, x->cap, QP_ERR_FORMAT, "model.config.%s: %s", key,
                    s == QP_ERR_NOT_FOUND ? "missing (the runtime needs it)" : "must be a positive finite number");
    return QP_OK;
}

/* ---- tensors by slot -------------------------------------------------------------------------- */

/* The tensor in `slot` of `layer` (-1: not per layer): QP_OK, or NOT_FOUND. */
static qp_status by_slot(const qp_model *m, const char *slot, int64_t layer, qp_tensor_info *info) {
    size_t n = qp_container_tensor_count(m->container);
    for (size_t i = 0; i < n; i++) {
        qp_tensor_info t;
        if (qp_container_tensor(m->container, i, &t) == QP_OK && t.slot && t.layer == layer && !strcmp(t.slot, slot)) {
            *info = t;
            return QP_OK;
        }
    }
    return QP_ERR_NOT_FOUND;
}

static qp_status need(ctx *x, const char *slot, int64_t layer, qp_tensor_info *t) {
    if (by_slot(x->m, slot, layer, t) == QP_OK) return QP_OK;
    if (layer < 0) return fail(x->msg, x->cap, QP_ERR_FORMAT, "slot '%s': no tensor holds it", slot);
    return fail(x->msg, x->cap, QP_ERR_FORMAT,
                "slot '%s' of layer %lld: no tensor holds it (model.config.layers says %zu)", slot, (long long)layer,
                x->m->description.layers);
}

static qp_status section(ctx *x, const qp_tensor_info *t, const uint8_t **data, size_t *length) {
    return qp_container_section(x->m->container, t->section, data, length, x->msg, x->cap);
}

/* A float vector of `n` values (f32 as stored; f16 and bf16 decoded). */
static qp_status vector(ctx *x, const char *slot, int64_t layer, size_t n, const float **out) {
    qp_tensor_info t;
    const uint8_t *d;
    size_t len;
    qp_status s = need(x, slot, layer, &t);
    if (s != QP_OK || (s = section(x, &t, &d, &len)) != QP_OK) return s;
    int f32 = !strcmp(t.scheme, "f32"), f16 = !strcmp(t.scheme, "f16"), bf16 = !strcmp(t.scheme, "bf16");
    if (!(f32 || f16 || bf16) || len != n * (f32 ? 4 : 2))
        return fail(x->msg, x->cap, QP_ERR_FORMAT,
                    "tensor '%s' (slot %s): must hold %zu float values, holds %zu %s bytes", t.name, slot, n, len,
                    t.scheme);
    if (f32 && ((uintptr_t)d % 4) == 0) {
        *out = (const float *)(const void *)d;
        return QP_OK;
    }
    float *v = own(x->m, n * sizeof(float));
    if (!v) return fail(x->msg, x->cap, QP_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (f32) {
            memcpy(&v[i], d + 4 * i, 4);
        } else {
            const uint16_t h = (uint16_t)(d[2 * i] | d[2 * i + 1] << 8);
            uint32_t bits = (uint32_t)h << 16;
            if (f16)
                v[i] = qp_f16_to_f32(h);
            else
                memcpy(&v[i], &bits, 4);
        }
    }
    *out = v;
    return QP_OK;
}

/* A linear of n x k from a tensor: float as stored (bf16 decoded), packed with its tile when the
 * build has a kernel for it; `table` also requires qp_embedding_row to read it. */
static qp_status linear(ctx *x, const qp_tensor_info *t, size_t n, size_t k, int table, qp_linear *l) {
    memset(l, 0, sizeof *l);
    l->pool = x->m->pool;
    if (t->rows != n || t->columns != k)
        return fail(x->msg, x->cap, QP_ERR_FORMAT,
                    "tensor '%s' (slot %s): shape %zu x %zu contradicts model.config (%zu x %zu expected)", t->name,
                    t->slot, t->rows, t->columns, n, k);
    const uint8_t *d;
    size_t len;
    qp_status s = section(x, t, &d, &len);
    if (s != QP_OK) return s;
    l->n = n;
    l->k = k;
    if (!strcmp(t->scheme, "f32") || !strcmp(t->scheme, "f16") || !strcmp(t->scheme, "bf16")) {
        const int f16 = !strcmp(t->scheme, "f16");
        if (!strcmp(t->scheme, "bf16") || (!f16 && (uintptr_t)d % 4)) {
            float *v = own(x->m, n * k * sizeof(float));
            if (!v) return fail(x->msg, x->cap, QP_ERR_NOMEM, "out of memory");
            for (size_t i = 0; i < n * k; i++) {
                uint32_t bits = !strcmp(t->scheme, "bf16")
                                    ? (uint32_t)(d[2 * i] | d[2 * i + 1] << 8) << 16
                                    : (uint32_t)d[4 * i] | (uint32_t)d[4 * i + 1] << 8 | (uint32_t)d[4 * i + 2] << 16 |
                                          (uint32_t)d[4 * i + 3] << 24;
                memcpy(&v[i], &bits, 4);
            }
            l->kind = QP_WEIGHT_F32;
            l->weights = v;
        } else {
            l->kind = f16 ? QP_WEIGHT_F16 : QP_WEIGHT_F32;
            l->weights = d;
        }
        return QP_OK;
    }
    qp_weight_kind kind;
    qp_matmul_choice choice;
    qp_matmul_tile tile = {0, t->nr, t->kr, t->sr};
    if (!t->layout || !qp_layout_weight_kind(t->layout, &kind) ||
        !qp_matmul_choose(t->layout, tile, 1, k, t->bl, 0, &choice))
        return fail(x->msg, x->cap, QP_ERR_UNSUPPORTED,
                    "tensor '%s' (slot %s): layout %s (scheme %s) has no kernel in this build of the runtime", t->name,
                    t->slot, t->layout ? t->layout : "none", t->scheme);
    if (table && kind != QP_WEIGHT_QSI8CXP && kind != QP_WEIGHT_QSI4C32P)
        return fail(x->msg, x->cap, QP_ERR_UNSUPPORTED,
                    "tensor '%s' (slot %s): the runtime cannot look up embedding rows in layout %s", t->name, t->slot,
                    t->layout);
    l->kind = kind;
    l->tile = tile;
    l->bl = t->bl;
    l->weights = d;
    if (t->activation_static) {
        l->activation = QP_ACTIVATION_STATIC;
        l->activation_min = t->activation_min;
        l->activation_max = t->activation_max;
        if (t->activation_divisor_section) {
            const uint8_t *dv;
            size_t dl;
            if ((s = qp_container_section(x->m->container, t->activation_divisor_section, &dv, &dl, x->msg, x->cap)) !=
                QP_OK)
                return s;
            float *div = own(x->m, k * sizeof(float));
            if (!div || dl != k * 4)
                return fail(x->msg, x->cap, QP_ERR_FORMAT, "tensor '%s': smoothing divisors", t->name);
            memcpy(div, dv, k * 4);
            l->activation_divisor = div;
        }
    }
    return QP_OK;
}

/* The linear in `slot` of `layer`, recorded as the model's linear `index`. */
static qp_status slot_linear(ctx *x, const char *slot, int64_t layer, size_t n, size_t k, qp_linear *l, size_t index) {
    qp_tensor_info t;
    qp_status s = need(x, slot, layer, &t);
    if (s == QP_OK) s = linear(x, &t, n, k, 0, l);
    if (s == QP_OK) {
        x->m->linears[index] = l;
        x->m->linear_names[index] = t.name;
    }
    return s;
}

/* No tensor may sit in a layer past model.config.layers. */
static qp_status no_extra_layers(ctx *x) {
    size_t n = qp_container_tensor_count(x->m->container);
    for (size_t i = 0; i < n; i++) {
        qp_tensor_info t;
        if (qp_container_tensor(x->m->container, i, &t) == QP_OK && t.layer >= (int64_t)x->m->description.layers)
            return fail(x->msg, x->cap, QP_ERR_FORMAT, "tensor '%s': layer %lld, but model.config.layers says %zu",
                        t.name, (long long)t.layer, x->m->description.layers);
    }
    return QP_OK;
}

/* ---- architectures ---------------------------------------------------------------------------- */

static qp_status heads(ctx *x) {
    qp_model_description *d = &x->m->description;
    if (d->hidden % d->heads || d->heads % d->kv_heads || (d->hidden / d->heads) % 2)
        return fail(x->msg, x->cap, QP_ERR_FORMAT,
                    "model.config.heads: %zu heads (%zu key/value heads) do not divide hidden %zu into even head sizes",
                    d->heads, d->kv_heads, d->hidden);
    return QP_OK;
}

static qp_status rope(ctx *x, size_t head_dim, double base) {
    qp_model *m = x->m;
    const char *type = NULL, *format = qp_container_model_string(m->container, "source_format");
    m->llama.rope_half_split = !(format && !strcmp(format, "gguf"));
    double factor = 0, low = 0, high = 0, original = 0;
    if (!m->llama.rope_half_split) {
        if (qp_container_model_text(m->container, "hyperparameters", "rope.scaling.type", &type) != QP_OK) type = NULL;
        if (type && strcmp(type, "none") && strcmp(type, "linear"))
            return fail(x->msg, x->cap, QP_ERR_UNSUPPORTED,
                        "model.hyperparameters.rope.scaling.type: '%s' is not supported (none and linear are)", type);
        if (type && !strcmp(type, "linear") &&
            (qp_container_model_number(m->container, "hyperparameters", "rope.scaling.factor", &factor) != QP_OK ||
             !(factor > 0)))
            return fail(x->msg, x->cap, QP_ERR_FORMAT, "model.hyperparameters.rope.scaling.factor: must be positive");
        qp_tensor_info t;
        if (by_slot(m, "rope.freqs", -1, &t) == QP_OK)
            return fail(x->msg, x->cap, QP_ERR_UNSUPPORTED,
                        "tensor '%s' (GGUF llama3 rope scaling) is not supported by the runtime graph", t.name);
    } else {
        /* config.json's rope_scaling object (transformers' names; rope_type before type). */
        const qp_container *c = m->container;
        if (qp_container_model_text(c, "hyperparameters", "rope_scaling/rope_type", &type) != QP_OK &&
            qp_container_model_text(c, "hyperparameters", "rope_scaling/type", &type) != QP_OK)
            type = NULL;
        const char *ignored;
        if (!type && qp_container_model_text(c, "hyperparameters", "rope_scaling", &ignored) == QP_ERR_FORMAT)
            type = "?"; /* an object without a type */
        if (type && !strcmp(type, "linear")) {
            if (qp_container_model_number(c, "hyperparameters", "rope_scaling/factor", &factor) != QP_OK ||
                !(factor > 0))
                return fail(x->msg, x->cap, QP_ERR_FORMAT,
                            "model.hyperparameters.rope_scaling.factor: must be positive");
        } else if (type && !strcmp(type, "llama3")) {
            if (qp_container_model_number(c, "hyperparameters", "rope_scaling/factor", &factor) != QP_OK ||
                !(factor > 0) ||
                qp_container_model_number(c, "hyperparameters", "rope_scaling/low_freq_factor", &low) != QP_OK ||
                !(low > 0) ||
                qp_container_model_number(c, "hyperparameters", "rope_scaling/high_freq_factor", &high) != QP_OK ||
                !(high > low) ||
                qp_container_model_number(c, "hyperparameters", "rope_scaling/original_max_position_embeddings",
                                          &original) != QP_OK ||
                !(original > 0))
                return fail(x->msg, x->cap, QP_ERR_FORMAT,
                            "model.hyperparameters.rope_scaling: llama3 needs positive factor, low_freq_factor < "
                            "high_freq_factor and original_max_position_embeddings");
        } else if (type && strcmp(type, "default")) {
            return fail(
                x->msg, x->cap, QP_ERR_UNSUPPORTED,
                "model.hyperparameters.rope_scaling: type '%s' is not supported (default, linear and llama3 are)",
                type);
        }
    }
    if (!type || !strcmp(type, "none") || !strcmp(type, "default")) return QP_OK;
    double *inv = own(m, head_dim / 2 * sizeof(double));
    if (!inv) return fail(x->msg, x->cap, QP_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < head_dim / 2; i++) {
        /* RopeFrequencies: base^(-2i/d), then the scaling, in double. */
        const double f = pow(base, -2 * (double)i / (double)head_dim);
        if (!strcmp(type, "linear")) {
            inv[i] = f / factor;
        } else {
            const double wavelength = 2 * 3.14159265358979323846 / f, low_wavelength = original / low,
                         high_wavelength = original / high;
            if (wavelength < high_wavelength)
                inv[i] = f;
            else if (wavelength > low_wavelength)
                inv[i] = f / factor;
            else {
                const double smooth = (original / wavelength - low) / (high - low);
                inv[i] = (1 - smooth) * f / factor + smooth * f;
            }
        }
    }
    m->llama.rope_inv_freq = inv;
    return QP_OK;
}

static const char *const llama_linears[7] = {"attention.query", "attention.key", "attention.value", "attention.output",
                                             "ffn.gate",        "ffn.up",        "ffn.down"};

static qp_status open_llama(ctx *x) {
    qp_model *m = x->m;
    qp_model_description *d = &m->description;
    qp_status s;
    double eps, theta;
    size_t head_dim;
    if ((s = count(x, "hidden", -1, MAX_COUNT, &d->hidden)) || (s = count(x, "layers", -1, MAX_LAYERS, &d->layers)) ||
        (s = count(x, "heads", -1, MAX_COUNT, &d->heads)) ||
        (s = count(x, "kv_heads", (int64_t)d->heads, MAX_COUNT, &d->kv_heads)) ||
        (s = count(x, "ffn", -1, MAX_COUNT, &d->ffn)) || (s = count(x, "vocab", -1, MAX_COUNT, &d->vocab)) ||
        (s = count(x, "max_positions", -1, MAX_COUNT, &d->max_positions)) || (s = heads(x)) ||
        (s = number(x, "norm_eps", 0, 1, &eps)) || (s = number(x, "rope_theta", 10000, 0, &theta)))
        return s;
    head_dim = d->hidden / d->heads;
    if ((s = count(x, "head_dim", (int64_t)head_dim, MAX_COUNT, &(size_t){0})) != QP_OK) return s;
    int64_t hd;
    if (qp_container_model_int(m->container, "config", "head_dim", &hd) == QP_OK && (size_t)hd != head_dim)
        return fail(x->msg, x->cap, QP_ERR_UNSUPPORTED, "model.config.head_dim: %lld differs from hidden / heads = %zu",
                    (long long)hd, head_dim);
    const char *act;
    if (qp_container_model_text(m->container, "config", "activation", &act) == QP_OK && strcmp(act, "silu"))
        return fail(x->msg, x->cap, QP_ERR_UNSUPPORTED, "model.config.activation: '%s' is not supported (silu is)",
                    act);
    qp_llama *L = &m->llama;
    L->hidden = d->hidden;
    L->heads = d->heads;
    L->kv_heads = d->kv_heads;
    L->layers = d->layers;
    L->vocab = d->vocab;
    L->max_positions = d->max_positions;
    L->norm_eps = (float)eps;
    L->rope_base = (float)theta;
    if ((s = rope(x, head_dim, (double)L->rope_base)) != QP_OK || (s = no_extra_layers(x)) != QP_OK) return s;
    qp_tensor_info t;
    if ((s = need(x, "token_embeddings", -1, &t)) || (s = linear(x, &t, d->vocab, d->hidden, 1, &L->token_embeddings)))
        return s;
    m->llama_layers = calloc(d->layers, sizeof *m->llama_layers);
    if (!m->llama_layers || index_linears(m, 7, 7 * d->layers + 1) != QP_OK)
        return fail(x->msg, x->cap, QP_ERR_NOMEM, "out of memory");
    const size_t head = 7 * d->layers;
    m->linears[head] = &L->output;
    m->linear_names[head] = t.name;
    int tied = 0;
    if (qp_container_model_bool(m->container, "config", "tied_embeddings", &tied) != QP_OK) tied = 0;
    if (!tied && by_slot(m, "output.weight", -1, &t) == QP_OK) {
        if ((s = linear(x, &t, d->vocab, d->hidden, 0, &L->output))) return s;
        m->linear_names[head] = t.name;
    } else {
        L->output = L->token_embeddings; /* a tied head */
        m->tied = &L->token_embeddings;
    }
    if ((s = vector(x, "output_norm.weight", -1, d->hidden, &L->output_norm))) return s;
    const size_t kv = d->kv_heads * head_dim;
    for (size_t i = 0; i < d->layers; i++) {
        qp_llama_layer *y = &m->llama_layers[i];
        qp_linear *each[7] = {&y->query, &y->key, &y->value, &y->attention_output, &y->gate, &y->up, &y->down};
        const size_t shapes[7][2] = {{d->hidden, d->hidden}, {kv, d->hidden},     {kv, d->hidden},
                                     {d->hidden, d->hidden}, {d->ffn, d->hidden}, {d->ffn, d->hidden},
                                     {d->hidden, d->ffn}};
        for (size_t w = 0; w < 7; w++) {
            char slot[64];
            snprintf(slot, sizeof slot, "%s.bias", llama_linears[w]);
            if (by_slot(m, slot, (int64_t)i, &t) == QP_OK)
                return fail(x->msg, x->cap, QP_ERR_UNSUPPORTED,
                            "tensor '%s': linear biases are not supported in the llama graph", t.name);
            snprintf(slot, sizeof slot, "%s.weight", llama_linears[w]);
            if ((s = slot_linear(x, slot, (int64_t)i, shapes[w][0], shapes[w][1], each[w], 7 * i + w))) return s;
        }
        if ((s = vector(x, "attention_norm.weight", (int64_t)i, d->hidden, &y->attention_norm)) ||
            (s = vector(x, "ffn_norm.weight", (int64_t)i, d->hidden, &y->ffn_norm)))
            return s;
    }
    L->layer = m->llama_layers;
    d->kind = QP_MODEL_DECODER;
    int64_t token;
    d->bos_token = d->eos_token = -1;
    if (qp_container_tokenizer_int(m->container, "bos_token_id", &token) == QP_OK && token >= 0 &&
        (size_t)token < d->vocab)
        d->bos_token = (int32_t)token;
    if (qp_container_tokenizer_int(m->container, "eos_token_id", &token) == QP_OK && token >= 0 &&
        (size_t)token < d->vocab)
        d->eos_token = (int32_t)token;
    if (qp_container_tokenizer_bool(m->container, "add_bos_token", &d->add_bos) != QP_OK) d->add_bos = 0;
    if (d->bos_token < 0) d->add_bos = 0;
    return QP_OK;
}

static const char *const bert_linears[6] = {"attention.query",  "attention.key", "attention.value",
                                            "attention.output", "ffn.up",        "ffn.down"};

/* An embedding table: its rows from the tensor, which must be at least `rows`. */
static qp_status table(ctx *x, const char *slot, size_t rows, size_t hidden, qp_linear *l) {
    qp_tensor_info t;
    qp_status s = need(x, slot, -1, &t);
    if (s != QP_OK) return s;
    if (t.rows < rows)
        return fail(x->msg, x->cap, QP_ERR_FORMAT, "tensor '%s' (slot %s): %zu rows, model.config needs %zu", t.name,
                    slot, t.rows, rows);
    return linear(x, &t, t.rows, hidden, 1, l);
}

static qp_status open_bert(ctx *x) {
    qp_model *m = x->m;
    qp_model_description *d = &m->description;
    qp_status s;
    double eps;
    size_t token_types;
    if ((s = count(x, "hidden", -1, MAX_COUNT, &d->hidden)) || (s = count(x, "layers", -1, MAX_LAYERS, &d->layers)) ||
        (s = count(x, "heads", -1, MAX_COUNT, &d->heads)) || (s = count(x, "ffn", -1, MAX_COUNT, &d->ffn)) ||
        (s = count(x, "vocab", -1, MAX_COUNT, &d->vocab)) ||
        (s = count(x, "max_positions", -1, MAX_COUNT, &d->max_positions)) ||
        (s = count(x, "token_types", 2, MAX_COUNT, &token_types)) || (s = number(x, "norm_eps", 1e-12, 0, &eps)))
        return s;
    d->kv_heads = d->heads;
    if (d->hidden % d->heads)
        return fail(x->msg, x->cap, QP_ERR_FORMAT, "model.config.heads: %zu heads do not divide hidden %zu", d->heads,
                    d->hidden);
    const char *act;
    if (qp_container_model_text(m->container, "config", "activation", &act) == QP_OK && strcmp(act, "gelu"))
        return fail(x->msg, x->cap, QP_ERR_UNSUPPORTED, "model.config.activation: '%s' is not supported (gelu is)",
                    act);
    if ((s = no_extra_layers(x)) != QP_OK) return s;
    qp_bert *B = &m->bert;
    B->hidden = d->hidden;
    B->heads = d->heads;
    B->intermediate = d->ffn;
    B->layers = d->layers;
    B->max_positions = d->max_positions;
    B->norm_eps = (float)eps;
    if ((s = table(x, "token_embeddings", d->vocab, d->hidden, &B->word_embeddings)) ||
        (s = table(x, "position_embeddings", d->max_positions, d->hidden, &B->position_embeddings)) ||
        (s = table(x, "token_type_embeddings", token_types, d->hidden, &B->token_type_embeddings)) ||
        (s = vector(x, "embeddings_norm.weight", -1, d->hidden, &B->embedding_norm_weight)) ||
        (s = vector(x, "embeddings_norm.bias", -1, d->hidden, &B->embedding_norm_bias)))
        return s;
    m->bert_layers = calloc(d->layers, sizeof *m->bert_layers);
    if (!m->bert_layers || index_linears(m, 6, 6 * d->layers) != QP_OK)
        return fail(x->msg, x->cap, QP_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < d->layers; i++) {
        qp_bert_layer *y = &m->bert_layers[i];
        qp_linear *each[6] = {&y->query, &y->key, &y->value, &y->attention_output, &y->intermediate, &y->output};
        const size_t shapes[6][2] = {{d->hidden, d->hidden}, {d->hidden, d->hidden}, {d->hidden, d->hidden},
                                     {d->hidden, d->hidden}, {d->ffn, d->hidden},    {d->hidden, d->ffn}};
        for (size_t w = 0; w < 6; w++) {
            char slot[64];
            snprintf(slot, sizeof slot, "%s.weight", bert_linears[w]);
            if ((s = slot_linear(x, slot, (int64_t)i, shapes[w][0], shapes[w][1], each[w], 6 * i + w))) return s;
            snprintf(slot, sizeof slot, "%s.bias", bert_linears[w]);
            if ((s = vector(x, slot, (int64_t)i, shapes[w][0], &each[w]->bias))) return s;
        }
        if ((s = vector(x, "attention_norm.weight", (int64_t)i, d->hidden, &y->attention_norm_weight)) ||
            (s = vector(x, "attention_norm.bias", (int64_t)i, d->hidden, &y->attention_norm_bias)) ||
            (s = vector(x, "ffn_norm.weight", (int64_t)i, d->hidden, &y->output_norm_weight)) ||
            (s = vector(x, "ffn_norm.bias", (int64_t)i, d->hidden, &y->output_norm_bias)))
            return s;
    }
    B->layer = m->bert_layers;
    d->kind = QP_MODEL_ENCODER;
    d->bos_token = d->eos_token = -1;
    return QP_OK;
}

/* ---- public API ------------------------------------------------------------------------------- */

/* The model of an open container (owned by the model from here on). */
static qp_status build(qp_container *container, const char *path, const qp_model_options *options, qp_model **out,
                       char *msg, size_t cap) {
    if (options && options->variant != QP_VARIANT_AUTO) qp_force_variant(options->variant);
    qp_model *m = calloc(1, sizeof *m);
    if (!m) {
        qp_container_close(container);
        return fail(msg, cap, QP_ERR_NOMEM, "out of memory");
    }
    m->container = container;
    if (options && options->threads > 1) m->pool = qp_pool_create(options->threads);
    qp_status s;
    ctx x = {m, msg, cap};
    const char *arch = qp_container_model_string(m->container, "architecture");
    m->description.architecture = arch;
    if (!qp_container_runnable(m->container))
        s = fail(msg, cap, QP_ERR_UNSUPPORTED, "%s: model.runnable is false (converted with --allow-unsupported)",
                 path);
    else if (!arch)
        s = fail(msg, cap, QP_ERR_UNSUPPORTED, "%s: model.architecture: missing (not a model qpack can run)", path);
    else if (!strcmp(arch, "llama"))
        s = open_llama(&x);
    else if (!strcmp(arch, "bert"))
        s = open_bert(&x);
    else
        s = fail(msg, cap, QP_ERR_UNSUPPORTED, "model.architecture: '%s' is not one the runtime runs (bert, llama)",
                 arch);
    if (s != QP_OK) {
        qp_model_close(m);
        return s;
    }
    m->llama.pool = m->bert.pool = m->pool; /* attention splits its heads over the linears' threads */
    *out = m;
    return QP_OK;
}

qp_status qp_model_open(const char *path, const qp_model_options *options, qp_model **out, char *msg, size_t cap) {
    if (!path || !out) return fail(msg, cap, QP_ERR_ARGUMENT, "invalid arguments");
    *out = NULL;
    qp_container *c;
    qp_status s = qp_container_open(path, &c, msg, cap);
    return s == QP_OK ? build(c, path, options, out, msg, cap) : s;
}

qp_status qp_model_open_memory(const uint8_t *data, size_t size, const qp_model_options *options, qp_model **out,
                               char *msg, size_t cap) {
    if (!out) return fail(msg, cap, QP_ERR_ARGUMENT, "invalid arguments");
    *out = NULL;
    qp_container *c;
    qp_status s = qp_container_open_memory(data, size, &c, msg, cap);
    return s == QP_OK ? build(c, "(memory)", options, out, msg, cap) : s;
}

void qp_model_close(qp_model *m) {
    if (!m) return;
    for (size_t i = 0; i < m->owned_count; i++) free(m->owned[i]);
    free(m->owned);
    free(m->bert_layers);
    free(m->llama_layers);
    free(m->linears);
    free(m->linear_names);
    if (m->borrowed) {
        free(m);
        return;
    }
    qp_pool_free(m->pool);
    qp_container_close(m->container);
    free(m);
}

qp_status qp_model_describe(const qp_model *m, qp_model_description *d) {
    if (!m || !d) return QP_ERR_ARGUMENT;
    *d = m->description;
    return QP_OK;
}

const qp_llama *qp_model_llama(const qp_model *m) {
    return m && m->description.kind == QP_MODEL_DECODER ? &m->llama : NULL;
}

const qp_bert *qp_model_bert(const qp_model *m) {
    return m && m->description.kind == QP_MODEL_ENCODER ? &m->bert : NULL;
}

qp_container *qp_model_container(qp_model *m) { return m ? m->container : NULL; }

qp_status qp_model_embed(const qp_model *m, const int32_t *ids, size_t count, float *pooled) {
    if (!m || m->description.kind != QP_MODEL_ENCODER) return QP_ERR_ARGUMENT;
    return qp_bert_embed(&m->bert, ids, count, pooled, NULL, NULL);
}

qp_status qp_model_logits(const qp_model *m, const int32_t *ids, size_t count, float *logits) {
    if (!m || m->description.kind != QP_MODEL_DECODER) return QP_ERR_ARGUMENT;
    return qp_llama_logits(&m->llama, ids, count, logits, NULL, NULL);
}

/* ---- any architecture: linears, forward, mixing --------------------------------------------------- */

size_t qp_model_linear_count(const qp_model *m) { return m ? m->linear_count : 0; }

qp_status qp_model_linear(const qp_model *m, size_t index, const char **tensor, const qp_linear **linear) {
    if (!m || index >= m->linear_count) return QP_ERR_ARGUMENT;
    if (tensor) *tensor = m->linear_names[index];
    if (linear) *linear = m->linears[index];
    return QP_OK;
}

size_t qp_model_output_size(const qp_model *m, size_t count) {
    if (!m) return 0;
    return m->description.kind == QP_MODEL_ENCODER ? m->description.hidden : count * m->description.vocab;
}

typedef struct {
    const qp_model *m;
    qp_model_observer observer;
    void *context;
} observed;

/* The graphs name a linear by (layer, which), the head by (layers, per_layer). */
static void by_index(void *context, size_t layer, int which, size_t rows, const float *input, const float *output) {
    const observed *o = context;
    const size_t i = layer < o->m->description.layers ? layer * o->m->per_layer + (size_t)which
                                                      : o->m->description.layers * o->m->per_layer;
    if (i < o->m->linear_count) o->observer(o->context, i, rows, input, output);
}

qp_status qp_model_forward(const qp_model *m, const int32_t *ids, size_t count, float *out, qp_model_observer observer,
                           void *context) {
    if (!m || !out) return QP_ERR_ARGUMENT;
    observed o = {m, observer, context};
    qp_linear_observer graph_observer = observer ? by_index : NULL;
    void *graph_context = observer ? &o : NULL;
    if (m->description.kind == QP_MODEL_ENCODER)
        return qp_bert_embed(&m->bert, ids, count, out, graph_observer, graph_context);
    return qp_llama_logits(&m->llama, ids, count, out, graph_observer, graph_context);
}

/* A copy of `base`'s graph whose layer array and linear table are its own. */
static qp_status copy_graph(const qp_model *base, qp_model *m) {
    *m = *base;
    m->container = NULL;
    m->pool = NULL;
    m->owned = NULL;
    m->owned_count = m->owned_capacity = 0;
    m->rope_inv_freq = NULL;
    m->borrowed = 1;
    m->bert_layers = NULL;
    m->llama_layers = NULL;
    m->linears = calloc(base->linear_count ? base->linear_count : 1, sizeof *m->linears);
    m->linear_names = calloc(base->linear_count ? base->linear_count : 1, sizeof *m->linear_names);
    if (!m->linears || !m->linear_names) return QP_ERR_NOMEM;
    memcpy(m->linear_names, base->linear_names, base->linear_count * sizeof *m->linear_names);
    const size_t layers = base->description.layers;
    if (base->llama_layers) {
        if (!(m->llama_layers = malloc(layers * sizeof *m->llama_layers))) return QP_ERR_NOMEM;
        memcpy(m->llama_layers, base->llama_layers, layers * sizeof *m->llama_layers);
        m->llama.layer = m->llama_layers;
    }
    if (base->bert_layers) {
        if (!(m->bert_layers = malloc(layers * sizeof *m->bert_layers))) return QP_ERR_NOMEM;
        memcpy(m->bert_layers, base->bert_layers, layers * sizeof *m->bert_layers);
        m->bert.layer = m->bert_layers;
    }
    /* Re-point the table from base's structs to the copies (same offsets). */
    for (size_t i = 0; i < base->linear_count; i++) {
        const char *p = (const char *)base->linears[i];
        const char *lo = (const char *)base->llama_layers, *bo = (const char *)base->bert_layers;
        if (lo && p >= lo && p < lo + layers * sizeof *base->llama_layers)
            m->linears[i] = (qp_linear *)(void *)((char *)m->llama_layers + (p - lo));
        else if (bo && p >= bo && p < bo + layers * sizeof *base->bert_layers)
            m->linears[i] = (qp_linear *)(void *)((char *)m->bert_layers + (p - bo));
        else if (p == (const char *)&base->llama.output)
            m->linears[i] = &m->llama.output;
        else
            return QP_ERR_ARGUMENT;
    }
    m->tied = base->tied ? &m->llama.token_embeddings : NULL;
    return QP_OK;
}

qp_status qp_model_mix(const qp_model *base, const qp_model *const *sources, size_t source_count, const int32_t *choice,
                       qp_model **out, char *msg, size_t cap) {
    if (!base || !out || (source_count && !sources) || !choice)
        return fail(msg, cap, QP_ERR_ARGUMENT, "invalid arguments");
    *out = NULL;
    for (size_t v = 0; v < source_count; v++) {
        const qp_model *s = sources[v];
        if (!s || s->description.kind != base->description.kind || s->linear_count != base->linear_count ||
            s->description.layers != base->description.layers || s->per_layer != base->per_layer ||
            (s->tied != NULL) != (base->tied != NULL))
            return fail(msg, cap, QP_ERR_ARGUMENT, "source %zu: not the same graph as the base model", v);
    }
    qp_model *m = malloc(sizeof *m);
    if (!m) return fail(msg, cap, QP_ERR_NOMEM, "out of memory");
    qp_status st = copy_graph(base, m);
    if (st != QP_OK) st = fail(msg, cap, st, "cannot copy the base model's graph (%s)", qp_status_string(st));
    for (size_t i = 0; st == QP_OK && i < m->linear_count; i++) {
        if (choice[i] < 0) continue;
        if ((size_t)choice[i] >= source_count) {
            st = fail(msg, cap, QP_ERR_ARGUMENT, "linear %zu: source %d does not exist", i, (int)choice[i]);
            break;
        }
        const qp_model *s = sources[choice[i]];
        const qp_linear *from = s->linears[i];
        if (from->n != m->linears[i]->n || from->k != m->linears[i]->k) {
            st = fail(msg, cap, QP_ERR_ARGUMENT, "linear %zu (%s): %zu x %zu in source %d, %zu x %zu in the base", i,
                      m->linear_names[i], from->n, from->k, (int)choice[i], m->linears[i]->n, m->linears[i]->k);
            break;
        }
        *m->linears[i] = *from;
        if (m->tied && m->linears[i] == &m->llama.output) *m->tied = *s->tied;
    }
    if (st != QP_OK) {
        qp_model_close(m);
        return st;
    }
    *out = m;
    return QP_OK;
}
