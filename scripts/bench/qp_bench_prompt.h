/* The benchmarks' prompt: a fixed pseudo-random sequence of `count` token ids in 100 .. vocab-1
 * (past the special tokens), the same in every bench program, so their runs compare. */
#ifndef QP_BENCH_PROMPT_H
#define QP_BENCH_PROMPT_H

#include <stddef.h>
#include <stdint.h>

static inline void qp_bench_prompt(int32_t *ids, size_t count, size_t vocab) {
    uint32_t state = 12345;
    for (size_t i = 0; i < count; i++) {
        state = state * 1664525u + 1013904223u;
        ids[i] = (int32_t)(100 + (state >> 8) % (vocab - 100));
    }
}

#endif
