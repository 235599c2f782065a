#ifndef QP_TOKENIZER_H
#define QP_TOKENIZER_H

/* Tokenizers that give exactly the ids of Hugging Face `tokenizers` (docs/runtime.md):
 * - WordPiece (BERT): BertNormalizer (clean text, spaces around CJK ideographs, and for uncased
 *   vocabularies NFD, accents stripped, lower case; Hangul syllables become jamo), the
 *   BertPreTokenizer (whitespace and punctuation), greedy longest-match with `##`
 *   continuations, [UNK] for words over 100 characters; [CLS] ... [SEP] as BERT needs; the
 *   special tokens ([CLS], [SEP], [UNK], [PAD], [MASK]) written in the text are those tokens.
 * - Byte-level BPE (GPT-2 family): the `smollm` (each digit alone, then GPT-2's regex) or `gpt2`
 *   (GPT-2's regex alone) pre-tokenizer, bytes mapped to GPT-2's printable characters, merges
 *   applied lowest rank first; BOS/EOS when the file says the model adds them.
 * Text is UTF-8; invalid UTF-8 is refused. Every size is bounded by the input: no allocation
 * depends on anything but the text length and the vocabulary. */

#include <stddef.h>
#include <stdint.h>

#include "qp_container.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qp_tokenizer qp_tokenizer;

typedef enum qp_tokenizer_type { QP_TOKENIZER_WORDPIECE = 1, QP_TOKENIZER_BPE = 2 } qp_tokenizer_type;

/* The special token ids a family uses; -1 when the vocabulary or file has none. */
typedef struct qp_tokenizer_specials {
    int32_t bos, eos, unknown, padding; /* BPE: from the file's tokenizer object */
    int32_t cls, sep, mask; /* WordPiece: from the vocabulary */
    int add_bos, add_eos; /* BPE: whether encoding with QP_ENCODE_SPECIAL adds them */
} qp_tokenizer_specials;

/* The tokenizer a container carries (its manifest's tokenizer object and sections, §4.8).
 * QP_ERR_NOT_FOUND when it has none; QP_ERR_FORMAT (message names the section, the entry and
 * its byte offset) when the sections are malformed. */
qp_status qp_tokenizer_open(qp_container *container, qp_tokenizer **out, char *message, size_t message_size);

/* WordPiece from the text of a vocab.txt (one token per line, ids by line). */
qp_status qp_tokenizer_create_wordpiece(const char *vocab, size_t length, int lower_case, qp_tokenizer **out,
                                        char *message, size_t message_size);
/* Byte-level BPE from token and merge lists in the container's section format (each string a
 * little-endian u32 length and its UTF-8 bytes; merges are "left right"). `pre` is "smollm" or
 * "gpt2"; any other value (or NULL) makes a tokenizer that decodes but refuses to encode text.
 * `token_types` (one int32 per token, or NULL) marks control tokens (3) for QP_DECODE_SKIP_SPECIAL;
 * a count other than the number of tokens is QP_ERR_FORMAT. */
qp_status qp_tokenizer_create_bpe(const uint8_t *tokens, size_t tokens_length, const uint8_t *merges,
                                  size_t merges_length, const int32_t *token_types, size_t token_type_count,
                                  const char *pre, const qp_tokenizer_specials *specials, qp_tokenizer **out,
                                  char *message, size_t message_size);
void qp_tokenizer_free(qp_tokenizer *t);

qp_tokenizer_type qp_tokenizer_kind(const qp_tokenizer *t);
size_t qp_tokenizer_vocab_size(const qp_tokenizer *t);
void qp_tokenizer_special_ids(const qp_tokenizer *t, qp_tokenizer_specials *specials);
/* A token's text (its vocabulary entry, not NUL-terminated), NULL when `id` is out of range. */
const char *qp_tokenizer_token(const qp_tokenizer *t, int32_t id, size_t *length);
/* Whether the tokenizer can encode text (NULL) or why not (BPE with an unsupported pre-tokenizer). */
const char *qp_tokenizer_text_unsupported(const qp_tokenizer *t);

enum {
    QP_ENCODE_SPECIAL = 1, /* WordPiece: [CLS] first and [SEP] last; BPE: BOS/EOS as the file says */
};
enum {
    QP_DECODE_SKIP_SPECIAL = 1, /* leave out special tokens (WordPiece's five; BPE's control tokens) */
};

/* Token ids of `length` bytes of UTF-8 `text`. Writes at most `capacity` ids and sets *count to
 * the number of ids the text has; QP_ERR_LIMIT when that is more than `capacity` (4 * length + 2
 * always suffices). QP_ERR_FORMAT on invalid UTF-8 (message names the byte offset),
 * QP_ERR_UNSUPPORTED when the tokenizer cannot encode text. */
qp_status qp_tokenizer_encode(const qp_tokenizer *t, const char *text, size_t length, unsigned flags, int32_t *ids,
                              size_t capacity, size_t *count, char *message, size_t message_size);

/* The bytes of token ids (as `tokenizers` decodes them; BPE output can end inside a UTF-8
 * character when the ids do). Writes at most `capacity` bytes (no NUL) and sets *length to the
 * full length; QP_ERR_LIMIT when that is more than `capacity`; QP_ERR_ARGUMENT for an id out of
 * range. */
qp_status qp_tokenizer_decode(const qp_tokenizer *t, const int32_t *ids, size_t count, unsigned flags, char *text,
                              size_t capacity, size_t *length);

#ifdef __cplusplus
}
#endif

#endif
