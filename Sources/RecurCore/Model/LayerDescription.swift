/// What a binding needs to know about one layer without reading the model's
/// JSON: its kind, activation and sizes (`recur_model_layer_info`).
public struct LayerDescription: Sendable, Equatable {
    public let kind: LayerKind
    public let activation: Activation
    /// Values per step coming in.
    public let inputSize: Int
    /// Values per step going out.
    public let outputSize: Int
    /// `hidden_size` of a recurrent layer, `units` of a dense one.
    public let hiddenSize: Int
    /// Floats per stream of state this layer keeps (0 for dense and bidirectional).
    public let stateSize: Int
    public let bidirectional: Bool
    /// The layer has at least one bias tensor.
    public let hasBias: Bool
    /// Its tensors' names, in format order (absent biases left out).
    public let tensorNames: [String]
}

extension Model {
    /// Describes layer `index`, or refuses an index past the last layer.
    public func describeLayer(_ index: Int) throws(RecurError) -> LayerDescription {
        guard index >= 0 && index < layers.count else {
            throw .invalidArgument("layer \(index) does not exist: the model has \(layers.count) layer\(layers.count == 1 ? "" : "s")")
        }
        let layer = layers[index]
        return LayerDescription(kind: layer.kind, activation: layer.activation,
                                inputSize: layer.inputSize, outputSize: layer.outputSize,
                                hiddenSize: layer.hiddenSize, stateSize: layer.stateSize,
                                bidirectional: layer.isBidirectional,
                                hasBias: layer.inputBiasOffset != nil || layer.recurrentBiasOffset != nil,
                                tensorNames: layer.tensors.map(\.name))
    }
}

extension TrainerConfig {
    /// How many positions of a [batch][steps] step carry a target: every
    /// step ("sequence") or each stream's last one ("last"). Targets are
    /// this many times output_size floats, labels this many int32s.
    public func targetPositions(batch: Int, steps: Int) -> Int {
        targets == .sequence ? batch * steps : batch
    }
}
