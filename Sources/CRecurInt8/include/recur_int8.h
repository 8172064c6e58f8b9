// int8 weight storage's matrix product (RecurCore's Int8Weights). Internal:
// no stable API, not exported from librecur. A C shim because the integer
// dot-product instructions (AVX-512 VNNI, AVX-VNNI) have no Swift spelling.
#ifndef RECUR_INT8_H
#define RECUR_INT8_H

#include <stddef.h>
#include <stdint.h>

/* The paths recurint8_project can take: 0 portable C, 1 AVX2 (vpmaddwd),
   2 AVX-VNNI (256-bit vpdpbusd), 3 AVX-512 VNNI. All give the same bits:
   the integer sums are exact and the float steps around them are the same
   operations in the same order. Returns a bit (1 << path) per path this
   CPU can run. */
int recurint8_paths(void);

/* out[i][r] = (float)(sum_k xq[i][k] * w[k][r]) * sx[i] * scale[r], for
   i < count, r < width (a multiple of 16), where xq is row i of `input`
   quantized dynamically to int8 with sx[i] = max|x[i]| / 127 (PyTorch's
   dynamic quantization, symmetric). `weights` holds [ceil(depth/4)][width][4]
   int8 (k in quads, zero past depth), `scale` width floats and
   `compensation[r]` = 128 * sum_k w[k][r] (the kernels add 128 to xq to
   use the unsigned-by-signed instructions). `path` falls back to the best
   path below it that the CPU has. */
void recurint8_project(int path, size_t count, size_t depth, size_t width, const int8_t *weights,
                        const float *scale, const int32_t *compensation, const float *input, size_t input_stride,
                        float *output, size_t output_stride);

#endif
