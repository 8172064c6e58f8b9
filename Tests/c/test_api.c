/*
 * test_api.c: the public C API of Recur (inference and models), from C.
 *
 * Usage:   test_api TESTDATA_DIR          (e.g. Tests/testdata)
 *
 * Reads every reference case (TESTDATA_DIR/<name>.json) and the invalid corpus
 * (TESTDATA_DIR/invalid/manifest.json) with json-c, independently of the
 * library, and checks the library against them through recur.h only.
 * Prints one line per failed check ("FAIL [case] group (line N): details"),
 * then "N passed, N failed"; exits 1 if any check failed (unreadable test data
 * counts as a failed check), 2 on a usage error or if the test itself cannot
 * run (out of memory, mkstemp).
 *
 * Build (from the project root):
 *   cc -std=c99 -Wall -Wextra -Werror -pedantic -Iinclude Tests/c/test_api.c \
 *      -o build/tests/test_api -Lbuild/lib -lrecur -ljson-c -pthread -Wl,-rpath,$PWD/build/lib
 * Run:  build/tests/test_api Tests/testdata
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include "recur.h"

#include <json-c/json.h>

#include <dirent.h>
#include <errno.h>
#include <math.h> /* NAN, INFINITY */
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Check bookkeeping                                                         */
/* ------------------------------------------------------------------------ */

#include "check.h"

/* Maps a manifest status name to its value; returns 0 if the name is unknown. */
static int status_from_name(const char *name, recur_status *out)
{
    int s;
    for (s = RECUR_OK; s <= RECUR_ERROR_INTERNAL; s++) {
        if (strcmp(name, status_name((recur_status)s)) == 0) {
            *out = (recur_status)s;
            return 1;
        }
    }
    return 0;
}

/* CHECK_STATUS(call, expected, what): the call returns exactly `expected`. */
#define CHECK_STATUS(call, expected, what)                                              \
    do {                                                                                \
        recur_status st_ = (call);                                                      \
        CHECK(st_ == (expected), "%s: got %s, expected %s (last error: \"%s\")", (what), \
              status_name(st_), status_name(expected), recur_last_error());             \
    } while (0)

/* CHECK_OK(call, what): shorthand; evaluates to 1 when the call returned RECUR_OK. */
#define CHECK_OK(call, what) check_ok_impl((call), (what), __LINE__)

static int check_ok_impl(recur_status st, const char *what, int line)
{
    return check_impl(st == RECUR_OK, line, "%s: got %s, expected RECUR_OK (last error: \"%s\")",
                      what, status_name(st), recur_last_error());
}

/* Rejected with INVALID_ARGUMENT or SHAPE (either is a fair reading of the contract). */
static int is_argument_error(recur_status st)
{
    return st == RECUR_ERROR_INVALID_ARGUMENT || st == RECUR_ERROR_SHAPE;
}

/* Sentinels: out-pointers must be left untouched on failure. */
static char g_sentinel_object;
#define MODEL_SENTINEL ((recur_model *)(void *)&g_sentinel_object)
#define STATE_SENTINEL ((recur_state *)(void *)&g_sentinel_object)
#define STRING_SENTINEL ((char *)&g_sentinel_object)

/* ------------------------------------------------------------------------ */
/* Small utilities                                                           */
/* ------------------------------------------------------------------------ */

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "test_api: out of memory\n");
        exit(2);
    }
    return p;
}

#include "cases.h" /* after xmalloc, which path_join uses */

static float *float_alloc(size_t n) { return (float *)xmalloc(n * sizeof(float)); }

static void float_fill(float *p, size_t n, float v)
{
    size_t i;
    for (i = 0; i < n; i++) p[i] = v;
}

/* No libm needed: the test links with -lrecur -ljson-c -pthread only. */
static double abs_d(double v) { return v < 0 ? -v : v; }

/* Reads a whole file; *out_len gets its size. The buffer is never NULL (even
   for an empty file) and is NUL-terminated one past the end. NULL on error. */
static char *read_file_bytes(const char *path, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, len = 0, n;
    if (!f) return NULL;
    cap = 4096;
    buf = (char *)xmalloc(cap);
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            char *bigger;
            cap *= 2;
            bigger = (char *)realloc(buf, cap);
            if (!bigger) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = bigger;
        }
    }
    if (ferror(f)) {
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[len] = '\0';
    *out_len = len;
    return buf;
}

/* Creates an empty temporary file in /tmp and returns its path (caller frees). */
static char *make_temp_path(void)
{
    char *path = (char *)xmalloc(64);
    int fd;
    strcpy(path, "/tmp/recur_test_api_XXXXXX");
    fd = mkstemp(path);
    if (fd < 0) {
        fprintf(stderr, "test_api: mkstemp failed: %s\n", strerror(errno));
        exit(2);
    }
    close(fd);
    return path;
}

/* ------------------------------------------------------------------------ */
/* Comparisons: one check each, details of the first mismatch on failure     */
/* ------------------------------------------------------------------------ */

/* |mine - ref| <= 5e-5 + 5e-4 * |ref| for every element (testdata/README.md). */
static int check_close_impl(int line, const char *what, const float *mine, const double *ref, size_t n)
{
    size_t i, bad = 0, first = 0;
    double worst = 0.0;
    for (i = 0; i < n; i++) {
        double m = (double)mine[i];
        double err = abs_d(m - ref[i]);
        double tol = 5e-5 + 5e-4 * abs_d(ref[i]);
        if (!(err <= tol)) { /* also catches NaN */
            if (bad == 0) first = i;
            bad++;
            if (err > worst || err != err) worst = err;
        }
    }
    if (bad == 0) return check_impl(1, line, "%s", what);
    return check_impl(0, line, "%s: %zu of %zu elements out of tolerance; first at [%zu]: got %.9g, reference %.9g "
                    "(worst error %.3g)",
                 what, bad, n, first, (double)mine[first], ref[first], worst);
}

/* Bit-identical float arrays. */
static int check_same_bits_impl(int line, const char *what, const float *mine, const float *expected, size_t n)
{
    size_t i, bad = 0, first = 0;
    for (i = 0; i < n; i++) {
        if (float_bits(mine[i]) != float_bits(expected[i])) {
            if (bad == 0) first = i;
            bad++;
        }
    }
    if (bad == 0) return check_impl(1, line, "%s", what);
    return check_impl(0, line, "%s: %zu of %zu elements differ in bits; first at [%zu]: got %.9g (0x%08x), "
                    "expected %.9g (0x%08x)",
                 what, bad, n, first, (double)mine[first], (unsigned)float_bits(mine[first]),
                 (double)expected[first], (unsigned)float_bits(expected[first]));
}

static int check_all_zero_impl(int line, const char *what, const float *v, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (v[i] != 0.0f) return check_impl(0, line, "%s: element [%zu] is %.9g, expected 0", what, i, (double)v[i]);
    }
    return check_impl(1, line, "%s", what);
}

#define check_close(what, mine, ref, n) check_close_impl(__LINE__, (what), (mine), (ref), (n))
#define check_same_bits(what, mine, expected, n) check_same_bits_impl(__LINE__, (what), (mine), (expected), (n))
#define check_all_zero(what, v, n) check_all_zero_impl(__LINE__, (what), (v), (n))

/* ------------------------------------------------------------------------ */
/* Reference cases, read with json-c                                         */
/* ------------------------------------------------------------------------ */

typedef struct {
    char *name;           /* file name without ".json" */
    char *model_json;     /* the `model` object, serialized by json-c (plain) */
    size_t model_length;
    json_object *metadata; /* the model's metadata (owned by `root`), or NULL */
    json_object *root;
    size_t batch, steps, input_size, output_size, state_size; /* state_size per stream */
    long parameter_count; /* counted from the weights in the document; -1 if unknown */
    float *input;         /* [B][T][I] */
    double *output;       /* [B][T][O] */
    double *final_state;  /* [B][S] */
} test_case;

/* What one run of the whole batch from zero state produced (the baseline
   against which the other paths must be bit-identical). */
typedef struct {
    float *y;     /* [B][T][O] */
    float *state; /* [B][S] */
} run_result;

static double *json_get_doubles(json_object *obj, const char *key, size_t *out_n)
{
    json_object *arr;
    size_t i, n;
    double *d;
    if (!json_object_object_get_ex(obj, key, &arr) || !json_object_is_type(arr, json_type_array)) return NULL;
    n = json_object_array_length(arr);
    d = (double *)xmalloc(n * sizeof(double));
    for (i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(arr, i);
        if (!json_object_is_type(e, json_type_double) && !json_object_is_type(e, json_type_int)) {
            free(d);
            return NULL;
        }
        d[i] = json_object_get_double(e);
    }
    *out_n = n;
    return d;
}

static long count_parameters(json_object *model)
{
    json_object *layers;
    size_t i, n;
    long total = 0;
    if (!json_object_object_get_ex(model, "layers", &layers)) return -1;
    n = json_object_array_length(layers);
    for (i = 0; i < n; i++) {
        json_object *weights;
        if (!json_object_object_get_ex(json_object_array_get_idx(layers, i), "weights", &weights)) return -1;
        json_object_object_foreach(weights, key, tensor)
        {
            long c = tensor_element_count(tensor);
            (void)key;
            if (c < 0) return -1;
            total += c;
        }
    }
    return total;
}

static void free_case(test_case *tc)
{
    free(tc->name);
    free(tc->model_json);
    free(tc->input);
    free(tc->output);
    free(tc->final_state);
    if (tc->root) json_object_put(tc->root);
    memset(tc, 0, sizeof *tc);
}

/* Reads one case; 0 if the file is not a usable case (reported as a failure). */
static int read_case(const char *dir, const char *file, test_case *tc)
{
    char *path = path_join(dir, file);
    json_object *model, *v;
    double *input_d;
    size_t n_input = 0, n_output = 0, n_state = 0, i;
    const char *s;

    memset(tc, 0, sizeof *tc);
    tc->name = strdup(file);
    tc->name[strlen(tc->name) - 5] = '\0'; /* drop ".json" */
    g_case = tc->name;
    g_group = "reading the case";

    tc->root = json_object_from_file(path);
    free(path);
    if (!CHECK(tc->root != NULL, "cannot parse the case file: %s", json_util_get_last_err())) return 0;
    if (!CHECK(json_object_object_get_ex(tc->root, "model", &model) && json_object_is_type(model, json_type_object),
               "case has no `model` object"))
        return 0;
    if (!CHECK(json_get_size(tc->root, "batch", &tc->batch) && json_get_size(tc->root, "steps", &tc->steps) &&
                   json_get_size(model, "input_size", &tc->input_size) && tc->batch > 0 && tc->steps > 0,
               "case lacks batch, steps or model.input_size"))
        return 0;

    s = json_object_to_json_string_ext(model, JSON_C_TO_STRING_PLAIN);
    tc->model_length = strlen(s);
    tc->model_json = (char *)xmalloc(tc->model_length + 1);
    memcpy(tc->model_json, s, tc->model_length + 1);
    tc->metadata = json_object_object_get_ex(model, "metadata", &v) ? v : NULL;
    tc->parameter_count = count_parameters(model);

    input_d = json_get_doubles(tc->root, "input", &n_input);
    tc->output = json_get_doubles(tc->root, "output", &n_output);
    tc->final_state = json_get_doubles(tc->root, "final_state", &n_state);
    if (!CHECK(input_d && tc->output && tc->final_state, "case lacks input, output or final_state")) {
        free(input_d);
        return 0;
    }
    tc->input = float_alloc(n_input);
    for (i = 0; i < n_input; i++) tc->input[i] = (float)input_d[i];
    free(input_d);

    if (!CHECK(n_input == tc->batch * tc->steps * tc->input_size, "len(input) = %zu, expected B*T*I = %zu", n_input,
               tc->batch * tc->steps * tc->input_size))
        return 0;
    if (!CHECK(n_output % (tc->batch * tc->steps) == 0 && n_output > 0, "len(output) = %zu is not a multiple of B*T",
               n_output))
        return 0;
    if (!CHECK(n_state % tc->batch == 0 && n_state > 0, "len(final_state) = %zu is not a multiple of B", n_state))
        return 0;
    tc->output_size = n_output / (tc->batch * tc->steps);
    tc->state_size = n_state / tc->batch;
    return 1;
}

/* Loads the case's model from an exact-length buffer (no terminating NUL, so
   a library that reads past `length` shows up under ASan/valgrind). */
static recur_model *load_case_model(const test_case *tc)
{
    recur_model *model = MODEL_SENTINEL;
    char *exact = (char *)xmalloc(tc->model_length);
    recur_status st;
    memcpy(exact, tc->model_json, tc->model_length);
    st = recur_model_load_json(exact, tc->model_length, &model);
    free(exact);
    if (!CHECK_OK(st, "recur_model_load_json(case model)")) return NULL;
    if (!CHECK(model != NULL && model != MODEL_SENTINEL, "recur_model_load_json returned OK without a model"))
        return NULL;
    return model;
}

/* x[b][t0 .. t0+len) for every stream, as a [B][len][I] block. */
static float *slice_steps(const float *x, size_t batch, size_t steps, size_t width, size_t t0, size_t len)
{
    float *out = float_alloc(batch * len * width);
    size_t b;
    for (b = 0; b < batch; b++)
        if (len) memcpy(out + b * len * width, x + (b * steps + t0) * width, len * width * sizeof(float));
    return out;
}

/* Runs `steps` steps of x [B][T][I] on a fresh batch-B state; fills y [B][T][O]
   and state [B][S] (if not NULL). Returns 1 when every call succeeded. */
static int run_fresh(const recur_model *model, size_t batch, const float *x, size_t steps, float *y, float *state,
                     size_t state_count)
{
    recur_state *s = STATE_SENTINEL;
    int ok = CHECK_OK(recur_state_create(model, batch, &s), "recur_state_create");
    if (!ok) return 0;
    ok = CHECK_OK(recur_state_run(s, x, steps, y), "recur_state_run");
    if (ok && state) ok = CHECK_OK(recur_state_get(s, state, state_count), "recur_state_get");
    recur_state_free(s);
    return ok;
}

/* ------------------------------------------------------------------------ */
/* Per-case groups                                                           */
/* ------------------------------------------------------------------------ */

/* (a) sizes, one run over all steps vs the reference output and final state.
   Fills `base` with that run, the baseline for the bit-identity groups;
   returns 0 when there is no baseline. */
static int check_case_reference(const test_case *tc, const recur_model *model, run_result *base)
{
    size_t B = tc->batch, T = tc->steps;
    size_t n_y = B * T * tc->output_size, n_s = B * tc->state_size;
    recur_state *state = STATE_SENTINEL;
    int ok = 1;

    g_group = "(a) reference outputs";
    base->y = NULL;
    base->state = NULL;
    ok &= CHECK(recur_model_input_size(model) == tc->input_size, "recur_model_input_size = %zu, case says %zu",
                recur_model_input_size(model), tc->input_size);
    ok &= CHECK(recur_model_output_size(model) == tc->output_size, "recur_model_output_size = %zu, case says %zu",
                recur_model_output_size(model), tc->output_size);
    if (tc->parameter_count >= 0)
        CHECK(recur_model_parameter_count(model) == (size_t)tc->parameter_count,
              "recur_model_parameter_count = %zu, the document's weights hold %ld",
              recur_model_parameter_count(model), tc->parameter_count);
    if (!ok) return 0;

    if (!CHECK_OK(recur_state_create(model, B, &state), "recur_state_create(batch = B)")) return 0;
    if (!CHECK(state != NULL && state != STATE_SENTINEL, "recur_state_create returned OK without a state")) return 0;
    if (!CHECK(recur_state_size(state) * B == n_s, "recur_state_size = %zu; times B = %zu, len(final_state) = %zu",
               recur_state_size(state), recur_state_size(state) * B, n_s)) {
        recur_state_free(state);
        return 0;
    }

    base->y = float_alloc(n_y);
    base->state = float_alloc(n_s);
    ok = CHECK_OK(recur_state_run(state, tc->input, T, base->y), "recur_state_run(all steps)") &&
         CHECK_OK(recur_state_get(state, base->state, n_s), "recur_state_get");
    recur_state_free(state);
    if (!ok) return 0;
    check_close("run output vs reference `output`", base->y, tc->output, n_y);
    check_close("final state vs reference `final_state`", base->state, tc->final_state, n_s);
    return 1; /* the baseline exists, even if out of tolerance */
}

/* (b) one recur_state_step per time step gives the run's bits. */
static void check_case_stepwise(const test_case *tc, const recur_model *model, const run_result *base)
{
    size_t B = tc->batch, T = tc->steps, I = tc->input_size, O = tc->output_size, S = tc->state_size;
    float *x = float_alloc(B * I), *y = float_alloc(B * O);
    float *all_y = float_alloc(B * T * O), *state = float_alloc(B * S);
    recur_state *s = STATE_SENTINEL;
    size_t t, b;
    int ok;

    g_group = "(b) step by step";
    ok = CHECK_OK(recur_state_create(model, B, &s), "recur_state_create");
    for (t = 0; ok && t < T; t++) {
        for (b = 0; b < B; b++) memcpy(x + b * I, tc->input + (b * T + t) * I, I * sizeof(float));
        ok = CHECK_OK(recur_state_step(s, x, y), "recur_state_step");
        for (b = 0; ok && b < B; b++) memcpy(all_y + (b * T + t) * O, y + b * O, O * sizeof(float));
    }
    if (ok) ok = CHECK_OK(recur_state_get(s, state, B * S), "recur_state_get");
    if (ok) {
        check_same_bits("step outputs vs run outputs", all_y, base->y, B * T * O);
        check_same_bits("final state after steps vs after run", state, base->state, B * S);
    }
    recur_state_free(s);
    free(x);
    free(y);
    free(all_y);
    free(state);
}

/* (c) each stream alone in a batch-1 state gives its slice of the batched run. */
static void check_case_streams(const test_case *tc, const recur_model *model, const run_result *base)
{
    size_t B = tc->batch, T = tc->steps, I = tc->input_size, O = tc->output_size, S = tc->state_size;
    float *y = float_alloc(T * O), *state = float_alloc(S);
    char what[128];
    size_t b;

    g_group = "(c) streams alone";
    for (b = 0; b < B; b++) {
        if (!run_fresh(model, 1, tc->input + b * T * I, T, y, state, S)) break;
        snprintf(what, sizeof what, "stream %zu alone: outputs vs its slice of the batch", b);
        check_same_bits(what, y, base->y + b * T * O, T * O);
        snprintf(what, sizeof what, "stream %zu alone: final state vs its slice of the batch", b);
        check_same_bits(what, state, base->state + b * S, S);
    }
    free(y);
    free(state);
}

/* (d) T1 steps then T - T1 steps, continuing, gives the one-call bits. */
static void check_case_split_run(const test_case *tc, const recur_model *model, const run_result *base)
{
    size_t B = tc->batch, T = tc->steps, I = tc->input_size, O = tc->output_size, S = tc->state_size;
    size_t T1 = T / 2, T2 = T - T1;
    float *x1 = slice_steps(tc->input, B, T, I, 0, T1), *x2 = slice_steps(tc->input, B, T, I, T1, T2);
    float *y1 = float_alloc(B * T1 * O), *y2 = float_alloc(B * T2 * O);
    float *ref1 = slice_steps(base->y, B, T, O, 0, T1), *ref2 = slice_steps(base->y, B, T, O, T1, T2);
    float *state = float_alloc(B * S);
    recur_state *s = STATE_SENTINEL;
    int ok;

    g_group = "(d) split run";
    ok = CHECK(T1 > 0, "case has fewer than 2 steps; cannot split") &&
         CHECK_OK(recur_state_create(model, B, &s), "recur_state_create") &&
         CHECK_OK(recur_state_run(s, x1, T1, y1), "recur_state_run(first part)") &&
         CHECK_OK(recur_state_run(s, x2, T2, y2), "recur_state_run(second part)") &&
         CHECK_OK(recur_state_get(s, state, B * S), "recur_state_get");
    if (ok) {
        check_same_bits("outputs of the first part vs one call", y1, ref1, B * T1 * O);
        check_same_bits("outputs of the second part vs one call", y2, ref2, B * T2 * O);
        check_same_bits("final state after two calls vs one call", state, base->state, B * S);
    }
    if (s != STATE_SENTINEL) recur_state_free(s);
    free(x1);
    free(x2);
    free(y1);
    free(y2);
    free(ref1);
    free(ref2);
    free(state);
}

/* Runs `model` over the case input and checks the bits against the baseline. */
static void check_same_run(const test_case *tc, const recur_model *model, const run_result *base, const char *label)
{
    size_t n_y = tc->batch * tc->steps * tc->output_size, n_s = tc->batch * tc->state_size;
    float *y = float_alloc(n_y), *state = float_alloc(n_s);
    char what[160];
    if (run_fresh(model, tc->batch, tc->input, tc->steps, y, state, n_s)) {
        snprintf(what, sizeof what, "%s: outputs", label);
        check_same_bits(what, y, base->y, n_y);
        snprintf(what, sizeof what, "%s: final state", label);
        check_same_bits(what, state, base->state, n_s);
    }
    free(y);
    free(state);
}

/* to_json -> load -> to_json is a fixed point; save_file -> load_file agrees. */
static void check_case_round_trip(const test_case *tc, const recur_model *model, const run_result *base)
{
    char *json1 = STRING_SENTINEL, *json2 = STRING_SENTINEL, *json3 = STRING_SENTINEL;
    size_t len1 = 0, len2 = 0, len3 = 0;
    recur_model *m2 = MODEL_SENTINEL, *m3 = MODEL_SENTINEL;
    char *tmp;

    g_group = "round trip";
    if (!CHECK_OK(recur_model_to_json(model, &json1, &len1), "recur_model_to_json")) return;
    if (!CHECK(json1 != NULL && json1 != STRING_SENTINEL, "to_json returned OK without a string")) return;
    CHECK(strlen(json1) == len1,
          "to_json: strlen %zu, *out_length %zu (expected NUL-terminated, length without the NUL)", strlen(json1),
          len1);

    { /* what was written is a version-1 Recur document that keeps the metadata */
        json_object *doc = json_tokener_parse(json1), *v, *meta;
        if (CHECK(doc != NULL, "to_json output is not JSON for json-c")) {
            CHECK(json_object_object_get_ex(doc, "format", &v) && json_object_is_type(v, json_type_string) &&
                      strcmp(json_object_get_string(v), "recur") == 0,
                  "to_json output lacks \"format\": \"recur\"");
            CHECK(json_object_object_get_ex(doc, "version", &v) && json_object_get_int(v) == 1,
                  "to_json output lacks \"version\": 1");
            if (tc->metadata) {
                CHECK(json_object_object_get_ex(doc, "metadata", &meta) && json_object_equal(meta, tc->metadata),
                      "metadata not kept unchanged: was %s", json_object_to_json_string(tc->metadata));
            }
            json_object_put(doc);
        }
    }

    if (CHECK_OK(recur_model_load_json(json1, len1, &m2), "recur_model_load_json(to_json output)")) {
        if (CHECK_OK(recur_model_to_json(m2, &json2, &len2), "recur_model_to_json(reloaded)")) {
            CHECK(len1 == len2 && memcmp(json1, json2, len1) == 0,
                  "to_json(load(to_json(m))) differs from to_json(m) (lengths %zu and %zu)", len1, len2);
            recur_string_free(json2);
        }
        CHECK(recur_model_parameter_count(m2) == recur_model_parameter_count(model),
              "reloaded model has %zu parameters, original %zu", recur_model_parameter_count(m2),
              recur_model_parameter_count(model));
        check_same_run(tc, m2, base, "reloaded model");
        recur_model_free(m2);
    }

    tmp = make_temp_path();
    if (CHECK_OK(recur_model_save_file(model, tmp), "recur_model_save_file(temp path)") &&
        CHECK_OK(recur_model_load_file(tmp, &m3), "recur_model_load_file(saved file)")) {
        if (CHECK_OK(recur_model_to_json(m3, &json3, &len3), "recur_model_to_json(loaded from file)")) {
            CHECK(len1 == len3 && memcmp(json1, json3, len1) == 0,
                  "save_file -> load_file -> to_json differs from to_json (lengths %zu and %zu)", len1, len3);
            recur_string_free(json3);
        }
        recur_model_free(m3);
    }
    unlink(tmp);
    free(tmp);
    recur_string_free(json1);
}

/* A clone computes the same bits; a state keeps its model alive. */
static void check_case_clone_and_lifetime(const test_case *tc, const recur_model *model, const run_result *base)
{
    size_t n_y = tc->batch * tc->steps * tc->output_size, n_s = tc->batch * tc->state_size;
    recur_model *clone = MODEL_SENTINEL, *owned;
    recur_state *s = STATE_SENTINEL;

    g_group = "clone and lifetime";
    if (CHECK_OK(recur_model_clone(model, &clone), "recur_model_clone")) {
        CHECK(clone != NULL && clone != MODEL_SENTINEL && clone != model, "clone returned %p for model %p",
              (void *)clone, (const void *)model);
        check_same_run(tc, clone, base, "clone");
        recur_model_free(clone);
    }

    /* clone, free the original, use the clone */
    owned = load_case_model(tc);
    clone = MODEL_SENTINEL;
    if (owned && CHECK_OK(recur_model_clone(owned, &clone), "recur_model_clone")) {
        recur_model_free(owned);
        owned = NULL;
        check_same_run(tc, clone, base, "clone after the original was freed");
        recur_model_free(clone);
    }
    recur_model_free(owned);

    /* create a state, free the model, then run: the state keeps it alive */
    owned = load_case_model(tc);
    if (owned && CHECK_OK(recur_state_create(owned, tc->batch, &s), "recur_state_create")) {
        float *y = float_alloc(n_y), *state = float_alloc(n_s);
        recur_model_free(owned);
        owned = NULL;
        if (CHECK_OK(recur_state_run(s, tc->input, tc->steps, y), "recur_state_run after recur_model_free") &&
            CHECK_OK(recur_state_get(s, state, n_s), "recur_state_get after recur_model_free")) {
            check_same_bits("outputs after the model was freed", y, base->y, n_y);
            check_same_bits("final state after the model was freed", state, base->state, n_s);
        }
        recur_state_free(s);
        free(y);
        free(state);
    }
    recur_model_free(owned);
}

/* set/get, reset, reset_stream, wrong counts. */
static void check_case_state_semantics(const test_case *tc, const recur_model *model, const run_result *base)
{
    size_t B = tc->batch, T = tc->steps, I = tc->input_size, O = tc->output_size, S = tc->state_size;
    size_t n = B * S, n_y = B * T * O, i, b;
    float *values = float_alloc(n), *got = float_alloc(n), *before = float_alloc(n), *y = float_alloc(n_y);
    recur_state *s = STATE_SENTINEL;
    recur_status st;
    uint32_t seed = 12345u;
    char what[160];

    g_group = "state semantics";
    if (!CHECK_OK(recur_state_create(model, B, &s), "recur_state_create")) goto done;

    /* a fresh state is zero */
    if (CHECK_OK(recur_state_get(s, got, n), "recur_state_get(fresh)")) check_all_zero("fresh state", got, n);

    /* set then get returns exactly what was set */
    for (i = 0; i < n; i++) values[i] = pseudo_random(&seed);
    if (CHECK_OK(recur_state_set(s, values, n), "recur_state_set") &&
        CHECK_OK(recur_state_get(s, got, n), "recur_state_get after set"))
        check_same_bits("get after set", got, values, n);

    /* wrong counts are refused and change nothing */
    {
        size_t wrong[3];
        size_t k;
        wrong[0] = n - 1;
        wrong[1] = n + 1;
        wrong[2] = 0;
        for (k = 0; k < 3; k++) {
            float *big = float_alloc(n + 1);
            float_fill(big, n + 1, 12345.0f);
            st = recur_state_get(s, big, wrong[k]);
            CHECK(is_argument_error(st), "recur_state_get(count = %zu, expected %zu): got %s, expected SHAPE or "
                                         "INVALID_ARGUMENT", wrong[k], n, status_name(st));
            for (i = 0; i < n + 1 && big[i] == 12345.0f; i++) {
            }
            CHECK(i == n + 1, "recur_state_get(count = %zu) failed but wrote to the buffer", wrong[k]);
            float_fill(big, n + 1, -3.0f);
            st = recur_state_set(s, big, wrong[k]);
            CHECK(is_argument_error(st), "recur_state_set(count = %zu, expected %zu): got %s, expected SHAPE or "
                                         "INVALID_ARGUMENT", wrong[k], n, status_name(st));
            if (CHECK_OK(recur_state_get(s, got, n), "recur_state_get")) {
                snprintf(what, sizeof what, "state after a refused set(count = %zu)", wrong[k]);
                check_same_bits(what, got, values, n);
            }
            free(big);
        }
    }

    /* reset zeroes everything; running again reproduces the first run */
    if (CHECK_OK(recur_state_reset(s), "recur_state_reset") &&
        CHECK_OK(recur_state_get(s, got, n), "recur_state_get after reset")) {
        check_all_zero("state after reset", got, n);
        if (CHECK_OK(recur_state_run(s, tc->input, T, y), "recur_state_run after reset") &&
            CHECK_OK(recur_state_get(s, got, n), "recur_state_get")) {
            check_same_bits("outputs after reset vs the first run", y, base->y, n_y);
            check_same_bits("final state after reset vs the first run", got, base->state, n);
        }
    }

    /* reset_stream(i) zeroes stream i only; stream i then replays its reference */
    for (b = 0; b < B; b++) {
        if (!CHECK_OK(recur_state_set(s, base->state, n), "recur_state_set(final state)")) break;
        if (!CHECK_OK(recur_state_reset_stream(s, b), "recur_state_reset_stream")) continue;
        if (!CHECK_OK(recur_state_get(s, got, n), "recur_state_get after reset_stream")) continue;
        snprintf(what, sizeof what, "reset_stream(%zu): stream %zu", b, b);
        check_all_zero(what, got + b * S, S);
        for (i = 0; i < B; i++) {
            if (i == b) continue;
            snprintf(what, sizeof what, "reset_stream(%zu): stream %zu unchanged", b, i);
            check_same_bits(what, got + i * S, base->state + i * S, S);
        }
        if (CHECK_OK(recur_state_run(s, tc->input, T, y), "recur_state_run after reset_stream")) {
            snprintf(what, sizeof what, "reset_stream(%zu) then run: stream %zu outputs vs the first run", b, b);
            check_same_bits(what, y + b * T * O, base->y + b * T * O, T * O);
        }
    }

    /* out-of-range stream index: refused, nothing changes */
    if (CHECK_OK(recur_state_set(s, values, n), "recur_state_set")) {
        size_t bad[2];
        size_t k;
        bad[0] = B;
        bad[1] = (size_t)-1;
        for (k = 0; k < 2; k++) {
            st = recur_state_reset_stream(s, bad[k]);
            CHECK(is_argument_error(st), "recur_state_reset_stream(%zu) with batch %zu: got %s, expected "
                                         "INVALID_ARGUMENT or SHAPE", bad[k], B, status_name(st));
        }
        if (CHECK_OK(recur_state_get(s, got, n), "recur_state_get"))
            check_same_bits("state after refused reset_stream", got, values, n);
    }

    /* set a mid-sequence state in a fresh state object and continue */
    {
        size_t T1 = T / 2, T2 = T - T1;
        float *x1 = slice_steps(tc->input, B, T, I, 0, T1), *x2 = slice_steps(tc->input, B, T, I, T1, T2);
        float *y1 = float_alloc(B * T1 * O), *y2 = float_alloc(B * T2 * O);
        float *ref2 = slice_steps(base->y, B, T, O, T1, T2);
        recur_state *s2 = STATE_SENTINEL;
        if (T1 > 0 && CHECK_OK(recur_state_reset(s), "recur_state_reset") &&
            CHECK_OK(recur_state_run(s, x1, T1, y1), "recur_state_run(first part)") &&
            CHECK_OK(recur_state_get(s, before, n), "recur_state_get(mid-sequence)") &&
            CHECK_OK(recur_state_create(model, B, &s2), "recur_state_create") &&
            CHECK_OK(recur_state_set(s2, before, n), "recur_state_set(mid-sequence)") &&
            CHECK_OK(recur_state_run(s2, x2, T2, y2), "recur_state_run(second part, other state)") &&
            CHECK_OK(recur_state_get(s2, got, n), "recur_state_get")) {
            check_same_bits("continuing from a set state: outputs", y2, ref2, B * T2 * O);
            check_same_bits("continuing from a set state: final state", got, base->state, n);
        }
        if (s2 != STATE_SENTINEL) recur_state_free(s2);
        free(x1);
        free(x2);
        free(y1);
        free(y2);
        free(ref2);
    }

    recur_state_free(s);
done:
    free(values);
    free(got);
    free(before);
    free(y);
}

/* The library reads exactly `length` bytes: a valid model followed by garbage loads. */
static void check_case_length_respected(const test_case *tc)
{
    static const char garbage[] = "}}]] not json at all \x01";
    size_t n = tc->model_length;
    char *buf = (char *)xmalloc(n + sizeof garbage);
    recur_model *m = MODEL_SENTINEL;

    g_group = "load_json length";
    memcpy(buf, tc->model_json, n);
    memcpy(buf + n, garbage, sizeof garbage);
    if (CHECK_OK(recur_model_load_json(buf, n, &m), "recur_model_load_json(valid model + bytes past length)"))
        recur_model_free(m);
    m = MODEL_SENTINEL;
    CHECK(recur_model_load_json(buf, n - 1, &m) != RECUR_OK, "a model cut one byte short was accepted");
    CHECK(m == MODEL_SENTINEL, "a failed load_json wrote to *out_model");
    if (m != MODEL_SENTINEL) recur_model_free(m);
    free(buf);
}

/* Each layer's recur_model_layer_info against the case's own document (read
   with json-c): type, size, activation (the format's defaults when absent),
   and each layer's input is the previous layer's output. */
static void check_case_layer_info(const test_case *tc, const recur_model *model)
{
    json_object *document = json_object_object_get(tc->root, "model");
    json_object *layers = json_object_object_get(document, "layers");
    size_t count = json_object_array_length(layers), input = tc->input_size, state = 0;
    g_group = "layer info";
    CHECK(recur_model_layer_count(model) == count, "layer_count %zu, document has %zu", recur_model_layer_count(model), count);
    for (size_t i = 0; i < count && i < recur_model_layer_count(model); i++) {
        json_object *layer = json_object_array_get_idx(layers, i), *value;
        const char *type = json_object_get_string(json_object_object_get(layer, "type"));
        int dense = strcmp(type, "dense") == 0;
        size_t size = (size_t)json_object_get_int64(json_object_object_get(layer, dense ? "units" : "hidden_size"));
        const char *activation = json_object_object_get_ex(layer, "activation", &value) ? json_object_get_string(value)
                                 : dense ? "linear" : "tanh";
        size_t layer_state = dense ? 0 : strcmp(type, "lstm") == 0 ? 2 * size : size;
        recur_layer_info info;
        memset(&info, 0, sizeof info);
        info.struct_size = sizeof info;
        if (!CHECK_OK(recur_model_layer_info(model, i, &info), "layer_info of a case layer")) continue;
        CHECK(strcmp(info.type, type) == 0 && strcmp(info.activation, activation) == 0 && info.hidden_size == size &&
              info.output_size == size && info.input_size == input && info.state_size == layer_state,
              "layer_info(%zu): %s %s in %zu out %zu state %zu; document: %s %s in %zu out %zu state %zu", i,
              info.type, info.activation, info.input_size, info.output_size, info.state_size,
              type, activation, input, size, layer_state);
        if (json_object_object_get_ex(layer, "weights", &value)) {
            CHECK(info.tensor_count == (size_t)json_object_object_length(value), "layer_info(%zu): %zu tensors, document has %d",
                  i, info.tensor_count, json_object_object_length(value));
            for (size_t t = 0; t < info.tensor_count; t++) {
                const char *name = NULL;
                json_object *tensor;
                CHECK(recur_model_tensor_name(model, i, t, &name) == RECUR_OK && name &&
                          json_object_object_get_ex(value, name, &tensor),
                      "tensor_name(%zu, %zu) = %s is one of the document's tensors", i, t, name ? name : "(null)");
            }
        }
        input = size;
        state += layer_state;
    }
    CHECK(state == tc->state_size, "the layers' state sizes add up to the state size (%zu, %zu)", state, tc->state_size);
}

static void check_reference_case(const char *dir, const char *file)
{
    test_case tc;
    recur_model *model;
    run_result base;

    model = NULL;
    if (read_case(dir, file, &tc)) {
        g_group = "loading";
        model = load_case_model(&tc);
    }
    if (model) {
        check_case_layer_info(&tc, model);
        if (check_case_reference(&tc, model, &base)) {
            check_case_stepwise(&tc, model, &base);
            check_case_streams(&tc, model, &base);
            check_case_split_run(&tc, model, &base);
            check_case_round_trip(&tc, model, &base);
            check_case_clone_and_lifetime(&tc, model, &base);
            check_case_state_semantics(&tc, model, &base);
        }
        check_case_length_respected(&tc);
        free(base.y);
        free(base.state);
        recur_model_free(model);
    }
    free_case(&tc);
    g_case = "-";
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.json in the directory except README/manifest, in name order. */
static void check_reference_cases(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t count = 0, cap = 0, i;

    g_group = "reference cases";
    if (!CHECK(d != NULL, "cannot open %s: %s", dir, strerror(errno))) return;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len <= 5 || strcmp(e->d_name + len - 5, ".json") != 0) continue;
        if (strcmp(e->d_name, "manifest.json") == 0 || strncmp(e->d_name, "README", 6) == 0) continue;
        if (count == cap) {
            cap = cap ? 2 * cap : 16;
            names = (char **)realloc(names, cap * sizeof *names);
            if (!names) exit(2);
        }
        names[count++] = strdup(e->d_name);
    }
    closedir(d);
    CHECK(count > 0, "no reference cases (*.json) in %s", dir);
    qsort(names, count, sizeof *names, compare_strings);
    for (i = 0; i < count; i++) {
        check_reference_case(dir, names[i]);
        free(names[i]);
    }
    free(names);
}

/* ------------------------------------------------------------------------ */
/* Library-wide groups                                                       */
/* ------------------------------------------------------------------------ */

/* A small model used by the groups that do not need a reference case:
   rnn 2 -> 3 (tanh), dense 3 -> 2. */
static const char k_small_model[] =
    "{\"format\":\"recur\",\"version\":1,\"input_size\":2,\"layers\":["
    "{\"type\":\"rnn\",\"hidden_size\":3,\"weights\":{"
    "\"weight_ih\":[[0.5,-0.25],[0.125,0.75],[-0.5,0.25]],"
    "\"weight_hh\":[[0.1,0.2,-0.3],[0.0,-0.1,0.4],[0.3,0.2,0.1]],"
    "\"bias_ih\":[0.01,-0.02,0.03],\"bias_hh\":[0.0,0.05,-0.05]}},"
    "{\"type\":\"dense\",\"units\":2,\"weights\":{"
    "\"weight\":[[1.0,-1.0,0.5],[0.25,0.5,-0.75]],\"bias\":[0.1,-0.1]}}]}";

static recur_model *load_small_model(void)
{
    recur_model *m = MODEL_SENTINEL;
    if (!CHECK_OK(recur_model_load_json(k_small_model, strlen(k_small_model), &m), "load the small model"))
        return NULL;
    return m;
}

/* Must run before any other recur_ call. */
static void check_initial_last_error(void)
{
    const char *e = recur_last_error();
    g_group = "last error at start";
    CHECK(e != NULL && e[0] == '\0', "recur_last_error() at program start is \"%s\", expected \"\"",
          e ? e : "(NULL)");
}

static void check_library_info(void)
{
    char expected[64];
    const char *v, *text;
    int s;

    g_group = "version and status strings";
    CHECK(RECUR_VERSION_NUMBER == RECUR_VERSION_MAJOR * 10000 + RECUR_VERSION_MINOR * 100 + RECUR_VERSION_PATCH,
          "RECUR_VERSION_NUMBER %d is not MAJOR*10000+MINOR*100+PATCH", (int)RECUR_VERSION_NUMBER);
    CHECK(recur_version_number() == (uint32_t)RECUR_VERSION_NUMBER,
          "recur_version_number() = %lu, header RECUR_VERSION_NUMBER = %lu", (unsigned long)recur_version_number(),
          (unsigned long)RECUR_VERSION_NUMBER);
    snprintf(expected, sizeof expected, "%d.%d.%d", (int)RECUR_VERSION_MAJOR, (int)RECUR_VERSION_MINOR,
             (int)RECUR_VERSION_PATCH);
    v = recur_version_string();
    CHECK(v != NULL && strcmp(v, expected) == 0, "recur_version_string() = \"%s\", expected \"%s\"",
          v ? v : "(NULL)", expected);

    for (s = RECUR_OK; s <= RECUR_ERROR_INTERNAL; s++) {
        text = recur_status_string((recur_status)s);
        CHECK(text != NULL && text[0] != '\0', "recur_status_string(%d) is %s", s, text ? "empty" : "NULL");
    }
    text = recur_status_string((recur_status)999);
    CHECK(text != NULL, "recur_status_string(999) is NULL");
}

static void check_null_and_zero(void)
{
    recur_model *model, *m;
    recur_state *s, *state = NULL;
    float x[4] = {0.5f, -0.5f, 0.25f, 1.0f}, y[4], buf[16], before[16], after[16];
    char *json = STRING_SENTINEL;
    size_t len = 0, n;
    recur_status st;

    g_group = "NULL and zero";
    /* models */
    m = MODEL_SENTINEL;
    CHECK_STATUS(recur_model_load_json(NULL, 5, &m), RECUR_ERROR_INVALID_ARGUMENT, "recur_model_load_json(NULL, 5)");
    CHECK(m == MODEL_SENTINEL, "failed load_json wrote to *out_model");
    CHECK(recur_last_error()[0] != '\0', "recur_last_error() is empty after a failed call");
    CHECK_STATUS(recur_model_load_json(k_small_model, strlen(k_small_model), NULL), RECUR_ERROR_INVALID_ARGUMENT,
                 "recur_model_load_json(out_model = NULL)");
    m = MODEL_SENTINEL;
    CHECK_STATUS(recur_model_load_file(NULL, &m), RECUR_ERROR_INVALID_ARGUMENT, "recur_model_load_file(NULL)");
    CHECK(m == MODEL_SENTINEL, "failed load_file wrote to *out_model");
    CHECK_STATUS(recur_model_load_file("/tmp/whatever.json", NULL), RECUR_ERROR_INVALID_ARGUMENT,
                 "recur_model_load_file(out_model = NULL)");
    recur_model_free(NULL);
    recur_state_free(NULL);
    recur_string_free(NULL);
    CHECK(recur_model_input_size(NULL) == 0, "recur_model_input_size(NULL) = %zu", recur_model_input_size(NULL));
    CHECK(recur_model_output_size(NULL) == 0, "recur_model_output_size(NULL) = %zu", recur_model_output_size(NULL));
    CHECK(recur_model_parameter_count(NULL) == 0, "recur_model_parameter_count(NULL) = %zu",
          recur_model_parameter_count(NULL));
    CHECK(recur_state_size(NULL) == 0, "recur_state_size(NULL) = %zu", recur_state_size(NULL));

    model = load_small_model();
    if (!model) return;
    CHECK(recur_model_input_size(model) == 2 && recur_model_output_size(model) == 2 &&
              recur_model_parameter_count(model) == 6 + 9 + 3 + 3 + 6 + 2,
          "small model: sizes %zu -> %zu, %zu parameters; expected 2 -> 2, 29", recur_model_input_size(model),
          recur_model_output_size(model), recur_model_parameter_count(model));

    m = MODEL_SENTINEL;
    CHECK_STATUS(recur_model_clone(NULL, &m), RECUR_ERROR_INVALID_ARGUMENT, "recur_model_clone(NULL)");
    CHECK(m == MODEL_SENTINEL, "failed clone wrote to *out_model");
    CHECK_STATUS(recur_model_clone(model, NULL), RECUR_ERROR_INVALID_ARGUMENT, "recur_model_clone(out = NULL)");
    CHECK_STATUS(recur_model_to_json(NULL, &json, &len), RECUR_ERROR_INVALID_ARGUMENT, "recur_model_to_json(NULL)");
    CHECK(json == STRING_SENTINEL, "failed to_json wrote to *out_json");
    CHECK_STATUS(recur_model_to_json(model, NULL, &len), RECUR_ERROR_INVALID_ARGUMENT,
                 "recur_model_to_json(out_json = NULL)");
    CHECK_STATUS(recur_model_save_file(NULL, "/tmp/recur_never_written.json"), RECUR_ERROR_INVALID_ARGUMENT,
                 "recur_model_save_file(NULL model)");
    CHECK_STATUS(recur_model_save_file(model, NULL), RECUR_ERROR_INVALID_ARGUMENT,
                 "recur_model_save_file(NULL path)");
    CHECK_STATUS(recur_model_save_file(model, "/nonexistent-recur-dir/model.json"), RECUR_ERROR_IO,
                 "recur_model_save_file(into a missing directory)");

    /* states */
    s = STATE_SENTINEL;
    CHECK_STATUS(recur_state_create(model, 0, &s), RECUR_ERROR_INVALID_ARGUMENT, "recur_state_create(batch = 0)");
    CHECK(s == STATE_SENTINEL, "failed state_create wrote to *out_state");
    CHECK_STATUS(recur_state_create(NULL, 1, &s), RECUR_ERROR_INVALID_ARGUMENT, "recur_state_create(NULL model)");
    CHECK(s == STATE_SENTINEL, "failed state_create wrote to *out_state");
    CHECK_STATUS(recur_state_create(model, 1, NULL), RECUR_ERROR_INVALID_ARGUMENT,
                 "recur_state_create(out_state = NULL)");
    if (!CHECK_OK(recur_state_create(model, 2, &state), "recur_state_create(batch = 2)")) {
        recur_model_free(model);
        return;
    }
    n = 2 * recur_state_size(state);
    if (!CHECK(n == 6, "small model: state size %zu per stream, expected 3", n / 2)) n = 6;

    CHECK_STATUS(recur_state_step(NULL, x, y), RECUR_ERROR_INVALID_ARGUMENT, "recur_state_step(NULL state)");
    CHECK_STATUS(recur_state_step(state, NULL, y), RECUR_ERROR_INVALID_ARGUMENT, "recur_state_step(x = NULL)");
    CHECK_STATUS(recur_state_step(state, x, NULL), RECUR_ERROR_INVALID_ARGUMENT, "recur_state_step(y = NULL)");
    CHECK_STATUS(recur_state_run(NULL, x, 1, y), RECUR_ERROR_INVALID_ARGUMENT, "recur_state_run(NULL state)");
    CHECK_STATUS(recur_state_run(state, NULL, 1, y), RECUR_ERROR_INVALID_ARGUMENT, "recur_state_run(x = NULL)");
    CHECK_STATUS(recur_state_run(state, x, 1, NULL), RECUR_ERROR_INVALID_ARGUMENT, "recur_state_run(y = NULL)");
    {
        const size_t lengths[2] = {1, 0}, too_long[2] = {1, 2};
        CHECK_STATUS(recur_state_run_lengths(NULL, x, 1, lengths, y), RECUR_ERROR_INVALID_ARGUMENT, "run_lengths(NULL state)");
        CHECK_STATUS(recur_state_run_lengths(state, NULL, 1, lengths, y), RECUR_ERROR_INVALID_ARGUMENT, "run_lengths(x = NULL)");
        CHECK_STATUS(recur_state_run_lengths(state, x, 1, NULL, y), RECUR_ERROR_INVALID_ARGUMENT, "run_lengths(lengths = NULL)");
        CHECK_STATUS(recur_state_run_lengths(state, x, 1, lengths, NULL), RECUR_ERROR_INVALID_ARGUMENT, "run_lengths(y = NULL)");
        CHECK_STATUS(recur_state_run_lengths(state, x, 0, lengths, y), RECUR_ERROR_INVALID_ARGUMENT, "run_lengths(steps = 0)");
        CHECK_STATUS(recur_state_run_lengths(state, x, 1, too_long, y), RECUR_ERROR_INVALID_ARGUMENT, "run_lengths(a length above steps)");
        CHECK(strstr(recur_last_error(), "lengths[1]") != NULL, "the message names the stream: %s", recur_last_error());
    }
    CHECK_STATUS(recur_state_reset(NULL), RECUR_ERROR_INVALID_ARGUMENT, "recur_state_reset(NULL)");
    CHECK_STATUS(recur_state_reset_stream(NULL, 0), RECUR_ERROR_INVALID_ARGUMENT, "recur_state_reset_stream(NULL)");
    CHECK_STATUS(recur_state_get(NULL, buf, n), RECUR_ERROR_INVALID_ARGUMENT, "recur_state_get(NULL state)");
    CHECK_STATUS(recur_state_get(state, NULL, n), RECUR_ERROR_INVALID_ARGUMENT, "recur_state_get(out = NULL)");
    CHECK_STATUS(recur_state_set(NULL, buf, n), RECUR_ERROR_INVALID_ARGUMENT, "recur_state_set(NULL state)");
    CHECK_STATUS(recur_state_set(state, NULL, n), RECUR_ERROR_INVALID_ARGUMENT, "recur_state_set(values = NULL)");

    /* steps == 0: no crash, OK or INVALID_ARGUMENT, state unchanged */
    if (CHECK_OK(recur_state_step(state, x, y), "recur_state_step") &&
        CHECK_OK(recur_state_get(state, before, n), "recur_state_get")) {
        float_fill(buf, 16, 777.0f);
        st = recur_state_run(state, x, 0, buf);
        CHECK(st == RECUR_OK || st == RECUR_ERROR_INVALID_ARGUMENT,
              "recur_state_run(steps = 0): got %s, expected RECUR_OK or RECUR_ERROR_INVALID_ARGUMENT", status_name(st));
        printf("note: recur_state_run(steps = 0) returned %s\n", status_name(st));
        CHECK(buf[0] == 777.0f, "recur_state_run(steps = 0) wrote to y");
        if (CHECK_OK(recur_state_get(state, after, n), "recur_state_get"))
            check_same_bits("state after run(steps = 0)", after, before, n);
    }
    recur_state_free(state);
    recur_model_free(model);
}

/* Each manifest entry: the status, the messages, out-pointer untouched;
   load_file agrees with load_json. */
static void check_invalid_corpus(const char *testdata)
{
    char *dir = path_join(testdata, "invalid");
    char *manifest_path = path_join(dir, "manifest.json");
    json_object *manifest = json_object_from_file(manifest_path);
    size_t i, count;

    g_group = "invalid corpus";
    g_case = "invalid/manifest.json";
    if (!CHECK(manifest != NULL && json_object_is_type(manifest, json_type_array), "cannot read %s: %s",
               manifest_path, json_util_get_last_err())) {
        free(manifest_path);
        free(dir);
        return;
    }
    count = json_object_array_length(manifest);
    CHECK(count > 0, "empty manifest");
    for (i = 0; i < count; i++) {
        json_object *entry = json_object_array_get_idx(manifest, i), *jfile, *jstatus, *jmsgs;
        recur_status expected = RECUR_OK, st, st_file;
        int any_error, j, n_msgs;
        char *path, *bytes, *message;
        size_t len = 0;
        recur_model *m;

        if (!CHECK(json_object_object_get_ex(entry, "file", &jfile) &&
                       json_object_object_get_ex(entry, "status", &jstatus) &&
                       json_object_object_get_ex(entry, "message_contains", &jmsgs),
                   "manifest entry %zu lacks file, status or message_contains", i))
            continue;
        g_case = json_object_get_string(jfile);
        any_error = jstatus == NULL; /* JSON null */
        if (!any_error && !CHECK(status_from_name(json_object_get_string(jstatus), &expected),
                                 "unknown status name \"%s\" in the manifest", json_object_get_string(jstatus)))
            continue;
        path = path_join(dir, json_object_get_string(jfile));
        bytes = read_file_bytes(path, &len);
        if (!CHECK(bytes != NULL, "cannot read %s", path)) {
            free(path);
            continue;
        }

        m = MODEL_SENTINEL;
        st = recur_model_load_json(bytes, len, &m);
        message = strdup(recur_last_error());
        if (any_error)
            CHECK(st != RECUR_OK, "recur_model_load_json: got RECUR_OK, expected an error");
        else
            CHECK(st == expected, "recur_model_load_json: got %s, expected %s (message: \"%s\")", status_name(st),
                  status_name(expected), message);
        CHECK(m == MODEL_SENTINEL, "recur_model_load_json failed but wrote to *out_model");
        if (st == RECUR_OK && m != MODEL_SENTINEL) recur_model_free(m);
        if (st != RECUR_OK) CHECK(message[0] != '\0', "recur_last_error() is empty after the failure");
        n_msgs = (int)json_object_array_length(jmsgs);
        for (j = 0; j < n_msgs; j++) {
            const char *want = json_object_get_string(json_object_array_get_idx(jmsgs, j));
            CHECK(strstr(message, want) != NULL, "load_json message \"%s\" lacks \"%s\"", message, want);
        }
        free(message);

        m = MODEL_SENTINEL;
        st_file = recur_model_load_file(path, &m);
        CHECK(st_file == st, "recur_model_load_file: got %s, load_json got %s (message: \"%s\")",
              status_name(st_file), status_name(st), recur_last_error());
        CHECK(m == MODEL_SENTINEL, "recur_model_load_file failed but wrote to *out_model");
        if (st_file == RECUR_OK && m != MODEL_SENTINEL) recur_model_free(m);
        for (j = 0; j < n_msgs; j++) {
            const char *want = json_object_get_string(json_object_array_get_idx(jmsgs, j));
            CHECK(strstr(recur_last_error(), want) != NULL, "load_file message \"%s\" lacks \"%s\"",
                  recur_last_error(), want);
        }
        free(bytes);
        free(path);
    }
    json_object_put(manifest);
    free(manifest_path);
    free(dir);
    g_case = "-";
}

static void check_missing_file(void)
{
    static const char path[] = "/nonexistent-recur-dir/no_such_model.json";
    recur_model *m = MODEL_SENTINEL;

    g_group = "missing file";
    CHECK_STATUS(recur_model_load_file(path, &m), RECUR_ERROR_IO, "recur_model_load_file(missing file)");
    CHECK(m == MODEL_SENTINEL, "failed load_file wrote to *out_model");
    CHECK(strstr(recur_last_error(), path) != NULL, "message \"%s\" does not name the path %s", recur_last_error(),
          path);
}

typedef struct {
    char initial[256]; /* the thread's recur_last_error() before any call */
    recur_status status;
    char message[512];
} thread_report;

static void *failing_thread(void *arg)
{
    thread_report *r = (thread_report *)arg;
    recur_model *m = NULL;
    snprintf(r->initial, sizeof r->initial, "%s", recur_last_error());
    r->status = recur_model_load_file("/nonexistent-recur-thread/other.json", &m);
    snprintf(r->message, sizeof r->message, "%s", recur_last_error());
    return NULL;
}

/* A failure on another thread leaves this thread's message alone. */
static void check_thread_local_error(void)
{
    static const char main_path[] = "/nonexistent-recur-main/model.json";
    recur_model *m = NULL;
    pthread_t thread;
    thread_report report;
    const char *kept;
    char *copy;

    g_group = "thread-local last error";
    memset(&report, 0, sizeof report);
    CHECK_STATUS(recur_model_load_file(main_path, &m), RECUR_ERROR_IO, "recur_model_load_file(missing, main thread)");
    kept = recur_last_error();
    copy = strdup(kept);
    if (!CHECK(pthread_create(&thread, NULL, failing_thread, &report) == 0, "pthread_create failed")) {
        free(copy);
        return;
    }
    pthread_join(thread, NULL);
    CHECK(report.initial[0] == '\0', "a new thread's recur_last_error() is \"%s\", expected \"\"", report.initial);
    CHECK(report.status == RECUR_ERROR_IO, "the thread's load_file: got %s, expected RECUR_ERROR_IO",
          status_name(report.status));
    CHECK(strstr(report.message, "nonexistent-recur-thread") != NULL, "the thread's message \"%s\" lacks its path",
          report.message);
    CHECK(strcmp(recur_last_error(), copy) == 0,
          "main thread's message changed after another thread failed: \"%s\" -> \"%s\"", copy, recur_last_error());
    CHECK(strcmp(kept, copy) == 0, "the main thread's message pointer was overwritten by another thread");
    CHECK(strstr(copy, "nonexistent-recur-main") != NULL, "main thread's message \"%s\" lacks its path", copy);
    free(copy);
}

typedef struct {
    const recur_model *model;
    size_t steps;
    const float *x; /* [1][steps][2] */
    float y[64 * 2];
    recur_status status;
} inference_job;

static void *inference_thread(void *arg)
{
    inference_job *job = (inference_job *)arg;
    recur_state *s = NULL;
    int round;
    job->status = recur_state_create(job->model, 1, &s);
    for (round = 0; job->status == RECUR_OK && round < 200; round++) {
        job->status = recur_state_reset(s);
        if (job->status == RECUR_OK) job->status = recur_state_run(s, job->x, job->steps, job->y);
    }
    recur_state_free(s);
    return NULL;
}

/* One model, several threads, each with its own state: same bits as alone. */
static void check_concurrent_inference(void)
{
    enum { THREADS = 4, STEPS = 64 };
    recur_model *model = load_small_model();
    float x[STEPS * 2], expected[STEPS * 2];
    inference_job jobs[THREADS];
    pthread_t threads[THREADS];
    int i, started[THREADS];
    uint32_t seed = 777u;
    char what[96];

    g_group = "concurrent inference";
    if (!model) return;
    for (i = 0; i < STEPS * 2; i++) x[i] = 2.0f * pseudo_random(&seed);
    if (run_fresh(model, 1, x, STEPS, expected, NULL, 0)) {
        for (i = 0; i < THREADS; i++) {
            jobs[i].model = model;
            jobs[i].steps = STEPS;
            jobs[i].x = x;
            jobs[i].status = RECUR_ERROR_INTERNAL;
            started[i] = pthread_create(&threads[i], NULL, inference_thread, &jobs[i]) == 0;
        }
        for (i = 0; i < THREADS; i++) {
            if (!CHECK(started[i], "pthread_create failed")) continue;
            pthread_join(threads[i], NULL);
            snprintf(what, sizeof what, "thread %d", i);
            if (CHECK(jobs[i].status == RECUR_OK, "%s: got %s", what, status_name(jobs[i].status)))
                check_same_bits(what, jobs[i].y, expected, STEPS * 2);
        }
    }
    recur_model_free(model);
}

/* NaN or infinity in x: RECUR_ERROR_NUMERIC, and no stream's state changes. */
static void check_non_finite_inputs(void)
{
    recur_model *model = load_small_model();
    recur_state *s = NULL;
    float x[2 * 2] = {0.5f, -0.25f, 1.0f, 0.75f}, y[2 * 2], before[2 * 3], after[2 * 3];
    float seq[2 * 3 * 2], yseq[2 * 3 * 2];
    float bad_values[3];
    size_t n, k, i;
    char what[128];

    g_group = "non-finite inputs";
    bad_values[0] = (float)NAN;
    bad_values[1] = (float)INFINITY;
    bad_values[2] = -(float)INFINITY;
    if (!model) return;
    if (!CHECK_OK(recur_state_create(model, 2, &s), "recur_state_create(batch = 2)")) {
        recur_model_free(model);
        return;
    }
    n = 2 * recur_state_size(s);
    if (!CHECK(n == 6, "small model: state count %zu, expected 6", n) ||
        !CHECK_OK(recur_state_step(s, x, y), "recur_state_step") ||
        !CHECK_OK(recur_state_step(s, x, y), "recur_state_step") ||
        !CHECK_OK(recur_state_get(s, before, n), "recur_state_get"))
        goto done;

    for (k = 0; k < 3; k++) {
        float xb[4];
        memcpy(xb, x, sizeof xb);
        xb[3] = bad_values[k]; /* second stream, second feature */
        snprintf(what, sizeof what, "recur_state_step(x holds %g)", (double)bad_values[k]);
        CHECK_STATUS(recur_state_step(s, xb, y), RECUR_ERROR_NUMERIC, what);
        if (CHECK_OK(recur_state_get(s, after, n), "recur_state_get")) {
            snprintf(what, sizeof what, "state after step refused %g", (double)bad_values[k]);
            check_same_bits(what, after, before, n);
        }
    }

    /* run: the bad value in the last step of the first stream */
    for (i = 0; i < 2 * 3 * 2; i++) seq[i] = (float)(0.1 * (double)i - 0.5);
    seq[(0 * 3 + 2) * 2 + 1] = (float)NAN;
    CHECK_STATUS(recur_state_run(s, seq, 3, yseq), RECUR_ERROR_NUMERIC, "recur_state_run(NaN in the last step)");
    if (CHECK_OK(recur_state_get(s, after, n), "recur_state_get"))
        check_same_bits("state after run refused NaN", after, before, n);
done:
    recur_state_free(s);
    recur_model_free(model);
}

/* ------------------------------------------------------------------------ */

/* recur_model_tensor_shape: the format's shapes, refusals for what is not there. */
static void check_tensor_shapes(void)
{
    const char *text =
        "{\"format\": \"recur\", \"version\": 1, \"input_size\": 5, \"init\": {\"seed\": 1}, \"layers\": ["
        "{\"type\": \"lstm\", \"hidden_size\": 8}, {\"type\": \"dense\", \"units\": 3, \"weights\": "
        "{\"weight\": {\"shape\": [3, 8], \"data\": [1,2,3,4,5,6,7,8,1,2,3,4,5,6,7,8,1,2,3,4,5,6,7,8]}}}]}";
    recur_model *model = NULL;
    CHECK_OK(recur_model_load_json(text, strlen(text), &model), "load a model for tensor shapes");
    if (!model) return;
    struct { size_t layer; const char *name; size_t rows, columns; } expected[] = {
        {0, "weight_ih", 32, 5}, {0, "weight_hh", 32, 8}, {0, "bias_ih", 32, 1}, {0, "bias_hh", 32, 1}, {1, "weight", 3, 8},
    };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        size_t rows = 0, columns = 0;
        recur_status status = recur_model_tensor_shape(model, expected[i].layer, expected[i].name, &rows, &columns);
        CHECK(status == RECUR_OK && rows == expected[i].rows && columns == expected[i].columns,
              "tensor_shape layers[%zu].%s: status %d, %zux%zu (expected %zux%zu)", expected[i].layer, expected[i].name,
              (int)status, rows, columns, expected[i].rows, expected[i].columns);
    }
    size_t rows = 7, columns = 7;
    CHECK(recur_model_tensor_shape(model, 1, "bias", &rows, &columns) == RECUR_ERROR_INVALID_ARGUMENT && rows == 7,
          "tensor_shape of an absent bias is refused, out-pointers untouched");
    CHECK(recur_model_tensor_shape(model, 2, "weight", &rows, &columns) == RECUR_ERROR_INVALID_ARGUMENT,
          "tensor_shape of layer 2 (out of range) is refused");
    CHECK(recur_model_tensor_shape(NULL, 0, "weight", &rows, &columns) == RECUR_ERROR_INVALID_ARGUMENT,
          "tensor_shape with a NULL model is refused");
    CHECK(recur_model_tensor_shape(model, 0, "weight_ih", NULL, &columns) == RECUR_ERROR_INVALID_ARGUMENT,
          "tensor_shape with a NULL out pointer is refused");
    recur_model_free(model);
}

/* recur_model_layer_info against what a hand-written document says, and its
   refusals; the struct's fields sit where the header says (the library and
   the header agree on the layout). */
static void check_layer_info(void)
{
    const char *text =
        "{\"format\": \"recur\", \"version\": 1, \"input_size\": 5, \"init\": {\"seed\": 1}, \"layers\": ["
        "{\"type\": \"lstm\", \"hidden_size\": 8},"
        "{\"type\": \"gru\", \"hidden_size\": 6},"
        "{\"type\": \"rnn\", \"hidden_size\": 4, \"activation\": \"relu\", \"weights\": {" /* no biases */
        "\"weight_ih\": {\"shape\": [4, 6], \"data\": [0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}, \"weight_hh\": {\"shape\": [4, 4], \"data\": [0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}}},"
        "{\"type\": \"dense\", \"units\": 3, \"activation\": \"softmax\"}]}";
    struct { const char *type, *activation; size_t in, out, hidden, state; int bias; } expected[] = {
        {"lstm", "tanh", 5, 8, 8, 16, 1}, {"gru", "tanh", 8, 6, 6, 6, 1},
        {"rnn", "relu", 6, 4, 4, 4, 0}, {"dense", "softmax", 4, 3, 3, 0, 1},
    };
    recur_model *model = NULL;
    g_group = "layer info";
    CHECK_OK(recur_model_load_json(text, strlen(text), &model), "load a model for layer info");
    if (!model) return;
    CHECK(recur_model_layer_count(model) == 4, "layer_count is %zu, expected 4", recur_model_layer_count(model));
    for (size_t i = 0; i < 4; i++) {
        recur_layer_info info;
        memset(&info, 0xAB, sizeof info);
        info.struct_size = sizeof info;
        recur_status status = recur_model_layer_info(model, i, &info);
        CHECK(status == RECUR_OK, "layer_info(%zu): %s", i, recur_last_error());
        if (status != RECUR_OK) continue;
        CHECK(info.struct_size == sizeof info, "layer_info(%zu) keeps struct_size", i);
        CHECK(strcmp(info.type, expected[i].type) == 0 && strcmp(info.activation, expected[i].activation) == 0,
              "layer_info(%zu): type %s activation %s, expected %s %s", i, info.type, info.activation,
              expected[i].type, expected[i].activation);
        CHECK(info.input_size == expected[i].in && info.output_size == expected[i].out &&
              info.hidden_size == expected[i].hidden && info.state_size == expected[i].state,
              "layer_info(%zu): sizes in %zu out %zu hidden %zu state %zu", i, info.input_size, info.output_size,
              info.hidden_size, info.state_size);
        CHECK(info.bidirectional == 0 && info.has_bias == expected[i].bias,
              "layer_info(%zu): bidirectional %d has_bias %d", i, info.bidirectional, info.has_bias);
        {
            static const char *recurrent[] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"};
            static const char *dense[] = {"weight", "bias"};
            const char **names = i == 3 ? dense : recurrent;
            size_t count = i == 3 ? 2 : expected[i].bias ? 4 : 2;
            CHECK(info.tensor_count == count, "layer_info(%zu): %zu tensors, expected %zu", i, info.tensor_count, count);
            for (size_t t = 0; t < count && t < info.tensor_count; t++) {
                const char *name = NULL;
                CHECK(recur_model_tensor_name(model, i, t, &name) == RECUR_OK && name && strcmp(name, names[t]) == 0,
                      "tensor_name(%zu, %zu) is %s, expected %s", i, t, name ? name : "(null)", names[t]);
            }
            const char *name = "untouched";
            CHECK(recur_model_tensor_name(model, i, count, &name) == RECUR_ERROR_INVALID_ARGUMENT &&
                      strcmp(name, "untouched") == 0,
                  "tensor_name past the last tensor is refused, out_name untouched");
        }
    }
    {
        /* A bidirectional layer: 2H outputs, no state, both directions' tensors. */
        const char *bi = "{\"format\": \"recur\", \"version\": 1, \"input_size\": 3, \"init\": {\"seed\": 2}, \"layers\": ["
                         "{\"type\": \"gru\", \"hidden_size\": 5, \"direction\": \"bidirectional\"}, {\"type\": \"dense\", \"units\": 2}]}";
        static const char *names[] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh",
                                      "weight_ih_reverse", "weight_hh_reverse", "bias_ih_reverse", "bias_hh_reverse"};
        recur_model *bimodel = NULL;
        recur_state *state = NULL;
        recur_layer_info info;
        memset(&info, 0, sizeof info);
        info.struct_size = sizeof info;
        CHECK_OK(recur_model_load_json(bi, strlen(bi), &bimodel), "load a bidirectional model");
        if (bimodel && recur_model_layer_info(bimodel, 0, &info) == RECUR_OK) {
            CHECK(info.bidirectional == 1 && info.hidden_size == 5 && info.output_size == 10 && info.state_size == 0 &&
                      info.tensor_count == 8,
                  "bidirectional layer_info: bidirectional %d hidden %zu output %zu state %zu tensors %zu",
                  info.bidirectional, info.hidden_size, info.output_size, info.state_size, info.tensor_count);
            for (size_t t = 0; t < 8; t++) {
                const char *name = NULL;
                CHECK(recur_model_tensor_name(bimodel, 0, t, &name) == RECUR_OK && name && strcmp(name, names[t]) == 0,
                      "bidirectional tensor_name(0, %zu) is %s, expected %s", t, name ? name : "(null)", names[t]);
            }
            CHECK(recur_model_layer_info(bimodel, 1, &info) == RECUR_OK && info.input_size == 10,
                  "the layer after a bidirectional one has input size %zu, expected 10", info.input_size);
        }
        if (bimodel && recur_state_create(bimodel, 2, &state) == RECUR_OK) {
            float x[2 * 3] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f}, y[2 * 2] = {7, 7, 7, 7};
            CHECK(recur_state_step(state, x, y) == RECUR_ERROR_MODEL && strstr(recur_last_error(), "layers[0] is bidirectional") &&
                      y[0] == 7,
                  "step on a bidirectional model is refused, naming the layer (%s)", recur_last_error());
            CHECK_OK(recur_state_run(state, x, 1, y), "a one-step run of a bidirectional model is a whole sequence");
        }
        recur_state_free(state);
        recur_model_free(bimodel);
    }
    {
        const char *name = NULL;
        CHECK(recur_model_tensor_name(model, 9, 0, &name) == RECUR_ERROR_INVALID_ARGUMENT, "tensor_name of layer 9 is refused");
        CHECK(recur_model_tensor_name(model, 0, 0, NULL) == RECUR_ERROR_INVALID_ARGUMENT, "tensor_name into NULL is refused");
        CHECK(recur_model_tensor_name(NULL, 0, 0, &name) == RECUR_ERROR_INVALID_ARGUMENT, "tensor_name of NULL is refused");
    }
    /* A caller built against a later header (a larger struct) gets the fields
       this library knows; the bytes past them are left alone. */
    {
        unsigned char larger[sizeof(recur_layer_info) + 16];
        recur_layer_info *info = (recur_layer_info *)(void *)larger;
        memset(larger, 0x5A, sizeof larger);
        info->struct_size = sizeof larger;
        CHECK_OK(recur_model_layer_info(model, 0, info), "layer_info into a larger struct");
        CHECK(info->struct_size == sizeof larger && larger[sizeof larger - 1] == 0x5A && info->hidden_size == 8,
              "layer_info into a larger struct fills the known fields only");
    }
    {
        recur_layer_info info;
        memset(&info, 0, sizeof info);
        info.struct_size = sizeof info - 1;
        CHECK(recur_model_layer_info(model, 0, &info) == RECUR_ERROR_INVALID_ARGUMENT &&
              strstr(recur_last_error(), "struct_size") != NULL,
              "layer_info with a struct_size too small is refused, naming struct_size: %s", recur_last_error());
        info.struct_size = sizeof info;
        CHECK(recur_model_layer_info(model, 4, &info) == RECUR_ERROR_INVALID_ARGUMENT &&
              strstr(recur_last_error(), "layer 4") != NULL,
              "layer_info past the last layer is refused, naming it: %s", recur_last_error());
        CHECK(recur_model_layer_info(NULL, 0, &info) == RECUR_ERROR_INVALID_ARGUMENT, "layer_info of NULL is refused");
        CHECK(recur_model_layer_info(model, 0, NULL) == RECUR_ERROR_INVALID_ARGUMENT &&
              strstr(recur_last_error(), "out_info") != NULL, "layer_info into NULL is refused, naming out_info");
    }
    recur_model_free(model);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s TESTDATA_DIR   (e.g. Tests/testdata)\n", argv[0]);
        return 2;
    }
    check_initial_last_error(); /* first: before any other recur_ call */
    check_library_info();
    check_reference_cases(argv[1]);
    check_invalid_corpus(argv[1]);
    check_missing_file();
    check_null_and_zero();
    check_thread_local_error();
    check_concurrent_inference();
    check_non_finite_inputs();
    check_tensor_shapes();
    check_layer_info();

    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed ? 1 : 0;
}
