/* stream.c: the "stream" yardstick of benchmarks.md: the time to read a model's
 * weights once from cache with the widest loads this CPU has. For each size
 * given, a buffer of that many bytes (rounded up to 64) is summed over and
 * over (the sum carried across passes, so no pass can be skipped); after a
 * warm-up the buffer sits in L1/L2. Timed the way bench.c times a call: warm-up,
 * batches of ~2 ms, 101 samples (15 with --quick), median time per pass.
 *
 *   stream [--json] [--quick] [--isa avx512|avx2|sse2] BYTES[:fp32|:fp16] ...
 *
 * fp32: vaddps over 512-bit (AVX-512) or 256-bit (AVX2) loads, 8 accumulators.
 * fp16: each 256-bit (AVX-512) or 128-bit (AVX2) load widened to float32 by
 * vcvtph2ps before the add: what a kernel reading fp16 weights has to do. Dispatch at run time
 * (__builtin_cpu_supports); --isa forces a narrower level.
 */
#define _POSIX_C_SOURCE 200809L
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* One pass over `bytes` (a multiple of 64) at `p`; returns the running sum. */
typedef float (*pass_fn)(const void *p, size_t bytes, float carry);

__attribute__((target("avx512f"))) static float pass_avx512_fp32(const void *p, size_t bytes, float carry)
{
    const float *f = p;
    size_t n = bytes / 4, i = 0;
    __m512 a0 = _mm512_set1_ps(carry), a1 = _mm512_setzero_ps(), a2 = a1, a3 = a1, a4 = a1, a5 = a1, a6 = a1, a7 = a1;
    for (; i + 128 <= n; i += 128) {
        a0 = _mm512_add_ps(a0, _mm512_load_ps(f + i));       a1 = _mm512_add_ps(a1, _mm512_load_ps(f + i + 16));
        a2 = _mm512_add_ps(a2, _mm512_load_ps(f + i + 32));  a3 = _mm512_add_ps(a3, _mm512_load_ps(f + i + 48));
        a4 = _mm512_add_ps(a4, _mm512_load_ps(f + i + 64));  a5 = _mm512_add_ps(a5, _mm512_load_ps(f + i + 80));
        a6 = _mm512_add_ps(a6, _mm512_load_ps(f + i + 96));  a7 = _mm512_add_ps(a7, _mm512_load_ps(f + i + 112));
    }
    for (; i < n; i += 16) a0 = _mm512_add_ps(a0, _mm512_load_ps(f + i));
    a0 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                       _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
    return _mm512_reduce_add_ps(a0) * 0.5f;
}

__attribute__((target("avx512f"))) static float pass_avx512_fp16(const void *p, size_t bytes, float carry)
{
    /* vcvtph2ps zmm takes its 16 halves from a 256-bit memory operand: one
       load and one conversion per 32 bytes (extracting halves from 512-bit
       loads costs a shuffle more on the conversion's port). */
    const __m256i *v = p;
    size_t n = bytes / 32, i = 0;
    __m512 a0 = _mm512_set1_ps(carry), a1 = _mm512_setzero_ps(), a2 = a1, a3 = a1, a4 = a1, a5 = a1, a6 = a1, a7 = a1;
    for (; i + 8 <= n; i += 8) {
        a0 = _mm512_add_ps(a0, _mm512_cvtph_ps(_mm256_load_si256(v + i)));
        a1 = _mm512_add_ps(a1, _mm512_cvtph_ps(_mm256_load_si256(v + i + 1)));
        a2 = _mm512_add_ps(a2, _mm512_cvtph_ps(_mm256_load_si256(v + i + 2)));
        a3 = _mm512_add_ps(a3, _mm512_cvtph_ps(_mm256_load_si256(v + i + 3)));
        a4 = _mm512_add_ps(a4, _mm512_cvtph_ps(_mm256_load_si256(v + i + 4)));
        a5 = _mm512_add_ps(a5, _mm512_cvtph_ps(_mm256_load_si256(v + i + 5)));
        a6 = _mm512_add_ps(a6, _mm512_cvtph_ps(_mm256_load_si256(v + i + 6)));
        a7 = _mm512_add_ps(a7, _mm512_cvtph_ps(_mm256_load_si256(v + i + 7)));
    }
    for (; i < n; i++) a0 = _mm512_add_ps(a0, _mm512_cvtph_ps(_mm256_load_si256(v + i)));
    a0 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                       _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
    return _mm512_reduce_add_ps(a0) * 0.5f;
}

__attribute__((target("avx2,f16c"))) static float reduce256(__m256 a)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

__attribute__((target("avx2,f16c"))) static float pass_avx2_fp32(const void *p, size_t bytes, float carry)
{
    const float *f = p;
    size_t n = bytes / 4, i = 0;
    __m256 a0 = _mm256_set1_ps(carry), a1 = _mm256_setzero_ps(), a2 = a1, a3 = a1, a4 = a1, a5 = a1, a6 = a1, a7 = a1;
    for (; i + 64 <= n; i += 64) {
        a0 = _mm256_add_ps(a0, _mm256_load_ps(f + i));       a1 = _mm256_add_ps(a1, _mm256_load_ps(f + i + 8));
        a2 = _mm256_add_ps(a2, _mm256_load_ps(f + i + 16));  a3 = _mm256_add_ps(a3, _mm256_load_ps(f + i + 24));
        a4 = _mm256_add_ps(a4, _mm256_load_ps(f + i + 32));  a5 = _mm256_add_ps(a5, _mm256_load_ps(f + i + 40));
        a6 = _mm256_add_ps(a6, _mm256_load_ps(f + i + 48));  a7 = _mm256_add_ps(a7, _mm256_load_ps(f + i + 56));
    }
    for (; i < n; i += 8) a0 = _mm256_add_ps(a0, _mm256_load_ps(f + i));
    a0 = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                       _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    return reduce256(a0) * 0.125f;
}

__attribute__((target("avx2,f16c"))) static float pass_avx2_fp16(const void *p, size_t bytes, float carry)
{
    const __m128i *v = p; /* vcvtph2ps ymm, m128: as the AVX-512 path, one load per conversion */
    size_t n = bytes / 16, i = 0;
    __m256 a0 = _mm256_set1_ps(carry), a1 = _mm256_setzero_ps(), a2 = a1, a3 = a1, a4 = a1, a5 = a1, a6 = a1, a7 = a1;
    for (; i + 8 <= n; i += 8) {
        a0 = _mm256_add_ps(a0, _mm256_cvtph_ps(_mm_load_si128(v + i)));
        a1 = _mm256_add_ps(a1, _mm256_cvtph_ps(_mm_load_si128(v + i + 1)));
        a2 = _mm256_add_ps(a2, _mm256_cvtph_ps(_mm_load_si128(v + i + 2)));
        a3 = _mm256_add_ps(a3, _mm256_cvtph_ps(_mm_load_si128(v + i + 3)));
        a4 = _mm256_add_ps(a4, _mm256_cvtph_ps(_mm_load_si128(v + i + 4)));
        a5 = _mm256_add_ps(a5, _mm256_cvtph_ps(_mm_load_si128(v + i + 5)));
        a6 = _mm256_add_ps(a6, _mm256_cvtph_ps(_mm_load_si128(v + i + 6)));
        a7 = _mm256_add_ps(a7, _mm256_cvtph_ps(_mm_load_si128(v + i + 7)));
    }
    for (; i < n; i++) a0 = _mm256_add_ps(a0, _mm256_cvtph_ps(_mm_load_si128(v + i)));
    a0 = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                       _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    return reduce256(a0) * 0.125f;
}

/* Baseline x86-64 (SSE2); fp16 through the same F16C-free path is not worth
   having: sse2 reports fp32 only. */
static float pass_sse2_fp32(const void *p, size_t bytes, float carry)
{
    const float *f = p;
    size_t n = bytes / 4;
    __m128 a0 = _mm_set1_ps(carry), a1 = _mm_setzero_ps(), a2 = a1, a3 = a1;
    for (size_t i = 0; i < n; i += 16) {
        a0 = _mm_add_ps(a0, _mm_load_ps(f + i));      a1 = _mm_add_ps(a1, _mm_load_ps(f + i + 4));
        a2 = _mm_add_ps(a2, _mm_load_ps(f + i + 8));  a3 = _mm_add_ps(a3, _mm_load_ps(f + i + 12));
    }
    a0 = _mm_add_ps(_mm_add_ps(a0, a1), _mm_add_ps(a2, a3));
    float out[4];
    _mm_storeu_ps(out, a0);
    return (out[0] + out[1] + out[2] + out[3]) * 0.25f;
}

int main(int argc, char **argv)
{
    int json = 0, quick = 0;
    const char *isa = NULL;
    int first = 1;
    for (; first < argc && strncmp(argv[first], "--", 2) == 0; first++) {
        if (strcmp(argv[first], "--json") == 0) json = 1;
        else if (strcmp(argv[first], "--quick") == 0) quick = 1;
        else if (strcmp(argv[first], "--isa") == 0 && first + 1 < argc) isa = argv[++first];
        else break;
    }
    if (first >= argc) {
        fprintf(stderr, "usage: stream [--json] [--quick] [--isa avx512|avx2|sse2] BYTES[:fp32|:fp16] ...\n");
        return 2;
    }
    __builtin_cpu_init();
    const char *best = __builtin_cpu_supports("avx512f") ? "avx512"
                     : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c") ? "avx2" : "sse2";
    if (!isa) isa = best;
    int level = strcmp(isa, "avx512") == 0 ? 2 : strcmp(isa, "avx2") == 0 ? 1 : strcmp(isa, "sse2") == 0 ? 0 : -1;
    int supported = strcmp(best, "avx512") == 0 ? 2 : strcmp(best, "avx2") == 0 ? 1 : 0;
    if (level < 0 || level > supported) { fprintf(stderr, "stream: --isa %s not available (best: %s)\n", isa, best); return 2; }

    float carry = 0;
    for (int a = first; a < argc; a++) {
        char *end;
        size_t bytes = strtoull(argv[a], &end, 10);
        int half = strcmp(end, ":fp16") == 0;
        if (bytes == 0 || (*end && !half && strcmp(end, ":fp32") != 0)) { fprintf(stderr, "stream: bad size %s\n", argv[a]); return 2; }
        if (half && level == 0) { fprintf(stderr, "stream: fp16 needs avx2+f16c\n"); return 2; }
        size_t padded = (bytes + 63) / 64 * 64;
        void *buffer = aligned_alloc(64, padded);
        if (!buffer) { fprintf(stderr, "stream: out of memory\n"); return 1; }
        /* Small values (fp16 0x3c00 = 1.0; fp32 1e-3) so no sum overflows. */
        if (half) for (size_t i = 0; i < padded / 2; i++) ((uint16_t *)buffer)[i] = 0x1400;
        else for (size_t i = 0; i < padded / 4; i++) ((float *)buffer)[i] = 1e-3f;
        pass_fn pass = level == 2 ? (half ? pass_avx512_fp16 : pass_avx512_fp32)
                     : level == 1 ? (half ? pass_avx2_fp16 : pass_avx2_fp32) : pass_sse2_fp32;

        double start = now_ns();
        long warm = 0;
        while (now_ns() - start < (quick ? 2e7 : 2e8) || warm < 3) {
            carry = pass(buffer, padded, carry);
            __asm__ volatile("" : "+x"(carry) : "r"(buffer) : "memory");
            warm++;
        }
        double one = (now_ns() - start) / warm;
        long inner = one > 2e6 ? 1 : (long)(2e6 / one);
        int count = quick ? 15 : 101;
        double samples[101];
        for (int s = 0; s < count; s++) {
            double t0 = now_ns();
            for (long i = 0; i < inner; i++) {
                carry = pass(buffer, padded, carry);
                __asm__ volatile("" : "+x"(carry) : "r"(buffer) : "memory");
            }
            samples[s] = (now_ns() - t0) / inner;
        }
        qsort(samples, (size_t)count, sizeof *samples, compare_doubles);
        double median = samples[count / 2], low = samples[count / 10], high = samples[(count * 9) / 10];
        if (json)
            printf("{\"bytes\": %zu, \"padded_bytes\": %zu, \"dtype\": \"%s\", \"isa\": \"%s\", \"median_ns\": %.2f, "
                   "\"p10_ns\": %.2f, \"p90_ns\": %.2f, \"gb_per_s\": %.2f}\n",
                   bytes, padded, half ? "fp16" : "fp32", isa, median, low, high, padded / median);
        else
            printf("%10zu bytes %s %-6s median %10.2f ns per pass [%.2f .. %.2f]  %7.2f GB/s\n", bytes,
                   half ? "fp16" : "fp32", isa, median, low, high, padded / median);
        fflush(stdout);
        free(buffer);
    }
    if (carry == 12345.678f) fputs("", stderr); /* keeps the sum live */
    return 0;
}
