#include "CCPUFeatures.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

// XCR0, the register-state components the OS saves on a context switch (needs OSXSAVE).
static unsigned long long xcr0(void) {
    unsigned int eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

static int os_saves(unsigned long long mask) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    if (!(ecx & bit_OSXSAVE)) return 0;
    return (xcr0() & mask) == mask;
}

int nanoscope_cpu_has_avx2_fma(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    if (!(ecx & bit_FMA) || !(ecx & bit_AVX)) return 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    if (!(ebx & bit_AVX2)) return 0;
    return os_saves(0x6);  // XMM and YMM state
}

int nanoscope_cpu_has_avx512f(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!nanoscope_cpu_has_avx2_fma()) return 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    if (!(ebx & bit_AVX512F)) return 0;
    return os_saves(0xE6);  // XMM, YMM, opmask, ZMM0–15 upper halves, ZMM16–31
}

int nanoscope_cpu_has_neon(void) { return 0; }

#else

int nanoscope_cpu_has_avx2_fma(void) { return 0; }
int nanoscope_cpu_has_avx512f(void) { return 0; }
int nanoscope_cpu_has_neon(void) {
#if defined(__aarch64__)
    return 1;
#else
    return 0;
#endif
}

#endif
