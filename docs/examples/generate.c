/* Greedy text generation with qpack's C runtime alone (installed headers, pkg-config):
 *
 *   cc generate.c $(pkg-config --cflags --libs qpack-runtime) -o generate
 *   generate MODEL.qpack PROMPT [MAX_TOKENS]
 *
 * prints the continuation of PROMPT (text only, as it is generated) on stdout. */
#include <qp_model.h>
#include <qp_tokenizer.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct printer {
    const qp_tokenizer *tokenizer;
    int32_t eos;
} printer;

/* Writes each token's bytes as it arrives (a token can end inside a UTF-8 character; the next
 * one completes it). */
static int print_token(void *context, int32_t token) {
    const printer *p = context;
    if (token == p->eos) return 0;
    char bytes[256];
    size_t length = 0;
    if (qp_tokenizer_decode(p->tokenizer, &token, 1, 0, bytes, sizeof bytes, &length) == QP_OK)
        fwrite(bytes, 1, length, stdout);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s MODEL.qpack PROMPT [MAX_TOKENS]\n", argv[0]);
        return 64;
    }
    char message[512];
    qp_model *model = NULL;
    qp_tokenizer *tokenizer = NULL;
    if (qp_model_open(argv[1], NULL, &model, message, sizeof message) != QP_OK ||
        qp_tokenizer_open(qp_model_container(model), &tokenizer, message, sizeof message) != QP_OK) {
        fprintf(stderr, "%s: %s\n", argv[1], message);
        qp_model_close(model);
        return 65;
    }
    qp_model_description d;
    qp_model_describe(model, &d);
    if (d.kind != QP_MODEL_DECODER) {
        fprintf(stderr, "%s: an encoder; generate runs decoders\n", argv[1]);
        return 64;
    }
    /* The prompt's ids, with BOS when the model adds one; 4 ids per byte + 2 always suffice. */
    size_t length = strlen(argv[2]), count = 0, generated = 0;
    int32_t *prompt = malloc((4 * length + 2) * sizeof *prompt);
    qp_status status = qp_tokenizer_encode(tokenizer, argv[2], length, QP_ENCODE_SPECIAL, prompt, 4 * length + 2,
                                           &count, message, sizeof message);
    if (status != QP_OK || count == 0 || count >= d.max_positions) {
        fprintf(stderr, "%s: the prompt: %s\n", argv[1], status != QP_OK ? message : "empty or too long");
        return 64;
    }
    size_t max_tokens = argc == 4 ? (size_t)strtoul(argv[3], NULL, 10) : 32;
    if (max_tokens > d.max_positions - count) max_tokens = d.max_positions - count;
    int32_t *out = malloc((max_tokens ? max_tokens : 1) * sizeof *out);
    printer p = {tokenizer, d.eos_token};
    status = qp_model_generate(model, prompt, count, NULL, d.eos_token >= 0 ? &d.eos_token : NULL,
                               d.eos_token >= 0 ? 1 : 0, max_tokens, out, &generated, print_token, &p);
    free(prompt);
    free(out);
    qp_tokenizer_free(tokenizer);
    qp_model_close(model);
    if (status != QP_OK) {
        fprintf(stderr, "%s: %s\n", argv[1], qp_status_string(status));
        return 1;
    }
    return 0;
}
