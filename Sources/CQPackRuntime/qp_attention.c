/* One query's attention with NEON (SIMDe elsewhere): four keys' dot products at a time, the
 * weighted sum of values four dimensions at a time (each dimension still sums in order of j). */
#include "qp_attention.h"
#include "qp_model.h"
#include "qp_neon.h"

#include <math.h>

static inline float lanes_sum(float32x4_t a) {
    return (vgetq_lane_f32(a, 0) + vgetq_lane_f32(a, 1)) + (vgetq_lane_f32(a, 2) + vgetq_lane_f32(a, 3));
}

static inline float dot_tail(const float *q, const float *k, size_t e, size_t hd, float s) {
    for (; e < hd; e++) s += q[e] * k[e];
    return s;
}

void qp_attend(const float *q, const float *keys, size_t key_stride, const float *values, size_t value_stride,
               size_t count, size_t hd, float scale, float *scores, float *out) {
    const size_t hd4 = hd / 4 * 4;
    float mx = -INFINITY;
    size_t j = 0;
    for (; j + 4 <= count; j += 4) {
        const float *k0 = keys + j * key_stride, *k1 = k0 + key_stride, *k2 = k1 + key_stride, *k3 = k2 + key_stride;
        float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;
        for (size_t e = 0; e < hd4; e += 4) {
            const float32x4_t qv = vld1q_f32(q + e);
            a0 = vaddq_f32(a0, vmulq_f32(qv, vld1q_f32(k0 + e)));
            a1 = vaddq_f32(a1, vmulq_f32(qv, vld1q_f32(k1 + e)));
            a2 = vaddq_f32(a2, vmulq_f32(qv, vld1q_f32(k2 + e)));
            a3 = vaddq_f32(a3, vmulq_f32(qv, vld1q_f32(k3 + e)));
        }
        scores[j] = dot_tail(q, k0, hd4, hd, lanes_sum(a0)) * scale;
        scores[j + 1] = dot_tail(q, k1, hd4, hd, lanes_sum(a1)) * scale;
        scores[j + 2] = dot_tail(q, k2, hd4, hd, lanes_sum(a2)) * scale;
        scores[j + 3] = dot_tail(q, k3, hd4, hd, lanes_sum(a3)) * scale;
        mx = fmaxf(fmaxf(fmaxf(fmaxf(mx, scores[j]), scores[j + 1]), scores[j + 2]), scores[j + 3]);
    }
    for (; j < count; j++) {
        const float *k = keys + j * key_stride;
        float32x4_t a = vdupq_n_f32(0.0f);
        for (size_t e = 0; e < hd4; e += 4) a = vaddq_f32(a, vmulq_f32(vld1q_f32(q + e), vld1q_f32(k + e)));
        scores[j] = dot_tail(q, k, hd4, hd, lanes_sum(a)) * scale;
        mx = fmaxf(mx, scores[j]);
    }
    float sum = 0;
    for (j = 0; j < count; j++) {
        scores[j] = expf(scores[j] - mx);
        sum += scores[j];
    }
    size_t e = 0;
    for (; e + 16 <= hd; e += 16) {
        float32x4_t o0 = vdupq_n_f32(0.0f), o1 = o0, o2 = o0, o3 = o0;
        for (j = 0; j < count; j++) {
            const float *v = values + j * value_stride + e;
            const float32x4_t p = vdupq_n_f32(scores[j]);
            o0 = vaddq_f32(o0, vmulq_f32(p, vld1q_f32(v)));
            o1 = vaddq_f32(o1, vmulq_f32(p, vld1q_f32(v + 4)));
            o2 = vaddq_f32(o2, vmulq_f32(p, vld1q_f32(v + 8)));
            o3 = vaddq_f32(o3, vmulq_f32(p, vld1q_f32(v + 12)));
        }
        const float32x4_t d = vdupq_n_f32(sum);
        vst1q_f32(out + e, vdivq_f32(o0, d));
        vst1q_f32(out + e + 4, vdivq_f32(o1, d));
        vst1q_f32(out + e + 8, vdivq_f32(o2, d));
        vst1q_f32(out + e + 12, vdivq_f32(o3, d));
    }
    for (; e + 4 <= hd; e += 4) {
        float32x4_t o = vdupq_n_f32(0.0f);
        for (j = 0; j < count; j++)
            o = vaddq_f32(o, vmulq_f32(vdupq_n_f32(scores[j]), vld1q_f32(values + j * value_stride + e)));
        vst1q_f32(out + e, vdivq_f32(o, vdupq_n_f32(sum)));
    }
    for (; e < hd; e++) {
        float acc = 0;
        for (j = 0; j < count; j++) acc += scores[j] * values[j * value_stride + e];
        out[e] = acc / sum;
    }
}

/* Below this many multiply-adds a step's attention stays on the calling thread: waking the pool
 * costs more (decoding over a short context). */
#define QP_PARALLEL_MIN_ATTENTION (64 * 1024)

size_t qp_attention_parts(const qp_pool *pool, size_t heads) {
    const size_t threads = qp_pool_threads(pool);
    return heads < threads ? (heads ? heads : 1) : threads;
}

typedef struct heads_job {
    void (*head)(void *, size_t, float *);
    void *context;
    float *scores;
    size_t heads, parts, scores_stride;
} heads_job;

static void run_heads(void *arg, size_t part) {
    const heads_job *j = arg;
    for (size_t h = part; h < j->heads; h += j->parts) j->head(j->context, h, j->scores + part * j->scores_stride);
}

void qp_attend_heads(qp_pool *pool, size_t heads, size_t work, void (*head)(void *context, size_t h, float *scores),
                     void *context, float *scores, size_t scores_stride) {
    heads_job j = {head, context, scores, heads, 1, scores_stride};
    if (work >= QP_PARALLEL_MIN_ATTENTION) j.parts = qp_attention_parts(pool, heads);
    qp_pool_run(pool, j.parts, run_heads, &j);
}
