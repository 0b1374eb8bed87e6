// What the two bfloat16 GEMMs (CBFloat16.c, AMXBFloat16.c) share; not part of the module's interface.
#ifndef NSC_GEMM_COMMON_H
#define NSC_GEMM_COMMON_H
#include <stdint.h>
#include <string.h>

/// vpermt2w indices that interleave two rows of 32 halves r0, r1 into pairs (r0[n], r1[n]):
/// columns 0–15 with `interleave_lo`, 16–31 with `interleave_hi` — the pair order both
/// `vdpbf16ps` and AMX's `tdpbf16ps` read B in.
static const uint16_t interleave_lo[32] = {0, 32, 1, 33, 2, 34, 3, 35, 4, 36, 5, 37, 6, 38, 7, 39,
                                           8, 40, 9, 41, 10, 42, 11, 43, 12, 44, 13, 45, 14, 46, 15, 47};
static const uint16_t interleave_hi[32] = {16, 48, 17, 49, 18, 50, 19, 51, 20, 52, 21, 53, 22, 54, 23, 55,
                                           24, 56, 25, 57, 26, 58, 27, 59, 28, 60, 29, 61, 30, 62, 31, 63};

/// The products with nothing to multiply: none for an empty C; for K = 0, C is left (accumulate)
/// or zeroed. Returns 1 when the product was one of these (and is done), else 0.
static inline int nsc_gemm_empty(long m, long n, long k, float *c, long ldc, int accumulate) {
    if (m <= 0 || n <= 0) return 1;
    if (k > 0) return 0;
    if (!accumulate) for (long i = 0; i < m; ++i) memset(c + i * ldc, 0, (size_t)n * 4);
    return 1;
}
#endif
