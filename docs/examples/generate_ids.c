/* Greedy generation from token ids with qpack's C runtime alone (installed headers, pkg-config):
 *
 *   cc generate_ids.c $(pkg-config --cflags --libs qpack-runtime) -o generate_ids
 *   generate_ids MODEL.qpack MAX_TOKENS ID...
 *
 * prints the generated ids, one per line. (Text in and out needs the C tokenizers, not yet
 * written; `qpack run` tokenizes in Swift meanwhile.) */
#include <qp_model.h>

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s MODEL.qpack MAX_TOKENS ID...\n", argv[0]);
        return 64;
    }
    char message[512];
    qp_model *model = NULL;
    qp_status status = qp_model_open(argv[1], NULL, &model, message, sizeof message);
    if (status != QP_OK) {
        fprintf(stderr, "%s: %s\n", argv[1], message);
        return 65;
    }
    const size_t max_tokens = (size_t)strtoul(argv[2], NULL, 10), count = (size_t)(argc - 3);
    int32_t *prompt = malloc(count * sizeof *prompt), *out = malloc((max_tokens ? max_tokens : 1) * sizeof *out);
    for (size_t i = 0; i < count; i++) prompt[i] = (int32_t)strtol(argv[3 + i], NULL, 10);
    size_t generated = 0;
    status = qp_model_generate(model, prompt, count, NULL, NULL, 0, max_tokens, out, &generated, NULL, NULL);
    for (size_t i = 0; i < generated; i++) printf("%d\n", out[i]);
    free(prompt);
    free(out);
    qp_model_close(model);
    if (status != QP_OK) {
        fprintf(stderr, "%s: %s\n", argv[1], qp_status_string(status));
        return 1;
    }
    return 0;
}
