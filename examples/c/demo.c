/*
 * demo.c: a first tour of Recur's C API.
 *
 * Loads two small models that ship with Recur, feeds each a short input
 * sequence one step at a time, and prints what goes in and what comes out.
 *
 *   running_sum.json  an Elman RNN with one relu unit and weights 1:
 *                     h_t = relu(h_{t-1} + x_t), a running sum of the inputs
 *                     that never goes below zero.
 *   tiny_lstm.json    an LSTM (2 inputs, hidden size 4) with a dense head
 *                     (1 output). examples/models/make_tiny_lstm.py wrote it
 *                     and prints the outputs it must give, computed in numpy.
 *
 * Run from the project root:
 *   build/examples/demo [RUNNING_SUM_JSON [TINY_LSTM_JSON]]
 * (defaults: examples/models/running_sum.json, examples/models/tiny_lstm.json)
 */
#include "recur.h"

#include <stdio.h>
#include <string.h>

/* Every recur_ call that can fail returns a status; the message of the last
   failure on this thread is in recur_last_error(). */
static int report(const char *what, recur_status status)
{
    fprintf(stderr, "demo: %s: %s: %s\n", what, recur_status_string(status), recur_last_error());
    return 1;
}

/* Loads a model and checks that it has the sizes this demo feeds it. */
static recur_model *load_model(const char *path, size_t inputs, size_t outputs)
{
    recur_model *model = NULL;
    recur_status status = recur_model_load_file(path, &model);
    if (status != RECUR_OK) {
        report("recur_model_load_file", status);
        return NULL;
    }
    printf("Loaded %s: %zu input(s), %zu output(s), %zu parameters\n", path, recur_model_input_size(model),
           recur_model_output_size(model), recur_model_parameter_count(model));
    if (recur_model_input_size(model) != inputs || recur_model_output_size(model) != outputs) {
        fprintf(stderr, "demo: %s: expected %zu input(s) and %zu output(s)\n", path, inputs, outputs);
        recur_model_free(model);
        return NULL;
    }
    return model;
}

static int demo_running_sum(const char *path)
{
    const float inputs[] = {1.0f, 2.0f, 3.0f, -2.0f, -10.0f, 5.0f};
    const size_t steps = sizeof inputs / sizeof inputs[0];
    recur_model *model;
    recur_state *state = NULL;
    recur_status status;
    float x, y, h;
    size_t t;

    printf("== 1. A running sum ==\n");
    model = load_model(path, 1, 1);
    if (!model) return 1;
    printf("h_t = relu(h_{t-1} + x_t): adds up the inputs, but never goes below zero.\n\n");

    /* One state holds the memory of `batch` independent streams; here 1. */
    status = recur_state_create(model, 1, &state);
    recur_model_free(model); /* the state keeps the model alive */
    if (status != RECUR_OK) return report("recur_state_create", status);

    printf("  step        x        y\n");
    for (t = 0; t < steps; t++) {
        x = inputs[t];
        status = recur_state_step(state, &x, &y); /* x: [batch][inputs], y: [batch][outputs] */
        if (status != RECUR_OK) break;
        printf("  %4zu %8.2f %8.2f\n", t + 1, x, y);
    }
    if (status == RECUR_OK) status = recur_state_get(state, &h, 1); /* the state: h of the one unit */
    if (status == RECUR_OK) printf("  state after %zu steps: h = %.2f\n\n", steps, h);

    /* Back to the start: the next step sees a zero state. */
    if (status == RECUR_OK) status = recur_state_reset(state);
    if (status == RECUR_OK) status = recur_state_get(state, &h, 1);
    if (status == RECUR_OK) {
        printf("  recur_state_reset(): h = %.2f\n", h);
        printf("  step        x        y\n");
        x = 2.0f;
        status = recur_state_step(state, &x, &y);
        if (status == RECUR_OK) printf("  %4d %8.2f %8.2f\n", 1, x, y);
    }
    recur_state_free(state);
    printf("\n");
    return status == RECUR_OK ? 0 : report("running sum", status);
}

static int demo_tiny_lstm(const char *path)
{
    /* The same inputs as INPUTS in examples/models/make_tiny_lstm.py. */
    enum { STEPS = 6, INPUTS = 2 };
    const float inputs[STEPS][INPUTS] = {
        {1.0f, 0.0f}, {0.5f, -0.5f}, {0.0f, 1.0f}, {-1.0f, 0.25f}, {0.25f, 0.75f}, {0.0f, 0.0f},
    };
    float stepped[STEPS], all_at_once[STEPS];
    recur_model *model;
    recur_state *state = NULL;
    recur_status status;
    size_t t;

    printf("== 2. A tiny LSTM ==\n");
    model = load_model(path, INPUTS, 1);
    if (!model) return 1;
    printf("2 inputs -> LSTM (hidden size 4) -> dense (1 output). make_tiny_lstm.py prints the same outputs.\n\n");

    status = recur_state_create(model, 1, &state);
    recur_model_free(model);
    if (status != RECUR_OK) return report("recur_state_create", status);

    printf("  step     x[0]     x[1]            y\n");
    for (t = 0; t < STEPS; t++) {
        status = recur_state_step(state, inputs[t], &stepped[t]);
        if (status != RECUR_OK) break;
        printf("  %4zu %8.3f %8.3f %12.7f\n", t + 1, inputs[t][0], inputs[t][1], stepped[t]);
    }

    /* The whole sequence in one call, from a zero state: x is
       [batch][steps][inputs], y is [batch][steps][outputs]. */
    if (status == RECUR_OK) status = recur_state_reset(state);
    if (status == RECUR_OK) status = recur_state_run(state, &inputs[0][0], STEPS, all_at_once);
    if (status == RECUR_OK)
        printf("  recur_state_reset() + recur_state_run() over all %d steps: %s\n", STEPS,
               memcmp(stepped, all_at_once, sizeof stepped) == 0 ? "the same outputs" : "DIFFERENT outputs");
    recur_state_free(state);
    printf("\n");
    return status == RECUR_OK ? 0 : report("tiny lstm", status);
}

int main(int argc, char **argv)
{
    const char *running_sum = argc > 1 ? argv[1] : "examples/models/running_sum.json";
    const char *tiny_lstm = argc > 2 ? argv[2] : "examples/models/tiny_lstm.json";
    int failed = 0;

    printf("Recur %s\n\n", recur_version_string());
    failed |= demo_running_sum(running_sum);
    failed |= demo_tiny_lstm(tiny_lstm);
    return failed;
}
