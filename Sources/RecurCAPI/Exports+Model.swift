// MARK: - Models
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RecurCore

/// Loads a model from a JSON file (model format v1).
/// On success *out_model is a new model the caller frees with
/// recur_model_free; on failure it is left untouched.
/// Returns RECUR_OK, RECUR_ERROR_INVALID_ARGUMENT (path or out_model NULL),
/// RECUR_ERROR_IO (the file cannot be read), RECUR_ERROR_PARSE (not JSON),
/// RECUR_ERROR_MODEL (not a valid model), RECUR_ERROR_OUT_OF_MEMORY.
@_cdecl("recur_model_load_file")
public func recur_model_load_file(_ path: UnsafePointer<CChar>?, _ out_model: UnsafeMutablePointer<ModelPointer?>?) -> Status {
    withStatus { () throws(RecurError) in
        let path = String(cString: try required(path, "path"))
        let out = try required(out_model, "out_model")
        out.pointee = Handle.retain(try Model.load(file: path))
    }
}

/// Loads a model from `length` bytes of JSON text (no terminating NUL needed).
/// On success *out_model is a new model the caller frees with
/// recur_model_free; on failure it is left untouched.
/// Returns RECUR_OK, RECUR_ERROR_INVALID_ARGUMENT (json or out_model NULL),
/// RECUR_ERROR_PARSE, RECUR_ERROR_MODEL, RECUR_ERROR_OUT_OF_MEMORY.
@_cdecl("recur_model_load_json")
public func recur_model_load_json(_ json: UnsafePointer<CChar>?, _ length: UInt, _ out_model: UnsafeMutablePointer<ModelPointer?>?) -> Status {
    withStatus { () throws(RecurError) in
        let json = try required(json, "json")
        let length = try count(length, "length")
        let out = try required(out_model, "out_model")
        out.pointee = Handle.retain(try Model.load(json: UnsafeRawBufferPointer(start: json, count: length)))
    }
}

/// Saves the model to a file as JSON: tensors of more than 4096 values in
/// base64 (form 3, fast to load), the others in flat form ({"shape",
/// "data"}, readable); floats read back bit-identical. Atomic: the
/// model is written to a temporary file beside `path`, flushed, then renamed
/// over `path`, so a crash never leaves a half-written file.
/// Returns RECUR_OK, RECUR_ERROR_INVALID_ARGUMENT (model or path NULL),
/// RECUR_ERROR_IO.
@_cdecl("recur_model_save_file")
public func recur_model_save_file(_ model: ConstModelPointer?, _ path: UnsafePointer<CChar>?) -> Status {
    recur_model_save_file_encoded(model, path, TensorEncoding.automatic.rawValue)
}

/// recur_model_save_file with a choice of tensor encoding
/// (RECUR_TENSORS_FLAT, RECUR_TENSORS_BASE64 or RECUR_TENSORS_AUTOMATIC).
/// Returns RECUR_OK, RECUR_ERROR_INVALID_ARGUMENT (NULL, or an unknown
/// encoding), RECUR_ERROR_IO.
@_cdecl("recur_model_save_file_encoded")
public func recur_model_save_file_encoded(_ model: ConstModelPointer?, _ path: UnsafePointer<CChar>?, _ encoding: TensorEncodingCode) -> Status {
    withStatus { () throws(RecurError) in
        let model = try Handle.unbox(model, as: Model.self, "model")
        let path = String(cString: try required(path, "path"))
        try model.save(file: path, encoding: try tensorEncoding(encoding))
    }
}

/// The model as JSON text, tensors encoded as by recur_model_save_file
/// (RECUR_TENSORS_AUTOMATIC). On success *out_json is a
/// NUL-terminated string the caller frees with recur_string_free, and
/// *out_length (when out_length is not NULL) its length without the NUL.
/// Returns RECUR_OK, RECUR_ERROR_INVALID_ARGUMENT (model or out_json NULL),
/// RECUR_ERROR_OUT_OF_MEMORY.
@_cdecl("recur_model_to_json")
public func recur_model_to_json(_ model: ConstModelPointer?, _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ out_length: UnsafeMutablePointer<UInt>?) -> Status {
    recur_model_to_json_encoded(model, TensorEncoding.automatic.rawValue, out_json, out_length)
}

/// recur_model_to_json with a choice of tensor encoding
/// (RECUR_TENSORS_FLAT, RECUR_TENSORS_BASE64 or RECUR_TENSORS_AUTOMATIC).
/// Returns RECUR_OK, RECUR_ERROR_INVALID_ARGUMENT (NULL, or an unknown
/// encoding), RECUR_ERROR_OUT_OF_MEMORY.
@_cdecl("recur_model_to_json_encoded")
public func recur_model_to_json_encoded(_ model: ConstModelPointer?, _ encoding: TensorEncodingCode, _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ out_length: UnsafeMutablePointer<UInt>?) -> Status {
    withStatus { () throws(RecurError) in
        let model = try Handle.unbox(model, as: Model.self, "model")
        let encoding = try tensorEncoding(encoding)
        let out = try required(out_json, "out_json")
        let text = try model.jsonText(encoding: encoding)
        let length = text.count
        out.pointee = try text.takeCString()
        out_length?.pointee = UInt(length)
    }
}

/// Frees a string returned by the library (recur_model_to_json). NULL is a no-op.
@_cdecl("recur_string_free")
public func recur_string_free(_ string: UnsafeMutablePointer<CChar>?) {
    free(string)
}

/// An independent copy of the model (its own weights). On success
/// *out_model is a new model the caller frees with recur_model_free.
/// Returns RECUR_OK, RECUR_ERROR_INVALID_ARGUMENT (NULL), RECUR_ERROR_OUT_OF_MEMORY.
@_cdecl("recur_model_clone")
public func recur_model_clone(_ model: ConstModelPointer?, _ out_model: UnsafeMutablePointer<ModelPointer?>?) -> Status {
    withStatus { () throws(RecurError) in
        let model = try Handle.unbox(model, as: Model.self, "model")
        let out = try required(out_model, "out_model")
        out.pointee = Handle.retain(try model.clone())
    }
}

/// Releases the caller's reference to a model. States created from it keep
/// it alive until they are freed too. NULL is a no-op.
@_cdecl("recur_model_free")
public func recur_model_free(_ model: ModelPointer?) {
    Handle.release(model, as: Model.self)
}

/// Features per time step of the model's input; 0 when model is NULL.
@_cdecl("recur_model_input_size")
public func recur_model_input_size(_ model: ConstModelPointer?) -> UInt {
    UInt(Handle.peek(model, as: Model.self)?.inputSize ?? 0)
}

/// Features per time step of the model's output (its last layer); 0 when
/// model is NULL.
@_cdecl("recur_model_output_size")
public func recur_model_output_size(_ model: ConstModelPointer?) -> UInt {
    UInt(Handle.peek(model, as: Model.self)?.outputSize ?? 0)
}

/// Number of parameters (weight and bias elements); 0 when model is NULL.
@_cdecl("recur_model_parameter_count")
public func recur_model_parameter_count(_ model: ConstModelPointer?) -> UInt {
    UInt(Handle.peek(model, as: Model.self)?.parameterCount ?? 0)
}

/// Number of layers; 0 when model is NULL.
@_cdecl("recur_model_layer_count")
public func recur_model_layer_count(_ model: ConstModelPointer?) -> UInt {
    UInt(Handle.peek(model, as: Model.self)?.layers.count ?? 0)
}

/// Describes layer `index` (0 = the layer the input enters): its type,
/// activation and sizes. The caller sets out_info->struct_size to
/// sizeof(recur_layer_info); the library fills the fields that fit in it
/// (fields are only ever appended) and leaves struct_size as it was. The
/// strings are static: never freed, valid for the life of the program.
/// Returns RECUR_OK, RECUR_ERROR_INVALID_ARGUMENT (model or out_info NULL,
/// index past the last layer, struct_size smaller than the first version
/// of the struct).
@_cdecl("recur_model_layer_info")
public func recur_model_layer_info(_ model: ConstModelPointer?, _ index: UInt, _ out_info: LayerInfoPointer?) -> Status {
    withStatus { () throws(RecurError) in
        let model = try Handle.unbox(model, as: Model.self, "model")
        let out = try required(out_info, "out_info")
        try LayerInfoRecord(try model.describeLayer(try RecurCAPI.index(index, "index"))).write(to: out)
    }
}

/// The name of tensor `index` of layer `layer` ("weight_ih", "weight_hh",
/// "bias_ih", "bias_hh", then the same with "_reverse" for a bidirectional
/// layer; "weight", "bias" for dense), in the order the
/// format writes them, for index < recur_layer_info.tensor_count. The
/// string is static: never freed.
/// Returns RECUR_OK, RECUR_ERROR_INVALID_ARGUMENT (model or out_name NULL,
/// layer or index out of range).
@_cdecl("recur_model_tensor_name")
public func recur_model_tensor_name(_ model: ConstModelPointer?, _ layer: UInt, _ index: UInt, _ out_name: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Status {
    withStatus { () throws(RecurError) in
        let model = try Handle.unbox(model, as: Model.self, "model")
        let out = try required(out_name, "out_name")
        let names = try model.describeLayer(try RecurCAPI.index(layer, "layer")).tensorNames
        guard index < UInt(names.count) else {
            throw RecurError(.invalidArgument, "tensor \(index) of layer \(layer) does not exist: the layer has \(names.count) tensors")
        }
        out.pointee = LayerInfoRecord.staticName(names[Int(index)])
    }
}

/// Floats of state per stream (each recurrent layer's h, and c for LSTM),
/// the same as recur_state_size of any state of this model; 0 when model
/// is NULL.
@_cdecl("recur_model_state_size")
public func recur_model_state_size(_ model: ConstModelPointer?) -> UInt {
    UInt(Handle.peek(model, as: Model.self)?.stateSize ?? 0)
}

/// Copies tensor `name` ("weight_ih", "weight_hh", "bias_ih", "bias_hh" of a
/// recurrent layer, and "weight_ih_reverse", ... of a bidirectional one;
/// "weight", "bias" of a dense one) of layer `layer` into
/// `out`, row-major as in the model format; `count` must be its size.
/// Returns RECUR_OK, RECUR_ERROR_INVALID_ARGUMENT (NULL, layer out of range,
/// no such tensor, e.g. an absent bias), RECUR_ERROR_SHAPE (count differs).
@_cdecl("recur_model_get_tensor")
public func recur_model_get_tensor(_ model: ConstModelPointer?, _ layer: UInt, _ name: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<Float>?, _ count: UInt) -> Status {
    withStatus { () throws(RecurError) in
        let model = try Handle.unbox(model, as: Model.self, "model")
        let name = String(cString: try required(name, "name"))
        let n = try RecurCAPI.count(count, "count")
        try model.getTensor(layer: try RecurCAPI.index(layer, "layer"), name: name,
                            into: UnsafeMutableBufferPointer(start: try required(out, "out"), count: n))
    }
}

/// The shape of tensor `name` of layer `layer`, as in the model format:
/// *out_rows by *out_columns for a matrix, *out_rows by 1 for a vector (a
/// bias). Out-pointers are untouched on failure.
/// Returns RECUR_OK, RECUR_ERROR_INVALID_ARGUMENT (NULL, layer out of range,
/// no such tensor, e.g. an absent bias).
@_cdecl("recur_model_tensor_shape")
public func recur_model_tensor_shape(_ model: ConstModelPointer?, _ layer: UInt, _ name: UnsafePointer<CChar>?, _ out_rows: UnsafeMutablePointer<UInt>?, _ out_columns: UnsafeMutablePointer<UInt>?) -> Status {
    withStatus { () throws(RecurError) in
        let model = try Handle.unbox(model, as: Model.self, "model")
        let name = String(cString: try required(name, "name"))
        let rows = try required(out_rows, "out_rows"), columns = try required(out_columns, "out_columns")
        let slot = try model.slot(layer: try RecurCAPI.index(layer, "layer"), tensor: name)
        rows.pointee = UInt(slot.shape[0])
        columns.pointee = UInt(slot.shape.count == 2 ? slot.shape[1] : 1)
    }
}

/// Replaces tensor `name` of layer `layer` with `values` (row-major, `count`
/// finite floats). Changes the weights in place: no state may run on this
/// model during the call. On error the model is unchanged.
/// Returns RECUR_OK, RECUR_ERROR_INVALID_ARGUMENT (NULL, layer out of range,
/// no such tensor), RECUR_ERROR_SHAPE (count differs), RECUR_ERROR_NUMERIC.
@_cdecl("recur_model_set_tensor")
public func recur_model_set_tensor(_ model: ModelPointer?, _ layer: UInt, _ name: UnsafePointer<CChar>?, _ values: UnsafePointer<Float>?, _ count: UInt) -> Status {
    withStatus { () throws(RecurError) in
        let model = try Handle.unbox(model, as: Model.self, "model")
        let name = String(cString: try required(name, "name"))
        let n = try RecurCAPI.count(count, "count")
        try model.setTensor(layer: try RecurCAPI.index(layer, "layer"), name: name,
                            from: UnsafeBufferPointer(start: try required(values, "values"), count: n))
    }
}

/// Chooses how inference reads the model's weights: RECUR_WEIGHTS_FP16
/// keeps fp16 copies (half the bytes a batch-1 step streams; arithmetic stays
/// float32; outputs move by about 1e-3, see docs/performance.md);
/// RECUR_WEIGHTS_INT8 keeps int8 copies of the weight matrices with a scale
/// per output, quantizes each step's input on the fly and multiplies in
/// integers (a quarter of the bytes; outputs move by up to ~7e-3 on the
/// reference cases; inference only: trainer steps are then refused with
/// RECUR_ERROR_MODEL); RECUR_WEIGHTS_FP32 (the default) goes back. The
/// float32 weights are kept: training updates fp16 copies too, saving
/// writes float32. Do not call it while a state runs on the model.
/// Returns RECUR_OK, RECUR_ERROR_INVALID_ARGUMENT (model NULL, unknown
/// storage), RECUR_ERROR_NUMERIC (a weight beyond fp16's range, 65504),
/// RECUR_ERROR_OUT_OF_MEMORY.
@_cdecl("recur_model_set_weight_storage")
public func recur_model_set_weight_storage(_ model: ModelPointer?, _ storage: WeightStorageCode) -> Status {
    withStatus { () throws(RecurError) in
        let model = try Handle.unbox(model, as: Model.self, "model")
        guard let storage = WeightStorage(rawValue: storage) else {
            throw RecurError(.invalidArgument, "storage is \(storage), not a recur_weight_storage (0 = RECUR_WEIGHTS_FP32, 1 = RECUR_WEIGHTS_FP16)")
        }
        try model.setWeightStorage(storage)
    }
}

/// How inference reads the model's weights (RECUR_WEIGHTS_FP32 when model is NULL).
@_cdecl("recur_model_weight_storage")
public func recur_model_weight_storage(_ model: ConstModelPointer?) -> WeightStorageCode {
    Handle.peek(model, as: Model.self)?.weightStorage.rawValue ?? WeightStorage.fp32.rawValue
}

private func tensorEncoding(_ code: TensorEncodingCode) throws(RecurError) -> TensorEncoding {
    guard let encoding = TensorEncoding(rawValue: code) else {
        throw RecurError(.invalidArgument, "encoding is \(code), not a recur_tensor_encoding (0 = RECUR_TENSORS_FLAT, 1 = RECUR_TENSORS_BASE64, 2 = RECUR_TENSORS_AUTOMATIC)")
    }
    return encoding
}
