// The libFuzzer entry point: hostile bytes into the C API's two parsers.
//
// An input is one of
//   - a model document: everything else, passed to recur_model_load_json
//     exactly as it is (not NUL-terminated, so ASan sees any read past the
//     end);
//   - a trainer configuration: `config:` followed by the JSON, passed
//     (NUL-terminated, as the API requires) to recur_trainer_create on a small
//     fixed model (LSTM -> GRU -> dense linear, so that every loss fits).
//
// Besides "never crash", the target checks what the API promises:
//   - the status is one of RECUR_OK ... RECUR_ERROR_OUT_OF_MEMORY, never
//     RECUR_ERROR_INTERNAL or an unknown value;
//   - on failure the out-pointer is left untouched and recur_last_error()
//     says something;
//   - a model that loads saves and reloads: flat JSON -> load -> flat JSON is
//     byte-identical, and so is the base64 form read back (small models only).
// A broken promise aborts, which libFuzzer reports as a crash.
//
// Build and run: `make fuzz` (mk/fuzz.mk); seeds: Tests/fuzz/corpus.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RecurCAPI

private let configPrefix = Array("config:".utf8)

/// Models up to this many parameters are also saved and reloaded.
private let roundTripParameterLimit = 1 << 16

/// A pointer no allocation returns, to see that failures leave out-pointers alone.
private let sentinel = OpaquePointer(bitPattern: 0x5EC0_0001)!

@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = UnsafeBufferPointer(start: data, count: data == nil ? 0 : size)
    if bytes.starts(with: configPrefix) {
        fuzzTrainerConfig(UnsafeBufferPointer(rebasing: bytes[configPrefix.count...]))
    } else {
        fuzzModelDocument(bytes)
    }
    return 0
}

// MARK: - Model documents

private func fuzzModelDocument(_ bytes: UnsafeBufferPointer<UInt8>) {
    // A zero-length buffer from libFuzzer may come with a NULL pointer; the
    // API refuses NULL, so give it a valid empty one.
    var empty: UInt8 = 0
    var model: OpaquePointer? = sentinel
    let status = withUnsafePointer(to: &empty) { fallback in
        let base = UnsafeRawPointer(bytes.baseAddress ?? UnsafePointer(fallback)).assumingMemoryBound(to: CChar.self)
        return recur_model_load_json(base, UInt(bytes.count), &model)
    }
    checkStatus(status, "recur_model_load_json")
    guard status == 0 else {
        expect(model == sentinel, "recur_model_load_json failed (status \(status)) but changed *out_model")
        return
    }
    guard let model, model != sentinel else { fail("recur_model_load_json returned RECUR_OK without a model") }
    defer { recur_model_free(model) }

    expect(recur_model_input_size(model) > 0, "input_size 0")
    expect(recur_model_output_size(model) > 0, "output_size 0")
    expect(recur_model_layer_count(model) > 0, "no layers")
    guard recur_model_parameter_count(model) <= roundTripParameterLimit else { return }

    let flat = toJSON(model, encoding: 0)          // RECUR_TENSORS_FLAT
    let base64 = toJSON(model, encoding: 1)        // RECUR_TENSORS_BASE64
    expect(toJSON(reload(flat), encoding: 0, free: true) == flat, "flat JSON -> load -> flat JSON changed the document")
    expect(toJSON(reload(base64), encoding: 0, free: true) == flat, "base64 JSON -> load -> flat JSON differs from the flat JSON")
}

/// The model as JSON in one encoding (then frees the model when asked).
private func toJSON(_ model: OpaquePointer, encoding: UInt32, free release: Bool = false) -> [UInt8] {
    defer { if release { recur_model_free(model) } }
    var text: UnsafeMutablePointer<CChar>? = nil
    var length: UInt = 0
    let status = recur_model_to_json_encoded(model, encoding, &text, &length)
    guard status == 0, let text else { fail("recur_model_to_json_encoded(\(encoding)) failed on a loaded model: status \(status): \(lastError())") }
    defer { recur_string_free(text) }
    expect(strlen(text) == Int(length), "recur_model_to_json_encoded: length \(length) but strlen \(strlen(text))")
    return Array(UnsafeRawBufferPointer(start: text, count: Int(length)).bindMemory(to: UInt8.self))
}

/// Loads text the library wrote itself: this must work.
private func reload(_ text: [UInt8]) -> OpaquePointer {
    var model: OpaquePointer? = nil
    let status = text.withUnsafeBytes { raw in
        recur_model_load_json(raw.baseAddress!.assumingMemoryBound(to: CChar.self), UInt(raw.count), &model)
    }
    guard status == 0, let model else {
        fail("the library cannot load its own output (status \(status): \(lastError())):\n\(String(decoding: text.prefix(2000), as: UTF8.self))")
    }
    return model
}

// MARK: - Trainer configurations

/// LSTM(3 -> 5) -> GRU(4) -> dense(2, linear): every loss fits its head,
/// and "freeze" has three valid indices. Weights from `init`.
private let configModelJSON = """
{"format": "recur", "version": 1, "input_size": 3, "init": {"seed": 7},
 "layers": [{"type": "lstm", "hidden_size": 5}, {"type": "gru", "hidden_size": 4},
            {"type": "dense", "units": 2}]}
"""

nonisolated(unsafe) private let configModel: OpaquePointer = {
    var model: OpaquePointer? = nil
    let status = recur_model_load_json(configModelJSON, UInt(configModelJSON.utf8.count), &model)
    guard status == 0, let model else { fail("the fixed model of the config mode does not load: \(lastError())") }
    return model
}()

private func fuzzTrainerConfig(_ bytes: UnsafeBufferPointer<UInt8>) {
    // The API takes a NUL-terminated string: a copy with a NUL after it
    // (an embedded NUL simply ends the text early).
    let text = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
    defer { text.deallocate() }
    bytes.withMemoryRebound(to: CChar.self) { source in
        if let base = source.baseAddress { text.update(from: base, count: source.count) }
    }
    text[bytes.count] = 0

    var trainer: OpaquePointer? = sentinel
    let status = recur_trainer_create(configModel, text, &trainer)
    checkStatus(status, "recur_trainer_create")
    guard status == 0 else {
        expect(trainer == sentinel, "recur_trainer_create failed (status \(status)) but changed *out_trainer")
        return
    }
    guard let trainer, trainer != sentinel else { fail("recur_trainer_create returned RECUR_OK without a trainer") }
    recur_trainer_free(trainer)
}

// MARK: - Checks

private func checkStatus(_ status: Int32, _ call: String) {
    guard status != 0 else { return }
    expect((1...7).contains(status), "\(call) returned status \(status) (\(recur_status_string(status).map { String(cString: $0) } ?? "NULL")): \(lastError())")
    expect(recur_last_error().map { strlen($0) > 0 } ?? false, "\(call) failed with status \(status) but recur_last_error() is empty")
}

private func lastError() -> String { recur_last_error().map { String(cString: $0) } ?? "(NULL)" }

private func expect(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fail(message()) }
}

private func fail(_ message: String) -> Never {
    fputs("RecurFuzz: broken promise: \(message)\n", stderr)
    abort()
}
