#include "recur_int8.h"

#include <math.h>
#include <string.h>

/* Every float operation here is rounded as written: the quantization's bits
   must not depend on the compiler or the CPU. */
#pragma STDC FP_CONTRACT OFF

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

/* A bit per path this CPU can run: 1 << path (path 0, portable C, always). */
__attribute__((visibility("hidden")))
int recurint8_paths(void)
{
#if defined(__x86_64__)
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    int avx512 = (b >> 16) & 1 && (b >> 30) & 1 && (c >> 11) & 1; /* avx512f, avx512bw, avx512_vnni */
    unsigned xa, xb, xc, xd;
    int avxvnni = __get_cpuid_count(7, 1, &xa, &xb, &xc, &xd) && ((xa >> 4) & 1) && ((b >> 5) & 1); /* avx_vnni, avx2 */
    /* The OS must save the wide registers (XCR0: SSE, AVX, and the AVX-512 state). */
    unsigned xcr0 = 0;
    if ((c >> 27) & 1) { unsigned hi; __asm__("xgetbv" : "=a"(xcr0), "=d"(hi) : "c"(0)); }
    int avx2 = (b >> 5) & 1;
    return (avx2 && (xcr0 & 0x6) == 0x6 ? 1 << 1 : 0) | (avxvnni && (xcr0 & 0x6) == 0x6 ? 1 << 2 : 0) |
           (avx512 && (xcr0 & 0xE6) == 0xE6 ? 1 << 3 : 0) | 1;
#else
    return 1;
#endif
}

/* Row quantization, one code for every path: the bits of xq and sx. */
enum { CHUNK = 4096 }; /* quads of input quantized at a time (16 KB on the stack) */

static float row_scale(const float *x, size_t depth)
{
    /* Eight running maxima, not one: a single chain waits on each max's
       latency. A maximum is exact, so the grouping cannot change it (the
       input is finite: the state refuses anything else). */
    float m[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t k = 0;
    for (; k + 8 <= depth; k += 8) {
        for (int l = 0; l < 8; l++) {
            float a = fabsf(x[k + l]);
            m[l] = a > m[l] ? a : m[l];
        }
    }
    for (; k < depth; k++) {
        float a = fabsf(x[k]);
        m[0] = a > m[0] ? a : m[0];
    }
    float largest = 0;
    for (int l = 0; l < 8; l++) largest = m[l] > largest ? m[l] : largest;
    return largest / 127.0f;
}

/* Quads [q0, q1) of x as unsigned bytes (round(x / sx) + 128), zero input past depth -> 128. */
static void quantize(const float *x, size_t depth, float sx, size_t q0, size_t q1, uint8_t *out)
{
    float inverse = sx > 0 ? 1.0f / sx : 0.0f;
    /* Round to nearest, ties to even, as nearbyintf in the default rounding
       mode, without its call: |x * inverse| <= 127 here, and adding 1.5 * 2^23
       leaves no fraction bits. The product is rounded on its own first (a
       statement of its own, and FP_CONTRACT is off: no fused multiply-add). */
    const float magic = 12582912.0f;
    for (size_t k = q0 * 4; k < q1 * 4; k++) {
        float scaled = k < depth ? x[k] * inverse : 0.0f;
        float v = (scaled + magic) - magic;
        v = v > 127.0f ? 127.0f : v < -127.0f ? -127.0f : v;
        out[k - q0 * 4] = (uint8_t)((int)v + 128);
    }
}

static void epilogue(const int32_t *acc, const int32_t *compensation, const float *scale, float sx, size_t width, float *out)
{
    for (size_t r = 0; r < width; r++) out[r] = ((float)(acc[r] - compensation[r]) * sx) * scale[r];
}

static void row_portable(size_t depth, size_t width, const int8_t *w, const uint8_t *xu, size_t q0, size_t q1, int32_t *acc)
{
    for (size_t q = q0; q < q1; q++) {
        const uint8_t *xq = xu + (q - q0) * 4;
        const int8_t *wq = w + q * width * 4;
        for (size_t r = 0; r < width; r++) {
            const int8_t *p = wq + r * 4;
            acc[r] += (int32_t)xq[0] * p[0] + (int32_t)xq[1] * p[1] + (int32_t)xq[2] * p[2] + (int32_t)xq[3] * p[3];
        }
    }
    (void)depth;
}

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512bw,avx512vnni")))
static void row_avx512(size_t width, const int8_t *w, const uint8_t *xu, size_t q0, size_t q1, int32_t *acc)
{
    size_t r = 0;
    /* 256 outputs at a time: each row of a quad is then read 1 KB at a time
       (a step down the quads is `width` * 4 bytes, often a new 4 KB page,
       where the prefetchers stop). The sums are exact integers: any grouping
       gives the same bits. */
    for (; r + 256 <= width; r += 256) {
        __m512i a[16];
        for (int v = 0; v < 16; v++) a[v] = _mm512_loadu_si512(acc + r + 16 * v);
        for (size_t q = q0; q < q1; q++) {
            int32_t quad;
            memcpy(&quad, xu + (q - q0) * 4, 4);
            __m512i x = _mm512_set1_epi32(quad);
            const int8_t *p = w + (q * width + r) * 4;
            for (int v = 0; v < 16; v++) a[v] = _mm512_dpbusd_epi32(a[v], x, _mm512_loadu_si512(p + 64 * v));
        }
        for (int v = 0; v < 16; v++) _mm512_storeu_si512(acc + r + 16 * v, a[v]);
    }
    for (; r + 64 <= width; r += 64) {
        __m512i a0 = _mm512_loadu_si512(acc + r), a1 = _mm512_loadu_si512(acc + r + 16);
        __m512i a2 = _mm512_loadu_si512(acc + r + 32), a3 = _mm512_loadu_si512(acc + r + 48);
        for (size_t q = q0; q < q1; q++) {
            int32_t quad;
            memcpy(&quad, xu + (q - q0) * 4, 4);
            __m512i x = _mm512_set1_epi32(quad);
            const int8_t *p = w + (q * width + r) * 4;
            a0 = _mm512_dpbusd_epi32(a0, x, _mm512_loadu_si512(p));
            a1 = _mm512_dpbusd_epi32(a1, x, _mm512_loadu_si512(p + 64));
            a2 = _mm512_dpbusd_epi32(a2, x, _mm512_loadu_si512(p + 128));
            a3 = _mm512_dpbusd_epi32(a3, x, _mm512_loadu_si512(p + 192));
        }
        _mm512_storeu_si512(acc + r, a0); _mm512_storeu_si512(acc + r + 16, a1);
        _mm512_storeu_si512(acc + r + 32, a2); _mm512_storeu_si512(acc + r + 48, a3);
    }
    for (; r < width; r += 16) {
        __m512i a = _mm512_loadu_si512(acc + r);
        for (size_t q = q0; q < q1; q++) {
            int32_t quad;
            memcpy(&quad, xu + (q - q0) * 4, 4);
            a = _mm512_dpbusd_epi32(a, _mm512_set1_epi32(quad), _mm512_loadu_si512(w + (q * width + r) * 4));
        }
        _mm512_storeu_si512(acc + r, a);
    }
}

/* AVX2 without VNNI: bytes widened to int16, pairs multiplied and summed by
   vpmaddwd (255 * 127 * 2 fits in int32: no saturation). Each 16 weight
   bytes (4 outputs x 4 inputs) give 8 pair sums; those are summed over the
   quads as they are, and a quad's two pairs are added (vphaddd) only once at
   the end. The sums are exact: the same as the VNNI paths'. 16 outputs per
   pass; the input's quads are widened once per row, not once per pass. */
__attribute__((target("avx2")))
static void row_avx2(size_t width, const int8_t *w, const uint8_t *xu, size_t q0, size_t q1, int32_t *acc)
{
    /* vphaddd leaves outputs 0 1 4 5 | 2 3 6 7; this puts them back in order. */
    const __m256i order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);
    __m256i xw[256];  /* the quads of this chunk, each as 16 int16 (x0 x1 x2 x3, four times) */
    for (size_t q0b = q0; q0b < q1; q0b += 256) {
        size_t q1b = q0b + 256 < q1 ? q0b + 256 : q1;
        for (size_t q = q0b; q < q1b; q++) {
            int32_t quad;
            memcpy(&quad, xu + (q - q0) * 4, 4);
            xw[q - q0b] = _mm256_cvtepu8_epi16(_mm_set1_epi32(quad));
        }
        for (size_t r = 0; r < width; r += 16) {  /* width: a multiple of 16 (padded) */
            __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
            for (size_t q = q0b; q < q1b; q++) {
                const __m256i x4 = xw[q - q0b];
                const int8_t *p = w + (q * width + r) * 4;
                s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)p)), x4));
                s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(p + 16))), x4));
                s2 = _mm256_add_epi32(s2, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(p + 32))), x4));
                s3 = _mm256_add_epi32(s3, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(p + 48))), x4));
            }
            __m256i a0 = _mm256_permutevar8x32_epi32(_mm256_hadd_epi32(s0, s1), order);
            __m256i a1 = _mm256_permutevar8x32_epi32(_mm256_hadd_epi32(s2, s3), order);
            _mm256_storeu_si256((__m256i *)(acc + r), _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(acc + r)), a0));
            _mm256_storeu_si256((__m256i *)(acc + r + 8), _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(acc + r + 8)), a1));
        }
    }
}

__attribute__((target("avx2,avxvnni")))
static void row_avxvnni(size_t width, const int8_t *w, const uint8_t *xu, size_t q0, size_t q1, int32_t *acc)
{
    size_t r = 0;
    /* 64 outputs at a time (as row_avx512's 256): 256 bytes of a quad's row per step down. */
    for (; r + 64 <= width; r += 64) {
        __m256i a[8];
        for (int v = 0; v < 8; v++) a[v] = _mm256_loadu_si256((const __m256i *)(acc + r + 8 * v));
        for (size_t q = q0; q < q1; q++) {
            int32_t quad;
            memcpy(&quad, xu + (q - q0) * 4, 4);
            __m256i x = _mm256_set1_epi32(quad);
            const int8_t *p = w + (q * width + r) * 4;
            for (int v = 0; v < 8; v++) a[v] = _mm256_dpbusd_avx_epi32(a[v], x, _mm256_loadu_si256((const __m256i *)(p + 32 * v)));
        }
        for (int v = 0; v < 8; v++) _mm256_storeu_si256((__m256i *)(acc + r + 8 * v), a[v]);
    }
    for (; r < width; r += 16) {
        __m256i a0 = _mm256_loadu_si256((const __m256i *)(acc + r)), a1 = _mm256_loadu_si256((const __m256i *)(acc + r + 8));
        for (size_t q = q0; q < q1; q++) {
            int32_t quad;
            memcpy(&quad, xu + (q - q0) * 4, 4);
            __m256i x = _mm256_set1_epi32(quad);
            const int8_t *p = w + (q * width + r) * 4;
            a0 = _mm256_dpbusd_avx_epi32(a0, x, _mm256_loadu_si256((const __m256i *)p));
            a1 = _mm256_dpbusd_avx_epi32(a1, x, _mm256_loadu_si256((const __m256i *)(p + 32)));
        }
        _mm256_storeu_si256((__m256i *)(acc + r), a0);
        _mm256_storeu_si256((__m256i *)(acc + r + 8), a1);
    }
}
#endif

__attribute__((visibility("hidden")))
void recurint8_project(int path, size_t count, size_t depth, size_t width, const int8_t *weights,
                        const float *scale, const int32_t *compensation, const float *input, size_t input_stride,
                        float *output, size_t output_stride)
{
    static int paths = 0;
    if (paths == 0) paths = recurint8_paths();
    while (path > 0 && !(paths & (1 << path))) path--; /* the best this CPU has, at most `path` */
    uint8_t xu[CHUNK * 4];
    size_t quads = (depth + 3) / 4;
    for (size_t i = 0; i < count; i++) {
        const float *x = input + i * input_stride;
        float *out = output + i * output_stride;
        int32_t *acc = (int32_t *)out; /* the sums live in the output row until the epilogue */
        memset(acc, 0, width * sizeof *acc);
        float sx = row_scale(x, depth);
        for (size_t q0 = 0; q0 < quads; q0 += CHUNK) {
            size_t q1 = q0 + CHUNK < quads ? q0 + CHUNK : quads;
            quantize(x, depth, sx, q0, q1, xu);
#if defined(__x86_64__)
            if (path == 3) { row_avx512(width, weights, xu, q0, q1, acc); continue; }
            if (path == 2) { row_avxvnni(width, weights, xu, q0, q1, acc); continue; }
            if (path == 1) { row_avx2(width, weights, xu, q0, q1, acc); continue; }
#endif
            row_portable(depth, width, weights, xu, q0, q1, acc);
        }
        epilogue(acc, compensation, scale, sx, width, out);
    }
}
