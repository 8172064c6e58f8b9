/* test_oom.c: every entry point that allocates by the size of its input,
 * with the Nth large allocation failing, for every N: the call returns
 * RECUR_ERROR_OUT_OF_MEMORY (or RECUR_OK, when the failed allocation was
 * one it could do without), and never aborts (issue 15, D1).
 *
 * malloc, calloc, realloc, posix_memalign and aligned_alloc are interposed
 * (the Swift runtime and librecur allocate through them). Allocations of
 * at least LARGE bytes are the ones whose size the input decides (a model's
 * buffers, a file's bytes, a JSON text); smaller ones (Swift objects,
 * messages) are left alone. Each case runs in a child process, so that an
 * abort is seen as a signal. Prints `N passed, N failed`.
 *
 *   test_oom MODEL_DIR     (a writable scratch directory)
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "recur.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

enum { LARGE = 64 * 1024 };
static long fail_at = 0;     /* fail the fail_at-th large allocation (0: none) */
static long large_seen = 0;  /* large allocations so far while armed */
static int armed = 0;

static int should_fail(size_t size)
{
    if (!armed || size < LARGE) return 0;
    return ++large_seen == fail_at;
}

void *malloc(size_t size) { return should_fail(size) ? NULL : __libc_malloc(size); }
void *calloc(size_t n, size_t size) { return should_fail(n * size) ? NULL : __libc_calloc(n, size); }
void *realloc(void *p, size_t size) { return should_fail(size) ? NULL : __libc_realloc(p, size); }
void *aligned_alloc(size_t alignment, size_t size) { return should_fail(size) ? NULL : __libc_memalign(alignment, size); }
int posix_memalign(void **out, size_t alignment, size_t size)
{
    if (should_fail(size)) return 12;
    void *p = __libc_memalign(alignment, size);
    if (!p) return 12;
    *out = p;
    return 0;
}

static int passed = 0, failed = 0;
static char directory[512];

/* A model large enough that its buffers, its JSON text and its file are
   all LARGE: an LSTM 32 -> 96 and a dense 8 (about 50k parameters). */
static const char *document =
    "{\"format\": \"recur\", \"version\": 1, \"input_size\": 32, \"init\": {\"seed\": 5}, "
    "\"metadata\": {\"by\": \"test_oom\"}, \"layers\": [{\"type\": \"lstm\", \"hidden_size\": 96}, "
    "{\"type\": \"dense\", \"units\": 8}]}";

static recur_model *make_model(void)
{
    recur_model *model = NULL;
    if (recur_model_load_json(document, strlen(document), &model) != RECUR_OK) {
        printf("setup: %s\n", recur_last_error());
        exit(3);
    }
    return model;
}

/* The cases: each arms the failure around one library call and returns
   the call's status. Setup (unarmed) may use the library freely. */
typedef recur_status (*case_fn)(void);

#define ARMED(call) do { armed = 1; status = (call); armed = 0; } while (0)

static recur_status case_load_flat(void)
{
    static char *text;
    size_t length;
    recur_status status;
    recur_model *model = make_model(), *loaded = NULL;
    recur_model_to_json_encoded(model, RECUR_TENSORS_FLAT, &text, &length);
    ARMED(recur_model_load_json(text, length, &loaded));
    recur_model_free(loaded);
    return status;
}

static recur_status case_load_base64_file(void)
{
    char path[600];
    recur_status status;
    recur_model *model = make_model(), *loaded = NULL;
    snprintf(path, sizeof path, "%s/oom_base64.json", directory);
    recur_model_save_file_encoded(model, path, RECUR_TENSORS_BASE64);
    ARMED(recur_model_load_file(path, &loaded));
    recur_model_free(loaded);
    return status;
}

static recur_status case_to_json(void)
{
    char *text = NULL;
    size_t length = 0;
    recur_status status;
    recur_model *model = make_model();
    ARMED(recur_model_to_json_encoded(model, RECUR_TENSORS_FLAT, &text, &length));
    if (status == RECUR_OK && strlen(text) != length) return RECUR_ERROR_INTERNAL;
    recur_string_free(text);
    return status;
}

static recur_status case_save(void)
{
    char path[600];
    recur_status status;
    recur_model *model = make_model();
    snprintf(path, sizeof path, "%s/oom_save.json", directory);
    ARMED(recur_model_save_file(model, path));
    return status;
}

static recur_status case_clone(void)
{
    recur_status status;
    recur_model *model = make_model(), *copy = NULL;
    ARMED(recur_model_clone(model, &copy));
    recur_model_free(copy);
    return status;
}

static recur_status case_fp16(void)
{
    recur_status status;
    recur_model *model = make_model();
    ARMED(recur_model_set_weight_storage(model, RECUR_WEIGHTS_FP16));
    return status;
}

static recur_status case_int8(void)
{
    /* Larger than make_model's, so that the int8 copy itself is LARGE. */
    const char *big = "{\"format\": \"recur\", \"version\": 1, \"input_size\": 64, \"init\": {\"seed\": 5}, "
                      "\"layers\": [{\"type\": \"lstm\", \"hidden_size\": 256}]}";
    recur_status status;
    recur_model *model = NULL;
    if (recur_model_load_json(big, strlen(big), &model) != RECUR_OK) exit(3);
    ARMED(recur_model_set_weight_storage(model, RECUR_WEIGHTS_INT8));
    return status;
}

static recur_status case_state_run(void)
{
    static float x[64 * 40 * 32], y[64 * 40 * 8];
    recur_status status;
    recur_model *model = make_model();
    recur_state *state = NULL;
    armed = 1;
    status = recur_state_create(model, 64, &state);
    if (status == RECUR_OK) status = recur_state_run(state, x, 40, y);
    armed = 0;
    recur_state_free(state);
    return status;
}

static recur_status case_trainer_step(void)
{
    static float x[16 * 30 * 32], target[16 * 30 * 8];
    float loss;
    recur_status status;
    recur_model *model = make_model();
    recur_trainer *trainer = NULL;
    armed = 1;
    status = recur_trainer_create(model, "{\"optimizer\": {\"type\": \"adam\"}}", &trainer);
    if (status == RECUR_OK) status = recur_trainer_step(trainer, x, 16, 30, target, &loss);
    armed = 0;
    recur_trainer_free(trainer);
    return status;
}

static const struct { const char *name; case_fn run; } cases[] = {
    {"load_json (flat)", case_load_flat}, {"load_file (base64)", case_load_base64_file},
    {"to_json", case_to_json}, {"save_file", case_save}, {"clone", case_clone},
    {"set_weight_storage fp16", case_fp16}, {"set_weight_storage int8", case_int8},
    {"state_create + run", case_state_run},
    {"trainer_create + step", case_trainer_step},
};

/* Runs case `c` in a child with the n-th large allocation failing. Returns
   1 when the call succeeded without reaching the n-th allocation (so
   larger n add nothing), 0 otherwise; counts a pass or a failure. */
static int run_child(size_t c, long n)
{
    pid_t pid = fork();
    if (pid == 0) {
        fail_at = n;
        recur_status status = cases[c].run();
        int reached = large_seen >= n;
        if (status == RECUR_OK) _exit(reached ? 0 : 10);
        if (status == RECUR_ERROR_OUT_OF_MEMORY && strlen(recur_last_error()) > 0) _exit(0);
        fprintf(stderr, "  %s, allocation %ld failing: %s: %s\n", cases[c].name, n, recur_status_string(status),
                recur_last_error());
        _exit(2);
    }
    int result = 0;
    waitpid(pid, &result, 0);
    if (WIFSIGNALED(result)) {
        printf("FAIL: %s with large allocation %ld failing: killed by signal %d (an abort)\n", cases[c].name, n,
               WTERMSIG(result));
        failed++;
        return 1;
    }
    int code = WEXITSTATUS(result);
    if (code == 10) return 1;
    if (code == 0) passed++;
    else { printf("FAIL: %s with large allocation %ld failing: exit %d\n", cases[c].name, n, code); failed++; }
    return 0;
}

int main(int argc, char **argv)
{
    snprintf(directory, sizeof directory, "%s", argc > 1 ? argv[1] : "/tmp");
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        long n = 1;
        while (!run_child(c, n) && n < 400) n++;
        printf("%-26s every one of its %ld large allocations failing in turn: handled\n", cases[c].name, n - 1);
        if (n == 1) { printf("FAIL: %s made no large allocation (the case tests nothing)\n", cases[c].name); failed++; }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
