// Writes a model as a format v1 document. Floats are printed in the shortest
// form that reads back to the same float32 (Swift's `description`), so
// save -> load -> save is byte-identical.

/// How tensors are written when a model is saved.
// c-enum: recur_tensor_encoding RECUR_TENSORS_
public enum TensorEncoding: UInt32, Sendable {
    /// Form 2: `{"shape": [...], "data": [...]}`, readable decimal numbers.
    case flat = 0
    /// Form 3: `{"shape": [...], "base64": "..."}`, little-endian float32.
    case base64 = 1
    /// Form 3 for tensors of more than 4096 values (they load ~10x faster
    /// and take ~2.5x less space), form 2 for the others (readable).
    case automatic = 2

    /// Tensors with more values than this are base64 under `.automatic`.
    static let automaticThreshold = 4096
}

extension Model {
    /// The model as a JSON document.
    public func json(encoding: TensorEncoding = .automatic) -> String {
        var out = "{\n  \"format\": \"recur\",\n  \"version\": 1,\n  \"input_size\": \(inputSize),\n  \"layers\": ["
        for (index, layer) in layers.enumerated() {
            out += index == 0 ? "\n    {" : ",\n    {"
            out += "\"type\": \"\(layer.kind.rawValue)\", "
            out += layer.kind == .dense ? "\"units\": \(layer.hiddenSize), " : "\"hidden_size\": \(layer.hiddenSize), "
            if layer.isBidirectional { out += "\"direction\": \"bidirectional\", " }
            if layer.kind == .rnn || layer.kind == .dense {
                out += "\"activation\": \"\(layer.activation.rawValue)\", "
            }
            out += "\"weights\": {"
            for (position, slot) in layer.tensors.enumerated() {
                out += position == 0 ? "\n      " : ",\n      "
                out += "\"\(slot.name)\": {\"shape\": \(shapeText(slot.shape)), "
                let values = tensorValues(slot)
                let asBase64 = encoding == .base64 || (encoding == .automatic && slot.count > TensorEncoding.automaticThreshold)
                switch asBase64 ? TensorEncoding.base64 : .flat {
                case .flat, .automatic:
                    out += "\"data\": ["
                    for (i, value) in values.enumerated() {
                        if i > 0 { out += ", " }
                        out += value.description
                    }
                    out += "]}"
                case .base64:
                    out += "\"base64\": \"" + values.withUnsafeBufferPointer { Base64.encode($0) } + "\"}"
                }
            }
            out += "\n    }}"
        }
        out += "\n  ]"
        if let metadata { out += ",\n  \"metadata\": " + metadata }
        out += "\n}\n"
        return out
    }

    /// Writes the model to `path` atomically: a temporary file in the same
    /// directory, flushed to disk, then renamed over `path`. A crash midway
    /// leaves the old file intact.
    public func save(file path: String, encoding: TensorEncoding = .automatic) throws(RecurError) {
        try Files.writeAtomically(path, json(encoding: encoding))
    }

    /// One tensor's values in row-major order.
    func tensorValues(_ slot: TensorSlot) -> [Float] {
        [Float](unsafeUninitializedCapacity: slot.count) { values, initialized in
            slot.load(from: parameters.base, into: values.baseAddress!)
            initialized = slot.count
        }
    }
}
