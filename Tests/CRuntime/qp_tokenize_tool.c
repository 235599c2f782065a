/* Reads lines (escapes: \n \t \r \0 \\) from stdin and prints, per line, the C tokenizer's ids
 * (with special tokens) and, after a tab, the decoded text (special tokens skipped, escaped the
 * same way). Driven by tokenizer_differential.py against the `tokenizers` package.
 *   qp_tokenize_tool wordpiece VOCAB.txt
 *   qp_tokenize_tool bpe TOKENS.bin MERGES.bin PRE      (section format: u32 length + bytes) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qp_tokenizer.h"

static char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0) return NULL;
    long size = ftell(f);
    rewind(f);
    char *b = malloc((size_t)size + 1);
    if (!b || fread(b, 1, (size_t)size, f) != (size_t)size) return NULL;
    fclose(f);
    *n = (size_t)size;
    return b;
}

static void put_escaped(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\')
            fputs("\\\\", stdout);
        else if (c == '\n')
            fputs("\\n", stdout);
        else if (c == '\t')
            fputs("\\t", stdout);
        else if (c == '\r')
            fputs("\\r", stdout);
        else if (c == 0)
            fputs("\\0", stdout);
        else
            putchar(c);
    }
}

int main(int argc, char **argv) {
    qp_tokenizer *t = NULL;
    char message[256] = "";
    size_t n1 = 0, n2 = 0;
    qp_status s = QP_ERR_ARGUMENT;
    if (argc == 3 && strcmp(argv[1], "wordpiece") == 0) {
        char *vocab = slurp(argv[2], &n1);
        if (vocab) s = qp_tokenizer_create_wordpiece(vocab, n1, 1, &t, message, sizeof message);
        free(vocab);
    } else if (argc == 5 && strcmp(argv[1], "bpe") == 0) {
        char *tokens = slurp(argv[2], &n1), *merges = slurp(argv[3], &n2);
        if (tokens && merges)
            s = qp_tokenizer_create_bpe((const uint8_t *)tokens, n1, (const uint8_t *)merges, n2, NULL, 0, argv[4],
                                        NULL, &t, message, sizeof message);
        free(tokens);
        free(merges);
    } else {
        fprintf(stderr, "usage: qp_tokenize_tool wordpiece VOCAB | bpe TOKENS MERGES PRE\n");
        return 64;
    }
    if (s != QP_OK) {
        fprintf(stderr, "qp_tokenize_tool: status %d: %s\n", (int)s, message);
        return 1;
    }
    size_t line_capacity = 1 << 16, id_capacity = 0, text_capacity = 0;
    char *line = malloc(line_capacity), *text = NULL;
    int32_t *ids = NULL;
    int c = 0;
    while (c != EOF) {
        size_t n = 0;
        while ((c = getchar()) != EOF && c != '\n') {
            if (n + 1 >= line_capacity) line = realloc(line, line_capacity *= 2);
            if (c == '\\' && (c = getchar()) != EOF)
                c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c == '0' ? 0 : c;
            line[n++] = (char)c;
        }
        if (c == EOF && n == 0) break;
        if (4 * n + 2 > id_capacity) ids = realloc(ids, (id_capacity = 4 * n + 2) * sizeof(int32_t));
        size_t count = 0, length = 0;
        s = qp_tokenizer_encode(t, line, n, QP_ENCODE_SPECIAL, ids, id_capacity, &count, message, sizeof message);
        if (s != QP_OK) {
            printf("error %d: %s\n", (int)s, message);
            continue;
        }
        for (size_t i = 0; i < count; i++) printf(i ? " %d" : "%d", ids[i]);
        qp_tokenizer_decode(t, ids, count, QP_DECODE_SKIP_SPECIAL, NULL, 0, &length);
        if (length > text_capacity) text = realloc(text, text_capacity = length);
        qp_tokenizer_decode(t, ids, count, QP_DECODE_SKIP_SPECIAL, text, text_capacity, &length);
        putchar('\t');
        put_escaped(text, length);
        putchar('\n');
    }
    free(line);
    free(ids);
    free(text);
    qp_tokenizer_free(t);
    return 0;
}
