/*
 * charrnn.c: a character-level language model, trained and sampled in C.
 *
 * The text is examples/data/coriolanus.txt: the opening of Shakespeare's
 * Coriolanus (Act I, Scene 1; public domain), 3.7 KB, 52 distinct characters.
 *
 * The model reads one character per step as a one-hot vector and predicts
 * the next one:
 *
 *   one-hot (V) -> LSTM(HIDDEN) -> dense(V, softmax)
 *
 * It is built from a JSON document with no weights ("init" fills them) and
 * trained with recur_trainer_step_labels ("loss": "cross_entropy", the next
 * character's index as the label at every step; Adam, gradient clipping) on
 * batches of random windows of the text. The loss on the whole text (one
 * stream, recur_state_run) is printed as it goes down, in nats per character:
 * a model that knows nothing scores ln(V) = 3.95, one that knows only the
 * character frequencies 3.17.
 *
 * Then it samples: it feeds a prompt (the text's first line), and from there draws each next
 * character from the softmax output sharpened by a temperature, with a seeded
 * random generator, so that a given build prints the same text every time.
 *
 * Run from the project root:
 *   build/examples/charrnn [TEXT_FILE]   (default examples/data/coriolanus.txt)
 * Exits 1 when the final loss is not below BOUND nats per character.
 */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#include "recur.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
    HIDDEN = 64,
    BATCH = 16,     /* windows per training step */
    STEPS = 48,     /* characters per window */
    UPDATES = 200,  /* training steps */
    EVERY = 50,     /* measure the loss on the whole text every EVERY steps */
    MAX_TEXT = 65536,
    SAMPLE = 400    /* characters to generate */
};
#define BOUND 1.5        /* required: final loss below this, nats per character */
#define TEMPERATURE 0.7

static int vocab;            /* distinct characters */
static char chars[256];      /* index -> character */
static int index_of[256];    /* character -> index */

static uint32_t rng = 20240601u;
static double uniform(void) /* xorshift32, [0, 1) */
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return (double)(rng >> 8) / 16777216.0;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static int report(const char *what, recur_status status)
{
    fprintf(stderr, "charrnn: %s: %s: %s\n", what, recur_status_string(status), recur_last_error());
    return 1;
}

static void one_hot(float *x, int c)
{
    memset(x, 0, (size_t)vocab * sizeof(float));
    x[c] = 1.0f;
}

/* Mean cross-entropy (nats per character) of predicting text[1..n-1] from
   the characters before, the whole text as one stream from a zero state. */
static recur_status text_loss(const recur_model *model, const int *text, int n, double *out)
{
    float *x = malloc((size_t)(n - 1) * (size_t)vocab * sizeof(float));
    float *p = malloc((size_t)(n - 1) * (size_t)vocab * sizeof(float));
    recur_state *state = NULL;
    recur_status status = x && p ? recur_state_create(model, 1, &state) : RECUR_ERROR_OUT_OF_MEMORY;
    double sum = 0.0;
    int t;
    if (status == RECUR_OK) {
        for (t = 0; t < n - 1; t++) one_hot(x + (size_t)t * vocab, text[t]);
        status = recur_state_run(state, x, (size_t)(n - 1), p); /* softmax probabilities */
    }
    if (status == RECUR_OK) {
        for (t = 0; t < n - 1; t++) sum -= log((double)p[(size_t)t * vocab + text[t + 1]] + 1e-30);
        *out = sum / (n - 1);
    }
    recur_state_free(state);
    free(x);
    free(p);
    return status;
}

/* Draws an index from probabilities p sharpened by the temperature. */
static int draw(const float *p)
{
    double w[256], total = 0.0, r;
    int i;
    for (i = 0; i < vocab; i++) total += w[i] = pow((double)p[i], 1.0 / TEMPERATURE);
    r = uniform() * total;
    for (i = 0; i < vocab - 1; i++) {
        r -= w[i];
        if (r < 0.0) return i;
    }
    return vocab - 1;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "examples/data/coriolanus.txt";
    static char raw[MAX_TEXT];
    static int text[MAX_TEXT];
    static float x[BATCH * STEPS * 256];
    static int32_t labels[BATCH * STEPS];
    char model_json[512], out[SAMPLE + 1];
    float y[256], xt[256], loss = 0.0f;
    recur_model *model = NULL;
    recur_trainer *trainer = NULL;
    recur_state *state = NULL;
    recur_status status = RECUR_OK;
    double start, t0, train_ms, flops, full_loss = 0.0, initial_loss = 0.0, unigram = 0.0, recent = 0.0;
    int count[256] = {0};
    int n, i, b, t, update, c, prompt;
    FILE *f = fopen(path, "rb");

    if (!f) {
        fprintf(stderr, "charrnn: cannot open %s\n", path);
        return 1;
    }
    n = (int)fread(raw, 1, sizeof raw, f);
    fclose(f);
    for (i = 0; i < n; i++) count[(unsigned char)raw[i]]++;
    for (i = 0; i < 256; i++) {
        index_of[i] = -1;
        if (count[i]) {
            index_of[i] = vocab;
            chars[vocab++] = (char)i;
            unigram -= (double)count[i] / n * log((double)count[i] / n);
        }
    }
    for (i = 0; i < n; i++) text[i] = index_of[(unsigned char)raw[i]];
    if (n < STEPS + 2 || vocab < 2) {
        fprintf(stderr, "charrnn: %s is too short\n", path);
        return 1;
    }

    sprintf(model_json,
            "{\"format\": \"recur\", \"version\": 1, \"input_size\": %d, \"init\": {\"seed\": 3},"
            " \"layers\": [{\"type\": \"lstm\", \"hidden_size\": %d},"
            " {\"type\": \"dense\", \"units\": %d, \"activation\": \"softmax\"}]}",
            vocab, HIDDEN, vocab);
    status = recur_model_load_json(model_json, strlen(model_json), &model);
    if (status == RECUR_OK)
        status = recur_trainer_create(model,
                                      "{\"loss\": \"cross_entropy\", \"clip_gradient_norm\": 5.0,"
                                      " \"optimizer\": {\"type\": \"adam\", \"learning_rate\": 0.02}}",
                                      &trainer);
    if (status == RECUR_OK) status = text_loss(model, text, n, &initial_loss);
    if (status != RECUR_OK) {
        recur_model_free(model);
        return report("setting up", status);
    }
    printf("%s: %d characters, %d distinct. Model: one-hot(%d) -> LSTM(%d) -> dense(%d, softmax), %zu parameters\n",
           path, n, vocab, vocab, HIDDEN, vocab, recur_model_parameter_count(model));
    printf("Loss in nats per character: knowing nothing ln(%d) = %.3f, knowing the letter frequencies %.3f.\n",
           vocab, log((double)vocab), unigram);
    printf("Training: %d steps of %d windows of %d characters, cross-entropy with labels, Adam 0.02.\n\n", UPDATES,
           BATCH, STEPS);
    printf("   step   batch loss   whole-text loss   ms\n");
    printf("   %4d   %10s   %15.3f\n", 0, "-", initial_loss);

    start = now_ms();
    train_ms = 0.0;
    for (update = 1; update <= UPDATES && status == RECUR_OK; update++) {
        for (b = 0; b < BATCH; b++) { /* a random window: input text[s..s+STEPS-1], labels one further */
            int s = (int)(uniform() * (n - STEPS - 1));
            for (t = 0; t < STEPS; t++) {
                one_hot(x + (size_t)(b * STEPS + t) * vocab, text[s + t]);
                labels[b * STEPS + t] = text[s + t + 1];
            }
        }
        t0 = now_ms();
        status = recur_trainer_step_labels(trainer, x, BATCH, STEPS, labels, &loss);
        train_ms += now_ms() - t0;
        recent += loss;
        if (status == RECUR_OK && update % EVERY == 0) {
            status = text_loss(model, text, n, &full_loss);
            printf("   %4d   %10.3f   %15.3f   %5.0f\n", update, recent / EVERY, full_loss, now_ms() - start);
            recent = 0.0;
        }
    }
    recur_trainer_free(trainer);
    if (status != RECUR_OK) {
        recur_model_free(model);
        return report("training", status);
    }
    /* Multiply-adds of the matrix products only: forward, then about twice
       that for the backward pass. */
    flops = 3.0 * 2.0 * ((double)4 * HIDDEN * (vocab + HIDDEN) + (double)HIDDEN * vocab) * BATCH * STEPS;
    printf("\ntrained in %.0f ms (%.0f ms in recur_trainer_step_labels: %.2f ms per step of about %.0f MFLOP, "
           "%.1f GFLOP/s)\n",
           now_ms() - start, train_ms, train_ms / UPDATES, flops * 1e-6, flops * UPDATES / train_ms * 1e-6);
    printf("final loss %.3f nats per character (%.2f bits), from %.3f; bound %.2f\n", full_loss,
           full_loss / log(2.0), initial_loss, BOUND);

    /* Sampling: feed the prompt (the text's first line, with its newline),
       then draw each next character and feed it back. */
    for (prompt = 1; prompt < n && prompt < 60 && raw[prompt - 1] != '\n'; prompt++) {}
    status = recur_state_create(model, 1, &state);
    for (i = 0; i < prompt - 1 && status == RECUR_OK; i++) {
        one_hot(xt, text[i]);
        status = recur_state_step(state, xt, y);
    }
    c = text[prompt - 1];
    for (i = 0; i < SAMPLE && status == RECUR_OK; i++) {
        one_hot(xt, c);
        status = recur_state_step(state, xt, y); /* y: probabilities of the next character */
        c = draw(y);
        out[i] = chars[c];
    }
    out[i] = '\0';
    recur_state_free(state);
    recur_model_free(model);
    if (status != RECUR_OK) return report("sampling", status);
    printf("\nsample (temperature %.1f, seeded), after the prompt \"%.*s\\n\":\n----\n%.*s%s\n----\n", TEMPERATURE,
           prompt - 1, raw, prompt, raw, out);

    if (!(full_loss < BOUND)) {
        fprintf(stderr, "charrnn: final loss %.3f is not below %.2f\n", full_loss, BOUND);
        return 1;
    }
    return 0;
}
