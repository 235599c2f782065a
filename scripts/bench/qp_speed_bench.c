/* Times a .qpack decoder the way llama-bench times a GGUF (scripts/bench/side-by-side.sh):
 * prefill = a PROMPT-token prompt (a fixed pseudo-random id sequence) in one step up to its
 * first generated token; decode = NEW greedy tokens after a one-token prompt, each one step.
 * Opening the file (section checksums, graph) is not timed. Prints one line:
 *   prefill TOKENS/S decode TOKENS/S ids FIRST..LAST
 * Not a test. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "qp_bench_prompt.h"
#include "qp_model.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct timing {
    size_t seen;
    double first, last;
} timing;

static int on_token(void *context, int32_t token) {
    (void)token;
    timing *t = context;
    const double s = now();
    if (t->seen++ == 0) t->first = s;
    t->last = s;
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s MODEL.qpack THREADS PROMPT_TOKENS NEW_TOKENS\n", argv[0]);
        return 64;
    }
    const size_t threads = (size_t)atol(argv[2]), p = (size_t)atol(argv[3]), n = (size_t)atol(argv[4]);
    if (threads < 1 || p < 1 || n < 1) {
        fprintf(stderr, "THREADS, PROMPT_TOKENS and NEW_TOKENS must be at least 1\n");
        return 64;
    }
    char message[512];
    qp_model *model;
    const qp_model_options options = {QP_VARIANT_AUTO, threads};
    if (qp_model_open(argv[1], &options, &model, message, sizeof message) != QP_OK) {
        fprintf(stderr, "%s: %s\n", argv[1], message);
        return 65;
    }
    qp_model_description d;
    qp_model_describe(model, &d);
    int32_t *prompt = malloc(p * sizeof *prompt), *out = malloc((n + 1) * sizeof *out);
    if (!prompt || !out) return 70;
    qp_bench_prompt(prompt, p, d.vocab);
    size_t generated = 0;
    timing pre = {0}, dec = {0};
    const double start = now();
    if (qp_model_generate(model, prompt, p, NULL, NULL, 0, 1, out, &generated, on_token, &pre) != QP_OK) return 70;
    if (qp_model_generate(model, prompt, 1, NULL, NULL, 0, n + 1, out, &generated, on_token, &dec) != QP_OK ||
        generated != n + 1)
        return 70;
    printf("prefill %.3f decode %.3f ids %d..%d\n", (double)p / (pre.first - start), (double)n / (dec.last - dec.first),
           out[0], out[n]);
    qp_model_close(model);
    free(prompt);
    free(out);
    return 0;
}
