/* test_alloc.c: proves that recur_state_step, recur_state_run and
 * recur_trainer_step allocate nothing after warm-up. The program interposes
 * malloc, calloc, realloc, posix_memalign and aligned_alloc (the Swift
 * runtime and librecur allocate through them) and counts calls while a
 * flag is set. Prints `N passed, N failed`.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "recur.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static volatile int counting = 0;
static volatile long allocations = 0;

void *malloc(size_t size) { if (counting) allocations++; return __libc_malloc(size); }
void *calloc(size_t n, size_t size) { if (counting) allocations++; return __libc_calloc(n, size); }
void *realloc(void *p, size_t size) { if (counting) allocations++; return __libc_realloc(p, size); }
void *aligned_alloc(size_t alignment, size_t size) { if (counting) allocations++; return __libc_memalign(alignment, size); }
int posix_memalign(void **out, size_t alignment, size_t size)
{
    if (counting) allocations++;
    void *p = __libc_memalign(alignment, size);
    if (!p) return 12;
    *out = p;
    return 0;
}

static int passed = 0, failed = 0;

static void check(int ok, const char *what, long count)
{
    if (ok) passed++;
    else { failed++; printf("FAIL: %s: %ld allocations\n", what, count); }
}

static recur_model *load(const char *layers, size_t input)
{
    char text[512];
    snprintf(text, sizeof text,
             "{\"format\": \"recur\", \"version\": 1, \"input_size\": %zu, \"init\": {\"seed\": 4}, \"layers\": [%s]}", input, layers);
    recur_model *model = NULL;
    if (recur_model_load_json(text, strlen(text), &model) != RECUR_OK) {
        printf("FAIL: load: %s\n", recur_last_error());
        exit(1);
    }
    return model;
}

int main(void)
{
    const char *stacks[] = {
        "{\"type\": \"lstm\", \"hidden_size\": 20}, {\"type\": \"dense\", \"units\": 3, \"activation\": \"softmax\"}",
        "{\"type\": \"gru\", \"hidden_size\": 33}, {\"type\": \"rnn\", \"hidden_size\": 7, \"activation\": \"relu\"}, {\"type\": \"dense\", \"units\": 2}",
    };
    for (int m = 0; m < 2; m++) {
        recur_model *model = load(stacks[m], 5);
        size_t batch = 4, steps = 150, in = 5, out = recur_model_output_size(model);
        float *x = calloc(batch * steps * in, sizeof *x), *y = calloc(batch * steps * out, sizeof *y);
        float *target = calloc(batch * steps * out, sizeof *target);
        for (size_t i = 0; i < batch * steps * in; i++) x[i] = (float)((i * 37) % 11) / 11.0f - 0.5f;
        for (size_t i = 0; i < batch * steps * out; i++) target[i] = (float)(i % 2);
        recur_state *state = NULL;
        recur_trainer *trainer = NULL;
        recur_state_create(model, batch, &state);
        recur_model *copy = NULL;
        recur_model_clone(model, &copy);
        recur_trainer_create(copy, m == 0 ? "{\"loss\": \"cross_entropy\", \"optimizer\": {\"type\": \"adamw\"}, \"clip_gradient_norm\": 0.5}"
                                          : "{\"stateful\": true, \"optimizer\": {\"type\": \"sgd\", \"momentum\": 0.9, \"learning_rate\": 0.01}}",
                             &trainer);
        /* Warm up: the first trainer step of a size allocates its tape. */
        recur_state_step(state, x, y);
        recur_state_run(state, x, steps, y);
        float loss;
        if (recur_trainer_step(trainer, x, batch, steps, target, &loss) != RECUR_OK) printf("note: %s\n", recur_last_error());

        counting = 1; allocations = 0;
        for (int i = 0; i < 100; i++) recur_state_step(state, x, y);
        counting = 0;
        check(allocations == 0, m == 0 ? "recur_state_step (lstm)" : "recur_state_step (gru, rnn)", allocations);

        counting = 1; allocations = 0;
        for (int i = 0; i < 5; i++) recur_state_run(state, x, steps, y);
        counting = 0;
        check(allocations == 0, "recur_state_run", allocations);

        counting = 1; allocations = 0;
        recur_status status = RECUR_OK;
        for (int i = 0; i < 3; i++) status |= recur_trainer_step(trainer, x, batch, steps, target, &loss);
        counting = 0;
        check(status == RECUR_OK, "trainer steps succeed", 0);
        check(allocations == 0, "recur_trainer_step", allocations);

        counting = 1; allocations = 0;
        recur_state_reset(state);
        recur_state_reset_stream(state, 1);
        counting = 0;
        check(allocations == 0, "recur_state_reset / reset_stream", allocations);

        recur_trainer_free(trainer);
        recur_model_free(copy);
        recur_state_free(state);
        recur_model_free(model);
        free(x); free(y); free(target);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
