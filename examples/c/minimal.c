/* minimal.c: load a model, step it, print. Run from the project root. */
#include <stdio.h>
#include "recur.h"

int main(void)
{
    const float x[] = {1, 2, 3, -2, -10, 5};
    recur_model *model = NULL;
    recur_state *state = NULL;
    float y;

    if (recur_model_load_file("examples/models/running_sum.json", &model) != RECUR_OK ||
        recur_state_create(model, 1, &state) != RECUR_OK) {
        fprintf(stderr, "recur: %s\n", recur_last_error());
        recur_model_free(model);
        return 1;
    }
    for (int t = 0; t < 6; t++) {
        if (recur_state_step(state, &x[t], &y) != RECUR_OK) {
            fprintf(stderr, "recur: %s\n", recur_last_error());
            break;
        }
        printf("x = %5.1f   running sum = %5.1f\n", x[t], y);
    }
    recur_state_free(state);
    recur_model_free(model);
    return 0;
}
