/*
 * finetune.c: train a model with Recur's C API, save it, load it back.
 *
 * examples/models/sine_predictor_init.json is a GRU (1 input, hidden size 16)
 * with a dense head (1 output) and no weights: the library initialises them
 * from the document's "init" object. This program trains it to predict the
 * next sample of a sine wave from the samples so far:
 *
 *   input  x_t = sin(phase + W t),   target y_t = x_{t+1} = sin(phase + W (t + 1))
 *
 * Each training step draws a new batch of 8 sequences of 32 samples with
 * random phases and makes one Adam update (mse loss, learning rate 0.01).
 * Every few steps the loss on a fixed validation batch is measured with an
 * inference state; training stops once it is below 1/20 of where it started
 * (or after MAX_STEPS). Then the model is saved (atomically:
 * recur_model_save_file writes a temporary file and renames it), loaded back,
 * and the reloaded model must give the same outputs, bit for bit.
 *
 * Run from the project root:
 *   build/examples/finetune [OUTPUT_JSON [INIT_MODEL_JSON]]
 * (defaults: /tmp/recur_finetuned.json, examples/models/sine_predictor_init.json)
 * Exits 0 when the loss dropped by at least the factor and the reloaded model
 * agrees; 1 otherwise.
 */
#include "recur.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum {
    BATCH = 8,       /* sequences per training step */
    STEPS = 32,      /* samples per sequence */
    MAX_STEPS = 500, /* training steps at most (under 0.5 s with the reference kernels) */
    EVERY = 10       /* measure the validation loss every EVERY steps */
};
#define FACTOR 20.0 /* stop once the loss is below initial / FACTOR */
#define W 0.3       /* radians per sample: a period of about 21 samples */

static const double PI = 3.14159265358979323846;

/* sin(x) without libm (this example links only librecur): reduce to
   [-pi/2, pi/2], then a Taylor series (error below 1e-12 there). */
static double sine(double x)
{
    double term, sum, x2;
    int k;
    x -= 2.0 * PI * (double)(long)(x / (2.0 * PI)); /* (-2pi, 2pi) */
    if (x > PI) x -= 2.0 * PI;
    if (x < -PI) x += 2.0 * PI;                     /* [-pi, pi] */
    if (x > PI / 2) x = PI - x;
    if (x < -PI / 2) x = -PI - x;                   /* [-pi/2, pi/2], same sine */
    term = x;
    sum = x;
    x2 = x * x;
    for (k = 1; k < 12; k++) {
        term *= -x2 / (double)((2 * k) * (2 * k + 1));
        sum += term;
    }
    return sum;
}

/* A uniform number in [0, 1) from a small deterministic generator. */
static double uniform(uint32_t *seed)
{
    *seed = *seed * 1664525u + 1013904223u;
    return (double)(*seed >> 8) / 16777216.0;
}

/* A batch of sequences with random phases: x [BATCH][STEPS][1] and the next
   sample as the target, y [BATCH][STEPS][1]. */
static void make_batch(uint32_t *seed, float *x, float *y)
{
    int b, t;
    for (b = 0; b < BATCH; b++) {
        double phase = 2.0 * PI * uniform(seed);
        for (t = 0; t < STEPS; t++) {
            x[b * STEPS + t] = (float)sine(phase + W * t);
            y[b * STEPS + t] = (float)sine(phase + W * (t + 1));
        }
    }
}

static int report(const char *what, recur_status status)
{
    fprintf(stderr, "finetune: %s: %s: %s\n", what, recur_status_string(status), recur_last_error());
    return 1;
}

/* Runs the model over the batch from a zero state: out [BATCH][STEPS][1]. */
static recur_status predict(const recur_model *model, const float *x, float *out)
{
    recur_state *state = NULL;
    recur_status status = recur_state_create(model, BATCH, &state);
    if (status == RECUR_OK) status = recur_state_run(state, x, STEPS, out);
    recur_state_free(state);
    return status;
}

/* The validation loss: mean squared error of the model's predictions. */
static recur_status validation_loss(const recur_model *model, const float *x, const float *y, double *out_loss)
{
    float predicted[BATCH * STEPS];
    double sum = 0.0;
    int i;
    recur_status status = predict(model, x, predicted);
    if (status != RECUR_OK) return status;
    for (i = 0; i < BATCH * STEPS; i++) {
        double d = (double)predicted[i] - (double)y[i];
        sum += d * d;
    }
    *out_loss = sum / (BATCH * STEPS);
    return RECUR_OK;
}

int main(int argc, char **argv)
{
    const char *output = argc > 1 ? argv[1] : "/tmp/recur_finetuned.json";
    const char *init_model = argc > 2 ? argv[2] : "examples/models/sine_predictor_init.json";
    /* The trainer configuration: see "Trainer configuration" in docs/c-api.md. */
    const char *config = "{\"loss\": \"mse\", \"optimizer\": {\"type\": \"adam\", \"learning_rate\": 0.01}}";
    float x[BATCH * STEPS], y[BATCH * STEPS], val_x[BATCH * STEPS], val_y[BATCH * STEPS];
    float before[BATCH * STEPS], after[BATCH * STEPS];
    uint32_t seed = 2024u, val_seed = 99u;
    recur_model *model = NULL, *reloaded = NULL;
    recur_trainer *trainer = NULL;
    recur_status status;
    double initial = 0.0, loss = 0.0, factor;
    float train_loss = 0.0f;
    int step = 0, failed = 0;

    status = recur_model_load_file(init_model, &model);
    if (status != RECUR_OK) return report("recur_model_load_file", status);
    printf("Loaded %s: %zu parameters, initialised from its \"init\" seed\n", init_model,
           recur_model_parameter_count(model));

    make_batch(&val_seed, val_x, val_y); /* fixed: the same batch before and after */
    status = validation_loss(model, val_x, val_y, &initial);
    if (status != RECUR_OK) {
        recur_model_free(model);
        return report("validation before training", status);
    }
    printf("Task: predict sin(phase + %.1f (t+1)) from the samples up to t; batch %d x %d steps.\n", W, BATCH,
           STEPS);
    printf("Training with %s\nuntil the validation loss is below 1/%.0f of its start (at most %d steps).\n\n",
           config, FACTOR, MAX_STEPS);
    printf("  step   train loss   validation loss\n");
    printf("  %4d %12s %17.6f\n", 0, "-", initial);

    /* The trainer updates `model` in place. */
    status = recur_trainer_create(model, config, &trainer);
    if (status != RECUR_OK) {
        recur_model_free(model);
        return report("recur_trainer_create", status);
    }
    loss = initial;
    while (step < MAX_STEPS && loss >= initial / FACTOR) {
        make_batch(&seed, x, y);
        status = recur_trainer_step(trainer, x, BATCH, STEPS, y, &train_loss);
        if (status != RECUR_OK) break;
        step++;
        if (step % EVERY == 0) {
            /* No trainer step runs now, so a state may run on the model. */
            status = validation_loss(model, val_x, val_y, &loss);
            if (status != RECUR_OK) break;
            printf("  %4d %12.6f %17.6f\n", step, train_loss, loss);
        }
    }
    recur_trainer_free(trainer);
    if (status != RECUR_OK) {
        recur_model_free(model);
        return report("training", status);
    }
    factor = loss > 0.0 ? initial / loss : 1e30;
    printf("\nloss dropped from %.6f to %.6f (factor %.1f) in %d steps\n", initial, loss, factor, step);
    if (factor < FACTOR) {
        fprintf(stderr, "finetune: the loss dropped by a factor of %.1f only, less than %.0f\n", factor, FACTOR);
        failed = 1;
    }

    /* Save, load back, compare. */
    status = recur_model_save_file(model, output);
    if (status != RECUR_OK) {
        recur_model_free(model);
        return report("recur_model_save_file", status);
    }
    printf("saved the trained model to %s\n", output);
    status = recur_model_load_file(output, &reloaded);
    if (status == RECUR_OK) status = predict(model, val_x, before);
    if (status == RECUR_OK) status = predict(reloaded, val_x, after);
    if (status != RECUR_OK) {
        recur_model_free(model);
        recur_model_free(reloaded);
        return report("reloading", status);
    }
    if (memcmp(before, after, sizeof before) == 0) {
        printf("the reloaded model gives the same outputs (%d of %d, bit for bit)\n", BATCH * STEPS, BATCH * STEPS);
    } else {
        fprintf(stderr, "finetune: the reloaded model gives different outputs\n");
        failed = 1;
    }
    recur_model_free(reloaded);
    recur_model_free(model);
    return failed;
}
