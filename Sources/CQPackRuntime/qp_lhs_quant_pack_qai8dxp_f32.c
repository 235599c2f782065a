#include "qp_runtime.h"

#include <math.h>
#include <string.h>

/* Built with -ffp-contract=off: no fused multiply-add except the explicit fmaf calls. */

static size_t round_up(size_t v, size_t m) { return (v + m - 1) / m * m; }

size_t qp_lhs_packed_size_qai8dxp(size_t m, size_t k, size_t mr) {
    return (m + mr - 1) / mr * mr * (round_up(k, 32) + 8);
}

size_t qp_lhs_packed_offset_qai8dxp(size_t m_idx, size_t k, size_t mr) {
    return m_idx / mr * mr * (round_up(k, 32) + 8);
}

/* One row: asymmetric int8 with the range [rmin, rmax] (containing 0), exactly as
 * kai_run_lhs_quant_pack_qai8dxp_f32 does from a row's own range: float32 arithmetic, zero
 * point rounded half to even, values rounded half away from zero and saturated. */
static void pack_row(const float *x, size_t k, size_t kp, size_t mr, size_t L, size_t r, uint8_t *panel, float rmin,
                     float rmax) {
    const float scale = rmin == rmax ? 1.0f : 255.0f / (rmax - rmin);
    const float recip = 1.0f / scale;
    const float dmin = rmin * scale, dmax = rmax * scale;
    const float zpf = ((-128.0f + dmin) + (127.0f + dmax) > 0) ? (-128.0f - dmin) : (127.0f - dmax);
    const int32_t zp = (int32_t)rintf(fminf(127.0f, fmaxf(-128.0f, zpf)));
    int8_t last = 0;
    for (size_t c = 0; c < kp; c++) {
        int8_t q;
        if (c < k) {
            /* Clamp before converting: a static range may be far below the value. */
            const float v = fminf(fmaxf(roundf(x[c] * scale), -1e6f), 1e6f);
            int32_t iv = (int32_t)v + zp;
            q = (int8_t)(iv < -128 ? -128 : iv > 127 ? 127 : iv);
            last = q;
        } else {
            q = last; /* K padding repeats the last valid value */
        }
        panel[(c / L * mr + r) * L + c % L] = (uint8_t)q;
    }
    const int32_t neg_zp = -zp;
    memcpy(panel + mr * kp + 4 * r, &neg_zp, 4);
    memcpy(panel + mr * kp + 4 * mr + 4 * r, &recip, 4);
}

/* Per-row dynamic range: each row's own min and max (with 0). */
void qp_lhs_quant_pack_qai8dxp_f32(size_t m, size_t k, size_t mr, size_t kr, size_t sr, const float *lhs,
                                   size_t lhs_stride_bytes, void *lhs_packed) {
    const size_t kp = round_up(k, 32), L = kr / sr;
    uint8_t *out = lhs_packed;
    for (size_t row = 0; row < m; row++) {
        const float *x = (const float *)((const uint8_t *)lhs + row * lhs_stride_bytes);
        float mn = INFINITY, mx = -INFINITY;
        for (size_t i = 0; i < k; i++) {
            mn = fminf(mn, x[i]);
            mx = fmaxf(mx, x[i]);
        }
        pack_row(x, k, kp, mr, L, row % mr, out + row / mr * mr * (kp + 8), fminf(0.0f, mn), fmaxf(0.0f, mx));
    }
}

void qp_lhs_quant_pack_qai8dxp_f32_range(size_t m, size_t k, size_t mr, size_t kr, size_t sr, const float *lhs,
                                         size_t lhs_stride_bytes, void *lhs_packed, float range_min, float range_max) {
    const size_t kp = round_up(k, 32), L = kr / sr;
    uint8_t *out = lhs_packed;
    const float rmin = fminf(0.0f, range_min), rmax = fmaxf(0.0f, range_max);
    for (size_t row = 0; row < m; row++) {
        const float *x = (const float *)((const uint8_t *)lhs + row * lhs_stride_bytes);
        pack_row(x, k, kp, mr, L, row % mr, out + row / mr * mr * (kp + 8), rmin, rmax);
    }
}
