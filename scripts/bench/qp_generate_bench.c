/* Runs a .qpack decoder for an end-to-end instruction count (scripts/bench/e2e-insncount.sh):
 * a prompt of P token ids (a fixed pseudo-random sequence) in one step, then N greedy tokens,
 * no stop token. Prints the generated ids, so runs can be checked against each other. */
#include <stdio.h>
#include <stdlib.h>

#include "qp_bench_prompt.h"
#include "qp_model.h"

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s MODEL.qpack PROMPT_TOKENS NEW_TOKENS\n", argv[0]);
        return 64;
    }
    const size_t p = (size_t)atol(argv[2]), n = (size_t)atol(argv[3]);
    char message[512];
    qp_model *model;
    if (qp_model_open(argv[1], NULL, &model, message, sizeof message) != QP_OK) {
        fprintf(stderr, "%s: %s\n", argv[1], message);
        return 65;
    }
    qp_model_description d;
    qp_model_describe(model, &d);
    int32_t *prompt = malloc((p ? p : 1) * sizeof *prompt), *out = malloc((n ? n : 1) * sizeof *out);
    if (!prompt || !out) return 70;
    qp_bench_prompt(prompt, p, d.vocab);
    size_t generated = 0;
    if (qp_model_generate(model, prompt, p, NULL, NULL, 0, n, out, &generated, NULL, NULL) != QP_OK) return 70;
    for (size_t i = 0; i < generated; i++) printf("%d%c", out[i], i + 1 == generated ? '\n' : ' ');
    qp_model_close(model);
    free(prompt);
    free(out);
    return 0;
}
