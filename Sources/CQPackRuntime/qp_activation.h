/* Activation functions of the graphs, defined here once. */
#ifndef QP_ACTIVATION_H
#define QP_ACTIVATION_H

#include <stddef.h>

/* SwiGLU's product: g[i] = g[i] / (1 + e^(−g[i])) · u[i] for i < n (SiLU of the gate times up).
 * e^y is the runtime's own exponential, not libm's, so the bits are the same on every CPU and in
 * the vector and the scalar paths: y clamped to [−87, 88]; n = y·log2(e) rounded to nearest even;
 * r = y − n·ln2 in two fused steps (ln2 split into a high and a low float); e^r by a degree-6
 * polynomial in Horner form, fused multiply-adds only (at most 0.9 ulp from e^r); then
 * 1 + e^y = fma(e^r, 2^n, 1), so e^y is never rounded on its own (within 1.5 ulp of the exact sum). */
void qp_silu_mul(float *g, const float *u, size_t n);

/* 1 + e^y as qp_silu_mul defines it (the scalar path; tests compare it with libm's exp). */
float qp_one_plus_exp(float y);

#endif
