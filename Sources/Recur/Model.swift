import RecurCore

/// A loaded model: its layers and weights, from a JSON document in Recur's
/// model format (docs/model-format.md).
///
/// ```swift
/// let model = try Model(contentsOfFile: "examples/models/tiny_lstm.json")
/// let state = try model.makeState()
/// let y = try state.step([0.5, -0.25, 1.0])
/// ```
///
/// A model is `Sendable`: inference never writes to it, so any number of
/// threads may run states over one model at once. Changing it (a trainer's
/// step, `setTensor`, `setWeightStorage`) must not overlap a state running
/// on it; `clone()` gives an independent copy to train while others serve.
public final class Model: @unchecked Sendable {
    let core: RecurCore.Model

    init(core: RecurCore.Model) { self.core = core }

    /// Parses a model document.
    public convenience init(json: String) throws(RecurError) {
        var text = json
        var loaded: Result<RecurCore.Model, RecurCore.RecurError> = .failure(RecurCore.RecurError(.internal, "not parsed"))
        text.withUTF8 { bytes in
            do throws(RecurCore.RecurError) {
                loaded = .success(try RecurCore.Model.load(json: UnsafeRawBufferPointer(bytes)))
            } catch {
                loaded = .failure(error)
            }
        }
        self.init(core: try bridged { () throws(RecurCore.RecurError) in try loaded.get() })
    }

    /// Reads a model file.
    public convenience init(contentsOfFile path: String) throws(RecurError) {
        self.init(core: try bridged { () throws(RecurCore.RecurError) in try RecurCore.Model.load(file: path) })
    }

    /// Values per step going in.
    public var inputSize: Int { core.inputSize }
    /// Values per step coming out (the last layer's).
    public var outputSize: Int { core.outputSize }
    /// Floats of state per stream (each recurrent layer's h, and c for an LSTM).
    public var stateSize: Int { core.stateSize }
    /// Number of trainable values.
    public var parameterCount: Int { core.parameterCount }
    /// The layers, lowest first.
    public var layers: [LayerInfo] { (0..<core.layers.count).map { LayerInfo(try! core.describeLayer($0)) } }

    /// The model as a JSON document. Large tensors are written as base64
    /// unless `readable` is true (every float then as decimal text).
    /// Out of memory is an error (`.outOfMemory`), as in the C API.
    public func json(readable: Bool = false) throws(RecurError) -> String {
        let text = try bridged { () throws(RecurCore.RecurError) in try self.core.jsonText(encoding: readable ? .flat : .automatic) }
        return String(decoding: text.bytes.bindMemory(to: UInt8.self), as: UTF8.self)
    }

    /// Writes the model to `path` atomically: the old file stays intact if
    /// anything fails.
    public func save(toFile path: String) throws(RecurError) {
        try bridged { () throws(RecurCore.RecurError) in try self.core.save(file: path) }
    }

    /// An independent copy, with its own weights.
    public func clone() throws(RecurError) -> Model {
        Model(core: try bridged { () throws(RecurCore.RecurError) in try self.core.clone() })
    }

    /// Tensor `name` ("weight_ih", "bias", "weight_hh_reverse", ...) of layer
    /// `layer`, row-major as in the model format.
    public func tensor(layer: Int, name: String) throws(RecurError) -> [Float] {
        let count = try bridged { () throws(RecurCore.RecurError) in try self.core.slot(layer: layer, tensor: name).count }
        var values = [Float](repeating: 0, count: count)
        try values.withUnsafeMutableBufferPointer { (buffer) throws(RecurError) in
            try bridged { () throws(RecurCore.RecurError) in try self.core.getTensor(layer: layer, name: name, into: buffer) }
        }
        return values
    }

    /// Replaces tensor `name` of layer `layer` (row-major, finite values).
    public func setTensor(layer: Int, name: String, to values: [Float]) throws(RecurError) {
        try values.withUnsafeBufferPointer { (buffer) throws(RecurError) in
            try bridged { () throws(RecurCore.RecurError) in try self.core.setTensor(layer: layer, name: name, from: buffer) }
        }
    }

    /// Whether inference reads float32 weights or fp16 copies of them
    /// (half the bytes per step; training and saving keep float32).
    public var usesHalfWeights: Bool { core.weightStorage == .fp16 }

    /// Switches inference to fp16 weight copies, or back to float32.
    public func useHalfWeights(_ half: Bool) throws(RecurError) {
        try bridged { () throws(RecurCore.RecurError) in try self.core.setWeightStorage(half ? .fp16 : .fp32) }
    }

    /// A new inference state for `batch` independent streams, all at zero.
    public func makeState(batch: Int = 1) throws(RecurError) -> State {
        State(model: self, core: try bridged { () throws(RecurCore.RecurError) in try RecurCore.State(model: self.core, batch: batch) })
    }

    /// A trainer for this model; `config` is a JSON object (docs/fine-tuning.md),
    /// e.g. `{"loss": "mse", "optimizer": {"type": "adam", "learning_rate": 0.001}}`.
    /// Its steps update this model's weights in place.
    public func makeTrainer(config: String = "{}") throws(RecurError) -> Trainer {
        Trainer(model: self, core: try bridged { () throws(RecurCore.RecurError) in
            try RecurCore.Trainer(model: self.core, configText: config)
        })
    }
}

/// What one layer is, without its weights.
public struct LayerInfo: Sendable, Equatable {
    /// "rnn", "lstm", "gru" or "dense".
    public let type: String
    /// "tanh", "relu", "linear", "sigmoid" or "softmax" (fixed for lstm and gru).
    public let activation: String
    /// Values per step going in and out (2 x hiddenSize out when bidirectional).
    public let inputSize: Int
    public let outputSize: Int
    /// `hidden_size` (each direction's), or `units` for dense.
    public let hiddenSize: Int
    /// Floats per stream this layer keeps (0 for dense and bidirectional layers).
    public let stateSize: Int
    public let bidirectional: Bool
    /// The tensors' names, in the format's order.
    public let tensorNames: [String]

    init(_ d: LayerDescription) {
        type = d.kind.rawValue
        activation = d.activation.rawValue
        inputSize = d.inputSize
        outputSize = d.outputSize
        hiddenSize = d.hiddenSize
        stateSize = d.stateSize
        bidirectional = d.bidirectional
        tensorNames = d.tensorNames
    }
}
