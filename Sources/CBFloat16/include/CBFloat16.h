// 16-bit floating point for Nanoscope's mixed-precision training: conversions with PyTorch's
// rounding, and bfloat16 GEMMs on AVX512_BF16's `vdpbf16ps` and on AMX tiles (AMXBFloat16.c). See Sources/Kernels/GEMMBFloat16.swift.
#ifndef CBFLOAT16_H
#define CBFLOAT16_H

#include <stddef.h>
#include <stdint.h>

/// `format`: 0 = bfloat16, 1 = float16.
enum { NSC_BFLOAT16 = 0, NSC_FLOAT16 = 1 };

/// 1 when this CPU executes `vdpbf16ps` (CPUID: AVX512_BF16 with AVX512F/BW/VL), else 0.
int nsc_cpu_has_avx512bf16(void);
/// 1 when this CPU has F16C (`vcvtps2ph`, `vcvtph2ps`), else 0.
int nsc_cpu_has_f16c(void);

/// dst[i] = the 16-bit pattern nearest to src[i] (round to nearest even; PyTorch's NaN/inf/subnormal rules).
void nsc_round(const float *src, uint16_t *dst, size_t n, int format);
/// x[i] = x[i] rounded to 16 bits, still as a float; with `dst`, the 16-bit pattern is stored there too.
void nsc_round_values(float *x, uint16_t *dst, size_t n, int format);
/// Rounds x[0..<n] to 16 bits and writes the patterns over the first 2n bytes of x's own memory
/// (front to back, so every float is read before its bytes are overwritten). Single-threaded.
void nsc_round_in_place(float *x, size_t n, int format);
/// dst[i] = the float a 16-bit pattern stands for (exact).
void nsc_expand(const uint16_t *src, float *dst, size_t n, int format);
/// B[0..kc, 0..n] (row stride ldb) widened to float32 in the float32 GEMM's panel layout:
/// [ceil(n/cols) panels][kc][cols], the last panel's missing columns zero.
void nsc_expand_panels(const uint16_t *b, long ldb, long kc, long n, long cols, float *dst, int format);
/// dst[j*ldd + i] = round(src[i*lds + j]) for i < rows, j < cols: transpose and round.
void nsc_transpose_round(const float *src, long rows, long cols, long lds, uint16_t *dst, long ldd, int format);

/// C[m,n] (+)= A[m,k] · B[k,n] with bfloat16 A and B and float32 C (products accumulated in
/// float32), on the calling thread, with `vdpbf16ps`. A[i,k] is a[i*ars + k*acs]; B[k,n] is
/// b[k*ldb + n]. Requires nsc_cpu_has_avx512bf16(); returns 0 (and does nothing) without it.
int nsc_gemm_bf16(long m, long n, long k, const uint16_t *a, long ars, long acs,
                  const uint16_t *b, long ldb, float *c, long ldc, int accumulate);

/// 1 when this CPU has AMX-BF16 (Intel Sapphire Rapids and later) and Linux granted this process
/// the tile registers (asked for on the first call), else 0.
int nsc_amx_bf16_available(void);

/// The same product as nsc_gemm_bf16, on AMX tiles (AMXBFloat16.c). Requires
/// nsc_amx_bf16_available(); returns 0 (and does nothing) without it.
int nsc_gemm_bf16_amx(long m, long n, long k, const uint16_t *a, long ars, long acs,
                      const uint16_t *b, long ldb, float *c, long ldc, int accumulate);

/// The K and N block of the AMX kernel: a shared packed B holds at most this much.
long nsc_amx_block_k(void);
long nsc_amx_block_n(void);
/// The calling thread's buffer for one packed block of B (block_k × block_n halves), which the
/// threads it hands work to may read: made on first use, kept for the thread's life.
uint16_t *nsc_amx_shared_b(void);
/// Halves one 16-column panel of a packed B takes for `kc` rows of K (kc rounded up to 32, × 16).
long nsc_amx_panel_halves(long kc);
/// Packs B[0..kc, 0..nc] (kc ≤ nsc_amx_block_k()) into 16-column VNNI panels at `packed`
/// (64-byte aligned); panel p of the block starts p · nsc_amx_panel_halves(kc) halves in, so a
/// range of 32-column groups can be packed by each of several threads.
void nsc_amx_pack_b(const uint16_t *b, long ldb, long kc, long nc, uint16_t *packed);
/// C[m, nc] (+)= A[m, kc] · B with B packed by nsc_amx_pack_b (`load`: add to C, else overwrite).
/// The same instructions per element of C as nsc_gemm_bf16_amx's block, so the same bits.
/// Returns 0 (and does nothing) without AMX or for a block larger than the kernel's.
int nsc_gemm_bf16_amx_packed(long m, long nc, long kc, const uint16_t *a, long ars, long acs,
                             const uint16_t *packed, float *c, long ldc, int load);

#endif
