#ifndef NANOSCOPE_CCPUFEATURES_H
#define NANOSCOPE_CCPUFEATURES_H

// What the CPU can execute (asked at run time with the `cpuid` and `xgetbv` instructions), and
// what the build was compiled for (the compiler's target macros). A kernel family can run only
// when both have its instructions: a binary built for AVX2 has no AVX-512 code to run even on an
// AVX-512 CPU, and one built for AVX-512 would fault on a CPU without it.

/// 1 if the CPU has AVX2 and FMA and the OS saves the YMM registers, else 0 (also on non-x86).
int nanoscope_cpu_has_avx2_fma(void);
/// 1 if the CPU has AVX-512F and the OS saves the ZMM registers and opmasks, else 0.
int nanoscope_cpu_has_avx512f(void);
/// 1 on 64-bit ARM (NEON is part of the base architecture there), else 0.
int nanoscope_cpu_has_neon(void);

// The build's target: evaluated where this header is imported, so a Swift target sees the
// macros of its own `-target-cpu` (Swift passes it to the Clang importer as `-march`).
static inline int nanoscope_build_has_avx2_fma(void) {
#if defined(__AVX2__) && defined(__FMA__)
    return 1;
#else
    return 0;
#endif
}

static inline int nanoscope_build_has_avx512f(void) {
#if defined(__AVX512F__)
    return 1;
#else
    return 0;
#endif
}

static inline int nanoscope_build_has_neon(void) {
#if defined(__ARM_NEON) || defined(__aarch64__)
    return 1;
#else
    return 0;
#endif
}

// A hint to bring the cache line holding `p` into this core's cache, ready to be written
// (`prefetchw` on x86; nothing where the compiler has no such instruction). It never faults,
// whatever `p` is. (Here because Swift has no prefetch of its own.)
static inline void nanoscope_prefetch_for_write(const void *p) {
    __builtin_prefetch(p, 1, 3);
}

// The same hint for a line that will only be read (`prefetcht0`).
static inline void nanoscope_prefetch_for_read(const void *p) {
    __builtin_prefetch(p, 0, 3);
}

#endif
