/*
 * adapt.c: a robot-style loop whose model of the plant adapts online.
 *
 * The plant is a motor-like system sampled at 1 kHz (DT = 1 ms): the command
 * u goes through an actuator lag z, which drives the output y,
 *
 *   z' = (u - z) / TAU,     y' = -a y + b z + noise.
 *
 * The model only sees (y, u), so it needs memory to know z: a GRU
 * (2 inputs -> GRU(16) -> dense(1)) that predicts the rate y' at each sample
 * (in units of RATE = 30/s), i.e. the next sample y + DT y'.
 *
 *   1. Train it from scratch (recur_trainer_step, mse, Adam) on plant A
 *      (a = 30, b = 30) with random step commands.
 *   2. Keep a frozen copy (recur_model_clone). Then run plant B for 20 s: it
 *      carries a load (b = 15 instead of 30) and its friction drifts
 *      (a goes from 30 to 60 over the run). The samples arrive in chunks of
 *      50 (50 ms). For each chunk, both models predict it first (a
 *      recur_state each, carried across chunks), then a stateful trainer
 *      ("stateful": true: truncated BPTT, the state carried from chunk to
 *      chunk) takes one step on it: the model adapts while it serves.
 *   3. The prediction error, before adaptation (the first second) and after
 *      (the last 5 s), is compared with the frozen copy's on the same samples.
 *   4. The adapted model is saved atomically (recur_model_save_file: a
 *      temporary file, then a rename) and loaded back; the reloaded model must
 *      give the same outputs bit for bit.
 *
 * Run from the project root:
 *   build/examples/adapt [OUTPUT_JSON]   (default /tmp/recur_adapted.json)
 * Exits 1 when adaptation does not cut the error of the last 5 s by at least
 * FACTOR against the frozen copy (or when the reloaded model differs).
 */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#include "recur.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum {
    HZ = 1000,              /* samples per second */
    CHUNK = 50,             /* samples per online update (50 ms) */
    SECONDS = 20,           /* length of the run on plant B */
    SAMPLES = HZ * SECONDS, /* 20000 samples, 400 chunks */
    LAST = 5 * HZ,          /* "after adaptation": the last 5 s */
    TRAIN_BATCH = 16,       /* offline training on plant A: sequences per step */
    TRAIN_STEPS = 200,      /* samples per sequence (0.2 s) */
    TRAIN_UPDATES = 400
};
#define DT 0.001f   /* seconds per sample */
#define TAU 0.03f   /* actuator lag, s */
#define RATE 30.0f  /* the model's output unit: y' / RATE */
#define NOISE 0.05f /* std of the noise on y' / RATE: the best achievable mse is NOISE^2 = 0.0025 */
#define FACTOR 3.0  /* required: frozen error / adapted error over the last 5 s */

typedef struct {
    float a, b;     /* plant parameters */
    float y, z;     /* output, actuator */
    float u;        /* current command */
    int hold;       /* samples left before the next command */
    uint32_t rng;
} plant;

static float uniform(uint32_t *s) /* [0, 1) */
{
    *s = *s * 1664525u + 1013904223u;
    return (float)(*s >> 8) / 16777216.0f;
}

/* About N(0, 1): a sum of 4 uniforms, scaled (Irwin-Hall). */
static float gaussian(uint32_t *s)
{
    return (uniform(s) + uniform(s) + uniform(s) + uniform(s) - 2.0f) * 1.7320508f;
}

/* Advances the plant by one sample. x receives the model's input (y, u) at
   this sample, *rate the target: the measured y' / RATE. */
static void plant_sample(plant *p, float *x, float *rate)
{
    float r;
    if (p->hold-- <= 0) { /* a new step command every 50 to 300 ms */
        p->u = 2.0f * uniform(&p->rng) - 1.0f;
        p->hold = 50 + (int)(250.0f * uniform(&p->rng));
    }
    x[0] = p->y;
    x[1] = p->u;
    r = (-p->a * p->y + p->b * p->z) / RATE + NOISE * gaussian(&p->rng);
    *rate = r;
    p->y += DT * RATE * r;
    p->z += DT / TAU * (p->u - p->z);
}

static void plant_init(plant *p, float a, float b, uint32_t seed)
{
    memset(p, 0, sizeof *p);
    p->a = a;
    p->b = b;
    p->rng = seed;
    p->y = 2.0f * uniform(&p->rng) - 1.0f;
    p->z = 2.0f * uniform(&p->rng) - 1.0f;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static int report(const char *what, recur_status status)
{
    fprintf(stderr, "adapt: %s: %s: %s\n", what, recur_status_string(status), recur_last_error());
    return 1;
}

static double sq(double v) { return v * v; }

static const char *INIT_MODEL =
    "{\"format\": \"recur\", \"version\": 1, \"input_size\": 2,"
    " \"init\": {\"seed\": 5, \"recurrent\": \"orthogonal\"},"
    " \"layers\": [{\"type\": \"gru\", \"hidden_size\": 16}, {\"type\": \"dense\", \"units\": 1}],"
    " \"metadata\": {\"description\": \"examples/c/adapt.c: predicts the rate y'/30 of a lagged first-order"
    " plant from (y, u); trained on plant A, then adapted online to a drifting plant B.\"}}";

/* Trains `model` from scratch on plant A; returns the validation mse. */
static recur_status train_on_plant_a(recur_model *model, double *out_mse)
{
    static float x[TRAIN_BATCH * TRAIN_STEPS * 2], target[TRAIN_BATCH * TRAIN_STEPS], y[TRAIN_BATCH * TRAIN_STEPS];
    recur_trainer *trainer = NULL;
    recur_state *state = NULL;
    recur_status status;
    plant p;
    float loss = 0.0f;
    double sum;
    int update, b, t;

    status = recur_trainer_create(model, "{\"loss\": \"mse\", \"optimizer\": {\"type\": \"adam\", \"learning_rate\": 0.01}}",
                                  &trainer);
    if (status != RECUR_OK) return status;
    printf("1. Training from scratch on plant A (a = 30, b = 30): %d updates of %d x %d samples\n", TRAIN_UPDATES,
           TRAIN_BATCH, TRAIN_STEPS);
    for (update = 1; update <= TRAIN_UPDATES && status == RECUR_OK; update++) {
        for (b = 0; b < TRAIN_BATCH; b++) {
            plant_init(&p, 30.0f, 30.0f, 1000u * (uint32_t)update + (uint32_t)b);
            for (t = 0; t < TRAIN_STEPS; t++)
                plant_sample(&p, x + (b * TRAIN_STEPS + t) * 2, target + b * TRAIN_STEPS + t);
        }
        status = recur_trainer_step(trainer, x, TRAIN_BATCH, TRAIN_STEPS, target, &loss);
        if (update % 100 == 0) printf("   update %4d   training mse %.4f\n", update, loss);
    }
    recur_trainer_free(trainer);
    if (status != RECUR_OK) return status;

    /* Validation on fresh plant A sequences (skipping the first 50 samples,
       where the model cannot know the actuator's initial state yet). */
    for (b = 0; b < TRAIN_BATCH; b++) {
        plant_init(&p, 30.0f, 30.0f, 777777u + (uint32_t)b);
        for (t = 0; t < TRAIN_STEPS; t++) plant_sample(&p, x + (b * TRAIN_STEPS + t) * 2, target + b * TRAIN_STEPS + t);
    }
    status = recur_state_create(model, TRAIN_BATCH, &state);
    if (status == RECUR_OK) status = recur_state_run(state, x, TRAIN_STEPS, y);
    recur_state_free(state);
    if (status != RECUR_OK) return status;
    sum = 0.0;
    for (b = 0; b < TRAIN_BATCH; b++)
        for (t = 50; t < TRAIN_STEPS; t++) sum += sq((double)y[b * TRAIN_STEPS + t] - target[b * TRAIN_STEPS + t]);
    *out_mse = sum / (TRAIN_BATCH * (TRAIN_STEPS - 50));
    return RECUR_OK;
}

int main(int argc, char **argv)
{
    const char *output = argc > 1 ? argv[1] : "/tmp/recur_adapted.json";
    /* The stream of plant B, kept to check the reloaded model at the end. */
    static float xs[SAMPLES * 2], rates[SAMPLES], pred_adapt[SAMPLES], pred_frozen[SAMPLES];
    float check_a[HZ], check_b[HZ];
    recur_model *model = NULL, *frozen = NULL, *reloaded = NULL;
    recur_state *serve = NULL, *serve_frozen = NULL, *s1 = NULL, *s2 = NULL;
    recur_trainer *trainer = NULL;
    recur_status status;
    plant p;
    double mse_a = 0.0, t0, step_ms, sum_step = 0.0, max_step = 0.0;
    double sec_adapt, sec_frozen, first_adapt = 0.0, first_frozen = 0.0, last_adapt = 0.0, last_frozen = 0.0, factor;
    float loss;
    int k, c, s, failed = 0;

    status = recur_model_load_json(INIT_MODEL, strlen(INIT_MODEL), &model);
    if (status != RECUR_OK) return report("recur_model_load_json", status);
    t0 = now_ms();
    status = train_on_plant_a(model, &mse_a);
    if (status != RECUR_OK) {
        recur_model_free(model);
        return report("training on plant A", status);
    }
    printf("   trained in %.0f ms; validation mse on plant A %.4f (noise floor %.4f)\n\n", now_ms() - t0, mse_a,
           (double)(NOISE * NOISE));

    /* 2. Online on plant B, chunk by chunk. */
    status = recur_model_clone(model, &frozen);
    if (status == RECUR_OK) status = recur_state_create(model, 1, &serve);
    if (status == RECUR_OK) status = recur_state_create(frozen, 1, &serve_frozen);
    if (status == RECUR_OK)
        status = recur_trainer_create(model,
                                      "{\"loss\": \"mse\", \"stateful\": true,"
                                      " \"optimizer\": {\"type\": \"adam\", \"learning_rate\": 0.003}}",
                                      &trainer);
    if (status != RECUR_OK) {
        recur_model_free(model);
        recur_model_free(frozen);
        return report("setting up", status);
    }
    printf("2. Plant B for %d s at %d Hz: b = 15, a drifting from 30 to 60; chunks of %d samples.\n"
           "   Each chunk is predicted first, then the stateful trainer takes one step on it.\n\n",
           SECONDS, HZ, CHUNK);
    printf("   second      a      b   mse frozen   mse adapting\n");
    plant_init(&p, 30.0f, 15.0f, 4242u);
    for (c = 0; c < SAMPLES / CHUNK && status == RECUR_OK; c++) {
        float *x = xs + c * CHUNK * 2, *r = rates + c * CHUNK;
        for (k = 0; k < CHUNK; k++) {
            p.a = 30.0f + 30.0f * (float)(c * CHUNK + k) / SAMPLES; /* the drift */
            plant_sample(&p, x + k * 2, r + k);
        }
        /* Serve: both models predict the chunk, continuing their state. */
        status = recur_state_run(serve, x, CHUNK, pred_adapt + c * CHUNK);
        if (status == RECUR_OK) status = recur_state_run(serve_frozen, x, CHUNK, pred_frozen + c * CHUNK);
        /* Adapt: one step of truncated BPTT on the chunk just seen. */
        t0 = now_ms();
        if (status == RECUR_OK) status = recur_trainer_step(trainer, x, 1, CHUNK, r, &loss);
        step_ms = now_ms() - t0;
        sum_step += step_ms;
        if (step_ms > max_step) max_step = step_ms;
        if ((c + 1) % (HZ / CHUNK) == 0) { /* one row per second */
            int second = (c + 1) / (HZ / CHUNK), from = (second - 1) * HZ;
            sec_adapt = sec_frozen = 0.0;
            for (k = from; k < from + HZ; k++) {
                sec_adapt += sq((double)pred_adapt[k] - rates[k]);
                sec_frozen += sq((double)pred_frozen[k] - rates[k]);
            }
            sec_adapt /= HZ;
            sec_frozen /= HZ;
            if (second == 1) {
                first_adapt = sec_adapt;
                first_frozen = sec_frozen;
            }
            if (second == 1 || second % 2 == 0)
                printf("   %6d  %5.1f  %5.1f   %10.4f   %12.4f\n", second, (double)p.a, (double)p.b, sec_frozen,
                       sec_adapt);
        }
    }
    recur_trainer_free(trainer);
    recur_state_free(serve);
    recur_state_free(serve_frozen);
    if (status != RECUR_OK) {
        recur_model_free(model);
        recur_model_free(frozen);
        return report("the online run", status);
    }
    for (k = SAMPLES - LAST; k < SAMPLES; k++) {
        last_adapt += sq((double)pred_adapt[k] - rates[k]);
        last_frozen += sq((double)pred_frozen[k] - rates[k]);
    }
    last_adapt /= LAST;
    last_frozen /= LAST;
    factor = last_frozen / last_adapt;
    printf("\n   online update: %.3f ms per chunk on average, %.3f ms at worst (real-time budget %d ms)\n",
           sum_step / (SAMPLES / CHUNK), max_step, CHUNK * 1000 / HZ);
    printf("3. before adaptation (first second on plant B): mse %.4f (frozen copy %.4f)\n", first_adapt, first_frozen);
    printf("   after adaptation (last 5 s): mse %.4f, frozen copy %.4f: adapted error %.1fx smaller "
           "(required: %.1fx)\n",
           last_adapt, last_frozen, factor, FACTOR);
    if (factor < FACTOR) {
        fprintf(stderr, "adapt: adaptation cut the error by %.2fx only, less than %.1fx\n", factor, FACTOR);
        failed = 1;
    }

    /* 4. Save atomically, load back, compare on the last second of the run. */
    status = recur_model_save_file(model, output);
    if (status == RECUR_OK) status = recur_model_load_file(output, &reloaded);
    if (status == RECUR_OK) status = recur_state_create(model, 1, &s1);
    if (status == RECUR_OK) status = recur_state_create(reloaded, 1, &s2);
    if (status == RECUR_OK) status = recur_state_run(s1, xs + (SAMPLES - HZ) * 2, HZ, check_a);
    if (status == RECUR_OK) status = recur_state_run(s2, xs + (SAMPLES - HZ) * 2, HZ, check_b);
    recur_state_free(s1);
    recur_state_free(s2);
    recur_model_free(reloaded);
    recur_model_free(frozen);
    recur_model_free(model);
    if (status != RECUR_OK) return report("saving and reloading", status);
    s = memcmp(check_a, check_b, sizeof check_a) == 0;
    printf("4. saved the adapted model to %s (atomically); the reloaded model %s\n", output,
           s ? "gives the same outputs, bit for bit" : "gives DIFFERENT outputs");
    if (!s) failed = 1;
    return failed;
}
