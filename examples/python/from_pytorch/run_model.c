/* run_model.c: runs a Recur model (JSON) over the sequences of an input file
 * and prints every output. examples/python/from_pytorch/from_pytorch.py
 * writes the model and the input, runs this program and compares what it
 * prints with PyTorch's outputs.
 *
 *   run_model MODEL.json INPUT.txt
 *
 * INPUT.txt: "batch steps input_size" on the first line, then
 * batch * steps * input_size numbers, [batch][steps][input_size] row-major.
 * Output: "batch steps output_size" on the first line, then one line per
 * (stream, step): the output_size values printed with %.9g, which reads back
 * as the same float32.
 *
 * Build (from the project root, after `make lib`):
 *   cc -std=c99 -Iinclude examples/python/from_pytorch/run_model.c -o run_model \
 *      -Lbuild/lib -lrecur -Wl,-rpath,"$PWD/build/lib"
 */
#include <stdio.h>
#include <stdlib.h>
#include "recur.h"

static int fail(const char *what)
{
    fprintf(stderr, "run_model: %s: %s\n", what, recur_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    recur_model *model = NULL;
    recur_state *state = NULL;
    FILE *input;
    size_t batch, steps, in, out, i, n;
    float *x, *y;
    int status = 1;

    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL.json INPUT.txt\n", argv[0]);
        return 2;
    }
    if (recur_model_load_file(argv[1], &model) != RECUR_OK) return fail(argv[1]);

    input = fopen(argv[2], "r");
    if (!input || fscanf(input, "%zu %zu %zu", &batch, &steps, &in) != 3 || batch == 0 || steps == 0) {
        fprintf(stderr, "run_model: %s: expected \"batch steps input_size\" on the first line\n", argv[2]);
        if (input) fclose(input);
        recur_model_free(model);
        return 1;
    }
    if (in != recur_model_input_size(model)) {
        fprintf(stderr, "run_model: the input has %zu features, the model takes %zu\n",
                in, recur_model_input_size(model));
        fclose(input);
        recur_model_free(model);
        return 1;
    }
    out = recur_model_output_size(model);
    n = batch * steps * in;
    x = malloc(n * sizeof *x);
    y = malloc(batch * steps * out * sizeof *y);
    for (i = 0; x && i < n; i++)
        if (fscanf(input, "%f", &x[i]) != 1) {
            fprintf(stderr, "run_model: %s: expected %zu numbers, found %zu\n", argv[2], n, i);
            break;
        }
    fclose(input);

    if (x && y && i == n) {
        /* One state with a stream per sequence; one call runs every step. */
        if (recur_state_create(model, batch, &state) != RECUR_OK) {
            status = fail("recur_state_create");
        } else if (recur_state_run(state, x, steps, y) != RECUR_OK) {
            status = fail("recur_state_run");
        } else {
            size_t b, t, j;
            printf("%zu %zu %zu\n", batch, steps, out);
            for (b = 0; b < batch; b++)
                for (t = 0; t < steps; t++)
                    for (j = 0; j < out; j++)
                        printf("%.9g%c", (double)y[(b * steps + t) * out + j], j + 1 < out ? ' ' : '\n');
            status = 0;
        }
    }
    recur_state_free(state);
    recur_model_free(model);
    free(x);
    free(y);
    return status;
}
