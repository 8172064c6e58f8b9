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
}

extension Model {
    /// The model as a JSON document.
    public func json(encoding: TensorEncoding = .flat) -> String {
        var out = "{\n  \"format\": \"recur\",\n  \"version\": 1,\n  \"input_size\": \(inputSize),\n  \"layers\": ["
        for (index, layer) in layers.enumerated() {
            out += index == 0 ? "\n    {" : ",\n    {"
            out += "\"type\": \"\(layer.kind.rawValue)\", "
            out += layer.kind == .dense ? "\"units\": \(layer.outputSize), " : "\"hidden_size\": \(layer.outputSize), "
            if layer.kind == .rnn || layer.kind == .dense {
                out += "\"activation\": \"\(layer.activation.rawValue)\", "
            }
            out += "\"weights\": {"
            for (position, slot) in layer.tensors.enumerated() {
                out += position == 0 ? "\n      " : ",\n      "
                out += "\"\(slot.name)\": {\"shape\": \(shapeText(slot.shape)), "
                let values = tensorValues(slot)
                switch encoding {
                case .flat:
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
    public func save(file path: String, encoding: TensorEncoding = .flat) throws(RecurError) {
        try Files.writeAtomically(path, json(encoding: encoding))
    }

    /// One tensor's values in row-major order.
    func tensorValues(_ slot: TensorSlot) -> [Float] {
        var values: [Float] = []
        values.reserveCapacity(slot.count)
        for row in 0..<slot.rows {
            for column in 0..<slot.columns { values.append(parameters.base[slot.index(row: row, column: column)]) }
        }
        return values
    }
}
