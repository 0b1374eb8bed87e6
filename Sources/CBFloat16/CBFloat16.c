// See include/CBFloat16.h. The rounding rules are those of Sources/Kernels/HalfPrecision.swift
// (bit-exact with PyTorch's CPU conversions); tests compare the two on edge values.
#include "CBFloat16.h"
#include "gemm_common.h"
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define NSC_X86 1
#endif

// This target is compiled for the baseline CPU (SSE2): the Swift targets' -target-cpu does not
// reach C. The conversion loops below are plain C that the compiler vectorises, so each is built
// three times and the loader picks the widest this CPU runs (an ifunc): the bfloat16 rounding of
// a training step's activations ran 4 values an instruction on SSE2, and was 16 % of a bfloat16
// step on an AVX-512 machine.
#if NSC_X86 && defined(__linux__)
#define NSC_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define NSC_VECTOR_CLONES
#endif

// MARK: - CPU features (run-time dispatch)

int nsc_cpu_has_avx512bf16(void) {
#if NSC_X86
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

int nsc_cpu_has_f16c(void) {
#if NSC_X86
    __builtin_cpu_init();
    return __builtin_cpu_supports("f16c") && __builtin_cpu_supports("avx");
#else
    return 0;
#endif
}

static int has_f16c_cached = -1;
static inline int use_f16c(void) {
    int v = __atomic_load_n(&has_f16c_cached, __ATOMIC_RELAXED);
    if (v < 0) { v = nsc_cpu_has_f16c(); __atomic_store_n(&has_f16c_cached, v, __ATOMIC_RELAXED); }
    return v;
}

// MARK: - Scalar conversions (the portable definition)

static inline uint32_t bits_of(float x) { uint32_t u; memcpy(&u, &x, 4); return u; }
static inline float float_of(uint32_t u) { float x; memcpy(&x, &u, 4); return x; }

static inline uint16_t bf16_bits(float x) {
    uint32_t u = bits_of(x);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return 0xFFFF;          // every NaN → 0xFFFF, as PyTorch
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);   // round to nearest, ties to even
}

static inline uint16_t f16_bits(float x) {
    uint32_t u = bits_of(x);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    uint32_t mag = u & 0x7FFFFFFFu;
    if (mag > 0x7F800000u) return sign | 0x7E00 | (uint16_t)((u >> 13) & 0x01FFu);  // quiet NaN, top payload bits
    if (mag >= 0x47800000u - 0x1000u) return sign | 0x7C00;                         // ≥ 65520 → ∞
    if (mag < 0x38800000u) {                                                        // subnormal: units of 2⁻²⁴
        float shifted = float_of(mag) + 0.5f;
        return sign | (uint16_t)(bits_of(shifted) - 0x3F000000u);
    }
    uint32_t odd = (mag >> 13) & 1u;
    uint32_t rounded = (mag + 0xFFFu + odd) >> 13;
    return sign | (uint16_t)(rounded - ((127u - 15u) << 10));
}

static inline float bf16_float(uint16_t b) { return float_of((uint32_t)b << 16); }

static inline float f16_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1Fu, mant = h & 0x3FFu;
    if (e == 0x1F) return float_of(sign | 0x7F800000u | (mant << 13));
    if (e == 0) return float_of(sign | bits_of((float)mant * 5.9604644775390625e-8f));
    return float_of(sign | ((e + 127u - 15u) << 23) | (mant << 13));
}

// MARK: - F16C (x86 with AVX): the same rounding in hardware (vcvtps2ph is what PyTorch uses)

#if NSC_X86
__attribute__((target("avx,f16c")))
static void f16c_round(const float *src, uint16_t *dst, float *values, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        if (values) _mm256_storeu_ps(values + i, _mm256_cvtph_ps(h));
        if (dst) _mm_storeu_si128((__m128i *)(dst + i), h);
    }
    for (; i < n; ++i) {
        uint16_t h = f16_bits(src[i]);
        if (values) values[i] = f16_float(h);
        if (dst) dst[i] = h;
    }
}

__attribute__((target("avx,f16c")))
static void f16c_expand(const uint16_t *src, float *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    for (; i < n; ++i) dst[i] = f16_float(src[i]);
}
#endif

NSC_VECTOR_CLONES
void nsc_round(const float *src, uint16_t *dst, size_t n, int format) {
    if (format == NSC_BFLOAT16) {
        for (size_t i = 0; i < n; ++i) dst[i] = bf16_bits(src[i]);
        return;
    }
#if NSC_X86
    if (use_f16c()) { f16c_round(src, dst, NULL, n); return; }
#endif
    for (size_t i = 0; i < n; ++i) dst[i] = f16_bits(src[i]);
}

NSC_VECTOR_CLONES
void nsc_round_values(float *x, uint16_t *dst, size_t n, int format) {
    if (format == NSC_BFLOAT16) {
        if (dst) {
            for (size_t i = 0; i < n; ++i) { uint16_t b = bf16_bits(x[i]); dst[i] = b; x[i] = bf16_float(b); }
        } else {
            for (size_t i = 0; i < n; ++i) x[i] = bf16_float(bf16_bits(x[i]));
        }
        return;
    }
#if NSC_X86
    if (use_f16c()) { f16c_round(x, dst, x, n); return; }
#endif
    for (size_t i = 0; i < n; ++i) { uint16_t h = f16_bits(x[i]); if (dst) dst[i] = h; x[i] = f16_float(h); }
}

void nsc_round_in_place(float *x, size_t n, int format) {
    uint16_t *dst = (uint16_t *)(void *)x;
    // Chunks of 64: a chunk's floats occupy bytes [256j, 256j+256), its patterns [128j, 128j+128),
    // which only overlap floats of chunks already converted. The chunk is read into a buffer first.
    float chunk[64];
    size_t i = 0;
    for (; i < n; i += 64) {
        size_t len = n - i < 64 ? n - i : 64;
        memcpy(chunk, x + i, len * 4);
        uint16_t out[64];
        nsc_round(chunk, out, len, format);
        memcpy(dst + i, out, len * 2);
    }
}

NSC_VECTOR_CLONES
void nsc_expand(const uint16_t *src, float *dst, size_t n, int format) {
    if (format == NSC_BFLOAT16) {
        for (size_t i = 0; i < n; ++i) dst[i] = bf16_float(src[i]);
        return;
    }
#if NSC_X86
    if (use_f16c()) { f16c_expand(src, dst, n); return; }
#endif
    for (size_t i = 0; i < n; ++i) dst[i] = f16_float(src[i]);
}

NSC_VECTOR_CLONES
void nsc_expand_panels(const uint16_t *b, long ldb, long kc, long n, long cols, float *dst, int format) {
    for (long j = 0; j < n; j += cols) {
        long w = n - j < cols ? n - j : cols;
        float *panel = dst + j * kc;
        for (long k = 0; k < kc; ++k) {
            nsc_expand(b + k * ldb + j, panel + k * cols, (size_t)w, format);
            for (long x = w; x < cols; ++x) panel[k * cols + x] = 0;
        }
    }
}

NSC_VECTOR_CLONES
void nsc_transpose_round(const float *src, long rows, long cols, long lds, uint16_t *dst, long ldd, int format) {
    float tile[16 * 16];
    uint16_t out[16 * 16];
    for (long i0 = 0; i0 < rows; i0 += 16) {
        long ri = rows - i0 < 16 ? rows - i0 : 16;
        for (long j0 = 0; j0 < cols; j0 += 16) {
            long cj = cols - j0 < 16 ? cols - j0 : 16;
            // Transpose the block into `tile` (row j, column i), round it, write rows of dst.
            for (long i = 0; i < ri; ++i)
                for (long j = 0; j < cj; ++j) tile[j * 16 + i] = src[(i0 + i) * lds + j0 + j];
            for (long j = 0; j < cj; ++j) {
                nsc_round(tile + j * 16, out + j * 16, (size_t)ri, format);
                memcpy(dst + (j0 + j) * ldd + i0, out + j * 16, (size_t)ri * 2);
            }
        }
    }
}

// MARK: - bfloat16 GEMM with vdpbf16ps
//
// vdpbf16ps multiplies pairs: lane j of the result gains a[2j]·b[2j] + a[2j+1]·b[2j+1] (float32
// products of bfloat16s are exact; the sums are float32). So K is consumed two at a time: the B
// panel holds, for each pair of rows (k, k+1) and each of 32 columns, the pair (B[k,n], B[k+1,n])
// side by side (two 512-bit vectors per pair of rows), and A's pair (A[i,k], A[i,k+1]) is broadcast
// as one 32-bit value. An 8×32 tile of C lives in 16 zmm accumulators. B is packed once per
// KC×NC block and stays in L2 while every row tile of A streams past it; A is read in place when
// its K is contiguous (the forward pass and ∂L/∂x), and packed into pairs when it is Gᵀ (∂L/∂W).

#if NSC_X86
#define MR 8
#define NR 32
#define KC 256
#define NC 512

static __thread uint16_t *tls_bpanel = NULL;
static __thread uint32_t *tls_apanel = NULL;

#define BF16_TARGET __attribute__((target("avx512bf16,avx512vl,avx512bw,avx512f")))

/// B[0..kc, 0..nc] (row stride ldb) → panels of 32 columns: [panel][pair][64 halves].
BF16_TARGET static void pack_b(const uint16_t *b, long ldb, long kc, long nc, uint16_t *bp) {
    __m512i ilo = _mm512_loadu_si512(interleave_lo), ihi = _mm512_loadu_si512(interleave_hi);
    for (long p = 0; p < nc; p += NR) {
        long w = nc - p < NR ? nc - p : NR;
        __mmask32 mask = w == 32 ? 0xFFFFFFFFu : ((1u << w) - 1u);
        for (long kk = 0; kk < kc; kk += 2) {
            __m512i r0 = _mm512_maskz_loadu_epi16(mask, b + kk * ldb + p);
            __m512i r1 = kk + 1 < kc ? _mm512_maskz_loadu_epi16(mask, b + (kk + 1) * ldb + p) : _mm512_setzero_si512();
            _mm512_store_si512((void *)bp, _mm512_permutex2var_epi16(r0, ilo, r1));
            _mm512_store_si512((void *)(bp + 32), _mm512_permutex2var_epi16(r0, ihi, r1));
            bp += 64;
        }
    }
}

/// A tile of mr ≤ 8 rows with A[i,k] = a[i + k*acs] (Gᵀ) → [pair][8] 32-bit pairs.
BF16_TARGET static void pack_a_transposed(const uint16_t *a, long acs, long kc, long mr, uint32_t *ap) {
    __mmask8 mask = (__mmask8)((1u << mr) - 1u);
    for (long kk = 0; kk < kc; kk += 2) {
        __m128i r0 = _mm_maskz_loadu_epi16(mask, a + kk * acs);
        __m128i r1 = kk + 1 < kc ? _mm_maskz_loadu_epi16(mask, a + (kk + 1) * acs) : _mm_setzero_si128();
        _mm_store_si128((__m128i *)ap, _mm_unpacklo_epi16(r0, r1));
        _mm_store_si128((__m128i *)(ap + 4), _mm_unpackhi_epi16(r0, r1));
        ap += 8;
    }
}

/// Any strides, one element at a time.
static void pack_a_general(const uint16_t *a, long ars, long acs, long kc, long mr, uint32_t *ap) {
    for (long kk = 0; kk < kc; kk += 2) {
        for (long r = 0; r < MR; ++r) {
            uint32_t lo = r < mr ? a[r * ars + kk * acs] : 0;
            uint32_t hi = (r < mr && kk + 1 < kc) ? a[r * ars + (kk + 1) * acs] : 0;
            ap[r] = lo | (hi << 16);
        }
        ap += 8;
    }
}

static inline uint32_t load_pair(const uint16_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

#define DP(acc, av, bv) acc = _mm512_dpbf16_ps(acc, (__m512bh)(av), (__m512bh)(bv))

/// One 8×32 tile: C[0..mr, 0..nr] (+)= A·B over `kc` values of k. A is either rows in place
/// (`arow`, K contiguous) or a packed panel (`ap`). `bp` is the tile's B panel.
BF16_TARGET static void tile_8x32(long kc, const uint16_t *const *arow, const uint32_t *ap,
                                  const uint16_t *bp, float *c, long ldc, long mr, long nr, int load) {
    __m512 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71;
    __mmask16 m0 = nr >= 16 ? 0xFFFF : (__mmask16)((1u << nr) - 1u);
    __mmask16 m1 = nr >= 32 ? 0xFFFF : (nr <= 16 ? 0 : (__mmask16)((1u << (nr - 16)) - 1u));
    if (load) {
#define LD(r, x0, x1) if (r < mr) { x0 = _mm512_maskz_loadu_ps(m0, c + r * ldc); x1 = _mm512_maskz_loadu_ps(m1, c + r * ldc + 16); } else { x0 = x1 = _mm512_setzero_ps(); }
        LD(0, c00, c01) LD(1, c10, c11) LD(2, c20, c21) LD(3, c30, c31)
        LD(4, c40, c41) LD(5, c50, c51) LD(6, c60, c61) LD(7, c70, c71)
#undef LD
    } else {
        c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = _mm512_setzero_ps();
        c40 = c41 = c50 = c51 = c60 = c61 = c70 = c71 = _mm512_setzero_ps();
    }
    long pairs = kc / 2;
#define STEP(A0, A1, A2, A3, A4, A5, A6, A7) do { \
        __m512i b0 = _mm512_load_si512((const void *)bp), b1 = _mm512_load_si512((const void *)(bp + 32)); \
        __m512i x; \
        x = _mm512_set1_epi32((int)(A0)); DP(c00, x, b0); DP(c01, x, b1); \
        x = _mm512_set1_epi32((int)(A1)); DP(c10, x, b0); DP(c11, x, b1); \
        x = _mm512_set1_epi32((int)(A2)); DP(c20, x, b0); DP(c21, x, b1); \
        x = _mm512_set1_epi32((int)(A3)); DP(c30, x, b0); DP(c31, x, b1); \
        x = _mm512_set1_epi32((int)(A4)); DP(c40, x, b0); DP(c41, x, b1); \
        x = _mm512_set1_epi32((int)(A5)); DP(c50, x, b0); DP(c51, x, b1); \
        x = _mm512_set1_epi32((int)(A6)); DP(c60, x, b0); DP(c61, x, b1); \
        x = _mm512_set1_epi32((int)(A7)); DP(c70, x, b0); DP(c71, x, b1); \
        bp += 64; } while (0)
    if (arow) {
        const uint16_t *a0 = arow[0], *a1 = arow[1], *a2 = arow[2], *a3 = arow[3];
        const uint16_t *a4 = arow[4], *a5 = arow[5], *a6 = arow[6], *a7 = arow[7];
        for (long p = 0; p < pairs; ++p) {
            long o = 2 * p;
            STEP(load_pair(a0 + o), load_pair(a1 + o), load_pair(a2 + o), load_pair(a3 + o),
                 load_pair(a4 + o), load_pair(a5 + o), load_pair(a6 + o), load_pair(a7 + o));
        }
        if (kc & 1) {  // the last k alone: (A[i,k], 0) against B's (B[k,n], 0)
            long o = kc - 1;
            STEP((uint32_t)a0[o], (uint32_t)a1[o], (uint32_t)a2[o], (uint32_t)a3[o],
                 (uint32_t)a4[o], (uint32_t)a5[o], (uint32_t)a6[o], (uint32_t)a7[o]);
        }
    } else {
        long all = (kc + 1) / 2;
        for (long p = 0; p < all; ++p) {
            const uint32_t *q = ap + 8 * p;
            STEP(q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7]);
        }
    }
#undef STEP
#define ST(r, x0, x1) if (r < mr) { _mm512_mask_storeu_ps(c + r * ldc, m0, x0); _mm512_mask_storeu_ps(c + r * ldc + 16, m1, x1); }
    ST(0, c00, c01) ST(1, c10, c11) ST(2, c20, c21) ST(3, c30, c31)
    ST(4, c40, c41) ST(5, c50, c51) ST(6, c60, c61) ST(7, c70, c71)
#undef ST
}

BF16_TARGET static void gemm_bf16(long m, long n, long k, const uint16_t *a, long ars, long acs,
                                  const uint16_t *b, long ldb, float *c, long ldc, int accumulate) {
    if (!tls_bpanel) {
        tls_bpanel = (uint16_t *)aligned_alloc(64, (size_t)KC * NC * 2);
        tls_apanel = (uint32_t *)aligned_alloc(64, (size_t)(KC / 2) * MR * 4);
    }
    uint16_t *bpanel = tls_bpanel;
    uint32_t *apanel = tls_apanel;
    for (long pc = 0; pc < k; pc += KC) {
        long kc = k - pc < KC ? k - pc : KC;
        long pairs = (kc + 1) / 2;
        int load = accumulate || pc > 0;
        for (long jc = 0; jc < n; jc += NC) {
            long nc = n - jc < NC ? n - jc : NC;
            pack_b(b + pc * ldb + jc, ldb, kc, nc, bpanel);
            for (long i = 0; i < m; i += MR) {
                long mr = m - i < MR ? m - i : MR;
                const uint16_t *rows[MR];
                const uint16_t *const *arow = NULL;
                const uint32_t *ap = NULL;
                if (acs == 1) {
                    for (long r = 0; r < MR; ++r) rows[r] = a + (i + (r < mr ? r : mr - 1)) * ars + pc;
                    arow = rows;
                } else if (ars == 1) {
                    pack_a_transposed(a + i + pc * acs, acs, kc, mr, apanel);
                    ap = apanel;
                } else {
                    pack_a_general(a + i * ars + pc * acs, ars, acs, kc, mr, apanel);
                    ap = apanel;
                }
                for (long j = 0; j < nc; j += NR) {
                    long nr = nc - j < NR ? nc - j : NR;
                    tile_8x32(kc, arow, ap, bpanel + (j / NR) * pairs * 64, c + i * ldc + jc + j, ldc, mr, nr, load);
                }
            }
        }
    }
}
#endif

int nsc_gemm_bf16(long m, long n, long k, const uint16_t *a, long ars, long acs,
                  const uint16_t *b, long ldb, float *c, long ldc, int accumulate) {
#if NSC_X86
    static int supported = -1;
    int s = __atomic_load_n(&supported, __ATOMIC_RELAXED);
    if (s < 0) { s = nsc_cpu_has_avx512bf16(); __atomic_store_n(&supported, s, __ATOMIC_RELAXED); }
    if (!s) return 0;
    if (nsc_gemm_empty(m, n, k, c, ldc, accumulate)) return 1;
    gemm_bf16(m, n, k, a, ars, acs, b, ldb, c, ldc, accumulate);
    return 1;
#else
    (void)m; (void)n; (void)k; (void)a; (void)ars; (void)acs; (void)b; (void)ldb; (void)c; (void)ldc; (void)accumulate;
    return 0;
#endif
}
