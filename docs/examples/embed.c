/* Sentence embeddings with qpack's C runtime alone (installed headers, pkg-config):
 *
 *   cc embed.c $(pkg-config --cflags --libs qpack-runtime) -o embed
 *   embed MODEL.qpack TEXT
 *
 * prints the pooled, L2-normalised embedding of TEXT (as sentence-transformers computes it), one
 * float per line, exactly (9 significant digits read back to the same float). */
#include <qp_model.h>
#include <qp_tokenizer.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL.qpack TEXT\n", argv[0]);
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
    if (d.kind != QP_MODEL_ENCODER) {
        fprintf(stderr, "%s: a decoder; embed runs encoders\n", argv[1]);
        return 64;
    }
    /* [CLS] ... [SEP]; 4 ids per byte + 2 always suffice. Texts longer than the model's positions
     * are cut. */
    size_t length = strlen(argv[2]), count = 0;
    int32_t *ids = malloc((4 * length + 2) * sizeof *ids);
    qp_status status = qp_tokenizer_encode(tokenizer, argv[2], length, QP_ENCODE_SPECIAL, ids, 4 * length + 2, &count,
                                           message, sizeof message);
    if (status != QP_OK) {
        fprintf(stderr, "%s: the text: %s\n", argv[1], message);
        return 64;
    }
    if (count > d.max_positions) count = d.max_positions;
    float *pooled = malloc(d.hidden * sizeof *pooled);
    status = qp_model_embed(model, ids, count, pooled);
    for (size_t i = 0; status == QP_OK && i < d.hidden; i++) printf("%.9g\n", pooled[i]);
    free(ids);
    free(pooled);
    qp_tokenizer_free(tokenizer);
    qp_model_close(model);
    if (status != QP_OK) {
        fprintf(stderr, "%s: %s\n", argv[1], qp_status_string(status));
        return 1;
    }
    return 0;
}
