/* libFuzzer target for the .qpack loader, the tokenizers and the model API: open any bytes, read
 * every section, open the tokenizer and encode and decode, build the model and run it on a few
 * tokens. Built with the Swift toolchain's clang
 * (-fsanitize=fuzzer,address,undefined) by scripts/test-runtime.sh and run for a short time on
 * the seed corpus Fixtures/qpack/ plus a converted tiny Llama. */
#include "qp_container.h"
#include "qp_model.h"
#include "qp_tokenizer.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Observer indices must name one of the model's linears. */
static void observe(void *context, size_t index, size_t rows, const float *input, const float *output) {
    (void)rows;
    (void)input;
    (void)output;
    if (index >= *(const size_t *)context) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    memcpy(copy, data, size);
    qp_container *c = NULL;
    if (qp_container_open_memory(copy, size, &c, NULL, 0) == QP_OK) {
        for (size_t i = 0; i < qp_container_tensor_count(c); i++) {
            qp_tensor_info t;
            const uint8_t *d;
            size_t n;
            if (qp_container_tensor(c, i, &t) == QP_OK) (void)qp_container_section(c, t.section, &d, &n, NULL, 0);
        }
        /* Its tokenizer, then the file's own bytes (its tail) as text: invalid UTF-8 included. */
        qp_tokenizer *tok = NULL;
        if (qp_tokenizer_open(c, &tok, NULL, 0) == QP_OK) {
            size_t k = size < 256 ? size : 256, count = 0, length = 0;
            int32_t ids[4 * 256 + 2];
            const char *text = (const char *)copy + size - k;
            if (qp_tokenizer_encode(tok, text, k, QP_ENCODE_SPECIAL, ids, 4 * 256 + 2, &count, NULL, 0) == QP_OK) {
                char out[4096];
                (void)qp_tokenizer_decode(tok, ids, count, QP_DECODE_SKIP_SPECIAL, out, sizeof out, &length);
            }
            qp_tokenizer_free(tok);
        }
        qp_container_close(c);
    }
    qp_model *m = NULL;
    if (qp_model_open_memory(copy, size, NULL, &m, NULL, 0) == QP_OK) {
        qp_model_description d;
        const int32_t ids[3] = {0, 1, 2};
        if (qp_model_describe(m, &d) == QP_OK && d.vocab >= 3 && d.hidden <= 4096 && d.vocab <= 65536) {
            float *out = malloc(3 * (d.vocab > d.hidden ? d.vocab : d.hidden) * sizeof(float));
            if (out && d.kind == QP_MODEL_DECODER) (void)qp_model_logits(m, ids, 3, out);
            if (out && d.kind == QP_MODEL_ENCODER) (void)qp_model_embed(m, ids, 3, out);
            /* The architecture-free face: every linear named, a mix of the model with itself
             * taking every other linear from the "variant", forward with an observer. */
            size_t n = qp_model_linear_count(m);
            int32_t *choice = malloc((n ? n : 1) * sizeof *choice);
            for (size_t i = 0; i < n; i++) {
                const char *name = NULL;
                const qp_linear *l = NULL;
                if (qp_model_linear(m, i, &name, &l) != QP_OK || !name || !l) abort();
                if (choice) choice[i] = (int32_t)(i % 2) - 1;
            }
            qp_model *mix = NULL;
            const qp_model *sources[1] = {m};
            if (out && choice && qp_model_mix(m, sources, 1, choice, &mix, NULL, 0) == QP_OK) {
                (void)qp_model_forward(mix, ids, 3, out, observe, &n);
                qp_model_close(mix);
            }
            free(choice);
            free(out);
        }
        qp_model_close(m);
    }
    free(copy);
    return 0;
}
