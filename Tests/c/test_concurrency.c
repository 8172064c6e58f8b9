/* test_concurrency.c: one model shared by 8 threads, a trainer beside them.
 *
 * For each of two reference-case models (Tests/testdata):
 *  1. single-threaded, for each of 8 input sequences (different per thread:
 *     BATCH streams x STEPS steps, from a seeded generator) the outputs of
 *     recur_state_step, one step at a time: the reference;
 *  2. then 8 threads at once share that one model, each creating its own
 *     state and running its own sequence (by step, by run in chunks of varying
 *     length, or by step with recur_state_set_threads(2)), while a ninth thread
 *     fine-tunes a clone of the model (recur_trainer_step in a loop until the 8
 *     are done);
 *  3. checks: every thread's outputs are bit-identical to its single-threaded
 *     reference; the shared model's weights are unchanged (its base64 JSON,
 *     exact float bits, is the same before and after) and it still gives the
 *     reference outputs; the clone trained concurrently ends bit-identical to
 *     a clone trained alone for the same number of steps, and its loss fell.
 *
 * Usage (from the project root): test_concurrency [TESTDATA_DIR [STEPS]]
 * (defaults Tests/testdata and 10000). Prints "N passed, M failed".
 */
#define _POSIX_C_SOURCE 200809L

#include "recur.h"

#include <json-c/json.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { THREADS = 8, BATCH = 3, TRAIN_BATCH = 4, TRAIN_STEPS = 12, MAX_TRAINER_STEPS = 1000000 };

static int passed, failed;

static void check(int ok, const char *what, const char *detail)
{
    if (ok) {
        passed++;
        printf("ok: %s\n", what);
    } else {
        failed++;
        printf("FAIL: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    }
}

/* Deterministic inputs in [-2, 2): a 64-bit LCG, the top bits as the value. */
static float next_value(uint64_t *seed)
{
    *seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((double)(*seed >> 40) / (double)(1ULL << 24) * 4.0 - 2.0);
}

static void fill(float *values, size_t count, uint64_t seed)
{
    size_t i;
    for (i = 0; i < count; i++) values[i] = next_value(&seed);
}

/* The model's JSON as base64 (exact float bits): equal texts, equal weights. */
static char *weights_text(const recur_model *model)
{
    char *text = NULL;
    if (recur_model_to_json_encoded(model, RECUR_TENSORS_BASE64, &text, NULL) != RECUR_OK) {
        printf("recur_model_to_json_encoded: %s\n", recur_last_error());
        return NULL;
    }
    return text;
}

/* ---- inference threads ------------------------------------------------------ */

typedef struct {
    const recur_model *model; /* shared by every thread */
    int index;
    size_t steps, input_size, output_size;
    const float *x; /* [BATCH][steps][input_size] */
    float *y;       /* [BATCH][steps][output_size] */
    pthread_barrier_t *start;
    char error[256];
} inference_job;

/* One step of every stream: gathers x[.][t] and scatters y[.][t]. */
static recur_status step_at(recur_state *state, const inference_job *job, size_t t, float *x_step, float *y_step)
{
    size_t b;
    recur_status status;
    for (b = 0; b < BATCH; b++)
        memcpy(x_step + b * job->input_size, job->x + (b * job->steps + t) * job->input_size,
               job->input_size * sizeof(float));
    status = recur_state_step(state, x_step, y_step);
    for (b = 0; b < BATCH && status == RECUR_OK; b++)
        memcpy(job->y + (b * job->steps + t) * job->output_size, y_step + b * job->output_size,
               job->output_size * sizeof(float));
    return status;
}

/* mode 0: step; 1: run in chunks of 1..13 steps; 2: step with 2 worker threads;
   3: run in chunks of 64 steps. Each gives the same floats as mode 0. */
static int run_sequence(inference_job *job, int mode)
{
    recur_state *state = NULL;
    float *x_step = malloc(BATCH * job->input_size * sizeof(float));
    float *y_step = malloc(BATCH * job->output_size * sizeof(float));
    float *x_chunk = malloc(BATCH * 64 * job->input_size * sizeof(float));
    float *y_chunk = malloc(BATCH * 64 * job->output_size * sizeof(float));
    recur_status status = RECUR_ERROR_OUT_OF_MEMORY;
    size_t t = 0, b, chunk = 0;

    if (!x_step || !y_step || !x_chunk || !y_chunk) goto done;
    status = recur_state_create(job->model, BATCH, &state);
    if (status == RECUR_OK && mode == 2) status = recur_state_set_threads(state, 2);
    while (status == RECUR_OK && t < job->steps) {
        if (mode == 0 || mode == 2) {
            status = step_at(state, job, t, x_step, y_step);
            t++;
            continue;
        }
        chunk = mode == 1 ? 1 + (t * 7 + (size_t)job->index) % 13 : 64;
        if (chunk > job->steps - t) chunk = job->steps - t;
        for (b = 0; b < BATCH; b++)
            memcpy(x_chunk + b * chunk * job->input_size, job->x + (b * job->steps + t) * job->input_size,
                   chunk * job->input_size * sizeof(float));
        status = recur_state_run(state, x_chunk, chunk, y_chunk);
        for (b = 0; b < BATCH && status == RECUR_OK; b++)
            memcpy(job->y + (b * job->steps + t) * job->output_size, y_chunk + b * chunk * job->output_size,
                   chunk * job->output_size * sizeof(float));
        t += chunk;
    }
done:
    if (status != RECUR_OK)
        snprintf(job->error, sizeof job->error, "thread %d (mode %d) at step %zu: %s: %s", job->index, mode, t,
                 recur_status_string(status), recur_last_error());
    recur_state_free(state);
    free(x_step);
    free(y_step);
    free(x_chunk);
    free(y_chunk);
    return status == RECUR_OK;
}

static void *inference_thread(void *argument)
{
    inference_job *job = argument;
    pthread_barrier_wait(job->start);
    run_sequence(job, job->index % 4);
    return NULL;
}

/* ---- trainer thread ----------------------------------------------------------- */

typedef struct {
    recur_model *model; /* a clone: the trainer changes it in place */
    const float *x, *target;
    pthread_mutex_t *lock;
    const int *inference_done; /* read under lock */
    pthread_barrier_t *start;  /* NULL: no waiting (the single-threaded replay) */
    long limit;                /* < 0: until inference_done, else exactly this many steps */
    long steps_done;
    float first_loss, last_loss;
    char error[256];
} trainer_job;

static const char *TRAINER_CONFIG =
    "{\"loss\": \"mse\", \"optimizer\": {\"type\": \"adam\", \"learning_rate\": 0.01, \"epsilon\": 0.0001}}";

static void *trainer_thread(void *argument)
{
    trainer_job *job = argument;
    recur_trainer *trainer = NULL;
    recur_status status = recur_trainer_create(job->model, TRAINER_CONFIG, &trainer);
    int done = 0;
    float loss = 0;

    if (job->start) pthread_barrier_wait(job->start);
    while (status == RECUR_OK && job->steps_done < MAX_TRAINER_STEPS) {
        if (job->limit >= 0) {
            if (job->steps_done >= job->limit) break;
        } else {
            pthread_mutex_lock(job->lock);
            done = *job->inference_done;
            pthread_mutex_unlock(job->lock);
            if (done && job->steps_done > 0) break;
        }
        status = recur_trainer_step(trainer, job->x, TRAIN_BATCH, TRAIN_STEPS, job->target, &loss);
        if (status != RECUR_OK) break;
        if (job->steps_done == 0) job->first_loss = loss;
        job->last_loss = loss;
        job->steps_done++;
    }
    if (status != RECUR_OK)
        snprintf(job->error, sizeof job->error, "trainer step %ld: %s: %s", job->steps_done,
                 recur_status_string(status), recur_last_error());
    recur_trainer_free(trainer);
    return NULL;
}

/* ---- one model -------------------------------------------------------------------- */

static char *case_model_json(const char *dir, const char *name)
{
    char path[4096];
    json_object *doc, *model;
    char *text = NULL;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    doc = json_object_from_file(path);
    if (doc && json_object_object_get_ex(doc, "model", &model))
        text = strdup(json_object_to_json_string_ext(model, JSON_C_TO_STRING_PLAIN));
    json_object_put(doc);
    return text;
}

static void test_model(const char *dir, const char *case_name, size_t steps)
{
    char what[1024], detail[512];
    char *json = case_model_json(dir, case_name);
    recur_model *model = NULL, *clone = NULL, *replay = NULL;
    size_t in, out, i, t, differing;
    float *xs[THREADS], *reference[THREADS], *outputs[THREADS];
    float *train_x = NULL, *train_target = NULL;
    inference_job jobs[THREADS];
    trainer_job trainer, alone;
    pthread_t threads[THREADS], trainer_id;
    pthread_barrier_t start;
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    int inference_done = 0, all_ok = 1;
    char *before = NULL, *after = NULL, *trained = NULL, *trained_alone = NULL;

    printf("== %s: %d threads x %d streams x %zu steps, a trainer on a clone meanwhile\n", case_name, THREADS,
           BATCH, steps);
    snprintf(what, sizeof what, "%s: load the model", case_name);
    check(json && recur_model_load_json(json, strlen(json), &model) == RECUR_OK, what,
          json ? recur_last_error() : "cannot read the case");
    free(json);
    if (!model) return;
    in = recur_model_input_size(model);
    out = recur_model_output_size(model);

    /* 1. The single-threaded reference, one step at a time. */
    for (i = 0; i < THREADS; i++) {
        xs[i] = malloc(BATCH * steps * in * sizeof(float));
        reference[i] = calloc(BATCH * steps * out, sizeof(float));
        outputs[i] = calloc(BATCH * steps * out, sizeof(float));
        if (!xs[i] || !reference[i] || !outputs[i]) {
            printf("out of memory\n");
            exit(2);
        }
        fill(xs[i], BATCH * steps * in, 1000 + i);
        memset(&jobs[i], 0, sizeof jobs[i]);
        jobs[i].model = model;
        jobs[i].index = (int)i;
        jobs[i].steps = steps;
        jobs[i].input_size = in;
        jobs[i].output_size = out;
        jobs[i].x = xs[i];
        jobs[i].y = reference[i];
        jobs[i].start = &start;
        if (!run_sequence(&jobs[i], 0)) {
            check(0, "single-threaded reference", jobs[i].error);
            all_ok = 0;
        }
        jobs[i].y = outputs[i];
    }
    if (!all_ok) goto cleanup;
    /* The inputs differ per thread, so do the outputs (the check below is not vacuous). */
    snprintf(what, sizeof what, "%s: the 8 reference sequences differ and are finite", case_name);
    differing = memcmp(reference[0], reference[1], BATCH * steps * out * sizeof(float)) != 0;
    for (t = 0; t < BATCH * steps * out; t++) differing = differing && isfinite(reference[THREADS - 1][t]);
    check((int)differing, what, NULL);

    /* 2. Everything at once. */
    before = weights_text(model);
    train_x = malloc(TRAIN_BATCH * TRAIN_STEPS * in * sizeof(float));
    train_target = malloc(TRAIN_BATCH * TRAIN_STEPS * out * sizeof(float));
    if (!before || !train_x || !train_target || recur_model_clone(model, &clone) != RECUR_OK ||
        recur_model_clone(model, &replay) != RECUR_OK) {
        check(0, "setting up the trainer", recur_last_error());
        goto cleanup;
    }
    fill(train_x, TRAIN_BATCH * TRAIN_STEPS * in, 7);
    fill(train_target, TRAIN_BATCH * TRAIN_STEPS * out, 8);
    for (t = 0; t < TRAIN_BATCH * TRAIN_STEPS * out; t++) train_target[t] *= 0.25f;
    memset(&trainer, 0, sizeof trainer);
    trainer.model = clone;
    trainer.x = train_x;
    trainer.target = train_target;
    trainer.lock = &lock;
    trainer.inference_done = &inference_done;
    trainer.start = &start;
    trainer.limit = -1;

    pthread_barrier_init(&start, NULL, THREADS + 1);
    if (pthread_create(&trainer_id, NULL, trainer_thread, &trainer) != 0) {
        printf("pthread_create failed\n");
        exit(2);
    }
    for (i = 0; i < THREADS; i++)
        if (pthread_create(&threads[i], NULL, inference_thread, &jobs[i]) != 0) {
            printf("pthread_create failed\n");
            exit(2);
        }
    for (i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
    pthread_mutex_lock(&lock);
    inference_done = 1;
    pthread_mutex_unlock(&lock);
    pthread_join(trainer_id, NULL);
    pthread_barrier_destroy(&start);

    /* 3. Checks. */
    for (i = 0; i < THREADS; i++) {
        snprintf(what, sizeof what, "%s: thread %zu (%s) gives its single-threaded outputs bit for bit", case_name,
                 i,
                 i % 4 == 0   ? "step"
                 : i % 4 == 1 ? "run in chunks of 1..13"
                 : i % 4 == 2 ? "step, set_threads(2)"
                              : "run in chunks of 64");
        differing = 0;
        for (t = 0; t < BATCH * steps * out; t++)
            differing += memcmp(&outputs[i][t], &reference[i][t], sizeof(float)) != 0;
        snprintf(detail, sizeof detail, "%s%zu of %zu values differ", jobs[i].error, differing,
                 BATCH * steps * out);
        check(jobs[i].error[0] == 0 && differing == 0, what, detail);
    }

    after = weights_text(model);
    snprintf(what, sizeof what, "%s: the shared model's weights are unchanged", case_name);
    check(after && strcmp(before, after) == 0, what, NULL);
    jobs[0].y = outputs[0];
    memset(outputs[0], 0, BATCH * steps * out * sizeof(float));
    snprintf(what, sizeof what, "%s: the shared model still gives the reference outputs", case_name);
    check(run_sequence(&jobs[0], 0) &&
              memcmp(outputs[0], reference[0], BATCH * steps * out * sizeof(float)) == 0,
          what, jobs[0].error);

    snprintf(detail, sizeof detail, "%s(%ld steps, loss %g -> %g)", trainer.error, trainer.steps_done,
             trainer.first_loss, trainer.last_loss);
    snprintf(what, sizeof what, "%s: the trainer ran meanwhile and its loss fell %s", case_name, detail);
    check(trainer.error[0] == 0 && trainer.steps_done > 0 &&
              (trainer.steps_done == 1 || trainer.last_loss < trainer.first_loss),
          what, NULL);

    /* The same number of trainer steps alone, on another clone: the same weights. */
    alone = trainer;
    alone.model = replay;
    alone.start = NULL;
    alone.limit = trainer.steps_done;
    alone.steps_done = 0;
    alone.error[0] = 0;
    trainer_thread(&alone);
    trained = weights_text(clone);
    trained_alone = weights_text(replay);
    snprintf(what, sizeof what,
             "%s: the clone trained beside the 8 threads equals one trained alone (%ld steps), bit for bit",
             case_name, alone.steps_done);
    check(alone.error[0] == 0 && trained && trained_alone && strcmp(trained, trained_alone) == 0 &&
              strcmp(trained, before) != 0,
          what, alone.error);

cleanup:
    for (i = 0; i < THREADS; i++) {
        free(xs[i]);
        free(reference[i]);
        free(outputs[i]);
    }
    free(train_x);
    free(train_target);
    recur_string_free(before);
    recur_string_free(after);
    recur_string_free(trained);
    recur_string_free(trained_alone);
    recur_model_free(model);
    recur_model_free(clone);
    recur_model_free(replay);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "Tests/testdata";
    long steps = argc > 2 ? strtol(argv[2], NULL, 10) : 10000;

    if (steps < 1) {
        fprintf(stderr, "usage: %s [TESTDATA_DIR [STEPS]]\n", argv[0]);
        return 2;
    }
    printf("kernels: %s\n", recur_cpu_kernels());
    test_model(dir, "lstm_stack_softmax.json", (size_t)steps);
    test_model(dir, "gru_long.json", (size_t)steps);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
