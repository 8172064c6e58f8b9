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
    /// The document's `metadata` object as compact JSON text, kept unchanged
    /// (in checked memory: a large metadata object cannot trap on allocation).
    let metadataText: ByteBuffer?
    /// The same, as a Swift string.
    public var metadata: String? {
        metadataText.map { String(decoding: $0.bytes.bindMemory(to: UInt8.self), as: UTF8.self) }
    }
    let parameters: FloatBuffer

    /// Floats of state per stream: each recurrent layer's h (and c).
    public let stateSize: Int
    /// Where each layer's state starts within a stream's state (0 for dense).
    let stateOffsets: [Int]
    /// The same, as states keep it: each h and c padded to 16 floats.
    let paddedStateSize: Int
    let paddedStateOffsets: [Int]
    /// The first bidirectional layer, if any: such a model runs whole
    /// sequences only, each from zero state (kept: the step path asks).
    public let firstBidirectionalLayer: Int?

    init(inputSize: Int, layers: [Layer], parameters: FloatBuffer, parameterCount: Int, metadata: ByteBuffer?) {
        self.inputSize = inputSize
        self.layers = layers
        self.parameters = parameters
        self.parameterCount = parameterCount
        self.metadataText = metadata
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
        firstBidirectionalLayer = layers.firstIndex { $0.isBidirectional }
    }

    /// Calls `body(paddedOffset, offset, length)` for each state vector of a
    /// stream (each layer's h, and c): where it is kept (padded) and where
    /// get/set show it.
    func forEachStateVector(_ body: (Int, Int, Int) -> Void) {
        for (index, layer) in layers.enumerated() {
            for vector in 0..<layer.stateVectors {
                body(paddedStateOffsets[index] + vector * layer.paddedHidden, stateOffsets[index] + vector * layer.hiddenSize,
                     layer.hiddenSize)
            }
        }
    }

    /// fp16 copies of the parameters for inference, in the same layout, when
    /// `setWeightStorage(.fp16)` asked for them (nil: float32, the default).
    /// Training and saving always use the float32 `parameters`.
    private(set) var halfParameters: HalfBuffer? = nil {
        didSet { halfWeights = halfParameters.map { UnsafePointer($0.base) } }
    }

    /// int8 copies for inference, when `setWeightStorage(.int8)` asked for them.
    private(set) var int8Weights: Int8Weights? = nil {
        didSet { int8View = int8Weights?.view }
    }

    /// What every inference call reads of the two above: plain pointers,
    /// valid while those buffers live, so that a step reads them without
    /// retaining a buffer.
    private(set) var halfWeights: UnsafePointer<UInt16>? = nil
    private(set) var int8View: Int8View? = nil

    /// How inference reads the weights.
    public var weightStorage: WeightStorage { int8Weights != nil ? .int8 : halfParameters == nil ? .fp32 : .fp16 }

    /// Switches inference to fp16 weights (halving the bytes a batch-1 step
    /// streams) or back to float32. Arithmetic stays float32, and the float32
    /// weights are kept for training and saving. Like a trainer step, this
    /// must not run while a state runs on the model.
    public func setWeightStorage(_ storage: WeightStorage) throws(RecurError) {
        switch storage {
        case .fp32:
            halfParameters = nil
            int8Weights = nil
        case .int8:
            let weights = try Int8Weights(model: self)
            halfParameters = nil
            int8Weights = weights
        case .fp16:
            for (index, layer) in layers.enumerated() {
                for slot in layer.tensors {
                    for i in 0..<slot.count where abs(parameters.base[slot.index(i)]) > 65504 {
                        throw RecurError(.numeric, "layers[\(index)].\(slot.name)[\(i)] is \(parameters.base[slot.index(i)]), beyond the fp16 range (65504)")
                    }
                }
            }
            let half = try HalfBuffer(count: parameters.count)
            halfParameters = half
            int8Weights = nil
            refreshHalfParameters(0..<parameters.count)
        }
    }

    /// Re-derives the fp16 copy of `range` after the float32 weights changed.
    func refreshHalfParameters(_ range: Range<Int>) {
        guard let half = halfParameters else { return }
        for i in range { half.base[i] = Float16(parameters.base[i]).bitPattern }
    }


    /// Where parameter-buffer index `index` is, as `layers[i].name[row][column]`.
    func describe(parameterIndex index: Int) -> String {
        for (number, layer) in layers.enumerated() where layer.parameterRange.contains(index) {
            for slot in layer.tensors {
                for element in 0..<slot.count where slot.index(element) == index {
                    return slot.shape.count == 2 ? "layers[\(number)].\(slot.name)[\(element / slot.columns)][\(element % slot.columns)]"
                        : "layers[\(number)].\(slot.name)[\(element)]"
                }
            }
        }
        return "parameter \(index)"
    }

    /// The last layer's output size.
    public var outputSize: Int { layers[layers.count - 1].outputSize }

    /// An independent copy (its own parameter buffer).
    public func clone() throws(RecurError) -> Model {
        let copy = Model(inputSize: inputSize, layers: layers, parameters: try parameters.copy(),
                         parameterCount: parameterCount, metadata: metadataText)
        try copy.setWeightStorage(weightStorage)
        return copy
    }

    /// Reads a model file.
    public static func load(file path: String) throws(RecurError) -> Model {
        let bytes = try Files.read(path)
        return try load(json: bytes.bytes)
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
        if let target = out.baseAddress { slot.load(from: buffer.base, into: target) }
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
        if halfParameters != nil {
            for i in 0..<values.count where abs(values[i]) > 65504 {
                throw RecurError(.numeric, "values[\(i)] is \(values[i]), beyond the fp16 range (65504) of this model's weights")
            }
        }
        // With int8 storage the whole copy is quantized again; the old
        // values are kept until that succeeded, so a failure changes nothing.
        let previous = int8Weights == nil ? nil : try FloatBuffer(count: values.count)
        for i in 0..<values.count {
            previous?.base[i] = parameters.base[slot.index(i)]
            parameters.base[slot.index(i)] = values[i]
            halfParameters?.base[slot.index(i)] = Float16(values[i]).bitPattern
        }
        if let previous {
            do throws(RecurError) {
                int8Weights = try Int8Weights(model: self)
            } catch {
                for i in 0..<values.count { parameters.base[slot.index(i)] = previous.base[i] }
                throw error
            }
        }
    }
}

/// How a model keeps the weights that inference reads.
// c-enum: recur_weight_storage RECUR_WEIGHTS_
public enum WeightStorage: UInt32, Sendable {
    /// float32 weights (the default).
    case fp32 = 0
    /// fp16 copies of the weights, widened to float32 as they are read.
    case fp16 = 1
    /// int8 copies of the weight matrices with a scale per output (biases
    /// stay float32); each step's input is quantized to int8 on the fly
    /// (PyTorch's dynamic quantization) and multiplied in integers (VNNI
    /// where the CPU has it). Inference only: a trainer step is refused.
    case int8 = 2
}
