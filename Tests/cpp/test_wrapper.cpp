// test_wrapper.cpp: the C++ wrapper (bindings/cpp/recur.hpp) against the
// reference cases, its errors, its size checks and its move semantics.
//
// Usage (from the project root): test_wrapper [TESTDATA_DIR]   (default Tests/testdata)
//                                test_wrapper --version ok|error   (see version_only)
// Prints "N passed, M failed"; exits 1 when something failed.
// The reference cases are read with json-c (the test's own parser), the
// models loaded through the wrapper.
#include "recur.hpp"

#include <json-c/json.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

namespace fs = std::filesystem;

static int passed = 0;
static int failed = 0;

static void check(bool ok, const std::string &what)
{
    if (ok) {
        ++passed;
    } else {
        ++failed;
        std::printf("FAIL: %s\n", what.c_str());
    }
}

// Runs `body`, which must throw recur::Error with `status` (and a message containing `contains`).
static void expect_error(const std::string &what, recur_status status, const std::function<void()> &body,
                         const std::string &contains = std::string())
{
    try {
        body();
        check(false, what + ": no exception");
    } catch (const recur::Error &error) {
        const bool ok = error.status() == status && !error.message().empty() &&
                        error.message().find(contains) != std::string::npos &&
                        std::string(error.what()).find(error.message()) != std::string::npos;
        check(ok, what + ": got status " + std::to_string(error.status()) + " (" + error.status_string() +
                      "), message \"" + error.message() + "\"; expected status " + std::to_string(status) +
                      (contains.empty() ? "" : " and a message containing \"" + contains + "\""));
    } catch (const std::exception &error) {
        check(false, what + ": not a recur::Error: " + error.what());
    }
}

// ---- json-c helpers -------------------------------------------------------------

struct Json {
    json_object *root = nullptr;
    explicit Json(const std::string &path) : root(json_object_from_file(path.c_str())) {}
    ~Json() { json_object_put(root); }
    Json(const Json &) = delete;
    Json &operator=(const Json &) = delete;
};

static json_object *member(json_object *object, const char *key)
{
    json_object *value = nullptr;
    return json_object_object_get_ex(object, key, &value) ? value : nullptr;
}

static std::vector<float> floats(json_object *array)
{
    std::vector<float> out;
    if (!array || !json_object_is_type(array, json_type_array))
        return out;
    const size_t n = json_object_array_length(array);
    for (size_t i = 0; i < n; i++)
        out.push_back(static_cast<float>(json_object_get_double(json_object_array_get_idx(array, i))));
    return out;
}

static std::string text(json_object *object)
{
    return json_object_to_json_string_ext(object, JSON_C_TO_STRING_PLAIN);
}

static std::string read_file(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// |a - b| <= abs_tol + rel_tol * |b| element by element; describes the first miss.
static bool close(const std::vector<float> &a, const std::vector<float> &b, double abs_tol, double rel_tol,
                  std::string *why)
{
    if (a.size() != b.size()) {
        *why = std::to_string(a.size()) + " values, expected " + std::to_string(b.size());
        return false;
    }
    for (size_t i = 0; i < a.size(); i++) {
        if (!(std::fabs(double(a[i]) - double(b[i])) <= abs_tol + rel_tol * std::fabs(double(b[i])))) {
            *why = "value " + std::to_string(i) + ": " + std::to_string(a[i]) + ", expected " + std::to_string(b[i]);
            return false;
        }
    }
    return true;
}

static void check_close(const std::vector<float> &a, const std::vector<float> &b, double abs_tol, double rel_tol,
                        const std::string &what)
{
    std::string why;
    const bool ok = close(a, b, abs_tol, rel_tol, &why);
    check(ok, what + why);
}

static bool same_bits(const std::vector<float> &a, const std::vector<float> &b)
{
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

// ---- reference cases ----------------------------------------------------------------

static void inference_case(const std::string &name, json_object *doc)
{
    const size_t batch = static_cast<size_t>(json_object_get_int(member(doc, "batch")));
    const size_t steps = static_cast<size_t>(json_object_get_int(member(doc, "steps")));
    const std::vector<float> xs = floats(member(doc, "input"));
    const std::vector<float> expected = floats(member(doc, "output"));
    const std::vector<float> expected_state = floats(member(doc, "final_state"));

    recur::Model model = recur::Model::from_json(text(member(doc, "model")));
    check(model.input_size() * batch * steps == xs.size(), name + ": input size");
    check(model.output_size() * batch * steps == expected.size(), name + ": output size");
    check(model.state_size() * batch == expected_state.size(), name + ": state size");

    // run: returns a vector.
    recur::State state = model.state(batch);
    const std::vector<float> ys = state.run(xs, steps);
    check_close(ys, expected, 5e-5, 5e-4, name + ": run output: ");
    check_close(state.get(), expected_state, 5e-5, 5e-4, name + ": final state: ");
    state.reset();
    check(same_bits(state.run(xs), ys), name + ": run with the steps taken from the input size");

    // step by step into a caller's buffer ([batch][input] gathered from [batch][steps][input]).
    state.reset();
    const size_t in = model.input_size(), out = model.output_size();
    std::vector<float> x(batch * in), y(batch * out), stepped(batch * steps * out);
    for (size_t t = 0; t < steps; t++) {
        for (size_t b = 0; b < batch; b++)
            std::copy_n(&xs[(b * steps + t) * in], in, &x[b * in]);
        state.step(x, y);
        for (size_t b = 0; b < batch; b++)
            std::copy_n(&y[b * out], out, &stepped[(b * steps + t) * out]);
    }
    check(same_bits(stepped, ys), name + ": step gives the floats of run");

    // run into a caller's buffer (pointer + size views), after reset.
    state.reset();
    std::vector<float> into(ys.size());
    state.run({xs.data(), xs.size()}, steps, {into.data(), into.size()});
    check(same_bits(into, ys), name + ": run into a buffer after reset");

    // get/set continue exactly; reset_stream zeroes one stream only.
    recur::State other(model, batch);
    other.set(state.get());
    check(same_bits(other.get(), state.get()), name + ": set(get())");
    check(same_bits(other.step(x), state.step(x)), name + ": a state set from another continues the same");
    other.reset_stream(batch - 1);
    const std::vector<float> after = other.get();
    const size_t n = other.size();
    check(std::all_of(after.end() - static_cast<std::ptrdiff_t>(n), after.end(), [](float v) { return v == 0; }),
          name + ": reset_stream zeroes the stream");
    if (batch > 1)
        check(std::equal(after.begin(), after.begin() + static_cast<std::ptrdiff_t>(n), state.get().begin()),
              name + ": reset_stream leaves the others");

    // threads: the same floats.
    recur::State threaded = model.state(batch);
    threaded.set_threads(2);
    check(same_bits(threaded.run(xs, steps), ys), name + ": set_threads(2) gives the same floats");

    // to_json / save / load_file / clone round trips.
    for (recur_tensor_encoding encoding : {RECUR_TENSORS_FLAT, RECUR_TENSORS_BASE64, RECUR_TENSORS_AUTOMATIC}) {
        recur::Model again = recur::Model::from_json(model.to_json(encoding));
        check(same_bits(again.state(batch).run(xs, steps), ys), name + ": to_json round trip");
    }
    const std::string path = (fs::temp_directory_path() / ("recur_test_wrapper_" + name)).string();
    model.save(path);
    {
        recur::Model loaded = recur::Model::load_file(path);
        check(same_bits(loaded.state(batch).run(xs, steps), ys), name + ": save/load_file round trip");
    }
    std::remove(path.c_str());

    recur::Model copy = model.clone();
    check(copy.parameter_count() == model.parameter_count() && copy.layer_count() == model.layer_count(),
          name + ": clone sizes");
    // The first layer's input weights: weight_ih, or weight for a dense layer.
    const std::string first = copy.layer_type(0) == "dense" ? "weight" : "weight_ih";
    std::vector<float> weights = copy.get_tensor(0, first);
    const std::vector<size_t> shape = copy.tensor_shape(0, first);
    check(shape.size() == 2 && shape[0] * shape[1] == weights.size() && shape[1] == in,
          name + ": tensor_shape of " + first);
    for (float &w : weights)
        w *= 0.5f;
    copy.set_tensor(0, first, weights);
    check(same_bits(copy.get_tensor(0, first), weights), name + ": set_tensor/get_tensor");
    check(!same_bits(copy.state(batch).run(xs, steps), ys), name + ": the clone's new weights change its outputs");
    check(same_bits(model.state(batch).run(xs, steps), ys), name + ": the original is unchanged by its clone");
}

static void training_case(const std::string &name, json_object *doc)
{
    json_object *train = member(doc, "train");
    const size_t batch = static_cast<size_t>(json_object_get_int(member(doc, "batch")));
    const size_t steps = static_cast<size_t>(json_object_get_int(member(doc, "steps")));
    const std::vector<float> xs = floats(member(doc, "input"));
    const std::vector<float> losses = floats(member(train, "losses"));
    const std::vector<float> norms = floats(member(train, "gradient_norms"));
    const int count = json_object_get_int(member(train, "steps"));

    recur::Model model = recur::Model::from_json(text(member(doc, "model")));
    recur::Trainer trainer = model.trainer(text(member(train, "config")));
    json_object *labels_json = member(train, "labels");
    std::vector<std::int32_t> labels;
    if (labels_json)
        for (float v : floats(labels_json))
            labels.push_back(static_cast<std::int32_t>(v));
    const std::vector<float> target = floats(member(train, "target"));

    for (int i = 0; i < count; i++) {
        const float loss = labels_json ? trainer.step_labels(xs, batch, steps, labels)
                                       : trainer.step(xs, batch, steps, target);
        const std::string at = name + ": train step " + std::to_string(i);
        check_close({loss}, {losses[static_cast<size_t>(i)]}, 0, 1e-4, at + " loss: ");
        check_close({trainer.last_gradient_norm()}, {norms[static_cast<size_t>(i)]}, 0, 1e-4,
              at + " gradient norm: ");
        if (i == 0) {
            json_object *layers = member(train, "first_gradients");
            for (size_t layer = 0; layer < json_object_array_length(layers); layer++) {
                json_object_object_foreach(json_object_array_get_idx(layers, layer), tensor, values)
                {
                    check_close(trainer.gradient(layer, tensor), floats(values), 5e-5, 5e-4,
                          at + " gradient of layers[" + std::to_string(layer) + "]." + tensor + ": ");
                }
            }
        }
    }
    recur::Model updated = recur::Model::from_json(text(member(train, "updated_model")));
    for (size_t layer = 0; layer < updated.layer_count(); layer++)
        for (const std::string &tensor : updated.tensor_names(layer))
            check_close(model.get_tensor(layer, tensor), updated.get_tensor(layer, tensor), 5e-5, 5e-4,
                  name + ": updated layers[" + std::to_string(layer) + "]." + tensor + ": ");

    // hidden-state gradient norms are a diagnostic the configuration must ask for.
    for (size_t layer = 0; layer < model.layer_count(); layer++)
        if (model.layer_type(layer) != "dense") {
            expect_error(name + ": hidden_gradient_norms without record_hidden_gradient_norms", RECUR_ERROR_INVALID_ARGUMENT,
                         [&] { trainer.hidden_gradient_norms(layer, steps); }, "record_hidden_gradient_norms");
            break;
        }
    trainer.reset_state();
}

static int reference_cases(const std::string &dir)
{
    std::vector<fs::path> files;
    for (const auto &entry : fs::directory_iterator(dir))
        if (entry.path().extension() == ".json")
            files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    int trained = 0;
    for (const fs::path &file : files) {
        const std::string name = file.stem().string();
        Json doc(file.string());
        if (!doc.root || !member(doc.root, "model")) {
            check(false, name + ": cannot read the case");
            continue;
        }
        try {
            inference_case(name, doc.root);
            if (member(doc.root, "train")) {
                training_case(name, doc.root);
                trained++;
            }
        } catch (const std::exception &error) {
            check(false, name + ": unexpected exception: " + error.what());
        }
    }
    check(files.size() >= 5, "at least 5 reference cases in " + dir + " (found " + std::to_string(files.size()) + ")");
    check(trained >= 3, "at least 3 training cases");
    return static_cast<int>(files.size());
}

// The sequences/ cases (bidirectional layers, streams of different lengths):
// outputs and final state against PyTorch's packed sequences.
static void length_cases(const std::string &dir)
{
    int checked = 0;
    for (const auto &entry : fs::directory_iterator(fs::path(dir) / "sequences")) {
        if (entry.path().extension() != ".json")
            continue;
        Json doc(entry.path().string());
        json_object *lengths = doc.root ? member(doc.root, "lengths") : nullptr;
        if (!lengths)
            continue;
        const std::string name = entry.path().stem().string();
        try {
            recur::Model model = recur::Model::from_json(text(member(doc.root, "model")));
            const size_t batch = static_cast<size_t>(json_object_get_int(member(doc.root, "batch")));
            const size_t steps = static_cast<size_t>(json_object_get_int(member(doc.root, "steps")));
            std::vector<size_t> counts;
            for (size_t i = 0; i < json_object_array_length(lengths); i++)
                counts.push_back(static_cast<size_t>(json_object_get_int(json_object_array_get_idx(lengths, i))));
            recur::State state = model.state(batch);
            check_close(state.run(floats(member(doc.root, "input")), steps, counts), floats(member(doc.root, "output")),
                        5e-5, 5e-4, name + ": run with lengths: ");
            if (member(doc.root, "final_state"))
                check_close(state.get(), floats(member(doc.root, "final_state")), 5e-5, 5e-4, name + ": final state: ");
            json_object *train = member(doc.root, "train");
            if (train && member(train, "target")) {
                // The first training step with lengths: its loss.
                recur::Trainer trainer = model.trainer(text(member(train, "config")));
                const float loss = trainer.step(floats(member(doc.root, "input")), batch, steps, counts,
                                                floats(member(train, "target")));
                const double expected = json_object_get_double(json_object_array_get_idx(member(train, "losses"), 0));
                check(std::fabs(loss - expected) <= 1e-4 * std::fabs(expected), name + ": trainer step with lengths: loss");
            }
            checked++;
        } catch (const std::exception &error) {
            check(false, name + ": unexpected exception: " + error.what());
        }
    }
    check(checked >= 10, "at least 10 cases with lengths (found " + std::to_string(checked) + ")");
}

// ---- errors ---------------------------------------------------------------------------

static recur_status status_named(const char *name)
{
    static const std::pair<const char *, recur_status> names[] = {
        {"RECUR_ERROR_INVALID_ARGUMENT", RECUR_ERROR_INVALID_ARGUMENT},
        {"RECUR_ERROR_PARSE", RECUR_ERROR_PARSE},
        {"RECUR_ERROR_MODEL", RECUR_ERROR_MODEL},
        {"RECUR_ERROR_IO", RECUR_ERROR_IO},
        {"RECUR_ERROR_SHAPE", RECUR_ERROR_SHAPE},
        {"RECUR_ERROR_NUMERIC", RECUR_ERROR_NUMERIC},
        {"RECUR_ERROR_OUT_OF_MEMORY", RECUR_ERROR_OUT_OF_MEMORY},
    };
    for (const auto &entry : names)
        if (name && std::strcmp(entry.first, name) == 0)
            return entry.second;
    return RECUR_OK; // null: any error status
}

static void invalid_documents(const std::string &dir)
{
    Json manifest(dir + "/invalid/manifest.json");
    check(manifest.root != nullptr, "invalid/manifest.json readable");
    if (!manifest.root)
        return;
    for (size_t i = 0; i < json_object_array_length(manifest.root); i++) {
        json_object *entry = json_object_array_get_idx(manifest.root, i);
        const std::string file = json_object_get_string(member(entry, "file"));
        json_object *status_json = member(entry, "status");
        const recur_status expected = status_named(status_json ? json_object_get_string(status_json) : nullptr);
        std::vector<std::string> contains;
        json_object *words = member(entry, "message_contains");
        for (size_t k = 0; words && k < json_object_array_length(words); k++)
            contains.push_back(json_object_get_string(json_object_array_get_idx(words, k)));
        const std::string path = dir + "/invalid/" + file;
        for (int from_text = 0; from_text < 2; from_text++) {
            const std::string what = "invalid/" + file + (from_text ? " (from_json)" : " (load_file)");
            try {
                if (from_text)
                    recur::Model::from_json(read_file(path));
                else
                    recur::Model::load_file(path);
                check(false, what + ": loaded without an error");
            } catch (const recur::Error &error) {
                bool ok = error.status() != RECUR_OK && (expected == RECUR_OK || error.status() == expected);
                for (const std::string &word : contains)
                    ok = ok && error.message().find(word) != std::string::npos;
                check(ok, what + ": status " + std::to_string(error.status()) + ", message \"" + error.message() +
                              "\"");
            } catch (const std::exception &error) {
                check(false, what + ": not a recur::Error: " + error.what());
            }
        }
    }
}

static void errors()
{
    expect_error("from_json of truncated JSON", RECUR_ERROR_PARSE, [] { recur::Model::from_json("{"); });
    expect_error("from_json of a non-model", RECUR_ERROR_MODEL, [] { recur::Model::from_json("[1, 2]"); });
    expect_error("load_file of a missing file", RECUR_ERROR_IO,
                 [] { recur::Model::load_file("/nonexistent/recur/model.json"); }, "/nonexistent/recur/model.json");
    try {
        recur::Model::load_file("/nonexistent/model.json");
    } catch (const std::runtime_error &error) { // recur::Error is a std::runtime_error
        const std::string what = error.what();
        check(what.rfind("Model::load_file: ", 0) == 0, "what() starts with where it failed: " + what);
    }

    recur::Model model = recur::Model::load_file("examples/models/tiny_lstm.json");
    recur::State state = model.state(2);
    const std::vector<float> two(4, 0.5f), three(3, 0.5f);
    expect_error("step with too few inputs", RECUR_ERROR_SHAPE, [&] { state.step(three); }, "expected 4");
    std::vector<float> y(1);
    expect_error("step into too small a buffer", RECUR_ERROR_SHAPE, [&] { state.step(two, y); }, "expected 2");
    expect_error("run with a size that is not a whole number of steps", RECUR_ERROR_SHAPE,
                 [&] { state.run(three); });
    expect_error("run with 0 steps", RECUR_ERROR_INVALID_ARGUMENT, [&] { state.run(two, 0); });
    expect_error("run with the wrong steps", RECUR_ERROR_SHAPE, [&] { state.run(two, 2); }, "expected 8");
    expect_error("set with the wrong size", RECUR_ERROR_SHAPE, [&] { state.set(two); });
    std::vector<float> bad_state(state.batch() * state.size(), 0.0f);
    bad_state[1] = NAN;
    expect_error("set with NaN", RECUR_ERROR_NUMERIC, [&] { state.set(bad_state); });
    const std::vector<float> nan_x = {NAN, 0, 0, 0};
    expect_error("step with NaN", RECUR_ERROR_NUMERIC, [&] { state.step(nan_x); });
    expect_error("reset_stream out of range", RECUR_ERROR_INVALID_ARGUMENT, [&] { state.reset_stream(2); });
    expect_error("set_threads(0)", RECUR_ERROR_INVALID_ARGUMENT, [&] { state.set_threads(0); });
    expect_error("a state of batch 0", RECUR_ERROR_INVALID_ARGUMENT, [&] { model.state(0); }, "batch");
    expect_error("get_tensor of an unknown tensor", RECUR_ERROR_INVALID_ARGUMENT,
                 [&] { model.get_tensor(0, "nope"); }, "nope");
    expect_error("get_tensor of a layer out of range", RECUR_ERROR_INVALID_ARGUMENT,
                 [&] { model.get_tensor(9, "bias"); });
    std::vector<float> small(3);
    expect_error("get_tensor into a wrong-sized buffer", RECUR_ERROR_SHAPE,
                 [&] { model.get_tensor(0, "weight_ih", small); }, "expected 32");
    expect_error("set_tensor with a wrong size", RECUR_ERROR_SHAPE, [&] { model.set_tensor(0, "bias_ih", small); });
    std::vector<float> nan_bias(model.tensor_size(0, "bias_ih"), 0.0f);
    nan_bias[0] = INFINITY;
    expect_error("set_tensor with infinity", RECUR_ERROR_NUMERIC, [&] { model.set_tensor(0, "bias_ih", nan_bias); });
    expect_error("trainer with a bad config", RECUR_ERROR_MODEL, [&] { model.trainer("{\"loss\": \"nope\"}"); },
                 "loss");
    expect_error("trainer with config that is not JSON", RECUR_ERROR_PARSE, [&] { model.trainer("{"); });

    recur::Trainer trainer =
        model.trainer("{\"targets\": \"last\", \"optimizer\": {\"type\": \"sgd\"}, \"record_hidden_gradient_norms\": true}");
    check(trainer.targets_last(), "the trainer sees \"targets\": \"last\"");
    const std::vector<float> xs(2 * 3 * 2, 0.1f), last_target(2, 0.2f), sequence_target(6, 0.2f);
    expect_error("trainer step with sequence targets for \"last\"", RECUR_ERROR_SHAPE,
                 [&] { trainer.step(xs, 2, 3, sequence_target); }, "expected 2");
    expect_error("trainer step with the wrong x", RECUR_ERROR_SHAPE, [&] { trainer.step(xs, 2, 2, last_target); });
    expect_error("trainer step with batch 0", RECUR_ERROR_INVALID_ARGUMENT,
                 [&] { trainer.step(xs, 0, 3, last_target); });
    const std::vector<std::int32_t> labels = {0, 0};
    expect_error("step_labels without cross_entropy", RECUR_ERROR_INVALID_ARGUMENT,
                 [&] { trainer.step_labels(xs, 2, 3, labels); });
    const float loss = trainer.step(xs, 2, 3, last_target);
    check(std::isfinite(loss) && loss > 0, "a trainer step with \"last\" targets");
    expect_error("gradient of an unknown tensor", RECUR_ERROR_INVALID_ARGUMENT, [&] { trainer.gradient(1, "bias_ih"); });
    check(trainer.gradient(1, "weight").size() == 4, "gradient of the dense weight");
    expect_error("hidden_gradient_norms with other steps", RECUR_ERROR_SHAPE,
                 [&] { trainer.hidden_gradient_norms(0, 5); });
    check(trainer.hidden_gradient_norms(0, 3).size() == 3, "hidden_gradient_norms: one per step of the last step");

    // Errors are exceptions carrying status and message; copying one keeps both.
    try {
        recur::Model::from_json("nope");
    } catch (const recur::Error &error) {
        const recur::Error copy = error;
        check(copy.status() == RECUR_ERROR_PARSE && copy.message() == error.message() &&
                  std::strcmp(copy.status_string(), recur_status_string(RECUR_ERROR_PARSE)) == 0,
              "a copied Error keeps status and message");
    }
}

// ---- lifetimes and moves ---------------------------------------------------------------

static_assert(!std::is_copy_constructible_v<recur::Model> && !std::is_copy_assignable_v<recur::Model>);
static_assert(!std::is_copy_constructible_v<recur::State> && !std::is_copy_assignable_v<recur::State>);
static_assert(!std::is_copy_constructible_v<recur::Trainer> && !std::is_copy_assignable_v<recur::Trainer>);
static_assert(std::is_nothrow_move_constructible_v<recur::Model> && std::is_nothrow_move_assignable_v<recur::Model>);
static_assert(std::is_nothrow_move_constructible_v<recur::State> && std::is_nothrow_move_assignable_v<recur::State>);
static_assert(std::is_nothrow_move_constructible_v<recur::Trainer> &&
              std::is_nothrow_move_assignable_v<recur::Trainer>);
static_assert(std::is_base_of_v<std::runtime_error, recur::Error>);

static void moves()
{
    const std::array<float, 6> xs = {1, 2, 3, -2, -10, 5};
    const float sums[6] = {1, 3, 6, 4, 0, 5};

    // A state outlives its model (the C library keeps the model alive).
    recur::State state;
    check(state.empty(), "a default State is empty");
    {
        recur::Model model = recur::Model::load_file("examples/models/running_sum.json");
        state = model.state();
    }
    std::vector<float> out;
    for (float x : xs)
        out.push_back(state.step(&x, 1)[0]);
    check(std::equal(out.begin(), out.end(), sums), "a State keeps working after its Model is destroyed");

    // Moving a model leaves the source empty; using it throws.
    recur::Model a = recur::Model::load_file("examples/models/running_sum.json");
    recur::Model b = std::move(a);
    check(a.empty() && !a && !b.empty() && b, "a moved-from Model is empty");
    expect_error("using a moved-from Model", RECUR_ERROR_INVALID_ARGUMENT, [&] { (void)a.input_size(); }, "empty");
    expect_error("a state of a moved-from Model", RECUR_ERROR_INVALID_ARGUMENT, [&] { a.state(); });
    a = b.clone(); // move-assigning into an empty Model
    check(a.input_size() == 1 && b.input_size() == 1, "move-assign into a moved-from Model");
    a = std::move(b); // frees a's old model
    check(!a.empty() && b.empty(), "move-assign over a Model");
    recur::Model &alias = a;
    a = std::move(alias);
    check(!a.empty(), "self-move-assign keeps the Model");

    // States in a vector (moves on growth), each continuing its own stream.
    std::vector<recur::State> states;
    for (int i = 0; i < 9; i++) {
        states.push_back(a.state());
        states.back().step(&xs[static_cast<size_t>(i % 6)], 1);
    }
    bool ok = true;
    for (int i = 0; i < 9; i++)
        ok = ok && states[static_cast<size_t>(i)].get()[0] == std::max(0.0f, xs[static_cast<size_t>(i % 6)]);
    check(ok, "States moved by vector growth keep their streams");
    recur::State moved = std::move(states[0]);
    check(states[0].empty() && moved.batch() == 1 && moved.size() == 1, "a moved State");
    expect_error("stepping a moved-from State", RECUR_ERROR_INVALID_ARGUMENT, [&] { states[0].step(&xs[0], 1); });

    // A trainer outlives its model handle too, and moves.
    recur::Trainer trainer;
    {
        recur::Model model = recur::Model::load_file("examples/models/tiny_lstm.json");
        trainer = model.trainer();
    }
    const std::vector<float> x(2 * 4 * 2, 0.3f), target(2 * 4 * 1, -0.1f);
    const float first = trainer.step(x, 2, 4, target);
    recur::Trainer other = std::move(trainer);
    check(trainer.empty() && !other.empty(), "a moved Trainer");
    float last = first;
    for (int i = 0; i < 20; i++)
        last = other.step(x, 2, 4, target);
    check(last < first, "a moved Trainer keeps training its model (loss " + std::to_string(first) + " -> " +
                            std::to_string(last) + ")");
    expect_error("stepping a moved-from Trainer", RECUR_ERROR_INVALID_ARGUMENT,
                 [&] { trainer.step(x, 2, 4, target); });

    // release / adopt hand the C handle over without a double free.
    recur::Model c = recur::Model::load_file("examples/models/running_sum.json");
    recur_model *raw = c.release();
    check(c.empty() && raw != nullptr, "release");
    recur::Model d = recur::Model::adopt(raw);
    check(d.c_handle() == raw && d.layer_count() == 1, "adopt");

    // Views of a C array, a std::array, pointer + size.
    float y[1] = {0};
    recur::State s = d.state();
    const float c_array[1] = {2.0f};
    s.step(c_array, y);
    check(y[0] == 2.0f, "step from a C array into a C array");
    const std::array<float, 1> three = {3.0f};
    std::array<float, 1> y_array = {0};
    s.step(three, y_array);
    check(y_array[0] == 5.0f, "step from a std::array into a std::array");
    s.step(recur::FloatView(xs.data() + 3, 1), recur::FloatSpan(y, 1));
    check(y[0] == 3.0f, "step with pointer + size views");
}

// test_wrapper --version ok|error: with a recur_version_number() interposed
// (Tests/cpp/fake_version.c), check_version() and the first Model::load_file
// must accept (ok) or throw recur::VersionError (error).
static int version_only(const std::string &expected)
{
    const bool want_ok = expected == "ok";
    check(recur::version_compatible() == want_ok,
          "version_compatible() is " + std::string(want_ok ? "true" : "false") + " for library " +
              std::to_string(recur::version_number()) + " and header " + std::to_string(RECUR_VERSION_NUMBER));
    for (int attempt = 0; attempt < 2; attempt++) {
        try {
            if (attempt == 0)
                recur::check_version();
            else
                recur::Model::load_file("examples/models/running_sum.json");
            check(want_ok, attempt == 0 ? "check_version() accepts" : "Model::load_file accepts");
        } catch (const recur::VersionError &error) {
            check(!want_ok && error.library_version() == recur::version_number() &&
                      error.header_version() == RECUR_VERSION_NUMBER,
                  std::string(attempt == 0 ? "check_version()" : "Model::load_file") + " throws VersionError: " +
                      error.what());
        }
    }
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 3 && std::string(argv[1]) == "--version")
        return version_only(argv[2]);
    const std::string dir = argc > 1 ? argv[1] : "Tests/testdata";

    check(recur::version_compatible(), "version_compatible()");
    try {
        recur::check_version();
        check(true, "check_version()");
    } catch (const recur::VersionError &error) {
        check(false, error.what());
    }
    check(recur::version_number() == RECUR_VERSION_NUMBER &&
              std::string(recur::version_string()) == RECUR_VERSION_STRING,
          "the library's version is the header's");

    const int cases = reference_cases(dir);
    length_cases(dir);
    invalid_documents(dir);
    errors();
    moves();

    std::printf("%d reference cases; kernels %s\n", cases, recur::cpu_kernels());
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
