// recur.hpp: a header-only C++17 wrapper over Recur's C API (recur.h).
//
//   recur::Model    a loaded model (RAII over recur_model)
//   recur::State    inference state for `batch` streams (RAII over recur_state)
//   recur::Trainer  fine-tuning of a model in place (RAII over recur_trainer)
//   recur::Error    the exception every failure throws: status() and message()
//
// All three types are move-only (Model::clone() makes an independent copy).
// A moved-from object is empty: calling it throws recur::Error with
// RECUR_ERROR_INVALID_ARGUMENT; destroying or reassigning it is fine.
// Lifetimes follow the C library: a State or Trainer keeps its model alive, so
// a Model may be destroyed before the states made from it.
//
// Arrays are float32, row-major, batch first, as in recur.h. Functions take
// read-only views (recur::FloatView: a std::vector<float>, std::array, a C
// array, std::span, or {pointer, count}) and either return a std::vector or
// write into a caller's buffer (recur::FloatSpan). Every size is checked
// before the C call; a mismatch throws recur::Error(RECUR_ERROR_SHAPE) whose
// message gives the expected size.
//
// Threads: as the C API. A Model may serve any number of threads at once,
// each with its own State; a State or Trainer is used by one thread at a time.
//
// Build: g++ -std=c++17 -I<dir of recur.h and recur.hpp> prog.cpp -lrecur
// (or `pkg-config --cflags --libs recur` after `make install`).
#ifndef RECUR_HPP
#define RECUR_HPP

#include "recur.h"

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

// The wrapper calls the functions of recur.h 0.1; a newer MINOR only adds
// (docs/versioning.md), a new MAJOR may change signatures: recheck then.
static_assert(RECUR_VERSION_MAJOR == 0, "recur.hpp is written for the C API of Recur 0.x (recur.h MAJOR 0)");
static_assert(RECUR_VERSION_NUMBER >= 100, "recur.hpp needs recur.h 0.1.0 or newer");

namespace recur {

// ---- Errors -------------------------------------------------------------------

// A failed Recur call (or a size the wrapper refused before calling).
// what() is "<where>: <message>", e.g.
//   "Model::load_file: cannot open m.json: No such file or directory".
class Error : public std::runtime_error {
public:
    Error(recur_status status, const std::string &message, const std::string &where = std::string())
        : std::runtime_error(where.empty() ? message : where + ": " + message),
          status_(status),
          message_(std::make_shared<const std::string>(message)) {}

    // The C status (RECUR_ERROR_*), never RECUR_OK.
    recur_status status() const noexcept { return status_; }
    // The library's message (recur_last_error() of the failed call), or the
    // wrapper's own for a size it refused.
    const std::string &message() const noexcept { return *message_; }
    // A short description of the status ("sizes do not fit the model").
    const char *status_string() const noexcept { return recur_status_string(status_); }

private:
    recur_status status_;
    std::shared_ptr<const std::string> message_; // shared: copying an exception must not throw
};

// The library loaded at run time is not compatible with the recur.h this
// program was compiled against (see check_version()).
class VersionError : public std::runtime_error {
public:
    VersionError(std::uint32_t header, std::uint32_t library, const std::string &message)
        : std::runtime_error(message), header_(header), library_(library) {}
    std::uint32_t header_version() const noexcept { return header_; }
    std::uint32_t library_version() const noexcept { return library_; }

private:
    std::uint32_t header_;
    std::uint32_t library_;
};

// ---- Version ------------------------------------------------------------------

// The loaded library's version, MAJOR*10000 + MINOR*100 + PATCH, and as text.
inline std::uint32_t version_number() noexcept { return recur_version_number(); }
inline const char *version_string() noexcept { return recur_version_string(); }
// The kernels in use: "avx512", "avx2", "sse2" or "reference".
inline const char *cpu_kernels() noexcept { return recur_cpu_kernels(); }

// True when the loaded library can serve a program built against this
// recur.h: the same MAJOR and at least the header's MINOR (a MINOR version
// only adds to the API; the PATCH does not matter). docs/versioning.md.
inline bool version_compatible() noexcept
{
    const std::uint32_t library = recur_version_number();
    return library / 10000 == RECUR_VERSION_NUMBER / 10000 &&
           library / 100 % 100 >= RECUR_VERSION_NUMBER / 100 % 100;
}

// Throws VersionError when version_compatible() is false. Model's factory
// functions call it once per process, so programs need not; call it
// yourself to fail early with a clear message.
inline void check_version()
{
    if (!version_compatible()) {
        const std::uint32_t library = recur_version_number();
        const std::string found = std::to_string(library / 10000) + "." + std::to_string(library / 100 % 100) +
                                  "." + std::to_string(library % 100);
        throw VersionError(RECUR_VERSION_NUMBER, library,
                           std::string("recur: this program was built against recur.h ") + RECUR_VERSION_STRING +
                               " but the loaded library is " + found +
                               " (it needs the same MAJOR and at least the same MINOR)");
    }
}

// ---- Views --------------------------------------------------------------------

namespace detail {
template <typename C, typename P, typename = void>
struct is_contiguous_of : std::false_type {};
template <typename C, typename P>
struct is_contiguous_of<C, P,
                        std::void_t<decltype(std::data(std::declval<C &>())), decltype(std::size(std::declval<C &>()))>>
    : std::is_convertible<decltype(std::data(std::declval<C &>())), P> {};
} // namespace detail

// A read-only view of `size` contiguous values (like std::span<const T>).
// It does not own them: use it as a parameter.
template <typename T>
class View {
public:
    constexpr View() noexcept = default;
    constexpr View(const T *data, std::size_t size) noexcept : data_(data), size_(size) {}
    // std::vector<T>, std::array<T, N>, T[N], std::span<T>, std::basic_string<T>...
    template <typename C,
              typename = std::enable_if_t<!std::is_same_v<std::decay_t<C>, View> &&
                                          detail::is_contiguous_of<const C, const T *>::value>>
    constexpr View(const C &container) noexcept : data_(std::data(container)), size_(std::size(container)) {}

    constexpr const T *data() const noexcept { return data_; }
    constexpr std::size_t size() const noexcept { return size_; }
    constexpr bool empty() const noexcept { return size_ == 0; }
    constexpr const T *begin() const noexcept { return data_; }
    constexpr const T *end() const noexcept { return data_ + size_; }
    constexpr const T &operator[](std::size_t i) const noexcept { return data_[i]; }

private:
    const T *data_ = nullptr;
    std::size_t size_ = 0;
};

// A writable view of `size` contiguous values (like std::span<T>): where a
// function writes its results.
template <typename T>
class Span {
public:
    constexpr Span() noexcept = default;
    constexpr Span(T *data, std::size_t size) noexcept : data_(data), size_(size) {}
    template <typename C,
              typename = std::enable_if_t<!std::is_same_v<std::decay_t<C>, Span> &&
                                          detail::is_contiguous_of<C, T *>::value>>
    constexpr Span(C &container) noexcept : data_(std::data(container)), size_(std::size(container)) {}

    constexpr T *data() const noexcept { return data_; }
    constexpr std::size_t size() const noexcept { return size_; }
    constexpr bool empty() const noexcept { return size_ == 0; }
    constexpr T *begin() const noexcept { return data_; }
    constexpr T *end() const noexcept { return data_ + size_; }
    constexpr T &operator[](std::size_t i) const noexcept { return data_[i]; }

private:
    T *data_ = nullptr;
    std::size_t size_ = 0;
};

using FloatView = View<float>;
using FloatSpan = Span<float>;
using LabelView = View<std::int32_t>;

// ---- Internals ----------------------------------------------------------------

namespace detail {

inline void check(recur_status status, const char *where)
{
    if (status != RECUR_OK)
        throw Error(status, recur_last_error(), where);
}

[[noreturn]] inline void empty_handle(const char *type, const char *where)
{
    throw Error(RECUR_ERROR_INVALID_ARGUMENT,
                std::string("this ") + type + " is empty (moved from or default-constructed)", where);
}

inline void check_size(const char *where, const char *what, std::size_t got, std::size_t expected,
                       const std::string &explanation)
{
    if (got != expected)
        throw Error(RECUR_ERROR_SHAPE,
                    std::string(what) + " has " + std::to_string(got) + " values, expected " +
                        std::to_string(expected) + " (" + explanation + ")",
                    where);
}

inline std::string product(std::initializer_list<std::pair<const char *, std::size_t>> factors)
{
    std::string text;
    std::size_t total = 1;
    for (const auto &factor : factors) {
        if (!text.empty())
            text += " x ";
        text += std::string(factor.first) + " " + std::to_string(factor.second);
        total *= factor.second;
    }
    return text + " = " + std::to_string(total);
}

inline std::size_t checked_product(const char *where, std::size_t a, std::size_t b)
{
    if (a != 0 && b > SIZE_MAX / a)
        throw Error(RECUR_ERROR_SHAPE, "the sizes overflow size_t", where);
    return a * b;
}

struct Tensor {
    std::string name;
    std::vector<std::size_t> shape;
    std::size_t count;
};
struct Layer {
    std::string type;
    std::vector<Tensor> tensors;
};
using Layout = std::vector<Layer>;

// The layers and their tensors' shapes, as the C API describes them
// (recur_model_layer_info, recur_model_tensor_name, recur_model_tensor_shape).
inline std::shared_ptr<const Layout> read_layout(const recur_model *model)
{
    const char *where = "Model (reading the layers)";
    auto layout = std::make_shared<Layout>();
    for (std::size_t index = 0; index < recur_model_layer_count(model); ++index) {
        recur_layer_info info{};
        info.struct_size = sizeof info;
        check(recur_model_layer_info(model, index, &info), where);
        Layer layer{info.type, {}};
        for (std::size_t t = 0; t < info.tensor_count; ++t) {
            const char *name = nullptr;
            std::size_t rows = 0, columns = 0;
            check(recur_model_tensor_name(model, index, t, &name), where);
            check(recur_model_tensor_shape(model, index, name, &rows, &columns), where);
            Tensor tensor{name, {rows}, rows};
            if (columns > 1 || std::string(name).rfind("weight", 0) == 0) {
                tensor.shape.push_back(columns);
                tensor.count *= columns;
            }
            layer.tensors.push_back(std::move(tensor));
        }
        layout->push_back(std::move(layer));
    }
    return layout;
}

inline const Tensor &find_tensor(const Layout &layout, std::size_t layer, const std::string &name, const char *where)
{
    if (layer >= layout.size())
        throw Error(RECUR_ERROR_INVALID_ARGUMENT,
                    "layer " + std::to_string(layer) + " is out of range: the model has " +
                        std::to_string(layout.size()) + " layers",
                    where);
    std::string names;
    for (const Tensor &tensor : layout[layer].tensors) {
        if (tensor.name == name)
            return tensor;
        names += (names.empty() ? "" : ", ") + tensor.name;
    }
    throw Error(RECUR_ERROR_INVALID_ARGUMENT,
                "layers[" + std::to_string(layer) + "] (" + layout[layer].type + ") has no tensor \"" + name +
                    "\" (it has " + names + ")",
                where);
}

inline void ensure_version()
{
    static const bool compatible = version_compatible();
    if (!compatible)
        check_version();
}

} // namespace detail

class State;
class Trainer;

// ---- Model --------------------------------------------------------------------

class Model {
public:
    // An empty model (what a moved-from Model is).
    Model() noexcept = default;

    // Takes ownership of a recur_model from the C API (NULL makes an empty Model).
    static Model adopt(recur_model *model) { return Model(model); }

    // Loads a model from a JSON file (model format v1).
    static Model load_file(const std::string &path)
    {
        detail::ensure_version();
        recur_model *model = nullptr;
        detail::check(recur_model_load_file(path.c_str(), &model), "Model::load_file");
        return Model(model);
    }

    // Loads a model from JSON text.
    static Model from_json(std::string_view json)
    {
        detail::ensure_version();
        recur_model *model = nullptr;
        detail::check(recur_model_load_json(json.data(), json.size(), &model), "Model::from_json");
        return Model(model);
    }

    ~Model() { recur_model_free(handle_); }
    Model(Model &&other) noexcept
        : handle_(std::exchange(other.handle_, nullptr)), shapes_(std::move(other.shapes_)) {}
    Model &operator=(Model &&other) noexcept
    {
        if (this != &other) {
            recur_model_free(handle_);
            handle_ = std::exchange(other.handle_, nullptr);
            shapes_ = std::move(other.shapes_);
        }
        return *this;
    }
    Model(const Model &) = delete;
    Model &operator=(const Model &) = delete;

    // An independent copy with its own weights.
    Model clone() const
    {
        recur_model *copy = nullptr;
        detail::check(recur_model_clone(handle("Model::clone"), &copy), "Model::clone");
        return Model(copy);
    }

    // The model as JSON text (by default tensors of more than 4096 values in base64).
    std::string to_json(recur_tensor_encoding encoding = RECUR_TENSORS_AUTOMATIC) const
    {
        char *text = nullptr;
        std::size_t length = 0;
        detail::check(recur_model_to_json_encoded(handle("Model::to_json"), encoding, &text, &length),
                      "Model::to_json");
        std::unique_ptr<char, void (*)(char *)> owned(text, recur_string_free);
        return std::string(text, length);
    }

    // Saves the model to a file (atomically: written beside it, then renamed).
    void save(const std::string &path, recur_tensor_encoding encoding = RECUR_TENSORS_AUTOMATIC) const
    {
        detail::check(recur_model_save_file_encoded(handle("Model::save"), path.c_str(), encoding), "Model::save");
    }

    std::size_t input_size() const { return recur_model_input_size(handle("Model::input_size")); }
    std::size_t output_size() const { return recur_model_output_size(handle("Model::output_size")); }
    std::size_t parameter_count() const { return recur_model_parameter_count(handle("Model::parameter_count")); }
    std::size_t layer_count() const { return recur_model_layer_count(handle("Model::layer_count")); }
    // Floats of state per stream.
    std::size_t state_size() const { return recur_model_state_size(handle("Model::state_size")); }

    // The type of layer `layer`: "rnn", "lstm", "gru" or "dense".
    const std::string &layer_type(std::size_t layer) const
    {
        const detail::Layout &all = *layout("Model::layer_type");
        if (layer >= all.size())
            throw Error(RECUR_ERROR_INVALID_ARGUMENT, "layer " + std::to_string(layer) + " is out of range",
                        "Model::layer_type");
        return all[layer].type;
    }
    // The names of layer `layer`'s tensors ("weight_ih", ... or "weight", "bias").
    std::vector<std::string> tensor_names(std::size_t layer) const
    {
        const detail::Layout &all = *layout("Model::tensor_names");
        if (layer >= all.size())
            throw Error(RECUR_ERROR_INVALID_ARGUMENT, "layer " + std::to_string(layer) + " is out of range",
                        "Model::tensor_names");
        std::vector<std::string> names;
        for (const detail::Tensor &tensor : all[layer].tensors)
            names.push_back(tensor.name);
        return names;
    }
    // The shape of tensor `name` of layer `layer`, e.g. {16, 2}.
    std::vector<std::size_t> tensor_shape(std::size_t layer, const std::string &name) const
    {
        return detail::find_tensor(*layout("Model::tensor_shape"), layer, name, "Model::tensor_shape").shape;
    }
    // The number of values of tensor `name` of layer `layer`.
    std::size_t tensor_size(std::size_t layer, const std::string &name) const
    {
        return detail::find_tensor(*layout("Model::tensor_size"), layer, name, "Model::tensor_size").count;
    }

    // A copy of tensor `name` of layer `layer`, row-major.
    std::vector<float> get_tensor(std::size_t layer, const std::string &name) const
    {
        std::vector<float> out(tensor_size(layer, name));
        get_tensor(layer, name, out);
        return out;
    }
    // Copies tensor `name` of layer `layer` into `out` (exactly its size).
    void get_tensor(std::size_t layer, const std::string &name, FloatSpan out) const
    {
        const char *where = "Model::get_tensor";
        const detail::Tensor &tensor = detail::find_tensor(*layout(where), layer, name, where);
        detail::check_size(where, "out", out.size(), tensor.count, "tensor " + name);
        detail::check(recur_model_get_tensor(handle_, layer, name.c_str(), out.data(), out.size()), where);
    }
    // Replaces tensor `name` of layer `layer` (exactly its size, finite). No
    // State may run on this model meanwhile.
    void set_tensor(std::size_t layer, const std::string &name, FloatView values)
    {
        const char *where = "Model::set_tensor";
        const detail::Tensor &tensor = detail::find_tensor(*layout(where), layer, name, where);
        detail::check_size(where, "values", values.size(), tensor.count, "tensor " + name);
        detail::check(recur_model_set_tensor(handle_, layer, name.c_str(), values.data(), values.size()), where);
    }

    // RECUR_WEIGHTS_FP16, RECUR_WEIGHTS_INT8 or RECUR_WEIGHTS_FP32 (see recur.h). No State may run meanwhile.
    void set_weight_storage(recur_weight_storage storage)
    {
        detail::check(recur_model_set_weight_storage(handle("Model::set_weight_storage"), storage),
                      "Model::set_weight_storage");
    }
    recur_weight_storage weight_storage() const
    {
        return recur_model_weight_storage(handle("Model::weight_storage"));
    }

    // New inference state for `batch` streams, all at zero (keeps the model alive).
    State state(std::size_t batch = 1) const;
    // A trainer that fine-tunes this model in place (keeps the model alive).
    // `config` is the JSON object recur_trainer_create takes ("" for the defaults).
    Trainer trainer(const std::string &config = std::string());

    bool empty() const noexcept { return handle_ == nullptr; }
    explicit operator bool() const noexcept { return handle_ != nullptr; }
    // The C handle (still owned by this Model).
    recur_model *c_handle() const noexcept { return handle_; }
    // Gives up ownership: the caller frees the result with recur_model_free.
    recur_model *release() noexcept
    {
        shapes_.reset();
        return std::exchange(handle_, nullptr);
    }

private:
    friend class State;
    friend class Trainer;

    explicit Model(recur_model *model) : handle_(model)
    {
        if (!model)
            return;
        try {
            shapes_ = std::make_unique<Shapes>();
        } catch (...) {
            recur_model_free(std::exchange(handle_, nullptr));
            throw;
        }
    }

    recur_model *handle(const char *where) const
    {
        if (!handle_)
            detail::empty_handle("Model", where);
        return handle_;
    }

    // The tensor shapes, read once on first use (thread-safe: a Model may be shared).
    struct Shapes {
        std::mutex mutex;
        std::shared_ptr<const detail::Layout> layout;
    };
    std::shared_ptr<const detail::Layout> layout(const char *where) const
    {
        handle(where);
        std::lock_guard<std::mutex> lock(shapes_->mutex);
        if (!shapes_->layout)
            shapes_->layout = detail::read_layout(handle_);
        return shapes_->layout;
    }

    recur_model *handle_ = nullptr;
    std::unique_ptr<Shapes> shapes_;
};

// ---- State --------------------------------------------------------------------

class State {
public:
    State() noexcept = default;

    // New inference state for `batch` streams of `model`, all at zero. The
    // state keeps the model alive: `model` may be destroyed first.
    explicit State(const Model &model, std::size_t batch = 1)
    {
        recur_state *state = nullptr;
        detail::check(recur_state_create(model.handle("State"), batch, &state), "State");
        handle_ = state;
        batch_ = batch;
        input_size_ = recur_model_input_size(model.handle_);
        output_size_ = recur_model_output_size(model.handle_);
        state_size_ = recur_state_size(state);
    }

    ~State() { recur_state_free(handle_); }
    State(State &&other) noexcept
        : handle_(std::exchange(other.handle_, nullptr)),
          batch_(std::exchange(other.batch_, 0)),
          input_size_(std::exchange(other.input_size_, 0)),
          output_size_(std::exchange(other.output_size_, 0)),
          state_size_(std::exchange(other.state_size_, 0)) {}
    State &operator=(State &&other) noexcept
    {
        if (this != &other) {
            recur_state_free(handle_);
            handle_ = std::exchange(other.handle_, nullptr);
            batch_ = std::exchange(other.batch_, 0);
            input_size_ = std::exchange(other.input_size_, 0);
            output_size_ = std::exchange(other.output_size_, 0);
            state_size_ = std::exchange(other.state_size_, 0);
        }
        return *this;
    }
    State(const State &) = delete;
    State &operator=(const State &) = delete;

    std::size_t batch() const noexcept { return batch_; }
    std::size_t input_size() const noexcept { return input_size_; }
    std::size_t output_size() const noexcept { return output_size_; }
    // Floats of state per stream.
    std::size_t size() const noexcept { return state_size_; }

    // One time step for every stream: x is [batch][input_size]; returns
    // [batch][output_size].
    std::vector<float> step(FloatView x)
    {
        std::vector<float> y(batch_ * output_size_);
        step(x, y);
        return y;
    }
    std::vector<float> step(const float *x, std::size_t count) { return step(FloatView(x, count)); }
    // One time step, writing [batch][output_size] into y.
    void step(FloatView x, FloatSpan y)
    {
        const char *where = "State::step";
        handle(where);
        detail::check_size(where, "x", x.size(), batch_ * input_size_,
                           detail::product({{"batch", batch_}, {"input_size", input_size_}}));
        detail::check_size(where, "y", y.size(), batch_ * output_size_,
                           detail::product({{"batch", batch_}, {"output_size", output_size_}}));
        detail::check(recur_state_step(handle_, x.data(), y.data()), where);
    }

    // `steps` time steps for every stream: xs is [batch][steps][input_size];
    // returns [batch][steps][output_size] (the same floats as `steps` step calls).
    std::vector<float> run(FloatView xs, std::size_t steps)
    {
        std::vector<float> ys(detail::checked_product("State::run", batch_ * output_size_, steps));
        run(xs, steps, ys);
        return ys;
    }
    // As run(xs, steps) with steps = xs.size() / (batch * input_size).
    std::vector<float> run(FloatView xs)
    {
        handle("State::run");
        const std::size_t per_step = batch_ * input_size_;
        if (xs.empty() || xs.size() % per_step != 0)
            throw Error(RECUR_ERROR_SHAPE,
                        "xs has " + std::to_string(xs.size()) + " values, not a positive multiple of " +
                            detail::product({{"batch", batch_}, {"input_size", input_size_}}),
                        "State::run");
        return run(xs, xs.size() / per_step);
    }
    // `steps` time steps, writing [batch][steps][output_size] into ys.
    void run(FloatView xs, std::size_t steps, FloatSpan ys)
    {
        const char *where = "State::run";
        handle(where);
        if (steps == 0)
            throw Error(RECUR_ERROR_INVALID_ARGUMENT, "steps is 0", where);
        detail::check_size(where, "xs", xs.size(), detail::checked_product(where, batch_ * input_size_, steps),
                           detail::product({{"batch", batch_}, {"steps", steps}, {"input_size", input_size_}}));
        detail::check_size(where, "ys", ys.size(), detail::checked_product(where, batch_ * output_size_, steps),
                           detail::product({{"batch", batch_}, {"steps", steps}, {"output_size", output_size_}}));
        detail::check(recur_state_run(handle_, xs.data(), steps, ys.data()), where);
    }
    // Streams of different lengths: stream b runs only its first lengths[b]
    // steps (0 ... steps); its inputs past them are never read, its outputs
    // there are 0, and its state is the one after its own last step.
    std::vector<float> run(FloatView xs, std::size_t steps, View<std::size_t> lengths)
    {
        const char *where = "State::run";
        std::vector<float> ys(detail::checked_product(where, batch_ * output_size_, steps));
        handle(where);
        if (steps == 0)
            throw Error(RECUR_ERROR_INVALID_ARGUMENT, "steps is 0", where);
        detail::check_size(where, "xs", xs.size(), detail::checked_product(where, batch_ * input_size_, steps),
                           detail::product({{"batch", batch_}, {"steps", steps}, {"input_size", input_size_}}));
        detail::check_size(where, "lengths", lengths.size(), batch_, "one per stream");
        detail::check(recur_state_run_lengths(handle_, xs.data(), steps, lengths.data(), ys.data()), where);
        return ys;
    }

    // Every stream back to zero.
    void reset() { detail::check(recur_state_reset(handle("State::reset")), "State::reset"); }
    // One stream back to zero; the others are untouched.
    void reset_stream(std::size_t stream)
    {
        detail::check(recur_state_reset_stream(handle("State::reset_stream"), stream), "State::reset_stream");
    }

    // The state, [batch][size()].
    std::vector<float> get() const
    {
        std::vector<float> out(batch_ * state_size_);
        get(out);
        return out;
    }
    void get(FloatSpan out) const
    {
        const char *where = "State::get";
        handle(where);
        detail::check_size(where, "out", out.size(), batch_ * state_size_,
                           detail::product({{"batch", batch_}, {"state size", state_size_}}));
        detail::check(recur_state_get(handle_, out.data(), out.size()), where);
    }
    // Replaces the state with values, [batch][size()] finite floats.
    void set(FloatView values)
    {
        const char *where = "State::set";
        handle(where);
        detail::check_size(where, "values", values.size(), batch_ * state_size_,
                           detail::product({{"batch", batch_}, {"state size", state_size_}}));
        detail::check(recur_state_set(handle_, values.data(), values.size()), where);
    }

    // Splits the streams of later step/run calls over `threads` threads
    // (outputs stay bit-identical; 1, the default, starts none).
    void set_threads(std::size_t threads)
    {
        detail::check(recur_state_set_threads(handle("State::set_threads"), threads), "State::set_threads");
    }

    bool empty() const noexcept { return handle_ == nullptr; }
    explicit operator bool() const noexcept { return handle_ != nullptr; }
    // The C handle (still owned by this State).
    recur_state *c_handle() const noexcept { return handle_; }

private:
    recur_state *handle(const char *where) const
    {
        if (!handle_)
            detail::empty_handle("State", where);
        return handle_;
    }

    recur_state *handle_ = nullptr;
    std::size_t batch_ = 0;
    std::size_t input_size_ = 0;
    std::size_t output_size_ = 0;
    std::size_t state_size_ = 0;
};

inline State Model::state(std::size_t batch) const { return State(*this, batch); }

// ---- Trainer ------------------------------------------------------------------

class Trainer {
public:
    Trainer() noexcept = default;

    // A trainer that fine-tunes `model` in place; `config` is the JSON object
    // of recur_trainer_create ("" for the defaults). It keeps the model alive.
    // While a step runs no State may run on the model (serve from a clone()).
    explicit Trainer(Model &model, const std::string &config = std::string())
    {
        const char *where = "Trainer";
        layout_ = model.layout(where);
        recur_trainer *trainer = nullptr;
        detail::check(recur_trainer_create(model.handle_, config.empty() ? nullptr : config.c_str(), &trainer),
                      where);
        handle_ = trainer;
        input_size_ = recur_model_input_size(model.handle_);
        output_size_ = recur_model_output_size(model.handle_);
        // One target per sequence ("targets": "last"): a step of 2 steps takes
        // as many targets as a step of 1.
        std::size_t one = 0, two = 0;
        if (recur_trainer_target_count(handle_, 1, 1, &one, nullptr) != RECUR_OK ||
            recur_trainer_target_count(handle_, 1, 2, &two, nullptr) != RECUR_OK) {
            Error error(RECUR_ERROR_INTERNAL, recur_last_error(), where);
            recur_trainer_free(std::exchange(handle_, nullptr));
            throw error;
        }
        targets_last_ = one == two;
    }

    ~Trainer() { recur_trainer_free(handle_); }
    Trainer(Trainer &&other) noexcept
        : handle_(std::exchange(other.handle_, nullptr)),
          layout_(std::move(other.layout_)),
          input_size_(std::exchange(other.input_size_, 0)),
          output_size_(std::exchange(other.output_size_, 0)),
          targets_last_(std::exchange(other.targets_last_, false)) {}
    Trainer &operator=(Trainer &&other) noexcept
    {
        if (this != &other) {
            recur_trainer_free(handle_);
            handle_ = std::exchange(other.handle_, nullptr);
            layout_ = std::move(other.layout_);
            input_size_ = std::exchange(other.input_size_, 0);
            output_size_ = std::exchange(other.output_size_, 0);
            targets_last_ = std::exchange(other.targets_last_, false);
        }
        return *this;
    }
    Trainer(const Trainer &) = delete;
    Trainer &operator=(const Trainer &) = delete;

    // Whether the configuration says "targets": "last" (one target per sequence).
    bool targets_last() const noexcept { return targets_last_; }

    // One training step over `batch` sequences of `steps` steps: x is
    // [batch][steps][input_size], target [batch][steps][output_size] (or
    // [batch][output_size] for "targets": "last"). Returns the loss before the update.
    float step(FloatView x, std::size_t batch, std::size_t steps, FloatView target)
    {
        const char *where = "Trainer::step";
        check_x(where, x, batch, steps);
        if (targets_last_)
            detail::check_size(where, "target", target.size(), detail::checked_product(where, batch, output_size_),
                               detail::product({{"batch", batch}, {"output_size", output_size_}}) +
                                   ", \"targets\": \"last\"");
        else
            detail::check_size(where, "target", target.size(),
                               detail::checked_product(where, detail::checked_product(where, batch, steps), output_size_),
                               detail::product({{"batch", batch}, {"steps", steps}, {"output_size", output_size_}}));
        float loss = 0;
        detail::check(recur_trainer_step(handle_, x.data(), batch, steps, target.data(), &loss), where);
        return loss;
    }

    // A step over sequences of different lengths (1 <= lengths[b] <= steps):
    // the loss is the mean over valid positions ("last": each sequence's own
    // last step); inputs and targets past a length are never read. target
    // keeps step()'s layout.
    float step(FloatView x, std::size_t batch, std::size_t steps, View<std::size_t> lengths, FloatView target)
    {
        const char *where = "Trainer::step";
        check_x(where, x, batch, steps);
        detail::check_size(where, "lengths", lengths.size(), batch, "one per sequence");
        std::size_t expected = 0;
        detail::check(recur_trainer_target_count(handle_, batch, steps, &expected, nullptr), where);
        detail::check_size(where, "target", target.size(), expected, targets_last_ ? "batch x output_size" : "batch x steps x output_size");
        float loss = 0;
        detail::check(recur_trainer_step_lengths(handle_, x.data(), batch, steps, lengths.data(), target.data(), &loss), where);
        return loss;
    }

    // A step with class labels ("loss": "cross_entropy"): labels is
    // [batch][steps] (or [batch] for "targets": "last"), each in [0, output_size).
    float step_labels(FloatView x, std::size_t batch, std::size_t steps, LabelView labels)
    {
        const char *where = "Trainer::step_labels";
        check_x(where, x, batch, steps);
        if (targets_last_)
            detail::check_size(where, "labels", labels.size(), batch, "batch, \"targets\": \"last\"");
        else
            detail::check_size(where, "labels", labels.size(), detail::checked_product(where, batch, steps),
                               detail::product({{"batch", batch}, {"steps", steps}}));
        float loss = 0;
        detail::check(recur_trainer_step_labels(handle_, x.data(), batch, steps, labels.data(), &loss), where);
        return loss;
    }

    // The global L2 norm of the last step's gradient, before clipping.
    float last_gradient_norm() const
    {
        return recur_trainer_last_gradient_norm(handle("Trainer::last_gradient_norm"));
    }

    // The last step's gradient of tensor `name` of layer `layer`, row-major.
    std::vector<float> gradient(std::size_t layer, const std::string &name) const
    {
        const char *where = "Trainer::gradient";
        handle(where);
        std::vector<float> out(detail::find_tensor(*layout_, layer, name, where).count);
        gradient(layer, name, out);
        return out;
    }
    void gradient(std::size_t layer, const std::string &name, FloatSpan out) const
    {
        const char *where = "Trainer::gradient";
        handle(where);
        const detail::Tensor &tensor = detail::find_tensor(*layout_, layer, name, where);
        detail::check_size(where, "out", out.size(), tensor.count, "tensor " + name);
        detail::check(recur_trainer_get_gradient(handle_, layer, name.c_str(), out.data(), out.size()), where);
    }

    // Per time step of the last step: the L2 norm of dL/dh_t of recurrent
    // layer `layer`; `steps` must be that step's steps.
    std::vector<float> hidden_gradient_norms(std::size_t layer, std::size_t steps) const
    {
        const char *where = "Trainer::hidden_gradient_norms";
        std::vector<float> out(steps);
        detail::check(recur_trainer_hidden_gradient_norms(handle(where), layer, out.data(), steps), where);
        return out;
    }

    // Stateful trainers: forget the carried state.
    void reset_state() { detail::check(recur_trainer_reset_state(handle("Trainer::reset_state")), "Trainer::reset_state"); }

    // Splits the sequences of later steps over `threads` threads.
    void set_threads(std::size_t threads)
    {
        detail::check(recur_trainer_set_threads(handle("Trainer::set_threads"), threads), "Trainer::set_threads");
    }

    bool empty() const noexcept { return handle_ == nullptr; }
    explicit operator bool() const noexcept { return handle_ != nullptr; }
    // The C handle (still owned by this Trainer).
    recur_trainer *c_handle() const noexcept { return handle_; }

private:
    recur_trainer *handle(const char *where) const
    {
        if (!handle_)
            detail::empty_handle("Trainer", where);
        return handle_;
    }
    void check_x(const char *where, FloatView x, std::size_t batch, std::size_t steps) const
    {
        handle(where);
        if (batch == 0 || steps == 0)
            throw Error(RECUR_ERROR_INVALID_ARGUMENT, batch == 0 ? "batch is 0" : "steps is 0", where);
        detail::check_size(where, "x", x.size(),
                           detail::checked_product(where, detail::checked_product(where, batch, steps), input_size_),
                           detail::product({{"batch", batch}, {"steps", steps}, {"input_size", input_size_}}));
    }

    recur_trainer *handle_ = nullptr;
    std::shared_ptr<const detail::Layout> layout_;
    std::size_t input_size_ = 0;
    std::size_t output_size_ = 0;
    bool targets_last_ = false;
};

inline Trainer Model::trainer(const std::string &config) { return Trainer(*this, config); }

} // namespace recur

#endif // RECUR_HPP
