// stream.cpp: Recur from C++ (bindings/cpp/recur.hpp): load a bundled model,
// feed it a stream one step at a time, print what comes out.
//
// Run from the project root:
//   build/examples/cpp/stream [MODEL_JSON]   (default examples/models/tiny_lstm.json)
// Build: g++ -std=c++17 -Iinclude -Ibindings/cpp examples/cpp/stream.cpp -Lbuild/lib -lrecur
//        (or, installed: g++ -std=c++17 stream.cpp $(pkg-config --cflags --libs recur))
#include "recur.hpp"

#include <cstdio>
#include <vector>

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "examples/models/tiny_lstm.json";
    try {
        recur::Model model = recur::Model::load_file(path);
        std::printf("%s: %zu inputs -> %zu layers -> %zu outputs, %zu parameters (Recur %s, %s kernels)\n", path,
                    model.input_size(), model.layer_count(), model.output_size(), model.parameter_count(),
                    recur::version_string(), recur::cpu_kernels());

        // The inputs of examples/models/make_tiny_lstm.py (it prints the outputs they must give).
        const std::vector<std::vector<float>> inputs = {
            {1.0f, 0.0f}, {0.5f, -0.5f}, {0.0f, 1.0f}, {-1.0f, 0.25f}, {0.25f, 0.75f}, {0.0f, 0.0f},
        };

        recur::State state = model.state(); // one stream, starting at zero
        std::vector<float> y(state.output_size());
        std::printf("  step     x[0]     x[1]            y\n");
        for (size_t t = 0; t < inputs.size(); t++) {
            state.step(inputs[t], y); // writes into y: no allocation per step
            std::printf("  %4zu %8.3f %8.3f %12.7f\n", t + 1, inputs[t][0], inputs[t][1], y[0]);
        }

        // Sizes are checked before the library is called: a wrong-sized input
        // throws recur::Error with the status and a message.
        try {
            state.step(std::vector<float>{1.0f, 2.0f, 3.0f});
        } catch (const recur::Error &error) {
            std::printf("a 3-value input: %s (status %d: %s)\n", error.what(), static_cast<int>(error.status()),
                        error.status_string());
        }
    } catch (const std::exception &error) {
        std::fprintf(stderr, "stream: %s\n", error.what());
        return 1;
    }
    return 0;
}
