/* bench.c: Recur's workloads (benchmarks.md) through the public C API of the
 * release library. For each: warm-up, then many timed repetitions; prints the
 * median time per call, the spread (10th-90th percentile), the time per step
 * per stream and GFLOP/s. With --json, one JSON object per line instead (for
 * benchmarks/compare.py).
 *
 *   bench [--json] [--only ID[,ID...]] [--threads N] [--quick]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
#include "recur.h"

static int json_output = 0;
static int quick = 0;
static size_t threads = 1;
static const char *only = NULL;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void fail(const char *what, recur_status status)
{
    fprintf(stderr, "bench: %s: %s (%s)\n", what, recur_status_string(status), recur_last_error());
    exit(1);
}

static int selected(const char *id)
{
    if (!only) return 1;
    const char *p = only;
    size_t n = strlen(id);
    while (*p) {
        if (strncmp(p, id, n) == 0 && (p[n] == ',' || p[n] == 0)) return 1;
        p = strchr(p, ',');
        if (!p) break;
        p++;
    }
    return 0;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* A model document with random weights from `init` (fixed seed). */
static recur_model *make_model(const char *layers, size_t input)
{
    char text[1024];
    snprintf(text, sizeof text,
             "{\"format\": \"recur\", \"version\": 1, \"input_size\": %zu, \"init\": {\"seed\": 1}, \"layers\": [%s]}",
             input, layers);
    recur_model *model = NULL;
    recur_status status = recur_model_load_json(text, strlen(text), &model);
    if (status != RECUR_OK) fail("load", status);
    /* Through the JSON text, as a shipped model would arrive. */
    char *json = NULL;
    size_t length = 0;
    if ((status = recur_model_to_json(model, &json, &length)) != RECUR_OK) fail("to_json", status);
    recur_model_free(model);
    model = NULL;
    if ((status = recur_model_load_json(json, length, &model)) != RECUR_OK) fail("reload", status);
    recur_string_free(json);
    return model;
}

static float *random_floats(size_t count, unsigned seed)
{
    float *values = malloc(count * sizeof *values);
    if (!values) { fprintf(stderr, "bench: out of memory\n"); exit(1); }
    for (size_t i = 0; i < count; i++) {
        seed = seed * 1664525u + 1013904223u;
        values[i] = (float)((seed >> 8) & 0xFFFF) / 65536.0f * 2.0f - 1.0f;
    }
    return values;
}

/* Times `call(context)`: repetitions sized to ~`budget` seconds. */
typedef void (*workload_fn)(void *context);

static void report(const char *id, const char *what, double *samples, int count, double per_call_divisor,
                   double flops)
{
    qsort(samples, (size_t)count, sizeof *samples, compare_doubles);
    double median = samples[count / 2], low = samples[count / 10], high = samples[(count * 9) / 10];
    double per_step = median / per_call_divisor;
    double gflops = flops > 0 ? flops / median : 0;
    if (json_output) {
        printf("{\"id\": \"%s\", \"what\": \"%s\", \"median_ns\": %.1f, \"p10_ns\": %.1f, \"p90_ns\": %.1f, "
               "\"ns_per_step_stream\": %.2f, \"gflops\": %.2f, \"threads\": %zu}\n",
               id, what, median, low, high, per_step, gflops, threads);
    } else {
        printf("%-4s %-44s median %12.1f ns  [%.1f .. %.1f]  %9.2f ns/step/stream  %6.2f GFLOP/s\n",
               id, what, median, low, high, per_step, gflops);
    }
    fflush(stdout);
}

static void time_workload(const char *id, const char *what, workload_fn call, void *context,
                          double per_call_divisor, double flops)
{
    /* Warm up, and size a batch of calls to ~2 ms. */
    double start = now_ns();
    int warm = 0;
    while (now_ns() - start < (quick ? 2e7 : 2e8) || warm < 3) { call(context); warm++; }
    double one = (now_ns() - start) / warm;
    int inner = one > 2e6 ? 1 : (int)(2e6 / one);
    int samples_count = quick ? 15 : (one > 5e6 ? 31 : 101);
    double *samples = malloc((size_t)samples_count * sizeof *samples);
    for (int s = 0; s < samples_count; s++) {
        double t0 = now_ns();
        for (int i = 0; i < inner; i++) call(context);
        samples[s] = (now_ns() - t0) / inner;
    }
    report(id, what, samples, samples_count, per_call_divisor, flops);
    free(samples);
}

/* ---- Inference: step (T = 1) or run (T steps) ---------------------------- */

struct inference {
    recur_state *state;
    float *x, *y;
    size_t steps;
};

static void inference_call(void *context)
{
    struct inference *w = context;
    recur_status status = w->steps == 1 ? recur_state_step(w->state, w->x, w->y)
                                        : recur_state_run(w->state, w->x, w->steps, w->y);
    if (status != RECUR_OK) fail("step", status);
}

static void inference_workload(const char *id, const char *what, const char *layers, size_t input,
                               size_t batch, size_t steps, double flops_per_step_stream)
{
    if (!selected(id)) return;
    recur_model *model = make_model(layers, input);
    struct inference w;
    recur_status status;
    /* IDs ending in 'h' (S1h, S2h): the same model with fp16 weight storage. */
    if (id[strlen(id) - 1] == 'h' && (status = recur_model_set_weight_storage(model, RECUR_WEIGHTS_FP16)) != RECUR_OK)
        fail("fp16", status);
    /* IDs ending in 'q' (S1q, S2q): int8 weight storage. */
    if (id[strlen(id) - 1] == 'q' && (status = recur_model_set_weight_storage(model, RECUR_WEIGHTS_INT8)) != RECUR_OK)
        fail("int8", status);
    status = recur_state_create(model, batch, &w.state);
    if (status != RECUR_OK) fail("state", status);
    if (threads > 1 && (status = recur_state_set_threads(w.state, threads)) != RECUR_OK) fail("threads", status);
    w.steps = steps;
    w.x = random_floats(batch * steps * input, 7);
    w.y = malloc(batch * steps * recur_model_output_size(model) * sizeof(float));
    time_workload(id, what, inference_call, &w, (double)(batch * steps), flops_per_step_stream * (double)(batch * steps));
    recur_state_free(w.state);
    recur_model_free(model);
    free(w.x);
    free(w.y);
}

/* ---- Streams of different lengths (QL) ------------------------------------- */

struct lengths_run {
    recur_state *state; /* batch B, or batch 1 for "each alone" */
    float *x, *y;
    size_t batch, steps, input;
    size_t *lengths;
};

/* QL: one recur_state_run_lengths over the whole batch. */
static void lengths_batch_call(void *context)
{
    struct lengths_run *w = context;
    recur_status status = recur_state_run_lengths(w->state, w->x, w->steps, w->lengths, w->y);
    if (status != RECUR_OK) fail("run_lengths", status);
}

/* QLa: each stream alone for its own length, one after the other. */
static void lengths_alone_call(void *context)
{
    struct lengths_run *w = context;
    for (size_t b = 0; b < w->batch; b++) {
        recur_status status = recur_state_reset(w->state);
        if (status == RECUR_OK)
            status = recur_state_run(w->state, w->x + b * w->steps * w->input, w->lengths[b], w->y);
        if (status != RECUR_OK) fail("run alone", status);
    }
}

static void lengths_workload(const char *id, const char *what, int alone)
{
    if (!selected(id)) return;
    const size_t batch = 32, steps = 128, input = 64;
    recur_model *model = make_model("{\"type\": \"lstm\", \"hidden_size\": 256}, {\"type\": \"dense\", \"units\": 16}", input);
    struct lengths_run w = {NULL, NULL, NULL, batch, steps, input, NULL};
    recur_status status = recur_state_create(model, alone ? 1 : batch, &w.state);
    if (status != RECUR_OK) fail("state", status);
    w.x = random_floats(batch * steps * input, 7);
    w.y = malloc(batch * steps * 16 * sizeof(float));
    w.lengths = malloc(batch * sizeof *w.lengths);
    unsigned seed = 11;
    size_t total = 0;
    for (size_t b = 0; b < batch; b++) { /* uniform in 1..128, fixed seed */
        seed = seed * 1664525u + 1013904223u;
        w.lengths[b] = 1 + (seed >> 8) % steps;
        total += w.lengths[b];
    }
    time_workload(id, what, alone ? lengths_alone_call : lengths_batch_call, &w, (double)total,
                  2.0 * (4 * 256 * (64 + 256) + 16 * 256) * (double)total);
    recur_state_free(w.state);
    recur_model_free(model);
    free(w.x);
    free(w.y);
    free(w.lengths);
}

/* ---- Training ------------------------------------------------------------ */

struct training {
    recur_trainer *trainer;
    float *x, *target;
    int32_t *labels;
    size_t batch, steps;
};

static void training_call(void *context)
{
    struct training *w = context;
    float loss;
    recur_status status = w->labels
        ? recur_trainer_step_labels(w->trainer, w->x, w->batch, w->steps, w->labels, &loss)
        : recur_trainer_step(w->trainer, w->x, w->batch, w->steps, w->target, &loss);
    if (status != RECUR_OK) fail("trainer step", status);
}

static void training_workload(const char *id, const char *what, const char *layers, size_t input,
                              const char *config, size_t batch, size_t steps, int labels,
                              double flops_per_step_stream)
{
    if (!selected(id)) return;
    recur_model *model = make_model(layers, input);
    struct training w = {0};
    recur_status status = recur_trainer_create(model, config, &w.trainer);
    if (status != RECUR_OK) fail("trainer", status);
    if (threads > 1 && (status = recur_trainer_set_threads(w.trainer, threads)) != RECUR_OK) fail("threads", status);
    size_t outputs = recur_model_output_size(model);
    w.batch = batch;
    w.steps = steps;
    w.x = random_floats(batch * steps * input, 11);
    if (labels) {
        w.labels = malloc(batch * steps * sizeof *w.labels);
        for (size_t i = 0; i < batch * steps; i++) w.labels[i] = (int32_t)(i * 7 % outputs);
    } else {
        w.target = random_floats(batch * steps * outputs, 13);
    }
    time_workload(id, what, training_call, &w, (double)(batch * steps), 3 * flops_per_step_stream * (double)(batch * steps));
    recur_trainer_free(w.trainer);
    recur_model_free(model);
    free(w.x);
    free(w.target);
    free(w.labels);
}

/* ---- L1: loading a 13.6M-parameter model --------------------------------- */

static char *self_path = NULL;

/* --load-one PATH: load a model, print "elapsed_ns peak_rss_kb". */
static int load_one(const char *path)
{
    recur_model *loaded = NULL;
    double t0 = now_ns();
    recur_status status = recur_model_load_file(path, &loaded);
    double elapsed = now_ns() - t0;
    if (status != RECUR_OK) { fprintf(stderr, "load: %s\n", recur_last_error()); return 1; }
    /* VmHWM: this process's peak (ru_maxrss would carry the parent's over exec). */
    long peak_kb = 0;
    char line[256];
    FILE *status_file = fopen("/proc/self/status", "r");
    while (status_file && fgets(line, sizeof line, status_file))
        if (strncmp(line, "VmHWM:", 6) == 0) peak_kb = atol(line + 6);
    if (status_file) fclose(status_file);
    printf("%.0f %ld\n", elapsed, peak_kb);
    recur_model_free(loaded);
    return 0;
}

static void load_workload(void)
{
    if (!selected("L1")) return;
    recur_model *model = make_model("{\"type\": \"lstm\", \"hidden_size\": 1024}, {\"type\": \"lstm\", \"hidden_size\": 1024}", 256);
    const char *paths[2] = {"/tmp/recur_bench_L1_flat.json", "/tmp/recur_bench_L1_base64.json"};
    recur_tensor_encoding encodings[2] = {RECUR_TENSORS_FLAT, RECUR_TENSORS_BASE64};
    for (int form = 0; form < 2; form++) {
        recur_status status = recur_model_save_file_encoded(model, paths[form], encodings[form]);
        if (status != RECUR_OK) fail("save L1", status);
        FILE *file = fopen(paths[form], "rb");
        fseek(file, 0, SEEK_END);
        long bytes = ftell(file);
        fclose(file);
        /* Each load in a fresh process (this program with --load-one), so
           that its peak memory is its own. */
        int runs = quick ? 1 : 3;
        double best = 1e300;
        long peak_kb = 0;
        for (int run = 0; run < runs; run++) {
            int pipefd[2];
            if (pipe(pipefd) != 0) { perror("pipe"); exit(1); }
            posix_spawn_file_actions_t actions;
            posix_spawn_file_actions_init(&actions);
            posix_spawn_file_actions_adddup2(&actions, pipefd[1], 1);
            posix_spawn_file_actions_addclose(&actions, pipefd[0]);
            char *args[] = {self_path, "--load-one", (char *)paths[form], NULL};
            pid_t child;
            if (posix_spawn(&child, self_path, &actions, NULL, args, environ) != 0) { perror("spawn"); exit(1); }
            posix_spawn_file_actions_destroy(&actions);
            close(pipefd[1]);
            char line[128] = {0};
            ssize_t got = read(pipefd[0], line, sizeof line - 1);
            close(pipefd[0]);
            int child_status = 0;
            waitpid(child, &child_status, 0);
            double elapsed = -1;
            long rss = 0;
            if (got <= 0 || sscanf(line, "%lf %ld", &elapsed, &rss) != 2 || elapsed < 0) {
                fprintf(stderr, "bench: L1 load failed\n");
                exit(1);
            }
            if (elapsed < best) best = elapsed;
            if (rss > peak_kb) peak_kb = rss;
        }
        const char *what = form == 0 ? "load 13.6M params, flat JSON" : "load 13.6M params, base64 JSON";
        if (json_output) {
            printf("{\"id\": \"L1\", \"form\": \"%s\", \"what\": \"%s\", \"median_ns\": %.1f, \"file_bytes\": %ld, \"peak_rss_kb\": %ld}\n",
                   form == 0 ? "flat" : "base64", what, best, bytes, peak_kb);
        } else {
            printf("L1   %-44s %8.3f s  file %6.1f MB  peak RSS %6.1f MB (%.2fx file)\n", what, best / 1e9,
                   bytes / 1e6, peak_kb / 1e3, peak_kb * 1e3 / bytes);
        }
        fflush(stdout);
    }
    recur_model_free(model);
}

int main(int argc, char **argv)
{
    self_path = argv[0];
    if (argc == 3 && strcmp(argv[1], "--load-one") == 0) return load_one(argv[2]);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) json_output = 1;
        else if (strcmp(argv[i], "--quick") == 0) quick = 1;
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = (size_t)atoi(argv[++i]);
        else { fprintf(stderr, "usage: bench [--json] [--quick] [--only ID,...] [--threads N]\n"); return 2; }
    }
    if (!json_output) printf("Recur %s, kernels: %s, threads: %zu\n", recur_version_string(), recur_cpu_kernels(), threads);

    /* FLOPs: 2 per multiply-add of the matrix products (benchmarks.md). */
    inference_workload("S1", "LSTM 16->64, dense 4; B=1, step", "{\"type\": \"lstm\", \"hidden_size\": 64}, {\"type\": \"dense\", \"units\": 4}",
                       16, 1, 1, 2.0 * (4 * 64 * (16 + 64) + 4 * 64));
    inference_workload("S1h", "LSTM 16->64, dense 4; B=1, step; fp16 weights", "{\"type\": \"lstm\", \"hidden_size\": 64}, {\"type\": \"dense\", \"units\": 4}",
                       16, 1, 1, 2.0 * (4 * 64 * (16 + 64) + 4 * 64));
    inference_workload("S1g", "GRU 16->64, dense 4; B=1, step", "{\"type\": \"gru\", \"hidden_size\": 64}, {\"type\": \"dense\", \"units\": 4}",
                       16, 1, 1, 2.0 * (3 * 64 * (16 + 64) + 4 * 64));
    inference_workload("S1r", "RNN 16->64, dense 4; B=1, step", "{\"type\": \"rnn\", \"hidden_size\": 64}, {\"type\": \"dense\", \"units\": 4}",
                       16, 1, 1, 2.0 * (64 * (16 + 64) + 4 * 64));
    inference_workload("S2", "LSTM 64->256, dense 16; B=1, step", "{\"type\": \"lstm\", \"hidden_size\": 256}, {\"type\": \"dense\", \"units\": 16}",
                       64, 1, 1, 2.0 * (4 * 256 * (64 + 256) + 16 * 256));
    inference_workload("S2h", "LSTM 64->256, dense 16; B=1, step; fp16 weights", "{\"type\": \"lstm\", \"hidden_size\": 256}, {\"type\": \"dense\", \"units\": 16}",
                       64, 1, 1, 2.0 * (4 * 256 * (64 + 256) + 16 * 256));
    inference_workload("S1q", "LSTM 16->64, dense 4; B=1, step; int8 weights", "{\"type\": \"lstm\", \"hidden_size\": 64}, {\"type\": \"dense\", \"units\": 4}",
                       16, 1, 1, 2.0 * (4 * 64 * (16 + 64) + 4 * 64));
    inference_workload("S2q", "LSTM 64->256, dense 16; B=1, step; int8 weights", "{\"type\": \"lstm\", \"hidden_size\": 256}, {\"type\": \"dense\", \"units\": 16}",
                       64, 1, 1, 2.0 * (4 * 256 * (64 + 256) + 16 * 256));
    inference_workload("S3", "LSTM 32->128, dense 8; B=256, step", "{\"type\": \"lstm\", \"hidden_size\": 128}, {\"type\": \"dense\", \"units\": 8}",
                       32, 256, 1, 2.0 * (4 * 128 * (32 + 128) + 8 * 128));
    inference_workload("Q1", "LSTM 64->256->256, dense 16; B=32, T=128",
                       "{\"type\": \"lstm\", \"hidden_size\": 256}, {\"type\": \"lstm\", \"hidden_size\": 256}, {\"type\": \"dense\", \"units\": 16}",
                       64, 32, 128, 2.0 * (4 * 256 * (64 + 256) + 4 * 256 * (256 + 256) + 16 * 256));
    inference_workload("Q2", "GRU 8->32, dense 1; B=1, T=1000", "{\"type\": \"gru\", \"hidden_size\": 32}, {\"type\": \"dense\", \"units\": 1}",
                       8, 1, 1000, 2.0 * (3 * 32 * (8 + 32) + 32));
    /* A bidirectional layer costs about twice the forward one (QB vs QF). */
    inference_workload("QF", "LSTM 64->256, dense 16; B=32, T=128", "{\"type\": \"lstm\", \"hidden_size\": 256}, {\"type\": \"dense\", \"units\": 16}",
                       64, 32, 128, 2.0 * (4 * 256 * (64 + 256) + 16 * 256));
    inference_workload("QB", "bidirectional LSTM 64->256, dense 16; B=32, T=128",
                       "{\"type\": \"lstm\", \"hidden_size\": 256, \"direction\": \"bidirectional\"}, {\"type\": \"dense\", \"units\": 16}",
                       64, 32, 128, 2.0 * (2 * 4 * 256 * (64 + 256) + 16 * 512));
    lengths_workload("QL", "LSTM 64->256, dense 16; B=32, lengths 1..128", 0);
    lengths_workload("QLa", "the same, each stream alone, summed", 1);
    training_workload("T1", "LSTM 32->128, dense 8; MSE, Adam; B=32, T=64",
                      "{\"type\": \"lstm\", \"hidden_size\": 128}, {\"type\": \"dense\", \"units\": 8}", 32,
                      "{\"loss\": \"mse\", \"optimizer\": {\"type\": \"adam\", \"learning_rate\": 0.001}}", 32, 64, 0,
                      2.0 * (4 * 128 * (32 + 128) + 8 * 128));
    training_workload("T2", "GRU 16->64, dense 16; CE labels, SGD; B=16, T=100",
                      "{\"type\": \"gru\", \"hidden_size\": 64}, {\"type\": \"dense\", \"units\": 16}", 16,
                      "{\"loss\": \"cross_entropy\", \"optimizer\": {\"type\": \"sgd\", \"learning_rate\": 0.01}}", 16, 100, 1,
                      2.0 * (3 * 64 * (16 + 64) + 16 * 64));
    load_workload();
    return 0;
}
