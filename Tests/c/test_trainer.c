/*
 * test_trainer.c: the fine-tuning API of Recur (recur_trainer_*), from C.
 *
 * Usage:   test_trainer TESTDATA_DIR          (e.g. Tests/testdata)
 *
 * 1. Every reference case with a `train` section (read with json-c,
 *    independently of the library): losses, gradient norms, first-step
 *    gradients and the updated model after `train.steps` steps, within the
 *    tolerances of TESTDATA_DIR/README.md; the trained model survives
 *    save_file -> load_file byte for byte.
 * 2. Configurations that must be refused, with the status and a message
 *    naming the key; out_trainer untouched.
 * 3. Steps that must be refused, leaving weights and optimizer state as they
 *    were.
 * 4. Stateful training (carried state, reset, batch size), frozen layers,
 *    determinism, training from scratch ("init").
 * Prints one line per failed check ("FAIL [case] group (line N): details"),
 * then "N passed, N failed"; exits 1 if any check failed (unreadable test data
 * counts as a failed check), 2 on a usage error or if the test itself cannot
 * run (out of memory, mkstemp).
 *
 * Build (from the project root):
 *   cc -std=c99 -Wall -Wextra -Werror -pedantic -Iinclude Tests/c/test_trainer.c \
 *      -o build/tests/test_trainer -Lbuild/lib -lrecur -ljson-c -pthread -lm -Wl,-rpath,$PWD/build/lib
 * Run:  build/tests/test_trainer Tests/testdata
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include "recur.h"

#include <json-c/json.h>

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Check bookkeeping (as in test_api.c)                                      */
/* ------------------------------------------------------------------------ */

#include "check.h"

/* CHECK_STATUS(call, expected, what): the call returns exactly `expected`;
   evaluates to 1 when it did. */
#define CHECK_STATUS(call, expected, what) check_status_impl((call), (expected), (what), __LINE__)

static int check_status_impl(recur_status st, recur_status expected, const char *what, int line)
{
    return check_impl(st == expected, line, "%s: got %s, expected %s (last error: \"%s\")", what, status_name(st),
                      status_name(expected), recur_last_error());
}

/* CHECK_OK(call, what): shorthand; evaluates to 1 when the call returned RECUR_OK. */
#define CHECK_OK(call, what) check_status_impl((call), RECUR_OK, (what), __LINE__)

/* Sentinels: out-pointers must be left untouched on failure. */
static char g_sentinel_object;
#define MODEL_SENTINEL ((recur_model *)(void *)&g_sentinel_object)
#define TRAINER_SENTINEL ((recur_trainer *)(void *)&g_sentinel_object)
#define STRING_SENTINEL ((char *)&g_sentinel_object)

/* ------------------------------------------------------------------------ */
/* Small utilities                                                           */
/* ------------------------------------------------------------------------ */

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "test_trainer: out of memory\n");
        exit(2);
    }
    return p;
}

#include "cases.h" /* after xmalloc, which path_join uses */

static float *float_alloc(size_t n) { return (float *)xmalloc(n * sizeof(float)); }

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = (char *)xmalloc(n);
    memcpy(p, s, n);
    return p;
}

static void fill_random(float *p, size_t n, uint32_t seed, float scale)
{
    size_t i;
    for (i = 0; i < n; i++) p[i] = scale * pseudo_random(&seed);
}

/* Creates an empty temporary file in /tmp and returns its path (caller frees). */
static char *make_temp_path(void)
{
    char *path = (char *)xmalloc(64);
    int fd;
    strcpy(path, "/tmp/recur_test_trainer_XXXXXX");
    fd = mkstemp(path);
    if (fd < 0) {
        fprintf(stderr, "test_trainer: mkstemp failed: %s\n", strerror(errno));
        exit(2);
    }
    close(fd);
    return path;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
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
        double err = fabs((double)mine[i] - ref[i]);
        double tol = 5e-5 + 5e-4 * fabs(ref[i]);
        if (!(err <= tol)) { /* also catches NaN */
            if (bad == 0) first = i;
            bad++;
            if (err > worst || err != err) worst = err;
        }
    }
    if (bad == 0) return check_impl(1, line, "%s", what);
    return check_impl(0, line,
                      "%s: %zu of %zu elements out of tolerance; first at [%zu]: got %.9g, reference %.9g "
                      "(worst error %.3g)",
                      what, bad, n, first, (double)mine[first], ref[first], worst);
}

/* |mine - ref| <= rel * |ref| (losses and gradient norms: rel = 1e-4). */
static int check_relative_impl(int line, const char *what, double mine, double ref, double rel)
{
    double err = fabs(mine - ref);
    return check_impl(err <= rel * fabs(ref), line, "%s: got %.9g, reference %.9g (error %.3g, allowed %.3g)", what,
                      mine, ref, err, rel * fabs(ref));
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
    return check_impl(0, line,
                      "%s: %zu of %zu elements differ in bits; first at [%zu]: got %.9g (0x%08x), "
                      "expected %.9g (0x%08x)",
                      what, bad, n, first, (double)mine[first], (unsigned)float_bits(mine[first]),
                      (double)expected[first], (unsigned)float_bits(expected[first]));
}

static int check_all_zero_impl(int line, const char *what, const float *v, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (float_bits(v[i]) != 0u)
            return check_impl(0, line, "%s: element [%zu] is %.9g, expected 0", what, i, (double)v[i]);
    }
    return check_impl(1, line, "%s", what);
}

/* Two NUL-terminated documents are byte-identical. */
static int check_same_text_impl(int line, const char *what, const char *a, const char *b)
{
    size_t i = 0;
    if (strcmp(a, b) == 0) return check_impl(1, line, "%s", what);
    while (a[i] && a[i] == b[i]) i++;
    return check_impl(0, line, "%s: differ from byte %zu (lengths %zu and %zu): ...%.40s... vs ...%.40s...", what, i,
                      strlen(a), strlen(b), a + (i > 20 ? i - 20 : 0), b + (i > 20 ? i - 20 : 0));
}

#define check_close(what, mine, ref, n) check_close_impl(__LINE__, (what), (mine), (ref), (n))
#define check_relative(what, mine, ref, rel) check_relative_impl(__LINE__, (what), (mine), (ref), (rel))
#define check_same_bits(what, mine, expected, n) check_same_bits_impl(__LINE__, (what), (mine), (expected), (n))
#define check_all_zero(what, v, n) check_all_zero_impl(__LINE__, (what), (v), (n))
#define check_same_text(what, a, b) check_same_text_impl(__LINE__, (what), (a), (b))

/* ------------------------------------------------------------------------ */
/* Library helpers                                                           */
/* ------------------------------------------------------------------------ */

static recur_model *load_model_text(const char *json, const char *what)
{
    recur_model *model = MODEL_SENTINEL;
    if (!CHECK_OK(recur_model_load_json(json, strlen(json), &model), what)) return NULL;
    if (!CHECK(model != NULL && model != MODEL_SENTINEL, "%s returned OK without a model", what)) return NULL;
    return model;
}

static recur_model *clone_model(const recur_model *model)
{
    recur_model *copy = MODEL_SENTINEL;
    if (!CHECK_OK(recur_model_clone(model, &copy), "recur_model_clone")) return NULL;
    return copy;
}

/* The model as JSON (flat tensors; each float reads back bit-identical), a
   malloc'd copy; NULL (and a failed check) on error. */
static char *model_text(const recur_model *model)
{
    char *json = STRING_SENTINEL, *copy;
    size_t len = 0;
    if (!CHECK_OK(recur_model_to_json(model, &json, &len), "recur_model_to_json")) return NULL;
    copy = xstrdup(json);
    recur_string_free(json);
    return copy;
}

static recur_trainer *make_trainer(recur_model *model, const char *config, const char *what)
{
    recur_trainer *trainer = TRAINER_SENTINEL;
    if (!CHECK_OK(recur_trainer_create(model, config, &trainer), what)) return NULL;
    if (!CHECK(trainer != NULL && trainer != TRAINER_SENTINEL, "%s returned OK without a trainer", what)) return NULL;
    return trainer;
}

/* Sizes of a model's tensors, read through the library (count 0 = absent). */
static const char *const RECURRENT_TENSORS[] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"};
static const char *const DENSE_TENSORS[] = {"weight", "bias"};

/* mse computed here: mean of (y - t)^2, in double. */
static double mse(const float *y, const float *t, size_t n)
{
    double sum = 0.0;
    size_t i;
    for (i = 0; i < n; i++) {
        double d = (double)y[i] - (double)t[i];
        sum += d * d;
    }
    return sum / (double)n;
}

/* ------------------------------------------------------------------------ */
/* Reading the reference cases                                               */
/* ------------------------------------------------------------------------ */

/* A JSON array of numbers as doubles; NULL if absent or not all numbers. */
static double *json_array_doubles(json_object *arr, size_t *out_n)
{
    size_t i, n;
    double *d;
    if (!arr || !json_object_is_type(arr, json_type_array)) return NULL;
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

static double *json_get_doubles(json_object *obj, const char *key, size_t *out_n)
{
    json_object *arr;
    if (!json_object_object_get_ex(obj, key, &arr)) return NULL;
    return json_array_doubles(arr, out_n);
}

static float *doubles_to_floats(const double *d, size_t n)
{
    float *f = float_alloc(n);
    size_t i;
    for (i = 0; i < n; i++) f[i] = (float)d[i];
    return f;
}

static char *serialize_plain(json_object *obj)
{
    return xstrdup(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN));
}

typedef struct {
    char *name;          /* file name without ".json" */
    json_object *root;
    char *model_json;    /* `model`, serialized plain */
    char *config_json;   /* `train.config`, serialized plain */
    char *updated_json;  /* `train.updated_model`, serialized plain */
    json_object *train;  /* owned by root */
    json_object *first_gradients; /* array, one object per layer; owned by root */
    json_object *updated_model;   /* owned by root */
    size_t batch, steps, input_size, train_steps;
    float *input;        /* [B][T][I] */
    float *target;       /* flat, or NULL when labels are used */
    size_t target_count;
    int32_t *labels;     /* or NULL */
    size_t label_count;
    double *losses, *gradient_norms;
    size_t n_losses, n_norms;
} train_case;

static void free_train_case(train_case *tc)
{
    free(tc->name);
    free(tc->model_json);
    free(tc->config_json);
    free(tc->updated_json);
    free(tc->input);
    free(tc->target);
    free(tc->labels);
    free(tc->losses);
    free(tc->gradient_norms);
    if (tc->root) json_object_put(tc->root);
    memset(tc, 0, sizeof *tc);
}

/* Reads one case. Returns 1 with a train section, 0 without one (not a
   failure), -1 if the file is not a usable case (reported as a failure). */
static int read_train_case(const char *dir, const char *file, train_case *tc)
{
    char *path = path_join(dir, file);
    json_object *model, *config, *v;
    double *d;
    size_t n = 0, i;

    memset(tc, 0, sizeof *tc);
    tc->name = xstrdup(file);
    tc->name[strlen(tc->name) - 5] = '\0'; /* drop ".json" */
    g_case = tc->name;
    g_group = "reading the case";

    tc->root = json_object_from_file(path);
    free(path);
    if (!CHECK(tc->root != NULL, "cannot parse the case file: %s", json_util_get_last_err())) return -1;
    if (!json_object_object_get_ex(tc->root, "train", &tc->train)) return 0;
    if (!CHECK(json_object_object_get_ex(tc->root, "model", &model) && json_object_is_type(model, json_type_object),
               "case has no `model` object"))
        return -1;
    if (!CHECK(json_get_size(tc->root, "batch", &tc->batch) && json_get_size(tc->root, "steps", &tc->steps) &&
                   json_get_size(model, "input_size", &tc->input_size) && tc->batch > 0 && tc->steps > 0,
               "case lacks batch, steps or model.input_size"))
        return -1;
    tc->model_json = serialize_plain(model);

    d = json_get_doubles(tc->root, "input", &n);
    if (!CHECK(d != NULL && n == tc->batch * tc->steps * tc->input_size, "case lacks input of B*T*I numbers")) {
        free(d);
        return -1;
    }
    tc->input = doubles_to_floats(d, n);
    free(d);

    if (!CHECK(json_object_object_get_ex(tc->train, "config", &config) &&
                   json_object_is_type(config, json_type_object),
               "train lacks a `config` object"))
        return -1;
    tc->config_json = serialize_plain(config);
    if (!CHECK(json_get_size(tc->train, "steps", &tc->train_steps) && tc->train_steps > 0, "train lacks `steps`"))
        return -1;

    if (json_object_object_get_ex(tc->train, "labels", &v)) {
        d = json_array_doubles(v, &n);
        if (!CHECK(d != NULL && n > 0, "train.labels is not an array of numbers")) {
            free(d);
            return -1;
        }
        tc->labels = (int32_t *)xmalloc(n * sizeof(int32_t));
        for (i = 0; i < n; i++) tc->labels[i] = (int32_t)d[i];
        tc->label_count = n;
        free(d);
    } else {
        d = json_get_doubles(tc->train, "target", &n);
        if (!CHECK(d != NULL && n > 0, "train has neither `target` nor `labels`")) {
            free(d);
            return -1;
        }
        tc->target = doubles_to_floats(d, n);
        tc->target_count = n;
        free(d);
    }

    tc->losses = json_get_doubles(tc->train, "losses", &tc->n_losses);
    tc->gradient_norms = json_get_doubles(tc->train, "gradient_norms", &tc->n_norms);
    if (!CHECK(tc->losses && tc->gradient_norms && tc->n_losses == tc->train_steps &&
                   tc->n_norms == tc->train_steps,
               "train.losses and train.gradient_norms must hold train.steps = %zu numbers", tc->train_steps))
        return -1;
    if (!CHECK(json_object_object_get_ex(tc->train, "first_gradients", &tc->first_gradients) &&
                   json_object_is_type(tc->first_gradients, json_type_array),
               "train lacks a `first_gradients` array"))
        return -1;
    if (!CHECK(json_object_object_get_ex(tc->train, "updated_model", &tc->updated_model) &&
                   json_object_is_type(tc->updated_model, json_type_object),
               "train lacks an `updated_model` object"))
        return -1;
    tc->updated_json = serialize_plain(tc->updated_model);
    return 1;
}

/* ------------------------------------------------------------------------ */
/* 1. Reference training cases                                               */
/* ------------------------------------------------------------------------ */

static recur_status train_case_step(const train_case *tc, recur_trainer *trainer, float *loss)
{
    if (tc->labels) return recur_trainer_step_labels(trainer, tc->input, tc->batch, tc->steps, tc->labels, loss);
    return recur_trainer_step(trainer, tc->input, tc->batch, tc->steps, tc->target, loss);
}

/* Every tensor in first_gradients[layer] against recur_trainer_get_gradient. */
static void check_first_gradients(const train_case *tc, const recur_trainer *trainer, const recur_model *model)
{
    size_t n_layers = json_object_array_length(tc->first_gradients), layer;
    char what[160];

    CHECK(n_layers == recur_model_layer_count(model), "first_gradients has %zu layers, the model %zu", n_layers,
          recur_model_layer_count(model));
    for (layer = 0; layer < n_layers; layer++) {
        json_object *grads = json_object_array_get_idx(tc->first_gradients, layer);
        if (!CHECK(json_object_is_type(grads, json_type_object), "first_gradients[%zu] is not an object", layer))
            continue;
        json_object_object_foreach(grads, name, ref_json)
        {
            size_t n = 0;
            double *ref = json_array_doubles(ref_json, &n);
            float *mine;
            if (!CHECK(ref != NULL, "first_gradients[%zu].%s is not an array of numbers", layer, name)) continue;
            mine = float_alloc(n);
            snprintf(what, sizeof what, "recur_trainer_get_gradient(layer %zu, %s)", layer, name);
            if (CHECK_OK(recur_trainer_get_gradient(trainer, layer, name, mine, n), what)) {
                snprintf(what, sizeof what, "first-step gradient of layers[%zu].%s vs reference", layer, name);
                check_close(what, mine, ref, n);
            }
            free(mine);
            free(ref);
        }
    }
}

/* Every tensor of updated_model, through recur_model_get_tensor on both. */
static void check_updated_model(const train_case *tc, const recur_model *trained)
{
    recur_model *ref_model = load_model_text(tc->updated_json, "recur_model_load_json(train.updated_model)");
    json_object *layers;
    size_t n_layers, layer;
    char what[160];

    if (!ref_model) return;
    if (!CHECK(json_object_object_get_ex(tc->updated_model, "layers", &layers) &&
                   json_object_is_type(layers, json_type_array),
               "updated_model has no layers")) {
        recur_model_free(ref_model);
        return;
    }
    n_layers = json_object_array_length(layers);
    CHECK(recur_model_layer_count(trained) == n_layers, "trained model has %zu layers, updated_model %zu",
          recur_model_layer_count(trained), n_layers);
    for (layer = 0; layer < n_layers; layer++) {
        json_object *weights;
        if (!CHECK(json_object_object_get_ex(json_object_array_get_idx(layers, layer), "weights", &weights),
                   "updated_model.layers[%zu] has no weights", layer))
            continue;
        json_object_object_foreach(weights, name, tensor)
        {
            long count = tensor_element_count(tensor);
            float *mine, *ref_f;
            double *ref;
            size_t i, n;
            if (!CHECK(count > 0, "updated_model.layers[%zu].weights.%s: unreadable shape", layer, name)) continue;
            n = (size_t)count;
            mine = float_alloc(n);
            ref_f = float_alloc(n);
            ref = (double *)xmalloc(n * sizeof(double));
            snprintf(what, sizeof what, "recur_model_get_tensor(updated_model, %zu, %s)", layer, name);
            if (CHECK_OK(recur_model_get_tensor(ref_model, layer, name, ref_f, n), what)) {
                snprintf(what, sizeof what, "recur_model_get_tensor(trained, %zu, %s)", layer, name);
                if (CHECK_OK(recur_model_get_tensor(trained, layer, name, mine, n), what)) {
                    for (i = 0; i < n; i++) ref[i] = (double)ref_f[i];
                    snprintf(what, sizeof what, "trained layers[%zu].%s vs updated_model", layer, name);
                    check_close(what, mine, ref, n);
                }
            }
            free(mine);
            free(ref_f);
            free(ref);
        }
    }
    recur_model_free(ref_model);
}

/* save_file -> load_file -> to_json is byte-identical to to_json. */
static void check_save_reload(const recur_model *model)
{
    char *path = make_temp_path(), *before = model_text(model), *after;
    recur_model *loaded = MODEL_SENTINEL;

    g_group = "trained model: save and reload";
    if (before && CHECK_OK(recur_model_save_file(model, path), "recur_model_save_file(trained model)") &&
        CHECK_OK(recur_model_load_file(path, &loaded), "recur_model_load_file(saved trained model)")) {
        after = model_text(loaded);
        if (after) check_same_text("to_json of the reloaded model vs the trained model", after, before);
        free(after);
        recur_model_free(loaded);
    }
    free(before);
    unlink(path);
    free(path);
}

static void check_train_case(const train_case *tc)
{
    recur_model *model;
    recur_trainer *trainer;
    size_t k;
    char what[160];

    g_group = "reference training";
    model = load_model_text(tc->model_json, "recur_model_load_json(case model)");
    if (!model) return;
    trainer = make_trainer(model, tc->config_json, "recur_trainer_create(train.config)");
    if (!trainer) {
        printf("  config was: %s\n", tc->config_json);
        recur_model_free(model);
        return;
    }
    CHECK(recur_trainer_last_gradient_norm(trainer) == 0.0f, "last_gradient_norm before any step is %.9g, expected 0",
          (double)recur_trainer_last_gradient_norm(trainer));
    for (k = 0; k < tc->train_steps; k++) {
        float loss = NAN;
        snprintf(what, sizeof what, "trainer step %zu", k + 1);
        if (!CHECK_OK(train_case_step(tc, trainer, &loss), what)) break;
        snprintf(what, sizeof what, "loss of step %zu", k + 1);
        check_relative(what, (double)loss, tc->losses[k], 1e-4);
        snprintf(what, sizeof what, "gradient norm of step %zu", k + 1);
        check_relative(what, (double)recur_trainer_last_gradient_norm(trainer), tc->gradient_norms[k], 1e-4);
        if (k == 0) {
            g_group = "reference training: first gradients";
            check_first_gradients(tc, trainer, model);
            g_group = "reference training";
        }
    }
    if (k == tc->train_steps) {
        g_group = "reference training: updated model";
        check_updated_model(tc, model);
        check_save_reload(model);
    }
    recur_trainer_free(trainer);
    recur_model_free(model);
}

static void check_reference_cases(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0, i, with_train = 0;

    g_case = "-";
    g_group = "reference cases";
    if (!CHECK(d != NULL, "cannot open the test data directory %s: %s", dir, strerror(errno))) return;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len <= 5 || strcmp(e->d_name + len - 5, ".json") != 0) continue;
        if (n == cap) {
            char **bigger;
            cap = cap ? 2 * cap : 16;
            bigger = (char **)realloc(names, cap * sizeof *names);
            if (!bigger) {
                fprintf(stderr, "test_trainer: out of memory\n");
                exit(2);
            }
            names = bigger;
        }
        names[n++] = xstrdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, compare_names);
    for (i = 0; i < n; i++) {
        train_case tc;
        int r = read_train_case(dir, names[i], &tc);
        if (r > 0) {
            with_train++;
            check_train_case(&tc);
        }
        free_train_case(&tc);
        free(names[i]);
    }
    free(names);
    g_case = "-";
    g_group = "reference cases";
    CHECK(with_train > 0, "no reference case in %s has a `train` section", dir);
}

/* ------------------------------------------------------------------------ */
/* Models used by the other groups (written here, weights from "init")      */
/* ------------------------------------------------------------------------ */

/* lstm(4) -> dense(2, linear): input 3. */
static const char LSTM_DENSE[] =
    "{\"format\": \"recur\", \"version\": 1, \"input_size\": 3, \"init\": {\"seed\": 11},"
    " \"layers\": [{\"type\": \"lstm\", \"hidden_size\": 4}, {\"type\": \"dense\", \"units\": 2}]}";
/* gru(5) -> dense(3, linear): input 2, a classifier head. */
static const char GRU_LOGITS[] =
    "{\"format\": \"recur\", \"version\": 1, \"input_size\": 2, \"init\": {\"seed\": 5},"
    " \"layers\": [{\"type\": \"gru\", \"hidden_size\": 5}, {\"type\": \"dense\", \"units\": 3}]}";
/* gru(4) -> dense(1, sigmoid). */
static const char GRU_SIGMOID[] =
    "{\"format\": \"recur\", \"version\": 1, \"input_size\": 2, \"init\": {\"seed\": 3},"
    " \"layers\": [{\"type\": \"gru\", \"hidden_size\": 4},"
    " {\"type\": \"dense\", \"units\": 1, \"activation\": \"sigmoid\"}]}";
/* rnn(3, tanh) alone: the last layer is recurrent. */
static const char RNN_ONLY[] =
    "{\"format\": \"recur\", \"version\": 1, \"input_size\": 2, \"init\": {\"seed\": 4},"
    " \"layers\": [{\"type\": \"rnn\", \"hidden_size\": 3}]}";
/* lstm(4) -> dense(3, softmax). */
static const char LSTM_SOFTMAX[] =
    "{\"format\": \"recur\", \"version\": 1, \"input_size\": 2, \"init\": {\"seed\": 9},"
    " \"layers\": [{\"type\": \"lstm\", \"hidden_size\": 4},"
    " {\"type\": \"dense\", \"units\": 3, \"activation\": \"softmax\"}]}";
/* rnn(3, relu) -> gru(4) -> dense(2, tanh): three layers, for freezing. */
static const char THREE_LAYERS[] =
    "{\"format\": \"recur\", \"version\": 1, \"input_size\": 2, \"init\": {\"seed\": 21},"
    " \"layers\": [{\"type\": \"rnn\", \"hidden_size\": 3, \"activation\": \"relu\"},"
    " {\"type\": \"gru\", \"hidden_size\": 4}, {\"type\": \"dense\", \"units\": 2, \"activation\": \"tanh\"}]}";

/* ------------------------------------------------------------------------ */
/* 2. Refused configurations                                                 */
/* ------------------------------------------------------------------------ */

typedef struct {
    const char *model;    /* model document */
    const char *config;   /* trainer configuration */
    recur_status status;  /* what recur_trainer_create must return */
    const char *key;      /* a substring of the message, or NULL */
    const char *why;
} refused_config;

static void check_refused_configs(void)
{
    static const refused_config cases[] = {
        {LSTM_DENSE, "{\"learning_rate\": 0.1}", RECUR_ERROR_MODEL, "learning_rate", "unknown top-level key"},
        {LSTM_DENSE, "{\"optimizer\": {\"type\": \"rmsprop\"}}", RECUR_ERROR_MODEL, "rmsprop",
         "unknown optimizer type"},
        {LSTM_DENSE, "{\"optimizer\": {\"type\": \"sgd\", \"learning_rate\": -0.1}}", RECUR_ERROR_MODEL,
         "learning_rate", "negative learning rate (sgd)"},
        {LSTM_DENSE, "{\"optimizer\": {\"type\": \"adam\", \"learning_rate\": -0.001}}", RECUR_ERROR_MODEL,
         "learning_rate", "negative learning rate (adam)"},
        {LSTM_DENSE, "{\"optimizer\": {\"type\": \"adam\", \"momentum\": 0.9}}", RECUR_ERROR_MODEL, "momentum",
         "momentum given to adam"},
        {LSTM_DENSE, "{\"optimizer\": {\"type\": \"sgd\", \"lr\": 0.1}}", RECUR_ERROR_MODEL, "lr",
         "unknown optimizer key"},
        {LSTM_DENSE, "{\"freeze\": [2]}", RECUR_ERROR_MODEL, "freeze", "freeze index out of range (2 layers)"},
        {LSTM_DENSE, "{\"freeze\": [-1]}", RECUR_ERROR_MODEL, "freeze", "negative freeze index"},
        {LSTM_DENSE, "{\"clip_gradient_norm\": 0}", RECUR_ERROR_MODEL, "clip_gradient_norm",
         "clip_gradient_norm not > 0"},
        {LSTM_DENSE, "{\"stateful\": \"yes\"}", RECUR_ERROR_MODEL, "stateful", "stateful not a bool"},
        {LSTM_DENSE, "{\"loss\": \"hinge\"}", RECUR_ERROR_MODEL, "loss", "unknown loss"},
        {GRU_SIGMOID, "{\"loss\": \"cross_entropy\"}", RECUR_ERROR_MODEL, "loss",
         "cross_entropy on a dense sigmoid head"},
        {RNN_ONLY, "{\"loss\": \"cross_entropy\"}", RECUR_ERROR_MODEL, "loss",
         "cross_entropy on a recurrent last layer"},
        {RNN_ONLY, "{\"loss\": \"binary_cross_entropy\"}", RECUR_ERROR_MODEL, "loss",
         "binary_cross_entropy on a recurrent last layer"},
        {LSTM_SOFTMAX, "{\"loss\": \"binary_cross_entropy\"}", RECUR_ERROR_MODEL, "loss",
         "binary_cross_entropy on a softmax head"},
        {LSTM_DENSE, "{\"targets\": \"all\"}", RECUR_ERROR_MODEL, "targets", "targets \"all\""},
        {LSTM_DENSE, "[1, 2]", RECUR_ERROR_MODEL, NULL, "config not an object"},
        {LSTM_DENSE, "{loss: mse", RECUR_ERROR_PARSE, NULL, "not JSON"},
        {LSTM_DENSE, "{\"loss\": \"mse\"} trailing", RECUR_ERROR_PARSE, NULL, "JSON followed by garbage"},
    };
    size_t i, n = sizeof cases / sizeof cases[0];
    char what[200];

    g_case = "configs";
    g_group = "refused configs";
    for (i = 0; i < n; i++) {
        recur_model *model = load_model_text(cases[i].model, "recur_model_load_json(test model)");
        recur_trainer *trainer = TRAINER_SENTINEL;
        recur_status st;
        if (!model) continue;
        st = recur_trainer_create(model, cases[i].config, &trainer);
        snprintf(what, sizeof what, "%s: recur_trainer_create(%s)", cases[i].why, cases[i].config);
        CHECK_STATUS(st, cases[i].status, what);
        CHECK(st != RECUR_OK, "%s: accepted", what);
        CHECK(trainer == TRAINER_SENTINEL, "%s: failed but wrote to *out_trainer", what);
        if (st != RECUR_OK) {
            CHECK(recur_last_error()[0] != '\0', "%s: recur_last_error() is empty", what);
            if (cases[i].key)
                CHECK(strstr(recur_last_error(), cases[i].key) != NULL, "%s: message \"%s\" lacks \"%s\"", what,
                      recur_last_error(), cases[i].key);
        } else if (trainer != TRAINER_SENTINEL) {
            recur_trainer_free(trainer);
        }
        recur_model_free(model);
    }

    g_group = "create: NULL arguments and defaults";
    {
        recur_model *model = load_model_text(LSTM_DENSE, "recur_model_load_json(LSTM_DENSE)");
        recur_trainer *trainer = TRAINER_SENTINEL;
        if (!model) return;
        CHECK_STATUS(recur_trainer_create(NULL, "{}", &trainer), RECUR_ERROR_INVALID_ARGUMENT,
                     "recur_trainer_create(NULL model)");
        CHECK(trainer == TRAINER_SENTINEL, "recur_trainer_create(NULL model) wrote to *out_trainer");
        CHECK_STATUS(recur_trainer_create(model, "{}", NULL), RECUR_ERROR_INVALID_ARGUMENT,
                     "recur_trainer_create(NULL out_trainer)");
        if (CHECK_OK(recur_trainer_create(model, NULL, &trainer), "recur_trainer_create(NULL config)")) {
            CHECK(trainer != NULL && trainer != TRAINER_SENTINEL, "NULL config: OK without a trainer");
            if (trainer != TRAINER_SENTINEL) recur_trainer_free(trainer);
        }
        trainer = TRAINER_SENTINEL;
        if (CHECK_OK(recur_trainer_create(model, "", &trainer), "recur_trainer_create(\"\" config)")) {
            if (trainer != TRAINER_SENTINEL) recur_trainer_free(trainer);
        }
        trainer = TRAINER_SENTINEL;
        if (CHECK_OK(recur_trainer_create(model, "{}", &trainer), "recur_trainer_create(\"{}\")")) {
            if (trainer != TRAINER_SENTINEL) recur_trainer_free(trainer);
        }
        recur_trainer_free(NULL); /* a no-op */
        CHECK(recur_trainer_last_gradient_norm(NULL) == 0.0f, "recur_trainer_last_gradient_norm(NULL) is not 0");
        CHECK_STATUS(recur_trainer_reset_state(NULL), RECUR_ERROR_INVALID_ARGUMENT, "recur_trainer_reset_state(NULL)");
        recur_model_free(model);
    }
}

/* NULL config means the documented defaults: mse, sequence, adam 0.001. */
static void check_defaults(void)
{
    static const char explicit_config[] =
        "{\"loss\": \"mse\", \"targets\": \"sequence\", \"stateful\": false,"
        " \"optimizer\": {\"type\": \"adam\", \"learning_rate\": 0.001, \"beta1\": 0.9, \"beta2\": 0.999,"
        " \"epsilon\": 1e-8, \"weight_decay\": 0}}";
    enum { B = 2, T = 4, I = 3, O = 2 };
    float x[B * T * I], target[B * T * O], loss_a = 0, loss_b = 0;
    recur_model *a = load_model_text(LSTM_DENSE, "recur_model_load_json(LSTM_DENSE)"), *b = NULL;
    recur_trainer *ta = NULL, *tb = NULL;
    char *ja = NULL, *jb = NULL;
    int k, ok = 1;

    g_case = "configs";
    g_group = "defaults";
    fill_random(x, B * T * I, 1u, 1.0f);
    fill_random(target, B * T * O, 2u, 0.5f);
    if (!a || !(b = clone_model(a))) goto done;
    ta = make_trainer(a, NULL, "recur_trainer_create(NULL config)");
    tb = make_trainer(b, explicit_config, "recur_trainer_create(explicit defaults)");
    if (!ta || !tb) goto done;
    for (k = 0; ok && k < 3; k++) {
        ok = CHECK_OK(recur_trainer_step(ta, x, B, T, target, &loss_a), "step (NULL config)") &&
             CHECK_OK(recur_trainer_step(tb, x, B, T, target, &loss_b), "step (explicit defaults)");
        if (ok) check_same_bits("loss with NULL config vs explicit defaults", &loss_a, &loss_b, 1);
    }
    if (ok && (ja = model_text(a)) != NULL && (jb = model_text(b)) != NULL)
        check_same_text("weights after 3 steps: NULL config vs explicit defaults", ja, jb);
done:
    free(ja);
    free(jb);
    recur_trainer_free(ta);
    recur_trainer_free(tb);
    recur_model_free(a);
    recur_model_free(b);
}

/* ------------------------------------------------------------------------ */
/* 3. Refused steps leave everything unchanged                               */
/* ------------------------------------------------------------------------ */

/* The step is refused with `expected` and the weights are unchanged. */
static void check_refused_step(recur_status st, recur_status expected, const char *what, const recur_model *model,
                               const char *weights_before)
{
    char *after;
    char label[200];
    CHECK_STATUS(st, expected, what);
    if (st == RECUR_OK) return;
    CHECK(recur_last_error()[0] != '\0', "%s: recur_last_error() is empty", what);
    after = model_text(model);
    if (after) {
        snprintf(label, sizeof label, "%s: weights unchanged", what);
        check_same_text(label, after, weights_before);
    }
    free(after);
}

static void check_refused_steps(void)
{
    enum { B = 2, T = 4, I = 3, O = 2 };
    static const char config[] =
        "{\"loss\": \"mse\", \"optimizer\": {\"type\": \"adam\", \"learning_rate\": 0.01, \"epsilon\": 0.0001}}";
    float x[B * T * I], target[B * T * O], bad[B * T * I], bad_target[B * T * O];
    float loss = 0, fresh_loss = 0, sentinel_loss;
    recur_model *model = load_model_text(LSTM_DENSE, "recur_model_load_json(LSTM_DENSE)"), *twin = NULL;
    recur_trainer *trainer = NULL, *fresh = NULL;
    char *before = NULL, *after = NULL, *twin_after = NULL;
    int32_t labels[B * T];
    size_t i;

    g_case = "LSTM_DENSE";
    g_group = "refused steps";
    fill_random(x, B * T * I, 3u, 1.0f);
    fill_random(target, B * T * O, 4u, 0.5f);
    for (i = 0; i < B * T; i++) labels[i] = 0;
    if (!model || !(twin = clone_model(model))) goto done;
    trainer = make_trainer(model, config, "recur_trainer_create(adam)");
    fresh = make_trainer(twin, config, "recur_trainer_create(adam, on a clone)");
    if (!trainer || !fresh || !(before = model_text(model))) goto done;

    /* Non-finite x, at the last position of the last stream and at the start. */
    memcpy(bad, x, sizeof x);
    bad[B * T * I - 1] = NAN;
    sentinel_loss = -1.0f;
    check_refused_step(recur_trainer_step(trainer, bad, B, T, target, &sentinel_loss), RECUR_ERROR_NUMERIC,
                       "step(NaN in x)", model, before);
    CHECK(sentinel_loss == -1.0f, "step(NaN in x) wrote %.9g to *out_loss", (double)sentinel_loss);
    memcpy(bad, x, sizeof x);
    bad[0] = INFINITY;
    check_refused_step(recur_trainer_step(trainer, bad, B, T, target, &loss), RECUR_ERROR_NUMERIC,
                       "step(+inf in x)", model, before);
    memcpy(bad, x, sizeof x);
    bad[I + 1] = -INFINITY;
    check_refused_step(recur_trainer_step(trainer, bad, B, T, target, &loss), RECUR_ERROR_NUMERIC,
                       "step(-inf in x)", model, before);
    memcpy(bad_target, target, sizeof target);
    bad_target[B * T * O / 2] = NAN;
    check_refused_step(recur_trainer_step(trainer, x, B, T, bad_target, &loss), RECUR_ERROR_NUMERIC,
                       "step(NaN in target)", model, before);
    bad_target[B * T * O / 2] = -INFINITY;
    check_refused_step(recur_trainer_step(trainer, x, B, T, bad_target, &loss), RECUR_ERROR_NUMERIC,
                       "step(-inf in target)", model, before);

    /* Labels with an mse trainer. */
    check_refused_step(recur_trainer_step_labels(trainer, x, B, T, labels, &loss), RECUR_ERROR_INVALID_ARGUMENT,
                       "step_labels on an mse trainer", model, before);

    /* Zero sizes and NULL pointers. */
    check_refused_step(recur_trainer_step(trainer, x, 0, T, target, &loss), RECUR_ERROR_INVALID_ARGUMENT,
                       "step(batch 0)", model, before);
    check_refused_step(recur_trainer_step(trainer, x, B, 0, target, &loss), RECUR_ERROR_INVALID_ARGUMENT,
                       "step(steps 0)", model, before);
    check_refused_step(recur_trainer_step(trainer, NULL, B, T, target, &loss), RECUR_ERROR_INVALID_ARGUMENT,
                       "step(NULL x)", model, before);
    check_refused_step(recur_trainer_step(trainer, x, B, T, NULL, &loss), RECUR_ERROR_INVALID_ARGUMENT,
                       "step(NULL target)", model, before);
    CHECK_STATUS(recur_trainer_step(NULL, x, B, T, target, &loss), RECUR_ERROR_INVALID_ARGUMENT,
                 "step(NULL trainer)");
    { /* sizes whose product overflows: refused before x is read */
        static const size_t huge[][2] = {{SIZE_MAX / 2, 4}, {4, SIZE_MAX / 3}, {(size_t)1 << 31, (size_t)1 << 31}};
        char *after_huge;
        for (i = 0; i < 3; i++) {
            recur_status st = recur_trainer_step(trainer, x, huge[i][0], huge[i][1], target, &loss);
            CHECK(st == RECUR_ERROR_INVALID_ARGUMENT || st == RECUR_ERROR_SHAPE,
                  "step(batch %zu, steps %zu): got %s, expected INVALID_ARGUMENT or SHAPE (%s)", huge[i][0],
                  huge[i][1], status_name(st), recur_last_error());
        }
        if ((after_huge = model_text(model)) != NULL)
            check_same_text("weights after steps with oversize batch x steps", after_huge, before);
        free(after_huge);
    }
    CHECK_STATUS(recur_trainer_step_labels(NULL, x, B, T, labels, &loss), RECUR_ERROR_INVALID_ARGUMENT,
                 "step_labels(NULL trainer)");

    /* The gradient accessors. */
    {
        float g[8 * 3];
        CHECK_STATUS(recur_trainer_get_gradient(trainer, 2, "weight", g, 4), RECUR_ERROR_INVALID_ARGUMENT,
                     "get_gradient(layer out of range)");
        CHECK_STATUS(recur_trainer_get_gradient(trainer, 0, "weight", g, 4), RECUR_ERROR_INVALID_ARGUMENT,
                     "get_gradient(no such tensor in an lstm)");
        CHECK_STATUS(recur_trainer_get_gradient(trainer, 0, "weight_ih", g, 16 * 3 - 1), RECUR_ERROR_SHAPE,
                     "get_gradient(count one short)");
        CHECK_STATUS(recur_trainer_get_gradient(trainer, 1, "weight", NULL, 8), RECUR_ERROR_INVALID_ARGUMENT,
                     "get_gradient(NULL out)");
        CHECK_STATUS(recur_trainer_get_gradient(NULL, 1, "weight", g, 8), RECUR_ERROR_INVALID_ARGUMENT,
                     "get_gradient(NULL trainer)");
        CHECK_STATUS(recur_trainer_get_gradient(trainer, 1, NULL, g, 8), RECUR_ERROR_INVALID_ARGUMENT,
                     "get_gradient(NULL name)");
    }

    /* The next valid step: the same loss as a fresh trainer's first step, and
       the same weights afterwards (the optimizer state was not touched). */
    g_group = "refused steps: the next valid step";
    if (CHECK_OK(recur_trainer_step(trainer, x, B, T, target, &loss), "step after the refusals") &&
        CHECK_OK(recur_trainer_step(fresh, x, B, T, target, &fresh_loss), "fresh trainer's first step")) {
        check_same_bits("loss after refusals vs a fresh trainer's first step", &loss, &fresh_loss, 1);
        after = model_text(model);
        twin_after = model_text(twin);
        if (after && twin_after)
            check_same_text("weights after refusals + 1 step vs a fresh trainer's 1 step", after, twin_after);
        free(after);
        free(twin_after);
        after = twin_after = NULL;
        /* A second step too: Adam's step count and moments must agree. */
        if (CHECK_OK(recur_trainer_step(trainer, x, B, T, target, NULL), "second step, out_loss NULL") &&
            CHECK_OK(recur_trainer_step(fresh, x, B, T, target, NULL), "fresh trainer's second step")) {
            after = model_text(model);
            twin_after = model_text(twin);
            if (after && twin_after)
                check_same_text("weights after refusals + 2 steps vs a fresh trainer's 2 steps", after, twin_after);
        }
    }
done:
    free(before);
    free(after);
    free(twin_after);
    recur_trainer_free(trainer);
    recur_trainer_free(fresh);
    recur_model_free(model);
    recur_model_free(twin);
}

/* Weights of 1e30 (finite, accepted by set_tensor): the outputs are ~1e30,
   their squares overflow, the loss is infinite: NUMERIC, nothing updated. */
static void check_overflowing_loss(void)
{
    enum { B = 2, T = 3, I = 3, O = 2, H = 4 };
    float x[B * T * I], target[B * T * O], huge[O * H], loss = -1.0f;
    recur_model *model = load_model_text(LSTM_DENSE, "recur_model_load_json(LSTM_DENSE)");
    recur_trainer *trainer = NULL;
    char *before = NULL;
    size_t i;

    g_case = "LSTM_DENSE";
    g_group = "non-finite loss";
    fill_random(x, B * T * I, 5u, 1.0f);
    fill_random(target, B * T * O, 6u, 0.5f);
    for (i = 0; i < O * H; i++) huge[i] = 1e30f;
    if (!model) return;
    if (!CHECK_OK(recur_model_set_tensor(model, 1, "weight", huge, O * H), "set_tensor(dense weight = 1e30)"))
        goto done;
    trainer = make_trainer(model, "{\"optimizer\": {\"type\": \"sgd\", \"learning_rate\": 1000}}",
                           "recur_trainer_create(sgd, lr 1000)");
    if (!trainer || !(before = model_text(model))) goto done;
    check_refused_step(recur_trainer_step(trainer, x, B, T, target, &loss), RECUR_ERROR_NUMERIC,
                       "step with outputs ~1e30 (mse overflows)", model, before);
    CHECK(loss == -1.0f, "refused step wrote %.9g to *out_loss", (double)loss);
    CHECK(strstr(recur_last_error(), "loss") != NULL || strstr(recur_last_error(), "gradient") != NULL,
          "message \"%s\" names neither the loss nor the gradient", recur_last_error());
done:
    free(before);
    recur_trainer_free(trainer);
    recur_model_free(model);
}

/* A learning rate so large that an update overflows the weights: the step
   must not leave non-finite weights in the model (they could not be saved:
   the model format refuses non-finite values). */
static void check_overflowing_update(void)
{
    enum { B = 2, T = 3, I = 3, O = 2 };
    float x[B * T * I], target[B * T * O], loss = 0;
    recur_model *model = load_model_text(LSTM_DENSE, "recur_model_load_json(LSTM_DENSE)");
    recur_trainer *trainer = NULL;
    char *before = NULL, *after = NULL;
    recur_model *reloaded = MODEL_SENTINEL;
    recur_status st;

    g_case = "LSTM_DENSE";
    g_group = "overflowing update";
    fill_random(x, B * T * I, 7u, 1.0f);
    fill_random(target, B * T * O, 8u, 100.0f); /* large errors: gradients > 1, updates > FLT_MAX */
    if (!model) return;
    trainer = make_trainer(model, "{\"optimizer\": {\"type\": \"sgd\", \"learning_rate\": 3e38}}",
                           "recur_trainer_create(sgd, lr 3e38)");
    if (!trainer || !(before = model_text(model))) goto done;
    st = recur_trainer_step(trainer, x, B, T, target, &loss);
    if (st == RECUR_OK) {
        /* Accepted: then the weights must still be finite and loadable. */
        float w[16 * 4];
        size_t i, bad = 0;
        static const char *const names[] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"};
        static const size_t counts[] = {16 * 3, 16 * 4, 16, 16};
        for (i = 0; i < 4; i++) {
            size_t j;
            if (CHECK_OK(recur_model_get_tensor(model, 0, names[i], w, counts[i]), "recur_model_get_tensor"))
                for (j = 0; j < counts[i]; j++) bad += !isfinite(w[j]);
        }
        CHECK(bad == 0,
              "a step with lr 3e38 returned RECUR_OK (loss %.9g, gradient norm %.9g) but left %zu non-finite "
              "weights in layer 0",
              (double)loss, (double)recur_trainer_last_gradient_norm(trainer), bad);
        after = model_text(model);
        if (after) {
            st = recur_model_load_json(after, strlen(after), &reloaded);
            CHECK(st == RECUR_OK, "after an accepted step with lr 3e38 the model's own to_json does not load: %s (%s)",
                  status_name(st), recur_last_error());
            if (st == RECUR_OK) recur_model_free(reloaded);
        }
    } else {
        check_refused_step(st, RECUR_ERROR_NUMERIC, "step whose update overflows the weights", model, before);
    }
done:
    free(before);
    free(after);
    recur_trainer_free(trainer);
    recur_model_free(model);
}

/* Labels: out of range, and the positions they need. */
static void check_label_steps(void)
{
    enum { B = 2, T = 3, I = 2, O = 3 };
    float x[B * T * I], loss = 0;
    int32_t labels[B * T];
    recur_model *model = load_model_text(GRU_LOGITS, "recur_model_load_json(GRU_LOGITS)");
    recur_trainer *trainer = NULL, *last = NULL;
    char *before = NULL;
    size_t i;

    g_case = "GRU_LOGITS";
    g_group = "labels";
    fill_random(x, B * T * I, 9u, 1.0f);
    for (i = 0; i < B * T; i++) labels[i] = (int32_t)(i % O);
    if (!model) return;
    trainer = make_trainer(model, "{\"loss\": \"cross_entropy\", \"optimizer\": {\"type\": \"sgd\", \"learning_rate\": 0.1}}",
                           "recur_trainer_create(cross_entropy)");
    if (!trainer || !(before = model_text(model))) goto done;
    labels[B * T - 1] = O;
    check_refused_step(recur_trainer_step_labels(trainer, x, B, T, labels, &loss), RECUR_ERROR_INVALID_ARGUMENT,
                       "step_labels(label == output_size)", model, before);
    labels[B * T - 1] = -1;
    check_refused_step(recur_trainer_step_labels(trainer, x, B, T, labels, &loss), RECUR_ERROR_INVALID_ARGUMENT,
                       "step_labels(label -1)", model, before);
    labels[B * T - 1] = 1;
    check_refused_step(recur_trainer_step_labels(trainer, x, B, T, NULL, &loss), RECUR_ERROR_INVALID_ARGUMENT,
                       "step_labels(NULL labels)", model, before);
    check_refused_step(recur_trainer_step_labels(trainer, x, 0, T, labels, &loss), RECUR_ERROR_INVALID_ARGUMENT,
                       "step_labels(batch 0)", model, before);
    check_refused_step(recur_trainer_step_labels(trainer, x, B, 0, labels, &loss), RECUR_ERROR_INVALID_ARGUMENT,
                       "step_labels(steps 0)", model, before);
    if (CHECK_OK(recur_trainer_step_labels(trainer, x, B, T, labels, &loss), "step_labels(valid labels)")) {
        /* Uniform logits would give log(3); a random head is somewhere near. */
        CHECK(loss > 0.0f && loss < 10.0f, "cross-entropy loss %.9g is implausible for 3 classes", (double)loss);
    }
    CHECK_OK(recur_trainer_step_labels(trainer, x, B, T, labels, NULL), "step_labels(out_loss NULL)");

    /* "targets": "last": one label per sequence. */
    last = make_trainer(model, "{\"loss\": \"cross_entropy\", \"targets\": \"last\"}",
                        "recur_trainer_create(cross_entropy, last)");
    if (last) {
        int32_t one_each[B] = {2, 0};
        CHECK_OK(recur_trainer_step_labels(last, x, B, T, one_each, &loss), "step_labels(targets last, [B] labels)");
        one_each[1] = 3;
        CHECK_STATUS(recur_trainer_step_labels(last, x, B, T, one_each, &loss), RECUR_ERROR_INVALID_ARGUMENT,
                     "step_labels(targets last, label 3 of 3 classes)");
    }
done:
    free(before);
    recur_trainer_free(trainer);
    recur_trainer_free(last);
    recur_model_free(model);
}

/* ------------------------------------------------------------------------ */
/* 4. Stateful training, frozen layers, determinism, from scratch            */
/* ------------------------------------------------------------------------ */

static void check_stateful(void)
{
    enum { B = 2, T = 5, I = 3, O = 2 };
    static const char config[] =
        "{\"loss\": \"mse\", \"stateful\": true, \"optimizer\": {\"type\": \"sgd\", \"learning_rate\": 0}}";
    float x[B * T * I], target[B * T * O], y1[B * T * O], y2[B * T * O];
    float loss1 = 0, loss2 = 0, loss = 0, plain2 = 0;
    double ref1, ref2;
    recur_model *model = load_model_text(LSTM_DENSE, "recur_model_load_json(LSTM_DENSE)");
    recur_trainer *trainer = NULL, *plain = NULL;
    recur_state *state = NULL;
    char *before = NULL, *after = NULL;

    g_case = "LSTM_DENSE";
    g_group = "stateful";
    fill_random(x, B * T * I, 10u, 1.5f);
    fill_random(target, B * T * O, 11u, 0.5f);
    if (!model) return;
    /* The references: one state over the input twice in a row. */
    if (!CHECK_OK(recur_state_create(model, B, &state), "recur_state_create") ||
        !CHECK_OK(recur_state_run(state, x, T, y1), "recur_state_run (first time)") ||
        !CHECK_OK(recur_state_run(state, x, T, y2), "recur_state_run (second time, continuing)"))
        goto done;
    ref1 = mse(y1, target, B * T * O);
    ref2 = mse(y2, target, B * T * O);
    CHECK(fabs(ref1 - ref2) > 1e-6 * ref1, "test setup: the carried state does not change the loss (%.9g, %.9g)",
          ref1, ref2);

    trainer = make_trainer(model, config, "recur_trainer_create(stateful, sgd lr 0)");
    if (!trainer || !(before = model_text(model))) goto done;
    if (!CHECK_OK(recur_trainer_step(trainer, x, B, T, target, &loss1), "stateful step 1")) goto done;
    check_relative("stateful step 1 loss vs mse of a run from zeros", (double)loss1, ref1, 1e-5);
    if (!CHECK_OK(recur_trainer_step(trainer, x, B, T, target, &loss2), "stateful step 2")) goto done;
    check_relative("stateful step 2 loss vs mse of the second run, state continuing", (double)loss2, ref2, 1e-5);

    /* A non-stateful trainer's second step starts from zeros again. */
    plain = make_trainer(model, "{\"optimizer\": {\"type\": \"sgd\", \"learning_rate\": 0}}",
                         "recur_trainer_create(not stateful, sgd lr 0)");
    if (plain && CHECK_OK(recur_trainer_step(plain, x, B, T, target, NULL), "non-stateful step 1") &&
        CHECK_OK(recur_trainer_step(plain, x, B, T, target, &plain2), "non-stateful step 2"))
        check_same_bits("non-stateful step 2 loss vs stateful step 1 loss", &plain2, &loss1, 1);

    /* Reset: from zeros again. */
    if (CHECK_OK(recur_trainer_reset_state(trainer), "recur_trainer_reset_state") &&
        CHECK_OK(recur_trainer_step(trainer, x, B, T, target, &loss), "stateful step after reset"))
        check_same_bits("loss after reset_state vs stateful step 1 loss", &loss, &loss1, 1);

    /* Another batch size while state is carried: SHAPE, and the carried
       state survives the refusal. */
    g_group = "stateful: batch size";
    CHECK_STATUS(recur_trainer_step(trainer, x, 1, T, target, &loss), RECUR_ERROR_SHAPE,
                 "stateful step with batch 1 while carrying batch 2");
    CHECK_STATUS(recur_trainer_step(trainer, x, B + 1, T, target, &loss), RECUR_ERROR_SHAPE,
                 "stateful step with batch 3 while carrying batch 2");
    if (CHECK_OK(recur_trainer_step(trainer, x, B, T, target, &loss), "stateful step with batch 2 after the refusals"))
        check_same_bits("loss after the refused batch sizes vs stateful step 2 (state kept)", &loss, &loss2, 1);
    if (CHECK_OK(recur_trainer_reset_state(trainer), "recur_trainer_reset_state") &&
        CHECK_OK(recur_trainer_step(trainer, x, 1, T, target, &loss), "stateful step with batch 1 after reset")) {
        double ref_b1 = mse(y1, target, T * O); /* stream 0 alone, from zeros */
        check_relative("batch-1 stateful step loss vs mse of stream 0 from zeros", (double)loss, ref_b1, 1e-5);
    }
    /* Steps with a different number of time steps are fine: state is per stream. */
    CHECK_OK(recur_trainer_step(trainer, x, 1, T - 2, target, NULL), "stateful step with fewer time steps");

    /* A trainer with learning rate 0 does not change the weights. */
    after = model_text(model);
    if (after) check_same_text("weights after stateful steps with learning rate 0", after, before);
done:
    free(before);
    free(after);
    recur_state_free(state);
    recur_trainer_free(trainer);
    recur_trainer_free(plain);
    recur_model_free(model);
}

/* Copies every tensor of a layer; returns the number of floats (0 on error). */
static size_t layer_tensors(const recur_model *model, size_t layer, int dense, float *out, size_t cap,
                            const recur_trainer *gradients_of)
{
    const char *const *names = dense ? DENSE_TENSORS : RECURRENT_TENSORS;
    size_t n_names = dense ? 2 : 4, i, used = 0;
    for (i = 0; i < n_names; i++) {
        size_t lo = 1, hi = cap - used, count = 0;
        /* The size, found by asking: get_tensor says SHAPE until count fits. */
        for (lo = 1; lo <= hi; lo++) {
            recur_status st = recur_model_get_tensor(model, layer, names[i], out + used, lo);
            if (st == RECUR_OK) {
                count = lo;
                break;
            }
            if (st != RECUR_ERROR_SHAPE) break;
        }
        if (count == 0) continue; /* absent tensor (e.g. a bias) */
        if (gradients_of) {
            char what[96];
            snprintf(what, sizeof what, "recur_trainer_get_gradient(layer %zu, %s)", layer, names[i]);
            if (!CHECK_OK(recur_trainer_get_gradient(gradients_of, layer, names[i], out + used, count), what))
                return 0;
        }
        used += count;
    }
    return used;
}

static void check_frozen(void)
{
    enum { B = 2, T = 6, I = 2, O = 2, CAP = 512 };
    float x[B * T * I], target[B * T * O];
    float *before0 = float_alloc(CAP), *after0 = float_alloc(CAP), *grad0 = float_alloc(CAP);
    float *before1 = float_alloc(CAP), *after1 = float_alloc(CAP), *grad1 = float_alloc(CAP);
    recur_model *model = load_model_text(THREE_LAYERS, "recur_model_load_json(THREE_LAYERS)");
    recur_trainer *trainer = NULL;
    size_t n0, n1, m0, m1, i, nonzero = 0;
    int k, ok = 1;

    g_case = "THREE_LAYERS";
    g_group = "frozen layers";
    fill_random(x, B * T * I, 12u, 1.0f);
    fill_random(target, B * T * O, 13u, 0.7f);
    if (!model) goto done;
    n0 = layer_tensors(model, 0, 0, before0, CAP, NULL);
    n1 = layer_tensors(model, 1, 0, before1, CAP, NULL);
    if (!CHECK(n0 == 3 * 2 + 3 * 3 + 3 + 3 && n1 == 12 * 3 + 12 * 4 + 12 + 12,
               "test setup: layer sizes %zu and %zu", n0, n1))
        goto done;
    trainer = make_trainer(model,
                           "{\"freeze\": [0], \"clip_gradient_norm\": 0.5,"
                           " \"optimizer\": {\"type\": \"adamw\", \"learning_rate\": 0.05, \"weight_decay\": 0.1}}",
                           "recur_trainer_create(freeze [0], adamw with weight decay)");
    if (!trainer) goto done;
    for (k = 0; ok && k < 3; k++) ok = CHECK_OK(recur_trainer_step(trainer, x, B, T, target, NULL), "trainer step");
    if (!ok) goto done;
    CHECK(recur_trainer_last_gradient_norm(trainer) > 0.0f, "gradient norm is %.9g with trainable layers",
          (double)recur_trainer_last_gradient_norm(trainer));
    m0 = layer_tensors(model, 0, 0, after0, CAP, NULL);
    m1 = layer_tensors(model, 1, 0, after1, CAP, NULL);
    if (CHECK(m0 == n0 && m1 == n1, "layer sizes changed")) {
        check_same_bits("frozen layer 0 after 3 steps (adamw, weight decay) vs before", after0, before0, n0);
        for (i = 0; i < n1; i++) nonzero += float_bits(after1[i]) != float_bits(before1[i]);
        CHECK(nonzero > 0, "trainable layer 1 did not change");
    }
    if (CHECK(layer_tensors(model, 0, 0, grad0, CAP, trainer) == n0, "reading layer 0's gradients"))
        check_all_zero("gradients of frozen layer 0", grad0, n0);
    if (CHECK(layer_tensors(model, 1, 0, grad1, CAP, trainer) == n1, "reading layer 1's gradients")) {
        for (i = 0, nonzero = 0; i < n1; i++) nonzero += grad1[i] != 0.0f;
        CHECK(nonzero > 0, "gradients of trainable layer 1 are all zero");
    }
done:
    recur_trainer_free(trainer);
    recur_model_free(model);
    free(before0);
    free(after0);
    free(grad0);
    free(before1);
    free(after1);
    free(grad1);
}

static void check_determinism(void)
{
    enum { B = 3, T = 5, I = 3, O = 2 };
    static const char config[] =
        "{\"clip_gradient_norm\": 1.0, \"optimizer\": {\"type\": \"adam\", \"learning_rate\": 0.02}}";
    float x[B * T * I], target[B * T * O], la = 0, lb = 0;
    recur_model *original = load_model_text(LSTM_DENSE, "recur_model_load_json(LSTM_DENSE)"), *a = NULL, *b = NULL;
    recur_trainer *ta = NULL, *tb = NULL;
    char *ja = NULL, *jb = NULL, *jo = NULL;
    int k, ok = 1;

    g_case = "LSTM_DENSE";
    g_group = "determinism";
    fill_random(x, B * T * I, 14u, 1.0f);
    fill_random(target, B * T * O, 15u, 0.5f);
    if (!original || !(a = clone_model(original)) || !(b = clone_model(original))) goto done;
    ta = make_trainer(a, config, "recur_trainer_create(clone a)");
    tb = make_trainer(b, config, "recur_trainer_create(clone b)");
    if (!ta || !tb) goto done;
    /* The trainers keep their models alive. */
    recur_model_free(a);
    recur_model_free(b);
    for (k = 0; ok && k < 3; k++) {
        ok = CHECK_OK(recur_trainer_step(ta, x, B, T, target, &la), "step (a)") &&
             CHECK_OK(recur_trainer_step(tb, x, B, T, target, &lb), "step (b)");
        if (ok) check_same_bits("losses of the two trainers", &la, &lb, 1);
    }
    if (ok && (ja = model_text(a)) && (jb = model_text(b))) {
        check_same_text("weights of the two clones after 3 steps", ja, jb);
        if ((jo = model_text(original))) CHECK(strcmp(ja, jo) != 0, "training a clone did not change it, or changed the original");
    }
    a = b = NULL; /* freed above; the trainers own the last references */
done:
    free(ja);
    free(jb);
    free(jo);
    recur_trainer_free(ta);
    recur_trainer_free(tb);
    recur_model_free(a);
    recur_model_free(b);
    recur_model_free(original);
}

/* A model document without weights, trained from its "init". */
static char *train_from_scratch(const char *doc, const float *x, const float *target, size_t batch, size_t steps,
                                float *first_loss, float *last_loss)
{
    recur_model *model = load_model_text(doc, "recur_model_load_json(model without weights, with init)");
    recur_trainer *trainer = NULL;
    char *json = NULL;
    int k, ok = 1;
    if (!model) return NULL;
    trainer = make_trainer(model, "{\"optimizer\": {\"type\": \"adam\", \"learning_rate\": 0.01}}",
                           "recur_trainer_create(from scratch)");
    for (k = 0; trainer && ok && k < 5; k++) {
        float loss = 0;
        ok = CHECK_OK(recur_trainer_step(trainer, x, batch, steps, target, &loss), "trainer step (from scratch)");
        if (k == 0) *first_loss = loss;
        *last_loss = loss;
    }
    if (trainer && ok) json = model_text(model);
    recur_trainer_free(trainer);
    recur_model_free(model);
    return json;
}

static void check_from_scratch(void)
{
    static const char doc[] =
        "{\"format\": \"recur\", \"version\": 1, \"input_size\": 2,"
        " \"init\": {\"seed\": 7, \"recurrent\": \"orthogonal\"},"
        " \"layers\": [{\"type\": \"lstm\", \"hidden_size\": 6}, {\"type\": \"gru\", \"hidden_size\": 5},"
        " {\"type\": \"dense\", \"units\": 1}]}";
    enum { B = 4, T = 8, I = 2, O = 1 };
    float x[B * T * I], target[B * T * O], first_a = 0, last_a = 0, first_b = 0, last_b = 0;
    char *a, *b, *initial = NULL;
    recur_model *m;
    size_t i;

    g_case = "from scratch";
    g_group = "training from init";
    fill_random(x, B * T * I, 16u, 1.0f);
    for (i = 0; i < B * T; i++) target[i] = 0.5f * x[2 * i] - 0.25f * x[2 * i + 1];
    if ((m = load_model_text(doc, "recur_model_load_json(init, no weights)")) != NULL) {
        initial = model_text(m);
        recur_model_free(m);
    }
    a = train_from_scratch(doc, x, target, B, T, &first_a, &last_a);
    b = train_from_scratch(doc, x, target, B, T, &first_b, &last_b);
    if (a && b) {
        check_same_text("to_json after 5 steps from scratch, twice", a, b);
        check_same_bits("first loss of the two runs", &first_a, &first_b, 1);
        CHECK(isfinite(last_a) && last_a < first_a, "5 adam steps did not lower the loss: %.9g -> %.9g",
              (double)first_a, (double)last_a);
        if (initial) CHECK(strcmp(a, initial) != 0, "training from scratch did not change the weights");
    }
    if (a) { /* the trained model saves and loads back */
        recur_model *trained = load_model_text(a, "recur_model_load_json(trained from scratch)");
        if (trained) {
            check_save_reload(trained);
            recur_model_free(trained);
        }
    }
    free(a);
    free(b);
    free(initial);
}

/* ------------------------------------------------------------------------ */

/* recur_trainer_target_count: the values a step takes, for each target mode
   and loss, and its refusals. */
static void check_target_count(void)
{
    struct { const char *config; size_t targets, labels; } expected[] = {
        {"{\"loss\": \"mse\"}", 5 * 7 * 3, 0},
        {"{\"loss\": \"mse\", \"targets\": \"last\"}", 5 * 3, 0},
        {"{\"loss\": \"cross_entropy\"}", 5 * 7 * 3, 5 * 7},
        {"{\"loss\": \"cross_entropy\", \"targets\": \"last\"}", 5 * 3, 5},
        {"{\"loss\": \"binary_cross_entropy\", \"targets\": \"last\"}", 5 * 3, 0},
    };
    recur_model *model = load_model_text(GRU_LOGITS, "recur_model_load_json(GRU_LOGITS)");
    size_t i;

    g_case = "GRU_LOGITS";
    g_group = "target count";
    if (!model) return;
    for (i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        recur_trainer *trainer = make_trainer(model, expected[i].config, expected[i].config);
        size_t targets = 99, labels = 99;
        if (!trainer) continue;
        CHECK(recur_trainer_target_count(trainer, 5, 7, &targets, &labels) == RECUR_OK &&
              targets == expected[i].targets && labels == expected[i].labels,
              "%s: B=5 T=7 takes %zu targets and %zu labels (expected %zu and %zu)", expected[i].config,
              targets, labels, expected[i].targets, expected[i].labels);
        CHECK(recur_trainer_target_count(trainer, 5, 7, NULL, &labels) == RECUR_OK, "NULL out_targets is allowed");
        targets = 99;
        CHECK(recur_trainer_target_count(trainer, 0, 7, &targets, NULL) == RECUR_ERROR_INVALID_ARGUMENT && targets == 99,
              "batch 0 is refused, out-pointer untouched");
        CHECK(recur_trainer_target_count(trainer, (size_t)1 << 40, (size_t)1 << 40, &targets, NULL) == RECUR_ERROR_SHAPE,
              "an overflowing batch x steps is refused as SHAPE");
        recur_trainer_free(trainer);
    }
    CHECK(recur_trainer_target_count(NULL, 1, 1, NULL, NULL) == RECUR_ERROR_INVALID_ARGUMENT, "NULL trainer is refused");
    recur_model_free(model);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s TESTDATA_DIR   (e.g. Tests/testdata)\n", argv[0]);
        return 2;
    }
    check_reference_cases(argv[1]);
    check_refused_configs();
    check_defaults();
    check_refused_steps();
    check_overflowing_loss();
    check_overflowing_update();
    check_label_steps();
    check_target_count();
    check_stateful();
    check_frozen();
    check_determinism();
    check_from_scratch();

    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed ? 1 : 0;
}
