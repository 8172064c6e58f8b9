/*
 * agents.c: a game loop with 500 agents, each steered by its own LSTM.
 *
 * Every agent lives in the square [-1, 1]^2 and chases a target. Its
 * controller is a small LSTM (examples/models/agents_lstm.json: 6 inputs ->
 * LSTM(16) -> dense(2, tanh)) that sees, each frame,
 *
 *   x = (target - position) (2), velocity (2), position (2)
 *
 * and outputs an acceleration in [-1, 1]^2 (times ACCEL). All 500 agents are
 * one batch: ONE recur_state_step call per frame advances every controller,
 * each stream with its own LSTM state. The world adds random gusts, agents
 * die of old age or by leaving the arena, and a dead agent respawns at once
 * somewhere else with a fresh controller: recur_state_reset_stream(state, i)
 * zeroes that agent's LSTM state and leaves the 499 others alone.
 *
 * The program
 *   1. runs FRAMES frames (60 per simulated second), timing each frame against
 *      a 60 fps budget (16.6 ms) and printing the cost per agent;
 *   2. takes a save-game at frame SAVE_AT: the controllers' state
 *      (recur_state_get) plus the world (agents, random generator, counters);
 *   3. loads the save-game (recur_state_set + the world) and replays frames
 *      SAVE_AT..FRAMES: every frame's world and controller outputs must equal
 *      the first run's bit for bit (memcmp);
 *   4. replays the same frames again with a second state split over 2 threads
 *      (recur_state_set_threads): Recur guarantees outputs bit-identical to
 *      one thread, so the trajectory must be identical too;
 *   5. replays the save-game in another process at another kernel level
 *      (RECUR_CPU=reference, and avx2 when this run uses avx512) and another
 *      thread count, as another machine would: Recur promises the same bits
 *      on every CPU with FMA (docs/c-api.md, "Determinism"), so the hash of
 *      every frame's world and outputs must equal this run's. RECUR_CPU is
 *      read when the library loads, hence the new process (this program run
 *      with --replay).
 * It exits 1 when a replay differs (or a call fails), 0 otherwise.
 *
 * The controller was trained by this program (`--train`): imitation of a
 * simple steering rule, a = tanh(4 (target - position) - 2 velocity), on
 * rollouts of the same world, with recur_trainer_step.
 *
 * Run from the project root:
 *   build/examples/agents [MODEL_JSON]     (default examples/models/agents_lstm.json)
 *   build/examples/agents --train OUT_JSON (retrain the controller, about 1 s)
 *   build/examples/agents --replay MODEL_JSON SAVE_FILE THREADS
 *                                          (step 5's other process: prints a hash)
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, popen, mkstemp */
#include "recur.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h> /* close */

enum {
    AGENTS = 500,  /* one batch of 500 streams */
    INPUTS = 6,    /* target - position, velocity, position */
    OUTPUTS = 2,   /* acceleration, in [-1, 1] */
    FRAMES = 600,  /* 10 simulated seconds */
    SAVE_AT = 240, /* the save-game is taken before this frame */
    REPORT = 60    /* a table row every REPORT frames */
};
#define DT (1.0f / 60.0f) /* seconds per frame */
#define ACCEL 3.0f        /* acceleration of an output of 1, units/s^2 */
#define DRAG 0.98f        /* velocity kept per frame */
#define GUST 0.6f         /* random acceleration, units/s^2 at most */
#define REACH 0.08f       /* distance at which a target counts as reached */
#define BUDGET_MS 16.6    /* one frame at 60 fps */

/* One agent: only 4-byte fields, so memcmp compares exactly the values. */
typedef struct {
    float x, y, vx, vy; /* position, velocity */
    float tx, ty;       /* target */
    int32_t age;        /* frames since it spawned */
    int32_t lifespan;   /* it dies of old age at this age */
} agent;

/* The whole world: what a save-game stores besides the controllers' state. */
typedef struct {
    agent agents[AGENTS];
    uint32_t rng;      /* the world's random generator */
    int32_t frame;     /* frames simulated */
    int32_t deaths;    /* deaths (= respawns) so far */
    int32_t strayed;   /* of which by leaving the arena */
    int32_t reached;   /* targets reached so far */
} world;

/* xorshift32: a uniform number in [0, 1). */
static float uniform(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return (float)(*s >> 8) / 16777216.0f;
}

static float between(uint32_t *s, float lo, float hi) { return lo + (hi - lo) * uniform(s); }

static void new_target(world *w, agent *a)
{
    a->tx = between(&w->rng, -0.8f, 0.8f);
    a->ty = between(&w->rng, -0.8f, 0.8f);
}

static void spawn(world *w, agent *a)
{
    a->x = between(&w->rng, -0.9f, 0.9f);
    a->y = between(&w->rng, -0.9f, 0.9f);
    a->vx = between(&w->rng, -0.5f, 0.5f);
    a->vy = between(&w->rng, -0.5f, 0.5f);
    a->age = 0;
    a->lifespan = 120 + (int32_t)(uniform(&w->rng) * 360.0f); /* 2 to 8 seconds */
    new_target(w, a);
}

static void world_init(world *w, uint32_t seed)
{
    int i;
    memset(w, 0, sizeof *w);
    w->rng = seed;
    for (i = 0; i < AGENTS; i++) spawn(w, &w->agents[i]);
    /* Spread the ages so that deaths do not all come at once. */
    for (i = 0; i < AGENTS; i++) w->agents[i].age = (int32_t)(uniform(&w->rng) * (float)w->agents[i].lifespan);
}

/* What agent a's controller sees. */
static void observe(const agent *a, float *x)
{
    x[0] = a->tx - a->x;
    x[1] = a->ty - a->y;
    x[2] = a->vx;
    x[3] = a->vy;
    x[4] = a->x;
    x[5] = a->y;
}

/* The steering rule the controller imitates (used by --train only). */
static void teacher(const float *x, float *out)
{
    out[0] = tanhf(4.0f * x[0] - 2.0f * x[2]);
    out[1] = tanhf(4.0f * x[1] - 2.0f * x[3]);
}

/* Moves agent a by one frame under control output u (2 values). */
static void move(world *w, agent *a, const float *u)
{
    float gx = between(&w->rng, -GUST, GUST), gy = between(&w->rng, -GUST, GUST);
    a->vx = DRAG * (a->vx + DT * (ACCEL * u[0] + gx));
    a->vy = DRAG * (a->vy + DT * (ACCEL * u[1] + gy));
    a->x += DT * a->vx;
    a->y += DT * a->vy;
    a->age++;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static int report(const char *what, recur_status status)
{
    fprintf(stderr, "agents: %s: %s: %s\n", what, recur_status_string(status), recur_last_error());
    return 1;
}

/* One frame: observe, ONE batched step for all agents, act, die/respawn.
   y receives the controllers' outputs [AGENTS][OUTPUTS]. *step_ms (when not
   NULL) receives the time of the recur_state_step call. */
static recur_status frame(world *w, recur_state *state, float *x, float *y, double *step_ms)
{
    recur_status status;
    double t0;
    int i;
    for (i = 0; i < AGENTS; i++) observe(&w->agents[i], x + i * INPUTS);
    t0 = now_ms();
    status = recur_state_step(state, x, y); /* all 500 controllers at once */
    if (step_ms) *step_ms = now_ms() - t0;
    if (status != RECUR_OK) return status;
    for (i = 0; i < AGENTS; i++) {
        agent *a = &w->agents[i];
        float dx, dy;
        move(w, a, y + i * OUTPUTS);
        dx = a->tx - a->x;
        dy = a->ty - a->y;
        if (dx * dx + dy * dy < REACH * REACH) {
            w->reached++;
            new_target(w, a);
        }
        if (a->age >= a->lifespan || fabsf(a->x) > 1.0f || fabsf(a->y) > 1.0f) {
            w->deaths++;
            if (a->age < a->lifespan) w->strayed++;
            spawn(w, a);
            status = recur_state_reset_stream(state, (size_t)i); /* a fresh controller for the newborn */
            if (status != RECUR_OK) return status;
        }
    }
    w->frame++;
    return RECUR_OK;
}

/* ---- 5. the same bits at another level, in another process -------------- */

/* FNV-1a 64 over bytes, continuing from h. */
static uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    size_t i;
    for (i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}
#define FNV_START 14695981039346656037ull

/* --replay MODEL SAVE_FILE THREADS: loads the save-game (LSTM state, then the
   world), replays frames SAVE_AT..FRAMES-1 on THREADS threads and prints the
   hash of every frame's world and outputs and of the final LSTM state, and
   the kernels used. */
static int replay_in_this_process(const char *path, const char *save_path, int threads)
{
    static float x[AGENTS * INPUTS], y[AGENTS * OUTPUTS];
    static world w;
    recur_model *model = NULL;
    recur_state *state = NULL;
    recur_status status;
    float *values = NULL;
    size_t floats = 0;
    uint64_t h = FNV_START;
    FILE *file;
    int f, ok;

    status = recur_model_load_file(path, &model);
    if (status != RECUR_OK) return report("recur_model_load_file", status);
    status = recur_state_create(model, AGENTS, &state);
    if (status == RECUR_OK) status = recur_state_set_threads(state, (size_t)threads);
    if (status == RECUR_OK) {
        floats = AGENTS * recur_state_size(state);
        values = malloc(floats * sizeof(float));
        file = fopen(save_path, "rb");
        ok = values && file && fread(values, sizeof(float), floats, file) == floats && fread(&w, sizeof w, 1, file) == 1;
        if (file) fclose(file);
        if (!ok) {
            fprintf(stderr, "agents: cannot read the save-game %s\n", save_path);
            status = RECUR_ERROR_IO;
        }
    }
    if (status == RECUR_OK) status = recur_state_set(state, values, floats);
    for (f = SAVE_AT; f < FRAMES && status == RECUR_OK; f++) {
        status = frame(&w, state, x, y, NULL);
        h = fnv1a(h, &w, sizeof w);
        h = fnv1a(h, y, sizeof y);
    }
    if (status == RECUR_OK) status = recur_state_get(state, values, floats);
    if (status == RECUR_OK) printf("%016" PRIx64 " %s\n", fnv1a(h, values, floats * sizeof(float)), recur_cpu_kernels());
    free(values);
    recur_state_free(state);
    recur_model_free(model);
    return status == RECUR_OK ? 0 : report("--replay", status);
}

/* Runs `self --replay ...` with RECUR_CPU=level; returns its hash in *hash
   and the kernels it used in kernels (0), or 1 when it failed. */
static int replay_in_another_process(const char *self, const char *level, int threads, const char *path,
                                     const char *save_path, uint64_t *hash, char *kernels)
{
    char command[4096], line[256];
    FILE *pipe;
    int ok;
    if (strchr(self, '\'') || strchr(path, '\'') || strchr(save_path, '\'')) return 1;
    snprintf(command, sizeof command, "RECUR_CPU=%s '%s' --replay '%s' '%s' %d", level, self, path, save_path, threads);
    pipe = popen(command, "r");
    if (!pipe) return 1;
    ok = fgets(line, sizeof line, pipe) != NULL && sscanf(line, "%" SCNx64 " %31s", hash, kernels) == 2;
    return (pclose(pipe) == 0 && ok) ? 0 : 1;
}

/* ---- --train: fit the controller to the steering rule ------------------- */

static const char *INIT_MODEL =
    "{\"format\": \"recur\", \"version\": 1, \"input_size\": 6,"
    " \"init\": {\"seed\": 11, \"recurrent\": \"orthogonal\"},"
    " \"layers\": [{\"type\": \"lstm\", \"hidden_size\": 16},"
    "              {\"type\": \"dense\", \"units\": 2, \"activation\": \"tanh\"}],"
    " \"metadata\": {\"description\": \"The agents' controller of examples/c/agents.c: inputs target - position,"
    " velocity, position; outputs an acceleration in [-1, 1]^2. Trained by `build/examples/agents --train`"
    " to imitate a = tanh(4 (target - position) - 2 velocity) on rollouts of the example's world.\"}}";

enum { TRAIN_BATCH = 32, TRAIN_STEPS = 64, TRAIN_UPDATES = 600 };

static int train(const char *out_path)
{
    static float x[TRAIN_BATCH * TRAIN_STEPS * INPUTS], target[TRAIN_BATCH * TRAIN_STEPS * OUTPUTS];
    static world w;
    recur_model *model = NULL;
    recur_trainer *trainer = NULL;
    recur_status status;
    float loss = 0.0f;
    double t0 = now_ms();
    int update, b, t;

    status = recur_model_load_json(INIT_MODEL, strlen(INIT_MODEL), &model);
    if (status != RECUR_OK) return report("recur_model_load_json", status);
    status = recur_trainer_create(model, "{\"loss\": \"mse\", \"optimizer\": {\"type\": \"adam\", \"learning_rate\": 0.01}}",
                                  &trainer);
    if (status != RECUR_OK) {
        recur_model_free(model);
        return report("recur_trainer_create", status);
    }
    world_init(&w, 12345u);
    for (update = 1; update <= TRAIN_UPDATES && status == RECUR_OK; update++) {
        /* Rollouts under the teacher, with random actions mixed in so that the
           data also shows how to recover from mistakes. */
        for (b = 0; b < TRAIN_BATCH; b++) {
            agent *a = &w.agents[b];
            float explore = uniform(&w.rng) * 0.8f;
            spawn(&w, a);
            for (t = 0; t < TRAIN_STEPS; t++) {
                float *xt = x + (b * TRAIN_STEPS + t) * INPUTS, *yt = target + (b * TRAIN_STEPS + t) * OUTPUTS;
                float u[OUTPUTS];
                observe(a, xt);
                teacher(xt, yt);
                u[0] = (1.0f - explore) * yt[0] + explore * between(&w.rng, -1.0f, 1.0f);
                u[1] = (1.0f - explore) * yt[1] + explore * between(&w.rng, -1.0f, 1.0f);
                move(&w, a, u);
                if (uniform(&w.rng) < 0.02f) new_target(&w, a);
            }
        }
        status = recur_trainer_step(trainer, x, TRAIN_BATCH, TRAIN_STEPS, target, &loss);
        if (update % 100 == 0) printf("  update %4d   mse %.5f\n", update, loss);
    }
    recur_trainer_free(trainer);
    if (status == RECUR_OK) status = recur_model_save_file(model, out_path);
    recur_model_free(model);
    if (status != RECUR_OK) return report("training", status);
    printf("trained in %.0f ms; saved %s\n", now_ms() - t0, out_path);
    return 0;
}

/* ---- the game ----------------------------------------------------------- */

int main(int argc, char **argv)
{
    const char *path = "examples/models/agents_lstm.json";
    static float x[AGENTS * INPUTS], y[AGENTS * OUTPUTS];
    static world w, save_world;
    /* The first run's frames SAVE_AT..FRAMES-1, to compare the replays with. */
    static world recorded[FRAMES - SAVE_AT];
    static float recorded_y[FRAMES - SAVE_AT][AGENTS * OUTPUTS];
    float *save_state = NULL, *end_state = NULL, *replay_state = NULL;
    recur_model *model = NULL;
    recur_state *state = NULL, *threaded = NULL;
    recur_status status = RECUR_OK;
    size_t state_floats;
    double step_ms, frame_ms, t0, sum_step = 0.0, sum_frame = 0.0, max_frame = 0.0;
    double win_step = 0.0, win_frame = 0.0, win_max = 0.0, deviation = 0.0, replay_step;
    int f, i, pass, failed = 0, deaths_at_save = 0, reached_at_save = 0;

    if (argc > 2 && strcmp(argv[1], "--train") == 0) return train(argv[2]);
    if (argc > 4 && strcmp(argv[1], "--replay") == 0) return replay_in_this_process(argv[2], argv[3], atoi(argv[4]));
    if (argc > 1) path = argv[1];

    status = recur_model_load_file(path, &model);
    if (status != RECUR_OK) return report("recur_model_load_file", status);
    if (recur_model_input_size(model) != INPUTS || recur_model_output_size(model) != OUTPUTS) {
        fprintf(stderr, "agents: %s: expected %d inputs and %d outputs\n", path, INPUTS, OUTPUTS);
        recur_model_free(model);
        return 1;
    }
    status = recur_state_create(model, AGENTS, &state);
    if (status != RECUR_OK) {
        recur_model_free(model);
        return report("recur_state_create", status);
    }
    state_floats = AGENTS * recur_state_size(state);
    save_state = malloc(state_floats * sizeof(float));
    end_state = malloc(state_floats * sizeof(float));
    replay_state = malloc(state_floats * sizeof(float));
    if (!save_state || !end_state || !replay_state) {
        fprintf(stderr, "agents: out of memory\n");
        return 1;
    }
    printf("%d agents, controller %s: %zu parameters, %zu floats of LSTM state each; kernels: %s\n", AGENTS, path,
           recur_model_parameter_count(model), recur_state_size(state), recur_cpu_kernels());
    printf("One recur_state_step per frame for all agents; frame budget %.1f ms (60 fps).\n\n", BUDGET_MS);
    printf("           ----- so far -----   mean of the last %d frames --------------------   worst\n", REPORT);
    printf("  frame    deaths  targets    step us  ns/agent  frame us  %% of budget   frame us\n");

    /* 1. The game, with a save-game at frame SAVE_AT. */
    world_init(&w, 2024u);
    for (f = 0; f < FRAMES && status == RECUR_OK; f++) {
        if (f == SAVE_AT) {
            status = recur_state_get(state, save_state, state_floats);
            save_world = w;
            deaths_at_save = w.deaths;
            reached_at_save = w.reached;
            if (status != RECUR_OK) break;
        }
        t0 = now_ms();
        status = frame(&w, state, x, y, &step_ms);
        frame_ms = now_ms() - t0;
        sum_step += step_ms;
        sum_frame += frame_ms;
        win_step += step_ms;
        win_frame += frame_ms;
        if (frame_ms > win_max) win_max = frame_ms;
        if (frame_ms > max_frame) max_frame = frame_ms;
        /* How closely the LSTM follows the rule it was trained to imitate. */
        for (i = 0; i < AGENTS; i++) {
            float u[OUTPUTS];
            teacher(x + i * INPUTS, u);
            deviation += fabs((double)y[i * OUTPUTS] - u[0]) + fabs((double)y[i * OUTPUTS + 1] - u[1]);
        }
        if (f >= SAVE_AT) {
            recorded[f - SAVE_AT] = w;
            memcpy(recorded_y[f - SAVE_AT], y, sizeof y);
        }
        if ((f + 1) % REPORT == 0) {
            printf("  %5d    %6d  %7d   %8.1f  %8.1f  %8.1f  %11.2f  %9.1f\n", f + 1, w.deaths, w.reached,
                   1e3 * win_step / REPORT, 1e6 * win_step / REPORT / AGENTS, 1e3 * win_frame / REPORT,
                   100.0 * win_frame / REPORT / BUDGET_MS, 1e3 * win_max);
            win_step = win_frame = win_max = 0.0;
        }
    }
    if (status == RECUR_OK) status = recur_state_get(state, end_state, state_floats);
    if (status != RECUR_OK) {
        recur_state_free(state);
        recur_model_free(model);
        return report("the game", status);
    }
    printf("\n%d frames: recur_state_step %.1f us per frame (%.1f ns per agent); whole frame %.1f us, worst %.1f us\n",
           FRAMES, 1e3 * sum_step / FRAMES, 1e6 * sum_step / FRAMES / AGENTS, 1e3 * sum_frame / FRAMES,
           1e3 * max_frame);
    printf("budget: the mean frame uses %.2f%% of %.1f ms (60 fps)\n", 100.0 * sum_frame / FRAMES / BUDGET_MS,
           BUDGET_MS);
    printf("%d deaths and respawns (recur_state_reset_stream; %d by leaving the arena), %d targets reached\n",
           w.deaths, w.strayed, w.reached);
    printf("the LSTM's outputs differ from the steering rule it imitates by %.4f on average\n\n",
           deviation / ((double)FRAMES * AGENTS * OUTPUTS));

    printf("save-game at frame %d: %zu floats of LSTM state (recur_state_get) + %zu bytes of world;\n"
           "after it, %d deaths and %d targets reached by frame %d. Loading it and replaying:\n",
           SAVE_AT, state_floats, sizeof save_world, w.deaths - deaths_at_save, w.reached - reached_at_save, FRAMES);

    /* 2. and 3. Load the save-game, replay: once on the same state (1 thread),
       once on a new state split over 2 threads. */
    status = recur_state_create(model, AGENTS, &threaded);
    if (status == RECUR_OK) status = recur_state_set_threads(threaded, 2);
    for (pass = 0; pass < 2 && status == RECUR_OK; pass++) {
        recur_state *s = pass == 0 ? state : threaded;
        int first_diff = -1;
        status = recur_state_set(s, save_state, state_floats);
        w = save_world;
        replay_step = 0.0;
        for (f = SAVE_AT; f < FRAMES && status == RECUR_OK; f++) {
            status = frame(&w, s, x, y, &step_ms);
            replay_step += step_ms;
            if (first_diff < 0 && (memcmp(&w, &recorded[f - SAVE_AT], sizeof w) != 0 ||
                                   memcmp(y, recorded_y[f - SAVE_AT], sizeof y) != 0))
                first_diff = f;
        }
        if (status == RECUR_OK) status = recur_state_get(s, replay_state, state_floats);
        if (status != RECUR_OK) break;
        if (first_diff < 0 && memcmp(replay_state, end_state, state_floats * sizeof(float)) != 0)
            first_diff = FRAMES;
        if (first_diff < 0) {
            printf("replay %d (%s): frames %d..%d bit-identical (memcmp of the %d agents and their outputs "
                   "every frame, and of the final LSTM state); step %.1f us per frame\n",
                   pass + 1, pass == 0 ? "same state, 1 thread" : "new state, 2 threads", SAVE_AT, FRAMES - 1,
                   AGENTS, 1e3 * replay_step / (FRAMES - SAVE_AT));
        } else {
            printf("replay %d (%s): DIFFERS from frame %d on\n", pass + 1, pass == 0 ? "1 thread" : "2 threads",
                   first_diff);
            failed = 1;
        }
    }
    if (status != RECUR_OK) report("the replay", status);

    /* 5. The save-game replayed in other processes at other kernel levels and
       thread counts: the hash of the same frames must be this run's. */
    if (status == RECUR_OK && !failed) {
        const char *mine = recur_cpu_kernels();
        /* From the reference level (RECUR_CPU=reference), the other is avx2. */
        const char *levels[2] = {strcmp(mine, "reference") == 0 ? "avx2" : "reference", "avx2"};
        const int thread_counts[2] = {3, 2};
        int others = strcmp(mine, "avx512") == 0 ? 2 : 1, same = 0, n;
        char save_path[] = "/tmp/recur_agents_save_XXXXXX";
        uint64_t expected = FNV_START, hash = 0;
        int fd = mkstemp(save_path);
        FILE *file = fd >= 0 ? fdopen(fd, "wb") : NULL;
        int written = file && fwrite(save_state, sizeof(float), state_floats, file) == state_floats &&
                      fwrite(&save_world, sizeof save_world, 1, file) == 1;
        if (file) fclose(file); else if (fd >= 0) close(fd);
        for (f = SAVE_AT; f < FRAMES; f++) {
            expected = fnv1a(expected, &recorded[f - SAVE_AT], sizeof(world));
            expected = fnv1a(expected, recorded_y[f - SAVE_AT], sizeof recorded_y[0]);
        }
        expected = fnv1a(expected, end_state, state_floats * sizeof(float));
        if (strcmp(mine, "sse2") == 0) {
            printf("replays at other levels skipped: this CPU has no FMA (the sse2 level is outside the promise)\n");
            others = 0;
        }
        for (n = 0; n < others && written; n++) {
            char kernels[32] = "?";
            if (replay_in_another_process(argv[0], levels[n], thread_counts[n], path, save_path, &hash, kernels) != 0) {
                printf("replay %d (RECUR_CPU=%s, %d threads, another process): FAILED to run\n", 3 + n, levels[n],
                       thread_counts[n]);
                failed = 1;
            } else if (hash == expected) {
                printf("replay %d (%s kernels, %d threads, another process): frames %d..%d hash %016" PRIx64
                       ", this run's (%s kernels, 1 thread) exactly\n", 3 + n, kernels, thread_counts[n], SAVE_AT,
                       FRAMES - 1, hash, mine);
                same++;
            } else {
                printf("replay %d (%s kernels, %d threads, another process): hash %016" PRIx64 " DIFFERS from this "
                       "run's %016" PRIx64 "\n", 3 + n, kernels, thread_counts[n], hash, expected);
                failed = 1;
            }
        }
        if (!written) {
            printf("could not write the save-game to %s\n", save_path);
            failed = 1;
        }
        remove(save_path);
        if (others > 0 && same == others) printf("bit-identical across CPUs: the %s, %s%s levels agree\n", mine,
                                                 levels[0], others > 1 ? " and avx2" : "");
    }
    recur_state_free(threaded);
    recur_state_free(state);
    recur_model_free(model);
    free(save_state);
    free(end_state);
    free(replay_state);
    if (status != RECUR_OK) return 1;
    if (!failed) printf("save-game restored: trajectory identical bit for bit\n");
    return failed;
}
