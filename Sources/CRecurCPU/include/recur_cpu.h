// CPU feature detection for RecurCore's kernel dispatch. Internal: no
// stable API, not exported from librecur.
#ifndef RECUR_CPU_H
#define RECUR_CPU_H

/* 0: baseline x86-64 (SSE2); 1: AVX2 + FMA + F16C (x86-64-v3);
   2: AVX-512 F/BW/CD/DQ/VL (x86-64-v4). */
int recurcpu_best_level(void);

#endif
