/*
 * tagger.c: a bidirectional tagger over sentences of different lengths,
 * trained and run from C.
 *
 * The task needs the future: each word of a sentence is tagged with the
 * class of the word that FOLLOWS it (a noun, a verb, or "end of sentence"
 * for the last word). A forward-only model sees only the words so far and
 * cannot know what comes next; a bidirectional layer's reverse cell reads
 * the sentence from its last word back, so it can. Both models are trained
 * the same way and compared on sentences they never saw.
 *
 *   words    12 words: 0-5 nouns, 6-11 verbs, one-hot inputs (12 floats)
 *   tags     0: the next word is a noun, 1: a verb, 2: this is the last word
 *   lengths  3 to 12 words; a batch is 16 sentences padded to 12 steps
 *   models   GRU 24 (bidirectional, or forward only), dense 3 (logits)
 *   training cross_entropy on labels at every word, Adam 0.01, 300 steps,
 *            with recur_trainer_step_labels_lengths: the padding is never
 *            read and does not count in the loss
 *   running  recur_state_run_lengths over 512 new sentences: outputs past a
 *            sentence's end are written as 0
 *
 * Run from the project root: build/examples/tagger
 * Exits 0 when the bidirectional tagger gets at least 97% of the tags right
 * and beats the forward one by at least 20 points; 1 otherwise.
 */
#include "recur.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum {
    WORDS = 12,     /* vocabulary: 0-5 nouns, 6-11 verbs */
    TAGS = 3,       /* next word is a noun, a verb; last word */
    STEPS = 12,     /* longest sentence */
    BATCH = 16,     /* sentences per training step */
    TRAIN_STEPS = 300,
    TEST = 512      /* sentences to score */
};

/* A small deterministic generator (xorshift32), so every run is the same. */
static uint32_t rng = 2463534242u;
static uint32_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

/* Fills `count` sentences: one-hot words x [count][STEPS][WORDS], tags
   [count][STEPS] and lengths [count]. Positions past a length hold NaN and
   tag -1 on purpose: the library refuses both where it reads, so it must
   never read them. */
static void make_sentences(size_t count, float *x, int32_t *tags, size_t *lengths)
{
    for (size_t s = 0; s < count; s++) {
        size_t length = 3 + next_random() % (STEPS - 2);
        int words[STEPS];
        lengths[s] = length;
        for (size_t t = 0; t < STEPS; t++) words[t] = (int)(next_random() % WORDS);
        for (size_t t = 0; t < STEPS; t++) {
            float *row = x + (s * STEPS + t) * WORDS;
            for (size_t w = 0; w < WORDS; w++) row[w] = t < length ? (float)(words[t] == (int)w) : NAN;
            tags[s * STEPS + t] = t >= length ? -1 : t + 1 == length ? 2 : words[t + 1] < 6 ? 0 : 1;
        }
    }
}

static int fail(const char *what, recur_status status)
{
    fprintf(stderr, "tagger: %s: %s: %s\n", what, recur_status_string(status), recur_last_error());
    return 1;
}

/* Trains a tagger whose recurrent layer has `direction`; returns the share
   of tags it gets right on the test sentences, or -1 on an error. */
static double train_and_score(const char *direction, const float *test_x, const int32_t *test_tags,
                              const size_t *test_lengths)
{
    static float x[BATCH * STEPS * WORDS], y[TEST * STEPS * TAGS];
    static int32_t tags[BATCH * STEPS];
    size_t lengths[BATCH];
    char document[512];
    recur_model *model = NULL;
    recur_trainer *trainer = NULL;
    recur_state *state = NULL;
    recur_status status;
    double right = 0, total = 0, score = -1;
    float loss = 0, first = 0;

    snprintf(document, sizeof document,
             "{\"format\": \"recur\", \"version\": 1, \"input_size\": %d, \"init\": {\"seed\": 3}, \"layers\": ["
             "{\"type\": \"gru\", \"hidden_size\": 24, \"direction\": \"%s\"}, {\"type\": \"dense\", \"units\": %d}]}",
             WORDS, direction, TAGS);
    if ((status = recur_model_load_json(document, strlen(document), &model)) != RECUR_OK) {
        fail("load", status);
        goto done;
    }
    status = recur_trainer_create(model, "{\"loss\": \"cross_entropy\", \"optimizer\": {\"type\": \"adam\", \"learning_rate\": 0.01}}",
                                  &trainer);
    if (status != RECUR_OK) {
        fail("trainer", status);
        goto done;
    }
    rng = 2463534242u; /* both models see the same training sentences */
    for (int step = 0; step < TRAIN_STEPS; step++) {
        make_sentences(BATCH, x, tags, lengths);
        status = recur_trainer_step_labels_lengths(trainer, x, BATCH, STEPS, lengths, tags, &loss);
        if (status != RECUR_OK) {
            fail("training step", status);
            goto done;
        }
        if (step == 0) first = loss;
    }
    printf("%-13s loss %.3f -> %.3f after %d steps of %d sentences\n", direction, first, loss, TRAIN_STEPS, BATCH);

    /* Score: one call over all test sentences, each for its own length. */
    if ((status = recur_state_create(model, TEST, &state)) != RECUR_OK ||
        (status = recur_state_run_lengths(state, test_x, STEPS, test_lengths, y)) != RECUR_OK) {
        fail("run", status);
        goto done;
    }
    for (size_t s = 0; s < TEST; s++) {
        for (size_t t = 0; t < STEPS; t++) {
            const float *logits = y + (s * STEPS + t) * TAGS;
            if (t >= test_lengths[s]) {
                if (logits[0] != 0 || logits[1] != 0 || logits[2] != 0) {
                    fprintf(stderr, "tagger: output past a sentence's end is not 0\n");
                    goto done;
                }
                continue;
            }
            int best = 0;
            for (int k = 1; k < TAGS; k++)
                if (logits[k] > logits[best]) best = k;
            right += best == test_tags[s * STEPS + t];
            total += 1;
        }
    }
    score = right / total;
    printf("%-13s %.1f%% of %.0f tags right on %d new sentences\n", direction, 100 * score, total, TEST);
done:
    recur_state_free(state);
    recur_trainer_free(trainer);
    recur_model_free(model);
    return score;
}

int main(void)
{
    static float test_x[TEST * STEPS * WORDS];
    static int32_t test_tags[TEST * STEPS];
    static size_t test_lengths[TEST];

    rng = 88172645u;
    make_sentences(TEST, test_x, test_tags, test_lengths);
    double both = train_and_score("bidirectional", test_x, test_tags, test_lengths);
    double ahead = train_and_score("forward", test_x, test_tags, test_lengths);
    if (both < 0 || ahead < 0) return 1;
    printf("bidirectional - forward: %+.1f points\n", 100 * (both - ahead));
    if (both < 0.97 || both - ahead < 0.20) {
        fprintf(stderr, "tagger: expected >= 97%% for the bidirectional tagger and >= 20 points over the forward one\n");
        return 1;
    }
    return 0;
}
