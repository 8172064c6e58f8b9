/// A loaded model: the architecture (layers) and ONE flat parameter buffer
/// that every layer views into (kann's design: cloning, saving, optimizers
/// and clipping are loops over one range).
///
/// Inference never writes to a model, so any number of threads may run
/// states over one model at once. A trainer (later) updates `parameters`
/// in place.
public final class Model: @unchecked Sendable {
    public let inputSize: Int
    public let layers: [Layer]
    /// Number of trainable values: the tensors' elements (the buffer also
    /// holds alignment padding, which is always zero).
    public let parameterCount: Int
    /// The document's `metadata` object as compact JSON text, kept unchanged.
    public let metadata: String?
    let parameters: FloatBuffer

    /// Floats of state per stream: each recurrent layer's h (and c).
    public let stateSize: Int
    /// Where each layer's state starts within a stream's state (0 for dense).
    let stateOffsets: [Int]

    init(inputSize: Int, layers: [Layer], parameters: FloatBuffer, parameterCount: Int, metadata: String?) {
        self.inputSize = inputSize
        self.layers = layers
        self.parameters = parameters
        self.parameterCount = parameterCount
        self.metadata = metadata
        var offsets: [Int] = []
        var size = 0
        for layer in layers {
            offsets.append(size)
            size += layer.stateSize
        }
        self.stateOffsets = offsets
        self.stateSize = size
    }

    /// The last layer's output size.
    public var outputSize: Int { layers[layers.count - 1].outputSize }

    /// An independent copy (its own parameter buffer).
    public func clone() throws(RecurError) -> Model {
        Model(inputSize: inputSize, layers: layers, parameters: try parameters.copy(),
              parameterCount: parameterCount, metadata: metadata)
    }

    /// Reads a model file.
    public static func load(file path: String) throws(RecurError) -> Model {
        let bytes = try Files.read(path)
        var result: Result<Model, RecurError> = .failure(RecurError(.internal, "unreachable"))
        bytes.withUnsafeBytes { raw in
            do throws(RecurError) { result = .success(try load(json: raw)) } catch { result = .failure(error) }
        }
        return try result.get()
    }

    /// The value of one tensor element, by layer, tensor name and flat index
    /// (row-major, as in the format).
    public func parameter(layer: Int, tensor name: String, index: Int) -> Float? {
        guard layers.indices.contains(layer),
              let slot = layers[layer].tensors.first(where: { $0.name == name }),
              index >= 0, index < slot.count else { return nil }
        return parameters.base[slot.index(row: index / slot.columns, column: index % slot.columns)]
    }
}
