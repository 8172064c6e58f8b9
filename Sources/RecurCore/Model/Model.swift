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
    /// The same, as states keep it: each h and c padded to 16 floats.
    let paddedStateSize: Int
    let paddedStateOffsets: [Int]

    init(inputSize: Int, layers: [Layer], parameters: FloatBuffer, parameterCount: Int, metadata: String?) {
        self.inputSize = inputSize
        self.layers = layers
        self.parameters = parameters
        self.parameterCount = parameterCount
        self.metadata = metadata
        var offsets: [Int] = [], paddedOffsets: [Int] = []
        var size = 0, paddedSize = 0
        for layer in layers {
            offsets.append(size)
            paddedOffsets.append(paddedSize)
            size += layer.stateSize
            paddedSize += layer.paddedStateSize
        }
        self.stateOffsets = offsets
        self.stateSize = size
        self.paddedStateOffsets = paddedOffsets
        self.paddedStateSize = paddedSize
    }

    /// Calls `body(paddedOffset, offset, length)` for each state vector of a
    /// stream (each layer's h, and c): where it is kept (padded) and where
    /// get/set show it.
    func forEachStateVector(_ body: (Int, Int, Int) -> Void) {
        for (index, layer) in layers.enumerated() where layer.kind.isRecurrent {
            body(paddedStateOffsets[index], stateOffsets[index], layer.outputSize)
            if layer.kind == .lstm {
                body(paddedStateOffsets[index] + layer.paddedOutput, stateOffsets[index] + layer.outputSize, layer.outputSize)
            }
        }
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
        try withBytes(try Files.read(path)) { (raw) throws(RecurError) in try load(json: raw) }
    }

    /// The value of one tensor element, by layer, tensor name and flat index
    /// (row-major, as in the format).
    public func parameter(layer: Int, tensor name: String, index: Int) -> Float? {
        guard let slot = try? slot(layer: layer, tensor: name), index >= 0, index < slot.count else { return nil }
        return parameters.base[slot.index(index)]
    }

    /// Where tensor `name` of layer `layer` lives, or an error naming both.
    public func slot(layer: Int, tensor name: String) throws(RecurError) -> TensorSlot {
        guard layer >= 0 && layer < layers.count else {
            throw .invalidArgument("layer \(layer) is out of range: the model has layers 0 to \(layers.count - 1)")
        }
        guard let slot = layers[layer].tensors.first(where: { $0.name == name }) else {
            throw .invalidArgument("layers[\(layer)] (\(layers[layer].kind.rawValue)) has no tensor \"\(name)\" (it has \(list(layers[layer].tensors.map(\.name), "and")))")
        }
        return slot
    }

    /// Copies a tensor out of `buffer` (the parameters, or a gradient laid
    /// out like them) in row-major order.
    static func copy(_ slot: TensorSlot, from buffer: FloatBuffer, into out: UnsafeMutableBufferPointer<Float>) throws(RecurError) {
        guard out.count == slot.count else {
            throw .shape("count is \(out.count), tensor \(slot.name) has shape \(shapeText(slot.shape)) = \(slot.count) floats")
        }
        for i in 0..<slot.count { out[i] = buffer.base[slot.index(i)] }
    }

    /// Copies tensor `name` of layer `layer` out, row-major.
    public func getTensor(layer: Int, name: String, into out: UnsafeMutableBufferPointer<Float>) throws(RecurError) {
        try Model.copy(try slot(layer: layer, tensor: name), from: parameters, into: out)
    }

    /// Replaces tensor `name` of layer `layer` with finite `values`, row-major.
    /// Like a trainer step, this changes the weights in place: no inference
    /// may run on the model meanwhile.
    public func setTensor(layer: Int, name: String, from values: UnsafeBufferPointer<Float>) throws(RecurError) {
        let slot = try slot(layer: layer, tensor: name)
        guard values.count == slot.count else {
            throw .shape("count is \(values.count), tensor \(name) has shape \(shapeText(slot.shape)) = \(slot.count) floats")
        }
        for i in 0..<values.count where !values[i].isFinite {
            throw RecurError(.numeric, "values[\(i)] is \(values[i]), not a finite number")
        }
        for i in 0..<values.count { parameters.base[slot.index(i)] = values[i] }
    }
}
