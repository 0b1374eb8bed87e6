// bfloat16 GEMM on AMX, the matrix unit of Intel Xeons since Sapphire Rapids.
//
// Why a second bfloat16 kernel. `vdpbf16ps` (CBFloat16.c) doubles the multiply-adds of a float32
// FMA on AMD Zen 4, but on Intel's Sapphire and Emerald Rapids it issues at half the rate of
// `vfmadd231ps`: measured there, 88 GFLOP/s against 177 for float32 FMAs on one core, so a GEMM built
// on it runs at ~0.66× the float32 kernel. Those CPUs do their bfloat16 arithmetic in AMX instead.
//
// AMX in four facts:
// - Eight tile registers tmm0–tmm7, each up to 16 rows × 64 bytes (16 float32, or 32 bfloat16).
//   A tile configuration (`ldtilecfg`: rows and bytes per row for each tile) is set per thread.
// - `tdpbf16ps C, A, B` does C[16×16 float32] += A[16×32 bf16] · B[32×16 bf16] in one instruction:
//   8192 multiply-adds, products exact, sums in float32 (round to nearest even; bfloat16
//   subnormal inputs read as zero and subnormal sums flush to zero, whatever MXCSR says).
// - B is in "VNNI" order: tile row p holds, for each of 16 columns n, the pair (B[2p,n], B[2p+1,n]).
//   That is the pair layout of the `vdpbf16ps` kernel's panels, so B is packed the same way.
// - Linux hands the tile registers to a process only on request (`arch_prctl(ARCH_REQ_XCOMP_PERM,
//   XFEATURE_XTILEDATA)`): the kernel must grow each thread's saved state by 8 KiB.
//
// The kernel: C in strips of 32 rows × 32 columns, four C tiles (tmm0–3), two A tiles (tmm4–5: rows
// 0–15 and 16–31) and two B tiles (tmm6–7: columns 0–15 and 16–31), so each A and B tile loaded
// feeds two multiplies. K runs in blocks of KC; B's KC×NC block is packed once into 16-column VNNI
// panels (zero-padded to whole tiles) and stays in L2 while the strips of A stream past it (split
// over threads by rows, one packed block serves them all: nsc_amx_pack_b and
// nsc_gemm_bf16_amx_packed, driven by GEMM16.amxSharingB). A is
// loaded straight from memory when its rows are contiguous in K and whole; otherwise (Gᵀ in ∂L/∂W,
// a ragged edge) a 32-row strip is packed, transposed where needed, into rows of K. C tiles at an
// edge go through a 32×32 scratch. Every element of C sees the same instructions in the same K
// order wherever its strip falls, so the result does not depend on how the rows are split over
// threads.
#include "CBFloat16.h"
#include "gemm_common.h"
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__linux__)
#include <immintrin.h>
#include <unistd.h>
#include <sys/syscall.h>
#define NSC_AMX 1
#endif

#define KC 512            // K per block (a multiple of 32)
#define NC 512            // columns per packed B block (a multiple of 32)

#if NSC_AMX
#define AMX_TARGET __attribute__((target("amx-tile,amx-bf16,avx512f,avx512bw,avx512vl")))
#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

/// The 64-byte tile configuration of palette 1.
typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t bytes_per_row[16];
    uint8_t rows[16];
} __attribute__((packed, aligned(64))) tile_config;

static __thread uint16_t *tls_b = NULL;   // packed B block: NC/16 panels × KC/2 rows × 64 bytes
static __thread uint16_t *tls_a = NULL;   // packed A strip: 32 rows × KC halves
static __thread float *tls_c = NULL;      // an edge's 32×32 C

/// Packs B[0..kc, 0..nc] into 16-column VNNI panels [panel][kp/2 pairs][16 columns][2], zero beyond
/// kc and nc; kp is kc rounded up to 32.
AMX_TARGET static void pack_b_vnni(const uint16_t *b, long ldb, long kc, long kp, long nc, uint16_t *bp) {
    __m512i ilo = _mm512_loadu_si512(interleave_lo), ihi = _mm512_loadu_si512(interleave_hi);
    long panel = kp * 16;  // halves per 16-column panel
    // Row pairs outermost: B is read along its rows, the order memory and the prefetchers
    // serve best (column groups outermost read it down a stride of ldb, and these loads were
    // a quarter of the kernel's time).
    for (long k = 0; k < kp; k += 2) {
        const uint16_t *row0 = b + k * ldb, *row1 = row0 + ldb;
        for (long j = 0; j < nc; j += 32) {
            long w = nc - j < 32 ? nc - j : 32;
            __mmask32 mask = w == 32 ? 0xFFFFFFFFu : ((1u << w) - 1u);
            uint16_t *p0 = bp + (j / 16) * panel + k * 16, *p1 = p0 + panel;  // columns j..j+15, j+16..j+31
            __m512i r0 = k < kc ? _mm512_maskz_loadu_epi16(mask, row0 + j) : _mm512_setzero_si512();
            __m512i r1 = k + 1 < kc ? _mm512_maskz_loadu_epi16(mask, row1 + j) : _mm512_setzero_si512();
            _mm512_store_si512((void *)p0, _mm512_permutex2var_epi16(r0, ilo, r1));
            _mm512_store_si512((void *)p1, _mm512_permutex2var_epi16(r0, ihi, r1));
        }
    }
}

/// x[i] ← column i of the 16×16 matrix of 32-bit values whose row j is x[j].
AMX_TARGET static inline void transpose_16x16(__m512i x[16]) {
    __m512i t[16], u[16], v[16];
    for (int i = 0; i < 8; ++i) {   // 2×2 blocks of 32-bit values
        t[2 * i] = _mm512_unpacklo_epi32(x[2 * i], x[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_epi32(x[2 * i], x[2 * i + 1]);
    }
    for (int i = 0; i < 4; ++i) {   // 4×4 blocks within each 128-bit lane
        u[4 * i + 0] = _mm512_unpacklo_epi64(t[4 * i + 0], t[4 * i + 2]);
        u[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i + 0], t[4 * i + 2]);
        u[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
        u[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
    }
    for (int i = 0; i < 2; ++i) {   // then the 128-bit lanes themselves, twice
        for (int j = 0; j < 4; ++j) {
            v[8 * i + j] = _mm512_shuffle_i32x4(u[8 * i + j], u[8 * i + 4 + j], 0x88);
            v[8 * i + 4 + j] = _mm512_shuffle_i32x4(u[8 * i + j], u[8 * i + 4 + j], 0xdd);
        }
    }
    for (int j = 0; j < 8; ++j) {
        x[j] = _mm512_shuffle_i32x4(v[j], v[8 + j], 0x88);
        x[8 + j] = _mm512_shuffle_i32x4(v[j], v[8 + j], 0xdd);
    }
}

/// Packs A's rows 0..mr (≤ 32), k 0..kc of A[i,k] = a[i*ars + k*acs] into [32 rows][kp], zero-padded.
AMX_TARGET static void pack_a(const uint16_t *a, long ars, long acs, long mr, long kc, long kp, uint16_t *ap) {
    if (acs == 1) {
        for (long r = 0; r < 32; ++r) {
            if (r < mr) {
                memcpy(ap + r * kp, a + r * ars, (size_t)kc * 2);
                memset(ap + r * kp + kc, 0, (size_t)(kp - kc) * 2);
            } else {
                memset(ap + r * kp, 0, (size_t)kp * 2);
            }
        }
        return;
    }
    if (ars == 1) {
        // Gᵀ: a row of memory is one k across the strip's 32 rows. Two such rows make each row's
        // pair (A[i,k], A[i,k+1]) as one 32-bit value; 16 pairs of k for 16 rows are then a
        // 16×16 block of 32-bit values, transposed in registers into 16 rows of 64 bytes.
        __m512i ilo = _mm512_loadu_si512(interleave_lo), ihi = _mm512_loadu_si512(interleave_hi);
        __mmask32 mask = mr == 32 ? 0xFFFFFFFFu : ((1u << mr) - 1u);
        uint32_t *ap32 = (uint32_t *)(void *)ap;
        long stride = kp / 2;
        for (long k0 = 0; k0 < kp; k0 += 32) {
            __m512i top[16], bottom[16];  // rows 0–15 and 16–31, one vector per pair of k
            for (long q = 0; q < 16; ++q) {
                long k = k0 + 2 * q;
                __m512i r0 = k < kc ? _mm512_maskz_loadu_epi16(mask, a + k * acs) : _mm512_setzero_si512();
                __m512i r1 = k + 1 < kc ? _mm512_maskz_loadu_epi16(mask, a + (k + 1) * acs) : _mm512_setzero_si512();
                top[q] = _mm512_permutex2var_epi16(r0, ilo, r1);
                bottom[q] = _mm512_permutex2var_epi16(r0, ihi, r1);
            }
            transpose_16x16(top);
            transpose_16x16(bottom);
            for (long r = 0; r < 16; ++r) {
                _mm512_store_si512((void *)(ap32 + r * stride + k0 / 2), top[r]);
                _mm512_store_si512((void *)(ap32 + (16 + r) * stride + k0 / 2), bottom[r]);
            }
        }
        return;
    }
    for (long r = 0; r < 32; ++r)
        for (long k = 0; k < kp; ++k) ap[r * kp + k] = (r < mr && k < kc) ? a[r * ars + k * acs] : 0;
}

/// C[32×32] (+)= A-strip · B over kp values of k. `c` is C itself or the scratch, `ldc` in floats.
AMX_TARGET static void strip_32x32(long kp, const uint16_t *a, long lda, const uint16_t *b0, const uint16_t *b1,
                                   float *c, long ldc, int load) {
    long cs = ldc * 4, as = lda * 2;
    if (load) {
        _tile_loadd(0, c, cs);
        _tile_loadd(1, c + 16, cs);
        _tile_loadd(2, c + 16 * ldc, cs);
        _tile_loadd(3, c + 16 * ldc + 16, cs);
    } else {
        _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
    }
    for (long k = 0; k < kp; k += 32) {
        _tile_loadd(4, a + k, as);
        _tile_loadd(5, a + 16 * lda + k, as);
        _tile_loadd(6, b0 + k * 16, 64);
        _tile_loadd(7, b1 + k * 16, 64);
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
    }
    _tile_stored(0, c, cs);
    _tile_stored(1, c + 16, cs);
    _tile_stored(2, c + 16 * ldc, cs);
    _tile_stored(3, c + 16 * ldc + 16, cs);
}

static void ensure_buffers(void) {
    if (!tls_b) {
        tls_b = (uint16_t *)aligned_alloc(64, (size_t)KC * NC * 2);
        tls_a = (uint16_t *)aligned_alloc(64, (size_t)32 * KC * 2);
        tls_c = (float *)aligned_alloc(64, (size_t)32 * 32 * 4);
    }
}

AMX_TARGET static void configure_tiles(void) {
    tile_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 8; ++t) { cfg.rows[t] = 16; cfg.bytes_per_row[t] = 64; }
    _tile_loadconfig(&cfg);
}

/// C[m, nc] (+)= A[m, kc] · B for one K×N block whose B is packed (`pack_b_vnni`, kp = kc rounded up to 32).
AMX_TARGET static void block_amx(long m, long nc, long kc, long kp, const uint16_t *a, long ars, long acs,
                                 const uint16_t *bp, float *c, long ldc, int load) {
    for (long i = 0; i < m; i += 32) {
        long mr = m - i < 32 ? m - i : 32;
        const uint16_t *as = a + i * ars;
        const uint16_t *ap;
        long lda;
        if (acs == 1 && mr == 32 && kc == kp) {
            ap = as; lda = ars;        // rows of K in place
        } else {
            pack_a(as, ars, acs, mr, kc, kp, tls_a);
            ap = tls_a; lda = kp;
        }
        for (long j = 0; j < nc; j += 32) {
            long nr = nc - j < 32 ? nc - j : 32;
            const uint16_t *b0 = bp + (j / 16) * kp * 16, *b1 = b0 + kp * 16;
            float *cij = c + i * ldc + j;
            if (mr == 32 && nr == 32) {
                strip_32x32(kp, ap, lda, b0, b1, cij, ldc, load);
                continue;
            }
            // An edge: the valid part of C in and out through the scratch.
            for (long r = 0; r < 32; ++r) {
                float *row = tls_c + r * 32;
                if (load && r < mr) { memcpy(row, cij + r * ldc, (size_t)nr * 4); memset(row + nr, 0, (size_t)(32 - nr) * 4); }
                else memset(row, 0, 32 * 4);
            }
            strip_32x32(kp, ap, lda, b0, b1, tls_c, 32, 1);
            for (long r = 0; r < mr; ++r) memcpy(cij + r * ldc, tls_c + r * 32, (size_t)nr * 4);
        }
    }
}

AMX_TARGET static void packed_block(long m, long nc, long kc, const uint16_t *a, long ars, long acs,
                                    const uint16_t *packed, float *c, long ldc, int load) {
    ensure_buffers();
    configure_tiles();
    block_amx(m, nc, kc, (kc + 31) & ~31L, a, ars, acs, packed, c, ldc, load);
    _tile_release();
}

AMX_TARGET static void gemm_amx(long m, long n, long k, const uint16_t *a, long ars, long acs,
                                const uint16_t *b, long ldb, float *c, long ldc, int accumulate) {
    ensure_buffers();
    configure_tiles();
    for (long pc = 0; pc < k; pc += KC) {
        long kc = k - pc < KC ? k - pc : KC, kp = (kc + 31) & ~31L;
        int load = accumulate || pc > 0;
        for (long jc = 0; jc < n; jc += NC) {
            long nc = n - jc < NC ? n - jc : NC;
            pack_b_vnni(b + pc * ldb + jc, ldb, kc, kp, nc, tls_b);
            block_amx(m, nc, kc, kp, a + pc * acs, ars, acs, tls_b, c + jc, ldc, load);
        }
    }
    _tile_release();
}

static int amx_state = -1;  // -1 unknown, 0 unavailable, 1 available

static int amx_probe(void) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("amx-bf16") || !__builtin_cpu_supports("amx-tile")
        || !__builtin_cpu_supports("avx512bw") || !__builtin_cpu_supports("avx512vl")) return 0;
    // Ask Linux for the tile registers (a no-op once granted); a kernel without AMX support says no.
    return syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
}
#endif

int nsc_amx_bf16_available(void) {
#if NSC_AMX
    int s = __atomic_load_n(&amx_state, __ATOMIC_ACQUIRE);
    if (s < 0) { s = amx_probe(); __atomic_store_n(&amx_state, s, __ATOMIC_RELEASE); }
    return s;
#else
    return 0;
#endif
}

int nsc_gemm_bf16_amx(long m, long n, long k, const uint16_t *a, long ars, long acs,
                      const uint16_t *b, long ldb, float *c, long ldc, int accumulate) {
#if NSC_AMX
    if (!nsc_amx_bf16_available()) return 0;
    if (nsc_gemm_empty(m, n, k, c, ldc, accumulate)) return 1;
    gemm_amx(m, n, k, a, ars, acs, b, ldb, c, ldc, accumulate);
    return 1;
#else
    (void)m; (void)n; (void)k; (void)a; (void)ars; (void)acs; (void)b; (void)ldb; (void)c; (void)ldc; (void)accumulate;
    return 0;
#endif
}

// MARK: - B packed once for several threads (see GEMM16.multiply)

long nsc_amx_block_k(void) { return KC; }
long nsc_amx_block_n(void) { return NC; }

static __thread uint16_t *tls_shared_b = NULL;

uint16_t *nsc_amx_shared_b(void) {
    if (!tls_shared_b) tls_shared_b = (uint16_t *)aligned_alloc(64, (size_t)KC * NC * 2);
    return tls_shared_b;
}

long nsc_amx_panel_halves(long kc) { return ((kc + 31) & ~31L) * 16; }

void nsc_amx_pack_b(const uint16_t *b, long ldb, long kc, long nc, uint16_t *packed) {
#if NSC_AMX
    if (nsc_amx_bf16_available()) pack_b_vnni(b, ldb, kc, (kc + 31) & ~31L, nc, packed);
#else
    (void)b; (void)ldb; (void)kc; (void)nc; (void)packed;
#endif
}

int nsc_gemm_bf16_amx_packed(long m, long nc, long kc, const uint16_t *a, long ars, long acs,
                             const uint16_t *packed, float *c, long ldc, int load) {
#if NSC_AMX
    if (!nsc_amx_bf16_available() || kc > KC || nc > NC) return 0;
    if (m <= 0 || nc <= 0 || kc <= 0) return 1;
    packed_block(m, nc, kc, a, ars, acs, packed, c, ldc, load);
    return 1;
#else
    (void)m; (void)nc; (void)kc; (void)a; (void)ars; (void)acs; (void)packed; (void)c; (void)ldc; (void)load;
    return 0;
#endif
}
