/* jsonc_parse.c: json-c's bare parse of a JSON file, the yardstick for the L1
 * target in benchmarks.md ("JSON load within 1.25x of json-c's bare parse of
 * the same file").
 *
 * Each run is a child process: it reads the whole file into memory (not
 * timed), then times json_tokener_parse_ex over the text (timed) and exits
 * without freeing. The parent takes the child's peak RSS from wait4, so each
 * figure is that run's own (buffer of the file text + json-c's objects).
 * Prints one JSON line: the best time and the largest peak over the runs.
 *
 *   jsonc_parse FILE [RUNS]
 *
 * Build: cc -O2 -std=c99 benchmarks/jsonc_parse.c -o build/bench/jsonc_parse -ljson-c
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <json-c/json.h>

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static char *read_file(const char *path, size_t *out_length)
{
    FILE *file = fopen(path, "rb");
    if (!file) return NULL;
    fseek(file, 0, SEEK_END);
    long length = ftell(file);
    fseek(file, 0, SEEK_SET);
    char *text = length >= 0 ? malloc((size_t)length + 1) : NULL;
    if (text && fread(text, 1, (size_t)length, file) != (size_t)length) {
        free(text);
        text = NULL;
    }
    fclose(file);
    if (text) {
        text[length] = 0;
        *out_length = (size_t)length;
    }
    return text;
}

/* In the child: parse once, send the parse time (seconds, < 0 on failure). */
static void child_run(const char *path, int fd)
{
    double seconds = -1;
    size_t length = 0;
    char *text = read_file(path, &length);
    if (text && length < 0x7fffffff) {
        json_tokener *tokener = json_tokener_new();
        double start = now_seconds();
        json_object *root = json_tokener_parse_ex(tokener, text, (int)length);
        double elapsed = now_seconds() - start;
        if (root && json_tokener_get_error(tokener) == json_tokener_success) seconds = elapsed;
    }
    if (write(fd, &seconds, sizeof seconds) != (ssize_t)sizeof seconds) _exit(1);
    _exit(0); /* The process ends here: freeing the objects is not part of the parse. */
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: jsonc_parse FILE [RUNS]\n");
        return 2;
    }
    const char *path = argv[1];
    int runs = argc == 3 ? atoi(argv[2]) : 3;
    if (runs < 1) runs = 1;

    FILE *file = fopen(path, "rb");
    if (!file) { perror(path); return 1; }
    fseek(file, 0, SEEK_END);
    long bytes = ftell(file);
    fclose(file);

    double best = -1;
    long peak_kb = 0;
    for (int run = 0; run < runs; run++) {
        int pipefd[2];
        if (pipe(pipefd) != 0) { perror("pipe"); return 1; }
        fflush(stdout);
        pid_t child = fork();
        if (child < 0) { perror("fork"); return 1; }
        if (child == 0) {
            close(pipefd[0]);
            child_run(path, pipefd[1]);
        }
        close(pipefd[1]);
        double seconds = -1;
        if (read(pipefd[0], &seconds, sizeof seconds) != (ssize_t)sizeof seconds) seconds = -1;
        close(pipefd[0]);
        int status = 0;
        struct rusage usage;
        if (wait4(child, &status, 0, &usage) < 0) { perror("wait4"); return 1; }
        if (seconds < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "jsonc_parse: %s: parse failed\n", path);
            return 1;
        }
        if (best < 0 || seconds < best) best = seconds;
        if (usage.ru_maxrss > peak_kb) peak_kb = usage.ru_maxrss;
    }
    printf("{\"file\": \"%s\", \"file_bytes\": %ld, \"runs\": %d, \"parse_s\": %.6f, \"peak_rss_kb\": %ld}\n",
           path, bytes, runs, best, peak_kb);
    return 0;
}
