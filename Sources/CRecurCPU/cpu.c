#include "recur_cpu.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

/* AMD family 0x19 (Zen 3 and Zen 4; only Zen 4 has AVX-512). Zen 5 (family
   0x1A) has full-width 512-bit units and keeps AVX-512. */
static int amd_family_19h(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return 0;
    if (!(b == 0x68747541 && d == 0x69746e65 && c == 0x444d4163)) return 0; /* "AuthenticAMD" */
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    unsigned base = (a >> 8) & 0xF, extended = (a >> 20) & 0xFF;
    return base + (base == 0xF ? extended : 0) == 0x19;
}
#endif

__attribute__((visibility("hidden")))
int recurcpu_best_level(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    int v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             __builtin_cpu_supports("f16c") && __builtin_cpu_supports("bmi2");
    int v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512vl");
    return v4 ? 2 : v3 ? 1 : 0;
#else
    return 0;
#endif
}

__attribute__((visibility("hidden")))
int recurcpu_preferred_level(void)
{
    int best = recurcpu_best_level();
#if defined(__x86_64__) || defined(__i386__)
    if (best == 2 && amd_family_19h()) return 1;
#endif
    return best;
}
