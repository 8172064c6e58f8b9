/*
 * tsan_threads.c: threads over one model, for ThreadSanitizer (make test-tsan).
 *
 * What the header promises about threads, exercised at once:
 *  - 6 threads share one model, each with its own state (batch 1 to 6),
 *    stepping and running for a while; every output is bit-identical to a
 *    single-threaded run made beforehand;
 *  - two of those states split their streams over worker threads
 *    (recur_state_set_threads), so the library's own pool runs too;
 *  - meanwhile a trainer (2 worker threads) fine-tunes a clone of the model;
 *  - every thread also makes failing calls and checks that
 *    recur_last_error() is its own message;
 *  - the main thread drops its model reference while the states still run
 *    (a state keeps its model alive).
 * Prints "N passed, N failed"; exits 1 on a failed check.
 *
 * Build: cc -std=c99 -Iinclude Tests/c/tsan_threads.c -o tsan_threads -Lbuild/lib -lrecur -pthread
 * (make test-tsan builds it with -fsanitize=thread against a TSan library.)
 */
#define _POSIX_C_SOURCE 200809L

#include "recur.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { THREADS = 6, STEPS = 40, ROUNDS = 6, INPUT = 3 };

/* LSTM -> dense -> GRU -> dense softmax: every kind of layer; weights from init. */
static const char model_json[] =
    "{\"format\": \"recur\", \"version\": 1, \"input_size\": 3, \"init\": {\"seed\": 11},"
    " \"layers\": [{\"type\": \"lstm\", \"hidden_size\": 24}, {\"type\": \"dense\", \"units\": 10, \"activation\": \"tanh\"},"
    "              {\"type\": \"gru\", \"hidden_size\": 17}, {\"type\": \"rnn\", \"hidden_size\": 5},"
    "              {\"type\": \"dense\", \"units\": 4, \"activation\": \"softmax\"}]}";

static int g_failed = 0, g_passed = 0;
static pthread_mutex_t g_report = PTHREAD_MUTEX_INITIALIZER;

static void check(int ok, const char *what, int thread)
{
    pthread_mutex_lock(&g_report);
    if (ok) {
        g_passed++;
    } else {
        g_failed++;
        printf("FAIL (thread %d): %s\n", thread, what);
    }
    pthread_mutex_unlock(&g_report);
}

static float input_value(size_t stream, size_t step, size_t feature)
{
    uint32_t v = (uint32_t)(stream * 7919u + step * 104729u + feature * 15485863u);
    v ^= v >> 13;
    v *= 0x5bd1e995u;
    v ^= v >> 15;
    return (float)(v % 2001u) / 1000.0f - 1.0f;
}

typedef struct {
    int index;
    const recur_model *model;
    size_t batch;
    size_t workers;          /* recur_state_set_threads */
    const float *x;          /* [batch][STEPS][INPUT] */
    const float *expected;   /* [batch][STEPS][output] */
    size_t output;
    pthread_barrier_t *start;
} job;

/* The last error must be this thread's own message. */
static void check_own_error(int index)
{
    char path[64];
    recur_model *m = NULL;
    snprintf(path, sizeof path, "/nonexistent-recur-tsan/%d.json", index);
    check(recur_model_load_file(path, &m) == RECUR_ERROR_IO, "load of a missing file is not RECUR_ERROR_IO", index);
    check(strstr(recur_last_error(), path) != NULL, "recur_last_error() is not this thread's message", index);
}

static void *inference(void *arg)
{
    job *j = (job *)arg;
    recur_state *s = NULL;
    size_t n = j->batch * STEPS * j->output, b, t;
    float *y = malloc(n * sizeof *y), *x1 = malloc(j->batch * INPUT * sizeof *x1), *y1 = malloc(j->batch * j->output * sizeof *y1);
    int round;

    /* The state is made before the barrier: after it, the main thread
     * drops its reference to the model. */
    if (!y || !x1 || !y1 || recur_state_create(j->model, j->batch, &s) != RECUR_OK) {
        check(0, "out of memory or recur_state_create failed", j->index);
        recur_state_free(s);
        s = NULL;
    }
    pthread_barrier_wait(j->start);
    if (!s) goto done;
    if (j->workers > 1) check(recur_state_set_threads(s, j->workers) == RECUR_OK, "recur_state_set_threads", j->index);
    for (round = 0; round < ROUNDS; round++) {
        check_own_error(j->index);
        /* Whole sequences with recur_state_run ... */
        check(recur_state_reset(s) == RECUR_OK, "recur_state_reset", j->index);
        check(recur_state_run(s, j->x, STEPS, y) == RECUR_OK, "recur_state_run", j->index);
        check(memcmp(y, j->expected, n * sizeof *y) == 0, "recur_state_run: outputs differ from the single-threaded run", j->index);
        /* ... and step by step. */
        check(recur_state_reset(s) == RECUR_OK, "recur_state_reset", j->index);
        for (t = 0; t < STEPS; t++) {
            for (b = 0; b < j->batch; b++) memcpy(&x1[b * INPUT], &j->x[(b * STEPS + t) * INPUT], INPUT * sizeof *x1);
            if (recur_state_step(s, x1, y1) != RECUR_OK) {
                check(0, "recur_state_step failed", j->index);
                break;
            }
            for (b = 0; b < j->batch; b++) {
                if (memcmp(&y1[b * j->output], &j->expected[(b * STEPS + t) * j->output], j->output * sizeof *y1) != 0) {
                    check(0, "recur_state_step: outputs differ from the single-threaded run", j->index);
                    t = STEPS;
                    break;
                }
            }
        }
    }
done:
    recur_state_free(s);
    free(y);
    free(x1);
    free(y1);
    return NULL;
}

typedef struct {
    recur_model *model; /* a clone: the trainer changes it */
    pthread_barrier_t *start;
} train_job;

static void *training(void *arg)
{
    train_job *j = (train_job *)arg;
    recur_trainer *trainer = NULL;
    enum { B = 4, T = 12 };
    float x[B * T * INPUT];
    int32_t labels[B * T];
    float first = 0, loss = 0;
    size_t i;
    int step;

    for (i = 0; i < B * T * INPUT; i++) x[i] = input_value(i / (T * INPUT), i / INPUT % T, i % INPUT);
    for (i = 0; i < B * T; i++) labels[i] = (int32_t)(i % 4);
    if (recur_trainer_create(j->model, "{\"loss\": \"cross_entropy\", \"optimizer\": {\"type\": \"adam\", \"learning_rate\": 0.01}}",
                             &trainer) != RECUR_OK) {
        check(0, "recur_trainer_create failed", -1);
    }
    pthread_barrier_wait(j->start);
    if (!trainer) return NULL;
    check(recur_trainer_set_threads(trainer, 2) == RECUR_OK, "recur_trainer_set_threads", -1);
    for (step = 0; step < 20; step++) {
        if (recur_trainer_step_labels(trainer, x, B, T, labels, &loss) != RECUR_OK) {
            check(0, "recur_trainer_step_labels failed", -1);
            break;
        }
        if (step == 0) first = loss;
        check_own_error(100);
    }
    check(loss < first, "the trainer's loss did not go down", -1);
    recur_trainer_free(trainer);
    return NULL;
}

int main(void)
{
    recur_model *model = NULL, *clone = NULL;
    job jobs[THREADS];
    train_job trainer_job;
    pthread_t threads[THREADS], trainer_thread;
    pthread_barrier_t start;
    float *inputs[THREADS], *expected[THREADS];
    size_t output, i, k;
    int started[THREADS], trainer_started;

    if (recur_model_load_json(model_json, strlen(model_json), &model) != RECUR_OK ||
        recur_model_clone(model, &clone) != RECUR_OK) {
        printf("FAIL: the model does not load: %s\n", recur_last_error());
        return 1;
    }
    output = recur_model_output_size(model);

    /* The expected outputs, computed on this thread alone. */
    for (i = 0; i < THREADS; i++) {
        size_t batch = i + 1;
        recur_state *s = NULL;
        inputs[i] = malloc(batch * STEPS * INPUT * sizeof(float));
        expected[i] = malloc(batch * STEPS * output * sizeof(float));
        if (!inputs[i] || !expected[i]) return 2;
        for (k = 0; k < batch * STEPS * INPUT; k++) inputs[i][k] = input_value(k / (STEPS * INPUT) + 10 * i, k / INPUT % STEPS, k % INPUT);
        if (recur_state_create(model, batch, &s) != RECUR_OK || recur_state_run(s, inputs[i], STEPS, expected[i]) != RECUR_OK) {
            printf("FAIL: single-threaded run: %s\n", recur_last_error());
            return 1;
        }
        recur_state_free(s);
    }

    pthread_barrier_init(&start, NULL, THREADS + 2);
    for (i = 0; i < THREADS; i++) {
        jobs[i] = (job){(int)i, model, i + 1, (i == 3 || i == 5) ? 2 : 1, inputs[i], expected[i], output, &start};
        started[i] = pthread_create(&threads[i], NULL, inference, &jobs[i]) == 0;
        if (!started[i]) return 2;
    }
    trainer_job = (train_job){clone, &start};
    trainer_started = pthread_create(&trainer_thread, NULL, training, &trainer_job) == 0;
    if (!trainer_started) return 2;
    pthread_barrier_wait(&start);
    /* The states keep the model alive; the trainer keeps the clone alive. */
    recur_model_free(model);
    recur_model_free(clone);
    check_own_error(-2);

    for (i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
    pthread_join(trainer_thread, NULL);
    pthread_barrier_destroy(&start);
    for (i = 0; i < THREADS; i++) {
        free(inputs[i]);
        free(expected[i]);
    }
    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}
