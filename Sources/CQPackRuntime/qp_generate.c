/* Text generation over a decoder: the prompt in one session step (the GEMM micro-kernels where
 * the CPU has them), then one token per step, each chosen greedily or sampled from a seed. */
#include "qp_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* SplitMix64: the seeded stream of draws (the same sequence on every platform). */
static uint64_t next_u64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

typedef struct {
    double p;
    int32_t id;
} candidate;

/* Higher probability first; the lower id first on ties (a total order: deterministic). */
static int by_probability(const void *a, const void *b) {
    const candidate *x = a, *y = b;
    if (x->p != y->p) return x->p > y->p ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int32_t argmax(const float *logits, size_t vocab) {
    size_t best = 0;
    for (size_t i = 1; i < vocab; i++)
        if (logits[i] > logits[best]) best = i;
    return (int32_t)best;
}

static int32_t sample(const float *logits, size_t vocab, const qp_sampling *s, uint64_t *state, void *work) {
    if (!s || s->temperature <= 0 || s->top_k == 1) return argmax(logits, vocab);
    candidate *c = work;
    double max = -INFINITY;
    for (size_t i = 0; i < vocab; i++) max = fmax(max, (double)logits[i]);
    double sum = 0;
    for (size_t i = 0; i < vocab; i++) {
        c[i].id = (int32_t)i;
        c[i].p = exp(((double)logits[i] - max) / (double)s->temperature);
        sum += c[i].p;
    }
    qsort(c, vocab, sizeof *c, by_probability);
    size_t keep = s->top_k && s->top_k < vocab ? s->top_k : vocab;
    if (s->top_p > 0 && s->top_p < 1) { /* the smallest prefix whose mass reaches top_p */
        double mass = 0;
        for (size_t i = 0; i < keep; i++) {
            mass += c[i].p / sum;
            if (mass >= (double)s->top_p) {
                keep = i + 1;
                break;
            }
        }
    }
    double kept = 0;
    for (size_t i = 0; i < keep; i++) kept += c[i].p;
    const double u = (double)(next_u64(state) >> 11) * 0x1p-53 * kept; /* uniform in [0, kept) */
    double acc = 0;
    for (size_t i = 0; i < keep; i++) {
        acc += c[i].p;
        if (u < acc) return c[i].id;
    }
    return c[keep - 1].id;
}

qp_status qp_model_generate(const qp_model *model, const int32_t *prompt, size_t count, const qp_sampling *sampling,
                            const int32_t *stop, size_t stop_count, size_t max_tokens, int32_t *out, size_t *generated,
                            qp_token_callback callback, void *context) {
    const qp_llama *m = qp_model_llama(model);
    if (!m || !prompt || count == 0 || !generated || (max_tokens && !out) || (stop_count && !stop))
        return QP_ERR_ARGUMENT;
    *generated = 0;
    if (count > m->max_positions || max_tokens > m->max_positions - count) return QP_ERR_ARGUMENT;
    qp_llama_session session;
    qp_status st = qp_llama_session_init(&session, m, count + max_tokens, count);
    if (st != QP_OK) return st;
    float *logits = malloc(m->vocab * sizeof(float));
    candidate *work = malloc(m->vocab * sizeof(candidate));
    uint64_t state = sampling ? sampling->seed : 0;
    if (!logits || !work) st = QP_ERR_NOMEM;
    /* The prompt in one step; only the last position's logits are needed. */
    if (st == QP_OK) st = qp_llama_session_step_last(&session, prompt, count, logits);
    const float *last = logits;
    while (st == QP_OK && *generated < max_tokens) {
        const int32_t next = sample(last, m->vocab, sampling, &state, work);
        out[(*generated)++] = next;
        int done = 0;
        for (size_t i = 0; i < stop_count; i++) done |= stop[i] == next;
        if (callback && callback(context, next)) done = 1;
        if (done || *generated == max_tokens) break;
        st = qp_llama_session_step_last(&session, &next, 1, logits);
    }
    free(logits);
    free(work);
    qp_llama_session_free(&session);
    return st;
}
