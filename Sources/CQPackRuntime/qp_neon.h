/* NEON on Arm, SIMDe's portable NEON elsewhere, so the same kernel source is tested on x86. */
#ifndef QP_NEON_H
#define QP_NEON_H

#if defined(__aarch64__)
#include <arm_neon.h>
#define QP_TARGET_DOTPROD __attribute__((target("arch=armv8.2-a+dotprod")))
#else
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/arm/neon.h>
#define QP_TARGET_DOTPROD
#endif

#endif
