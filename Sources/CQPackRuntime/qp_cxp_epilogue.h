/* The qai8dxp x qsi8cxp / qsi4cxp epilogue, one home for the GEMVs and GEMMs of both NEON files:
 * the scalar reference's float steps lane by lane, so every variant gives its bits. */
#ifndef QP_CXP_EPILOGUE_H
#define QP_CXP_EPILOGUE_H

#include "qp_neon.h"

/* Four columns of one LHS row: (float)(isum + rsum·(−zp)) · (rhs_scale · lhs_scale) + bias,
 * clamped to [lo, hi]. zps and scales hold LHS rows' negated zero points and scales; `lane`
 * (a constant) picks the row, used by element. */
#define QP_CXP_FINISH(isum, rsum, scale, bias, zps, scales, lane, lo, hi)                      \
    vminq_f32(vmaxq_f32(vaddq_f32(vmulq_f32(vcvtq_f32_s32(QP_MLA_LANE(isum, rsum, zps, lane)), \
                                            vmulq_laneq_f32(scale, scales, lane)),             \
                                  bias),                                                       \
                        lo),                                                                   \
              hi)

#endif
