/* The qai8dxp x qsi4c32p epilogue, one home for the GEMVs and GEMMs of both NEON files: the
 * scalar reference's float steps lane by lane, so every variant gives its bits. A macro, so each
 * file's vfmaq_f32 (FMLA; VFMADD in the x86 dotprod file) is the one used. */
#ifndef QP_QSI4C32P_EPILOGUE_H
#define QP_QSI4C32P_EPILOGUE_H

#include "qp_neon.h"

/* Four columns of one LHS row: (acc + rsum·(−zp))·lhs_scale + bias, clamped to [lo, hi]; zp holds
 * the row's negated zero point in every lane. */
#define QP_QSI4C32P_FINISH(acc, rsum, zp, lhs_scale, bias, lo, hi) \
    vminq_f32(vmaxq_f32(vaddq_f32(vmulq_n_f32(vfmaq_f32(acc, rsum, zp), lhs_scale), bias), lo), hi)

#endif
