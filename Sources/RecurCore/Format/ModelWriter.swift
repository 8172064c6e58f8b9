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
    /// The model as a JSON document, for tests and tools (running out of
    /// memory traps here; the C and Swift APIs use `jsonText`, which throws).
    public func json(encoding: TensorEncoding = .automatic) -> String {
        let out = try! jsonText(encoding: encoding)
        return String(decoding: out.bytes.bindMemory(to: UInt8.self), as: UTF8.self)
    }

    /// The model as a JSON document in a buffer the C API hands over
    /// (recur_model_to_json): OUT_OF_MEMORY, never a trap.
    public func jsonText(encoding: TensorEncoding) throws(RecurError) -> ByteBuffer {
        let out = try ByteBuffer(capacity: 1 << 16)
        try writeJSON(encoding: encoding, into: out)
        return out
    }

    /// Writes the model as a JSON document into `out`: every tensor element
    /// straight from the parameters, no intermediate array.
    func writeJSON(encoding: TensorEncoding, into out: ByteBuffer) throws(RecurError) {
        try out.append("{\n  \"format\": \"recur\",\n  \"version\": 1,\n  \"input_size\": \(inputSize),\n  \"layers\": [")
        for (index, layer) in layers.enumerated() {
            try out.append(index == 0 ? "\n    {" : ",\n    {")
            try out.append("\"type\": \"\(layer.kind.rawValue)\", ")
            try out.append(layer.kind == .dense ? "\"units\": \(layer.hiddenSize), " : "\"hidden_size\": \(layer.hiddenSize), ")
            if layer.isBidirectional { try out.append("\"direction\": \"bidirectional\", ") }
            if layer.kind == .rnn || layer.kind == .dense {
                try out.append("\"activation\": \"\(layer.activation.rawValue)\", ")
            }
            try out.append("\"weights\": {")
            for (position, slot) in layer.tensors.enumerated() {
                try out.append(position == 0 ? "\n      " : ",\n      ")
                try out.append("\"\(slot.name)\": {\"shape\": \(shapeText(slot.shape)), ")
                let asBase64 = encoding == .base64 || (encoding == .automatic && slot.count > TensorEncoding.automaticThreshold)
                if asBase64 {
                    try out.append("\"base64\": \"")
                    try Base64.encode(count: slot.count, { parameters.base[slot.index($0)] }, into: out)
                    try out.append("\"}")
                } else {
                    try out.append("\"data\": [")
                    for i in 0..<slot.count {
                        if i > 0 { try out.append(", ") }
                        try out.append(parameters.base[slot.index(i)].description)
                    }
                    try out.append("]}")
                }
            }
            try out.append("\n    }}")
        }
        try out.append("\n  ]")
        if let metadataText {
            try out.append(",\n  \"metadata\": ")
            try out.append(metadataText.bytes)
        }
        try out.append("\n}\n")
    }

    /// Writes the model to `path` atomically: a temporary file in the same
    /// directory, flushed to disk, then renamed over `path`. A crash midway
    /// leaves the old file intact.
    public func save(file path: String, encoding: TensorEncoding = .automatic) throws(RecurError) {
        let out = try ByteBuffer(capacity: 1 << 16)
        try writeJSON(encoding: encoding, into: out)
        try Files.writeAtomically(path, out.bytes)
    }

    /// One tensor's values in row-major order.
    func tensorValues(_ slot: TensorSlot) -> [Float] {
        [Float](unsafeUninitializedCapacity: slot.count) { values, initialized in
            slot.load(from: parameters.base, into: values.baseAddress!)
            initialized = slot.count
        }
    }
}
