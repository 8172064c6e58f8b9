import RecurKernelInterface

/// The kinds of layer in format v1. Each kind is defined in one file of
/// Layers/ (its facts, its forward and backward steps, and its reference
/// cell); this enum is where a kind is registered.
public enum LayerKind: String, Sendable, CaseIterable {
    case rnn, lstm, gru, dense

    /// The definition of this kind: Layers/<Kind>.swift.
    var definition: any LayerDefinition.Type {
        switch self {
        case .rnn: return RNNLayer.self
        case .lstm: return LSTMLayer.self
        case .gru: return GRULayer.self
        case .dense: return DenseLayer.self
        }
    }

    /// Gate blocks stacked in the weight rows: LSTM i,f,g,o; GRU r,z,n.
    var gateCount: Int { definition.gateCount }
    /// The layer has W_hh and keeps a state.
    var isRecurrent: Bool { definition.isRecurrent }
}

/// What a layer kind defines. The stack runner (Stack/StackRunner.swift)
/// and the backward pass (Training/Backprop.swift) call these for every
/// layer without knowing its kind.
protocol LayerDefinition {
    /// Gate blocks stacked in the weight rows (and in W x).
    static var gateCount: Int { get }
    /// The layer has W_hh (and `bias_hh`) and keeps a state.
    static var isRecurrent: Bool { get }
    /// Vectors of hidden_size floats each stream keeps: h, and c for an LSTM.
    static var stateVectors: Int { get }
    /// Vectors of paddedOutput floats the training forward pass records per
    /// (stream, step) for the backward pass.
    static var recordVectors: Int { get }
    /// Whether the backward pass writes separate state-side gate gradients
    /// (a GRU's n gate differs between its input and state sides).
    static var hasStateSideGradients: Bool { get }
    /// Whether the cell's backward leaves a direct part of dL/dh_t-1 in the
    /// carry (a GRU's z·dh), to which W_hh^T's part is then added.
    static var carriesDirectGradient: Bool { get }

    /// The layer's forward pass over `pass.steps` steps of `pass.streams`.
    static func forward(_ layer: Layer, _ pass: ForwardPass)
    /// Its backward pass through those steps: the gate gradients of every
    /// step (from the output gradients and the records), latest step first.
    static func backward(_ layer: Layer, _ pass: BackwardPass)
}

/// Element-wise activations (`rnn` takes tanh or relu; `dense` all five).
/// `code` is what the kernels take.
public enum Activation: String, Sendable {
    case linear, relu, tanh, sigmoid, softmax

    var code: ActivationCode {
        switch self {
        case .linear: return .linear
        case .relu: return .relu
        case .tanh: return .tanh
        case .sigmoid: return .sigmoid
        case .softmax: return .softmax
        }
    }
}
