/* int8_paths.c: the int8 product's paths side by side on this CPU, and the
 * float32 bytes the same weights take, for the int8 section of
 * docs/performance.md. Built from Sources/CRecurInt8/int8.c directly (its
 * functions are not exported from librecur). For each path the CPU has:
 * one row (a batch-1 step) times a depth x width int8 matrix, the best of
 * 31 batches of 200 calls.
 *
 *   int8_paths [DEPTH WIDTH]      (default 256 1024: S2's W_hh)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "recur_int8.h"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    size_t depth = argc == 3 ? (size_t)atoi(argv[1]) : 256, width = argc == 3 ? (size_t)atoi(argv[2]) : 1024;
    if (depth == 0 || width == 0 || width % 16 != 0) { fprintf(stderr, "usage: int8_paths [DEPTH WIDTH (a multiple of 16)]\n"); return 2; }
    size_t bytes = (depth + 3) / 4 * 4 * width;
    void *block = NULL;  /* 64-byte aligned, as the library's weights (AlignedBuffer) */
    if (posix_memalign(&block, 64, bytes) != 0) return 1;
    int8_t *w = block;
    float *scale = malloc(width * sizeof *scale), *x = malloc(depth * sizeof *x), *out = malloc(width * sizeof *out);
    int32_t *compensation = calloc(width, sizeof *compensation);
    if (!w || !scale || !x || !out || !compensation) return 1;
    for (size_t i = 0; i < bytes; i++) w[i] = (int8_t)((int)(i * 7919 % 255) - 127);
    for (size_t r = 0; r < width; r++) scale[r] = 0.01f;
    for (size_t k = 0; k < depth; k++) x[k] = (float)(k * 37 % 101) / 50.0f - 1.0f;
    const char *names[] = {"portable C", "AVX2 (vpmaddwd)", "AVX-VNNI", "AVX-512 VNNI"};
    int paths = recurint8_paths();
    printf("int8 product, one row x %zu x %zu (%zu KB of int8 weights, %zu KB as float32)\n", depth, width, bytes / 1024,
           depth * width * 4 / 1024);
    for (int path = 0; path < 4; path++) {
        if (!(paths & (1 << path))) { printf("%-16s not on this CPU\n", names[path]); continue; }
        double best = 1e300;
        for (int s = 0; s < 31; s++) {
            double t0 = now_ns();
            for (int i = 0; i < 200; i++) recurint8_project(path, 1, depth, width, w, scale, compensation, x, 0, out, 0);
            double t = (now_ns() - t0) / 200;
            if (t < best) best = t;
        }
        printf("%-16s %10.1f ns  %6.1f GB/s of int8 weights\n", names[path], best, (double)bytes / best);
    }
    free(w); free(scale); free(x); free(out); free(compensation);
    return 0;
}
