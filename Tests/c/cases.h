/* cases.h: helpers the C test programs share for reading the reference
 * cases (json-c) and for files and numbers. */
#ifndef RECUR_TESTS_CASES_H
#define RECUR_TESTS_CASES_H

#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline int json_get_size(json_object *obj, const char *key, size_t *out)
{
    json_object *v;
    int64_t n;
    if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_int)) return 0;
    n = json_object_get_int64(v);
    if (n < 0) return 0;
    *out = (size_t)n;
    return 1;
}

static inline char *path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = (char *)xmalloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* Deterministic values in [-1, 1) with a few low bits set (an LCG). */
static inline float pseudo_random(uint32_t *seed)
{
    *seed = *seed * 1664525u + 1013904223u;
    return (float)((double)(*seed >> 8) / 8388608.0 - 1.0);
}

/* Number of scalars in a tensor written in any of the three forms; -1 if unreadable. */
static inline long tensor_element_count(json_object *t)
{
    if (json_object_is_type(t, json_type_array)) {
        size_t i, n = json_object_array_length(t);
        long total = 0;
        for (i = 0; i < n; i++) {
            json_object *e = json_object_array_get_idx(t, i);
            if (json_object_is_type(e, json_type_array)) {
                long c = tensor_element_count(e);
                if (c < 0) return -1;
                total += c;
            } else {
                total += 1;
            }
        }
        return total;
    }
    if (json_object_is_type(t, json_type_object)) {
        json_object *shape;
        size_t i, n;
        long total = 1;
        if (!json_object_object_get_ex(t, "shape", &shape) || !json_object_is_type(shape, json_type_array))
            return -1;
        n = json_object_array_length(shape);
        for (i = 0; i < n; i++) total *= (long)json_object_get_int64(json_object_array_get_idx(shape, i));
        return total;
    }
    return -1;
}

#endif
