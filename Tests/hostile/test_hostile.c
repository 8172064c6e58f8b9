/* test_hostile.c: hostile and careless input through the C API (issue 15:
 * D1, D3-D5, D7, D8, D10 and their neighbours, in other shapes and sizes).
 * Every call must return a status and a message naming what and where;
 * memory must follow what a document holds, not what it declares; refused
 * training steps must change nothing. Prints `N passed, N failed`.
 *
 *   test_hostile SCRATCH_DIR
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "recur.h"

static int passed = 0, failed = 0;
static char scratch[512];

#define CHECK(ok, ...) do { if (ok) passed++; else { failed++; printf("FAIL: "); printf(__VA_ARGS__); printf("\n"); } } while (0)

/* A growable text, for documents built here. */
typedef struct { char *text; size_t length, capacity; } Text;
static void put(Text *t, const char *s)
{
    size_t n = strlen(s);
    if (t->length + n + 1 > t->capacity) {
        t->capacity = (t->length + n + 1) * 2;
        t->text = realloc(t->text, t->capacity);
        if (!t->text) { printf("out of memory in the test\n"); exit(3); }
    }
    memcpy(t->text + t->length, s, n + 1);
    t->length += n;
}

static const char *head = "{\"format\": \"recur\", \"version\": 1, \"input_size\": 4, ";

/* Loads `text` in a child process and reports its status, the message,
   and how much the child's peak memory grew (KiB). */
static recur_status load_in_child(const char *text, size_t length, char *message, size_t message_size, long *grown_kb)
{
    int pipe_fd[2];
    if (pipe(pipe_fd) != 0) exit(3);
    pid_t pid = fork();
    if (pid == 0) {
        close(pipe_fd[0]);
        struct rusage before, after;
        getrusage(RUSAGE_SELF, &before);
        recur_model *model = NULL;
        recur_status status = recur_model_load_json(text, length, &model);
        getrusage(RUSAGE_SELF, &after);
        char out[1200];
        int n = snprintf(out, sizeof out, "%d %ld %s", (int)status, after.ru_maxrss - before.ru_maxrss,
                         status == RECUR_OK ? "" : recur_last_error());
        if (write(pipe_fd[1], out, (size_t)n) < 0) _exit(4);
        _exit(0);
    }
    close(pipe_fd[1]);
    char in[1200] = {0};
    ssize_t got = 0, n;
    while ((n = read(pipe_fd[0], in + got, sizeof in - 1 - (size_t)got)) > 0) got += n;
    close(pipe_fd[0]);
    int result = 0;
    waitpid(pid, &result, 0);
    if (!WIFEXITED(result)) { snprintf(message, message_size, "killed by signal %d", WTERMSIG(result)); return (recur_status)-1; }
    int status = 0;
    long grown = 0;
    int offset = 0;
    sscanf(in, "%d %ld %n", &status, &grown, &offset);
    snprintf(message, message_size, "%s", in + offset);
    *grown_kb = grown;
    return (recur_status)status;
}

/* D7 and neighbours: documents whose json-c tree would dwarf their text.
   D8 and neighbours: documents that declare more than they hold. Each
   must be refused as MODEL (with the path) with peak memory within a small
   multiple of the text (20x, + 16 MiB for the runtime). */
static void bombs(void)
{
    struct { const char *what, *element; size_t count; const char *prefix, *suffix, *path; } bombs[] = {
        {"1.3M empty objects in metadata (D7)", "{}", 1300000, "\"metadata\": {\"a\": [", "]}, ", "metadata"},
        {"500k empty arrays in metadata", "[]", 500000, "\"metadata\": {\"a\": [", "]}, ", "metadata"},
        {"400k small numbers in metadata", "1", 400000, "\"metadata\": {\"a\": [", "]}, ", "metadata"},
        {"300k nested objects in an unknown top-level key", "{\"k\": 1}", 300000, "\"extra\": [", "], ", "objects"},
        {"200k objects inside a layer", "{}", 200000, "", "", "objects"},
    };
    for (size_t b = 0; b < sizeof bombs / sizeof bombs[0]; b++) {
        Text t = {0};
        put(&t, head);
        if (b == 4) {
            put(&t, "\"layers\": [{\"type\": \"dense\", \"units\": 1, \"junk\": [");
            for (size_t i = 0; i < bombs[b].count; i++) put(&t, i ? ",{}" : "{}");
            put(&t, "]}]}");
        } else {
            put(&t, bombs[b].prefix);
            for (size_t i = 0; i < bombs[b].count; i++) { if (i) put(&t, ","); put(&t, bombs[b].element); }
            put(&t, bombs[b].suffix);
            put(&t, "\"layers\": [{\"type\": \"dense\", \"units\": 1}]}");
        }
        char message[1200];
        long grown = 0;
        recur_status status = load_in_child(t.text, t.length, message, sizeof message, &grown);
        long limit_kb = (long)(20 * t.length / 1024) + 16 * 1024;
        CHECK(status == RECUR_ERROR_MODEL && strstr(message, bombs[b].path), "%s: %s (%s), expected MODEL naming %s",
              bombs[b].what, recur_status_string(status), message, bombs[b].path);
        CHECK(grown <= limit_kb, "%s: peak memory grew %ld KiB for a %zu-byte document (limit %ld KiB)", bombs[b].what,
              grown, t.length, limit_kb);
        free(t.text);
    }

    /* Declared sizes against the data present (D8): each tiny document asks
       for a layer of hidden_size 16000 (~1 GB of weights) with almost no data. */
    const char *declared[] = {
        "\"layers\": [{\"type\": \"rnn\", \"hidden_size\": 16000, \"weights\": {\"weight_ih\": {\"shape\": [16000, 4], \"data\": [1]}, \"weight_hh\": [[0]]}}]}",
        "\"layers\": [{\"type\": \"rnn\", \"hidden_size\": 16000, \"weights\": {\"weight_ih\": [[1, 2, 3, 4]], \"weight_hh\": [[0]]}}]}",
        "\"layers\": [{\"type\": \"lstm\", \"hidden_size\": 16000, \"weights\": {\"weight_ih\": {\"shape\": [64000, 4], \"base64\": \"AAAAAA==\"}, \"weight_hh\": [[0]]}}]}",
        "\"layers\": [{\"type\": \"gru\", \"hidden_size\": 9000, \"weights\": {\"weight_ih\": {\"shape\": [27000, 4], \"data\": []}, \"weight_hh\": {\"shape\": [27000, 9000], \"data\": [0]}}}]}",
        "\"layers\": [{\"type\": \"dense\", \"units\": 1000000, \"weights\": {\"weight\": {\"shape\": [1000000, 4], \"data\": [0, 0, 0, 0]}}}]}",
    };
    for (size_t d = 0; d < sizeof declared / sizeof declared[0]; d++) {
        Text t = {0};
        put(&t, head);
        put(&t, declared[d]);
        char message[1200];
        long grown = 0;
        recur_status status = load_in_child(t.text, t.length, message, sizeof message, &grown);
        CHECK(status == RECUR_ERROR_MODEL && strstr(message, "layers[0]."), "declared sizes %zu: %s (%s)", d,
              recur_status_string(status), message);
        CHECK(grown <= 16 * 1024, "declared sizes %zu: peak memory grew %ld KiB before the refusal (D8)", d, grown);
        free(t.text);
    }
}

/* D3: a FIFO, a directory and a device as the model path: refused at once as IO. */
static void files(void)
{
    char fifo[600];
    snprintf(fifo, sizeof fifo, "%s/hostile_fifo.json", scratch);
    unlink(fifo);
    CHECK(mkfifo(fifo, 0600) == 0, "mkfifo %s: %s", fifo, strerror(errno));
    const char *paths[] = {fifo, scratch, "/dev/zero", "/dev/null"};
    for (size_t p = 0; p < 4; p++) {
        pid_t pid = fork();
        if (pid == 0) {
            alarm(5); /* a hang dies by SIGALRM */
            recur_model *model = NULL;
            recur_status status = recur_model_load_file(paths[p], &model);
            _exit(status == RECUR_ERROR_IO && strstr(recur_last_error(), paths[p]) ? 0 : 1);
        }
        int result = 0;
        waitpid(pid, &result, 0);
        CHECK(WIFEXITED(result) && WEXITSTATUS(result) == 0, "load_file(%s): %s", paths[p],
              WIFSIGNALED(result) ? "hung or crashed" : "not refused as IO naming the path");
    }
    unlink(fifo);

    /* Saving over names the filesystem accepts, up to 255 bytes. */
    recur_model *model = NULL;
    const char *tiny = "{\"format\": \"recur\", \"version\": 1, \"input_size\": 2, \"init\": {\"seed\": 1}, \"layers\": [{\"type\": \"gru\", \"hidden_size\": 3}]}";
    recur_model_load_json(tiny, strlen(tiny), &model);
    for (size_t length = 240; length <= 255; length += 5) {
        char path[900];
        int n = snprintf(path, sizeof path, "%s/", scratch);
        memset(path + n, 'm', length - 5);
        strcpy(path + n + length - 5, ".json");
        recur_status first = recur_model_save_file(model, path), second = recur_model_save_file(model, path);
        CHECK(first == RECUR_OK && second == RECUR_OK, "saving over a %zu-byte name: %s", length, recur_last_error());
        unlink(path);
    }
    recur_model_free(model);
}

/* D4, D5: training that would store what float32 or fp16 cannot hold is
   refused as NUMERIC and changes nothing. */
static void training(void)
{
    const char *lstm = "{\"format\": \"recur\", \"version\": 1, \"input_size\": 2, \"init\": {\"seed\": 1}, \"layers\": [{\"type\": \"lstm\", \"hidden_size\": 3}, {\"type\": \"dense\", \"units\": 1}]}";
    const float targets[] = {1e25f, -1e25f, 3e38f};
    const char *configs[] = {"{\"clip_gradient_norm\": 1.0}", "{}", "{\"loss\": \"mse\", \"optimizer\": {\"type\": \"sgd\", \"learning_rate\": 0.5}}"};
    for (size_t c = 0; c < 3; c++) {
        recur_model *model = NULL;
        recur_trainer *trainer = NULL;
        recur_model_load_json(lstm, strlen(lstm), &model);
        recur_trainer_create(model, configs[c], &trainer);
        char *before = NULL, *after = NULL;
        recur_model_to_json(model, &before, NULL);
        float x[2 * 2] = {1, 1, 1, 1}, y[2] = {targets[c], targets[c]}, loss = 0;
        recur_status status = recur_trainer_step(trainer, x, 1, 2, y, &loss);
        recur_model_to_json(model, &after, NULL);
        CHECK(status == RECUR_ERROR_NUMERIC && strcmp(before, after) == 0, "target %g with %s: %s (%s), model %s",
              (double)targets[c], configs[c], recur_status_string(status), recur_last_error(),
              strcmp(before, after) ? "changed" : "unchanged");
        recur_string_free(before);
        recur_string_free(after);
        recur_trainer_free(trainer);
        recur_model_free(model);
    }
    /* fp16 copies: an update past 65504 is refused; inference stays finite. */
    const char *near = "{\"format\": \"recur\", \"version\": 1, \"input_size\": 1, \"layers\": [{\"type\": \"dense\", \"units\": 1, \"weights\": {\"weight\": [[1.0]], \"bias\": [65000.0]}}]}";
    for (int optimizer = 0; optimizer < 2; optimizer++) {
        recur_model *model = NULL;
        recur_trainer *trainer = NULL;
        recur_state *state = NULL;
        recur_model_load_json(near, strlen(near), &model);
        recur_model_set_weight_storage(model, RECUR_WEIGHTS_FP16);
        recur_trainer_create(model, optimizer ? "{\"optimizer\": {\"type\": \"sgd\", \"learning_rate\": 10}}"
                                              : "{\"optimizer\": {\"type\": \"adam\", \"learning_rate\": 1000}}", &trainer);
        float x[1] = {1}, target[1] = {optimizer ? -1e6f : 1e6f}, loss = 0, y[1] = {0};
        recur_status status = recur_trainer_step(trainer, x, 1, 1, target, &loss);
        char message[600];
        snprintf(message, sizeof message, "%s", recur_last_error());
        CHECK(strstr(message, "fp16") != NULL, "the refusal names fp16: %s", message);
        recur_state_create(model, 1, &state);
        recur_state_step(state, x, y);
        CHECK(status == RECUR_ERROR_NUMERIC, "an update past fp16's range with fp16 copies: %s (D5)", recur_status_string(status));
        CHECK(y[0] == y[0] && y[0] > 60000 && y[0] < 70000, "fp16 model after a refused step outputs %g (D5)", (double)y[0]);
        recur_state_free(state);
        recur_trainer_free(trainer);
        recur_model_free(model);
    }
}

/* D10: sizes as passed (unsigned), the call's own indices, nesting 64. */
static void messages(void)
{
    const char *tiny = "{\"format\": \"recur\", \"version\": 1, \"input_size\": 2, \"init\": {\"seed\": 1}, \"layers\": [{\"type\": \"gru\", \"hidden_size\": 3}]}";
    recur_model *model = NULL;
    recur_state *state = NULL;
    recur_trainer *trainer = NULL;
    recur_model_load_json(tiny, strlen(tiny), &model);
    recur_state_create(model, 2, &state);
    recur_trainer_create(model, "{}", &trainer);
    recur_trainer_set_threads(trainer, (size_t)-1);
    CHECK(strstr(recur_last_error(), "18446744073709551615") != NULL, "set_threads(-1) says: %s", recur_last_error());
    recur_state_reset_stream(state, (size_t)1 << 63);
    CHECK(strstr(recur_last_error(), "9223372036854775808") != NULL, "reset_stream(2^63) says: %s", recur_last_error());
    recur_state_reset_stream(state, 5);
    CHECK(strstr(recur_last_error(), "stream 5") != NULL, "reset_stream(5) says: %s", recur_last_error());
    float x[2 * 2] = {0, 0, 0, 1.0f / 0.0f}, y[2 * 3];
    recur_state_step(state, x, y);
    CHECK(strstr(recur_last_error(), "input[1][1]") != NULL, "a step's NaN is named by stream and input: %s", recur_last_error());
    float xs[2 * 3 * 2] = {0};
    xs[7] = 0.0f / 0.0f; /* stream 1, step 0, input 1 */
    float ys[2 * 3 * 3];
    recur_state_run(state, xs, 3, ys);
    CHECK(strstr(recur_last_error(), "input[1][0][1]") != NULL, "a run's NaN is named by stream, step and input: %s", recur_last_error());
    {
        /* A NUL in a key would cut every message that names the key. */
        const char *text = "{\"format\": \"recur\", \"version\": 1, \"input_size\": 1, \"layers\": [{\"type\": \"dense\", \"units\": 1, \"a\\u0000b\": 1}]}";
        recur_model *m = NULL;
        recur_status status = recur_model_load_json(text, strlen(text), &m);
        CHECK(status == RECUR_ERROR_MODEL && strstr(recur_last_error(), "\\u0000"), "a NUL in a key: %s (%s)",
              recur_status_string(status), recur_last_error());
    }
    for (int depth = 63; depth <= 65; depth++) {
        char text[200];
        int n = 0;
        for (int i = 0; i < depth; i++) text[n++] = '[';
        for (int i = 0; i < depth; i++) text[n++] = ']';
        recur_model *m = NULL;
        recur_status status = recur_model_load_json(text, (size_t)n, &m);
        CHECK(depth <= 64 ? status == RECUR_ERROR_MODEL : status == RECUR_ERROR_PARSE && strstr(recur_last_error(), "nesting"),
              "nesting %d: %s (%s)", depth, recur_status_string(status), recur_last_error());
    }
    recur_trainer_free(trainer);
    recur_state_free(state);
    recur_model_free(model);
}

/* D1 as reported: a 100M-parameter model under a 700 MB address-space
   limit. Loading fits; clone, to_json and save may not: each must return
   OUT_OF_MEMORY (or OK), never abort. */
static void address_space_limit(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit limit = {700UL << 20, 700UL << 20};
        setrlimit(RLIMIT_AS, &limit);
        const char *big = "{\"format\":\"recur\",\"version\":1,\"input_size\":8,\"layers\":[{\"type\":\"rnn\",\"hidden_size\":10000}],\"init\":{\"seed\":3}}";
        recur_model *model = NULL, *copy = NULL;
        char *json = NULL, path[600];
        size_t length = 0;
        snprintf(path, sizeof path, "%s/hostile_big.json", scratch);
        recur_status statuses[4];
        statuses[0] = recur_model_load_json(big, strlen(big), &model);
        statuses[1] = model ? recur_model_clone(model, &copy) : RECUR_ERROR_INVALID_ARGUMENT;
        statuses[2] = model ? recur_model_to_json(model, &json, &length) : RECUR_ERROR_INVALID_ARGUMENT;
        statuses[3] = model ? recur_model_save_file(model, path) : RECUR_ERROR_INVALID_ARGUMENT;
        unlink(path);
        for (int i = 0; i < 4; i++)
            if (statuses[i] != RECUR_OK && statuses[i] != RECUR_ERROR_OUT_OF_MEMORY) _exit(10 + i);
        _exit(statuses[0] == RECUR_OK ? 0 : 9);
    }
    int result = 0;
    waitpid(pid, &result, 0);
    CHECK(WIFEXITED(result) && WEXITSTATUS(result) == 0, "a 100M-parameter model under a 700 MB limit: %s %d (D1)",
          WIFSIGNALED(result) ? "killed by signal" : "exit", WIFSIGNALED(result) ? WTERMSIG(result) : WEXITSTATUS(result));
}

int main(int argc, char **argv)
{
    snprintf(scratch, sizeof scratch, "%s", argc > 1 ? argv[1] : "/tmp");
    bombs();
    files();
    training();
    messages();
    address_space_limit();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
