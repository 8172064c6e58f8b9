// CPU feature detection for RecurCore's kernel dispatch. Internal: no
// stable API, not exported from librecur.
#ifndef RECUR_CPU_H
#define RECUR_CPU_H

/* The best level the CPU can run. 0: baseline x86-64 (SSE2); 1: AVX2 + FMA
   + F16C (x86-64-v3); 2: AVX-512 F/BW/CD/DQ/VL (x86-64-v4). */
int recurcpu_best_level(void);

/* The level dispatch picks by default: the best one, except on AMD Zen 4
   (family 0x19 with AVX-512), which runs 512-bit work on 256-bit units and
   was measured faster at the AVX2 level (docs/performance.md). */
int recurcpu_preferred_level(void);

#endif
