#include "recur_cpu.h"

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
