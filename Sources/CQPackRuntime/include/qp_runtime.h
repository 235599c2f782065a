#ifndef QP_RUNTIME_H
#define QP_RUNTIME_H

/* qpack's bundled C runtime: packed-layout kernels (bit-exact with Arm KleidiAI's micro-kernels)
 * and, later, the .qpack loader. All symbols start with qp_. */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version of libzstd in use, e.g. "1.5.4". */
const char *qp_zstd_version(void);

/* Version of json-c in use, e.g. "0.16". */
const char *qp_json_c_version(void);

/* ---- LHS: qai8dxp (activations quantized per row at run time, asymmetric int8) ---------------
 * Layout (per panel of mr rows, panel stride mr*(Kp+8), Kp = K rounded up to 32):
 *   int8 data[Kp/L][mr][L] (L = kr/sr; K padding repeats the row's last value),
 *   int32 -zero_point[mr], float scale[mr]. Rows past m in the last panel are not written. */
size_t qp_lhs_packed_size_qai8dxp(size_t m, size_t k, size_t mr);
size_t qp_lhs_packed_offset_qai8dxp(size_t m_idx, size_t k, size_t mr);
void qp_lhs_quant_pack_qai8dxp_f32(size_t m, size_t k, size_t mr, size_t kr, size_t sr, const float *lhs,
                                   size_t lhs_stride_bytes, void *lhs_packed);
/* Static activation quantization: the same layout and arithmetic with one range for every row
 * ([min(0, range_min), max(0, range_max)], from calibration) instead of each row's own; values
 * outside it saturate. With a row's own min and max it gives the dynamic packer's bytes. */
void qp_lhs_quant_pack_qai8dxp_f32_range(size_t m, size_t k, size_t mr, size_t kr, size_t sr, const float *lhs,
                                         size_t lhs_stride_bytes, void *lhs_packed, float range_min, float range_max);

/* ---- Matmul: dst[m][n] = clamp(LHS x RHS^T + bias) -------------------------------------------
 * The LHS must be packed with the kernel's mr, kr, sr; the RHS with its nr, kr, sr (and bl).
 * The scalar variants define the bits (Formats/qpack-container.md §5, KleidiAI's epilogue):
 * every other variant of a family gives identical outputs. */
typedef struct qp_matmul_tile {
    size_t mr, nr, kr, sr;
} qp_matmul_tile;

void qp_matmul_f32_qai8dxp_qsi4c32p_scalar(size_t m, size_t n, size_t k, size_t bl, qp_matmul_tile tile,
                                           const void *lhs_packed, const void *rhs_packed, float *dst,
                                           size_t dst_stride_row, float clamp_min, float clamp_max);
void qp_matmul_f32_qai8dxp_qsi4cxp_scalar(size_t m, size_t n, size_t k, qp_matmul_tile tile, const void *lhs_packed,
                                          const void *rhs_packed, float *dst, size_t dst_stride_row, float clamp_min,
                                          float clamp_max);
void qp_matmul_f32_qai8dxp_qsi8cxp_scalar(size_t m, size_t n, size_t k, qp_matmul_tile tile, const void *lhs_packed,
                                          const void *rhs_packed, float *dst, size_t dst_stride_row, float clamp_min,
                                          float clamp_max);

/* NEON dotprod GEMV (m == 1 per call; loops over rows for m > 1) for qsi4c32p with L = kr/sr = 4
 * or 8 and nr a multiple of 4. Compiled with SIMDe on non-Arm hosts. */
void qp_matmul_f32_qai8dxp_qsi4c32p_neon_dotprod(size_t m, size_t n, size_t k, size_t bl, qp_matmul_tile tile,
                                                 const void *lhs_packed, const void *rhs_packed, float *dst,
                                                 size_t dst_stride_row, float clamp_min, float clamp_max);

/* NEON i8mm GEMM for qsi4c32p: LHS packed with mr = 4, kr = 16, sr = 2 (the neon-i8mm target's
 * tile); other tiles take the dotprod path. Needs FEAT_I8MM (SMMLA); portable code elsewhere. */
void qp_matmul_f32_qai8dxp_qsi4c32p_neon_i8mm(size_t m, size_t n, size_t k, size_t bl, qp_matmul_tile tile,
                                              const void *lhs_packed, const void *rhs_packed, float *dst,
                                              size_t dst_stride_row, float clamp_min, float clamp_max);

/* NEON i8mm GEMMs for the per-channel families (LHS mr 4, L 8; qsi8cxp kr 8): the neon-i8mm
 * target's tiles. Other tiles and CPUs without i8mm take the dotprod path. */
void qp_matmul_f32_qai8dxp_qsi4cxp_neon_i8mm(size_t m, size_t n, size_t k, qp_matmul_tile tile, const void *lhs_packed,
                                             const void *rhs_packed, float *dst, size_t dst_stride_row, float clamp_min,
                                             float clamp_max);
void qp_matmul_f32_qai8dxp_qsi8cxp_neon_i8mm(size_t m, size_t n, size_t k, qp_matmul_tile tile, const void *lhs_packed,
                                             const void *rhs_packed, float *dst, size_t dst_stride_row, float clamp_min,
                                             float clamp_max);

/* NEON dotprod GEMVs for the per-channel families (L = 4 or 8, nr a multiple of 4). */
void qp_matmul_f32_qai8dxp_qsi4cxp_neon_dotprod(size_t m, size_t n, size_t k, qp_matmul_tile tile,
                                                const void *lhs_packed, const void *rhs_packed, float *dst,
                                                size_t dst_stride_row, float clamp_min, float clamp_max);
void qp_matmul_f32_qai8dxp_qsi8cxp_neon_dotprod(size_t m, size_t n, size_t k, qp_matmul_tile tile,
                                                const void *lhs_packed, const void *rhs_packed, float *dst,
                                                size_t dst_stride_row, float clamp_min, float clamp_max);

/* ---- qsi8d32p families: activations quantized per block of bl values of a row --------------
 * int8 values with one symmetric scale per block (Formats/qpack-container.md §5.6, byte-exact with
 * KleidiAI's packers). Panels of mr rows; per block one record of the mr rows:
 *   qsi8d32p:         f16 scale[mr], int8 data[bl/L][mr][L]            (mr*(bl+2) bytes)
 *   qsi8d32pscalef32: int8 data[bl/L][mr][L], f32 sum[mr], f32 scale[mr] (mr*(bl+8) bytes)
 * (L = kr/sr; sum = the block's dequantized sum). Rows past m in the last panel are not written.
 * K must be a multiple of bl, bl of 32. qsi8d32p rounds half away from zero (KleidiAI's portable
 * packer), its 4x8sb variant half to even (the NEON packer for mr 4, kr 16, sr 2). */
uint16_t qp_f32_to_f16(float v); /* round to nearest even, overflow to infinity */
size_t qp_lhs_packed_size_qsi8d32p(size_t m, size_t k, size_t bl, size_t mr, size_t kr, size_t sr);
size_t qp_lhs_packed_offset_qsi8d32p(size_t m_idx, size_t k, size_t bl, size_t mr);
void qp_lhs_quant_pack_qsi8d32p_f32(size_t m, size_t k, size_t bl, size_t mr, size_t kr, size_t sr, const float *lhs,
                                    size_t lhs_stride_bytes, void *lhs_packed);
void qp_lhs_quant_pack_qsi8d32p4x8sb_f32(size_t m, size_t k, size_t bl, size_t mr, size_t kr, size_t sr,
                                         const float *lhs, size_t lhs_stride_bytes, void *lhs_packed);
size_t qp_lhs_packed_size_qsi8d32pscalef32(size_t m, size_t k, size_t bl, size_t mr, size_t kr, size_t sr);
size_t qp_lhs_packed_offset_qsi8d32pscalef32(size_t m_idx, size_t k, size_t bl, size_t mr);
void qp_lhs_quant_pack_qsi8d32pscalef32_f32(size_t m, size_t k, size_t bl, size_t mr, size_t kr, size_t sr,
                                            const float *lhs, size_t lhs_stride_bytes, void *lhs_packed);

/* f32 <- qsi8d32p x qsi4c32p: RHS in the qsi4c32pscalef16 layout (GGUF Q4_0 blocks, f16
 * scales, no bias). Per block: acc = fma(dot, d_rhs * d_lhs, acc); then clamp.
 * f32 <- qsi8d32pscalef32 x qai4c32p: asymmetric RHS (f32 scale/16 and offset per block, f32
 * bias per row). Per block: acc = fma(offset, lhs_sum, acc); acc = fma(16*dot, scale16 *
 * lhs_scale, acc); then + bias, clamp. Scalar references define the bits; the NEON dotprod
 * variant runs any mr with L = kr/sr 4 or 8 (sr 2, nr a multiple of 4), the i8mm variant mr 4,
 * kr 16, sr 2. The dispatching entries choose by CPU. */
void qp_matmul_f32_qsi8d32p_qsi4c32p_scalar(size_t m, size_t n, size_t k, size_t bl, qp_matmul_tile tile,
                                            const void *lhs_packed, const void *rhs_packed, float *dst,
                                            size_t dst_stride_row, float clamp_min, float clamp_max);
void qp_matmul_f32_qsi8d32p_qsi4c32p_neon_dotprod(size_t m, size_t n, size_t k, size_t bl, qp_matmul_tile tile,
                                                  const void *lhs_packed, const void *rhs_packed, float *dst,
                                                  size_t dst_stride_row, float clamp_min, float clamp_max);
void qp_matmul_f32_qsi8d32p_qsi4c32p_neon_i8mm(size_t m, size_t n, size_t k, size_t bl, qp_matmul_tile tile,
                                               const void *lhs_packed, const void *rhs_packed, float *dst,
                                               size_t dst_stride_row, float clamp_min, float clamp_max);
void qp_matmul_f32_qsi8d32p_qai4c32p_scalar(size_t m, size_t n, size_t k, size_t bl, qp_matmul_tile tile,
                                            const void *lhs_packed, const void *rhs_packed, float *dst,
                                            size_t dst_stride_row, float clamp_min, float clamp_max);
void qp_matmul_f32_qsi8d32p_qai4c32p_neon_dotprod(size_t m, size_t n, size_t k, size_t bl, qp_matmul_tile tile,
                                                  const void *lhs_packed, const void *rhs_packed, float *dst,
                                                  size_t dst_stride_row, float clamp_min, float clamp_max);
void qp_matmul_f32_qsi8d32p_qai4c32p_neon_i8mm(size_t m, size_t n, size_t k, size_t bl, qp_matmul_tile tile,
                                               const void *lhs_packed, const void *rhs_packed, float *dst,
                                               size_t dst_stride_row, float clamp_min, float clamp_max);

/* ---- Float linear layers (tensors kept in f32 or f16): y = clamp(x·W^T + bias) --------------
 * x is m x k (row-major), W is n x k (f32 or binary16 bits), bias n floats or NULL, y m x n.
 * Bits: 4 fused partial sums (lane l: k = 4i + l), reduced (s0 + s1) + (s2 + s3), the tail
 * fused in order, then + bias; the NEON variants give identical results. */
float qp_f16_to_f32(uint16_t h);
void qp_linear_f32_scalar(size_t m, size_t n, size_t k, const float *x, const float *w, const float *bias, float *y,
                          float clamp_min, float clamp_max);
void qp_linear_f16_scalar(size_t m, size_t n, size_t k, const float *x, const uint16_t *w, const float *bias, float *y,
                          float clamp_min, float clamp_max);
void qp_linear_f32_neon(size_t m, size_t n, size_t k, const float *x, const float *w, const float *bias, float *y,
                        float clamp_min, float clamp_max);
void qp_linear_f16_neon(size_t m, size_t n, size_t k, const float *x, const uint16_t *w, const float *bias, float *y,
                        float clamp_min, float clamp_max);

/* ---- Dispatch ------------------------------------------------------------------------------ */
typedef enum qp_variant {
    QP_VARIANT_AUTO = 0,
    QP_VARIANT_SCALAR = 1,
    QP_VARIANT_NEON_DOTPROD = 2,
    QP_VARIANT_NEON_I8MM = 3 /* i8mm GEMM where the tile allows it, dotprod elsewhere */
} qp_variant;

/* 1 when the CPU has the Armv8.2 dot product instructions (getauxval on Linux/AArch64). */
int qp_cpu_has_dotprod(void);
/* 1 when the CPU has the Armv8.6 int8 matrix multiply instructions (HWCAP2_I8MM). */
int qp_cpu_has_i8mm(void);
/* Forces a variant for tests; QP_VARIANT_AUTO restores the CPU-based choice. */
void qp_force_variant(qp_variant v);
/* x86 builds only (no effect elsewhere): 1 (default) runs the qsi4c32p dotprod GEMV's nr = 8
 * panels with native AVX2 and the qsi8cxp GEMV's dot products with AVX-VNNI where the CPU has
 * it; 0 runs the NEON source through SIMDe with AVX2 only. The bits are the same. */
void qp_use_x86_extensions(int enabled);
int qp_x86_extensions_enabled(void);
qp_variant qp_selected_variant(void);

/* Kernel choice. Dispatch alone chooses (KleidiAI's rule): each variant declares the tiles and
 * shapes it runs, and never falls back by itself. With `lhs_mr` 0 the caller lets dispatch pick
 * the LHS packing too: a GEMM (mr 4) for m > 1 where the CPU has i8mm and the tile has one, a
 * GEMV (mr 1) otherwise; with `lhs_mr` set, only variants reading that LHS packing are chosen.
 * The result is a name for traces, the variant, and the LHS mr to pack with. */
typedef struct qp_matmul_choice {
    const char *name; /* "qsi4c32p neon_i8mm 4x" ... */
    qp_variant variant;
    size_t mr;
} qp_matmul_choice;
/* 0 when no variant runs the tile (an unknown family or an invalid tile). */
int qp_matmul_choose(const char *layout, qp_matmul_tile rhs_tile, size_t m, size_t k, size_t bl, size_t lhs_mr,
                     qp_matmul_choice *choice);
/* Runs the chosen variant (the LHS packed with choice->mr). */
void qp_matmul_run(const char *layout, const qp_matmul_choice *choice, size_t m, size_t n, size_t k, size_t bl,
                   qp_matmul_tile rhs_tile, const void *lhs_packed, const void *rhs_packed, float *dst,
                   size_t dst_stride_row, float clamp_min, float clamp_max);
/* 1 when `variant` of `layout` runs this tile (LHS packed with tile.mr) and shape, whatever the
 * CPU: the tiles each variant declares, for tests that call variants directly. */
int qp_matmul_variant_runs(const char *layout, qp_variant variant, qp_matmul_tile tile, size_t k, size_t bl);
/* The largest LHS mr any variant packs with (for sizing LHS buffers once). */
size_t qp_matmul_max_mr(void);
/* Diagnostics and tests: called on every dispatched matmul with the choice made and m (NULL
 * turns it off). Process-wide, like qp_force_variant. */
typedef void (*qp_matmul_trace_fn)(void *context, const char *layout, const qp_matmul_choice *choice, size_t m);
void qp_set_matmul_trace(qp_matmul_trace_fn trace, void *context);

/* The best available variant for this CPU (bit-identical results whichever runs); the LHS was
 * packed with tile.mr. */
void qp_matmul_f32_qai8dxp_qsi4c32p(size_t m, size_t n, size_t k, size_t bl, qp_matmul_tile tile,
                                    const void *lhs_packed, const void *rhs_packed, float *dst, size_t dst_stride_row,
                                    float clamp_min, float clamp_max);

void qp_matmul_f32_qai8dxp_qsi4cxp(size_t m, size_t n, size_t k, qp_matmul_tile tile, const void *lhs_packed,
                                   const void *rhs_packed, float *dst, size_t dst_stride_row, float clamp_min,
                                   float clamp_max);
void qp_matmul_f32_qai8dxp_qsi8cxp(size_t m, size_t n, size_t k, qp_matmul_tile tile, const void *lhs_packed,
                                   const void *rhs_packed, float *dst, size_t dst_stride_row, float clamp_min,
                                   float clamp_max);
void qp_matmul_f32_qsi8d32p_qsi4c32p(size_t m, size_t n, size_t k, size_t bl, qp_matmul_tile tile,
                                     const void *lhs_packed, const void *rhs_packed, float *dst, size_t dst_stride_row,
                                     float clamp_min, float clamp_max);
void qp_matmul_f32_qsi8d32p_qai4c32p(size_t m, size_t n, size_t k, size_t bl, qp_matmul_tile tile,
                                     const void *lhs_packed, const void *rhs_packed, float *dst, size_t dst_stride_row,
                                     float clamp_min, float clamp_max);

#ifdef __cplusplus
}
#endif

#endif
