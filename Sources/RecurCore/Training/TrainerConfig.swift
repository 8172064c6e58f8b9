// The trainer configuration (docs/c-api.md, "Trainer configuration"):
//   {"loss": "mse", "targets": "sequence",
//    "optimizer": {"type": "adam", "learning_rate": 0.001},
//    "clip_gradient_norm": 1.0, "freeze": [0], "stateful": false}
// Every key is optional; unknown keys are refused, naming the key.

public struct TrainerConfig: Sendable {
    public enum Loss: String, Sendable { case mse, crossEntropy = "cross_entropy", binaryCrossEntropy = "binary_cross_entropy" }
    public enum Targets: String, Sendable { case sequence, last }

    public var loss: Loss = .mse
    public var targets: Targets = .sequence
    public var optimizer = OptimizerConfig()
    /// Clip the global L2 norm of the gradient to this (nil: no clipping).
    public var clipGradientNorm: Float? = nil
    /// Layers whose parameters are not updated.
    public var frozenLayers: Set<Int> = []
    /// Carry each stream's final state into the next step (detached).
    public var stateful = false
    /// Record |dL/dh_t| of every step for `hiddenGradientNorms` (a
    /// diagnostic; off by default, so that it costs nothing).
    public var recordHiddenGradientNorms = false

    public init() {}

    /// Parses and validates a configuration for `model`.
    public static func parse(json bytes: UnsafeRawBufferPointer, for model: Model) throws(RecurError) -> TrainerConfig {
        let document = try JSONDocument(parsing: bytes)
        return try read(document.root, for: model)
    }

    static func read(_ root: JSONValue, for model: Model) throws(RecurError) -> TrainerConfig {
        guard root.kind == .object else { throw .model("trainer config: expected a JSON object, got \(root.summary)") }
        var config = TrainerConfig()
        for (key, value) in root.members {
            switch key {
            case "loss":
                guard let name = value.string, let loss = Loss(rawValue: name) else {
                    throw .model("loss: unknown loss \(value.summary) (expected mse, cross_entropy or binary_cross_entropy)")
                }
                config.loss = loss
            case "targets":
                guard let name = value.string, let targets = Targets(rawValue: name) else {
                    throw .model("targets: expected \"sequence\" or \"last\", got \(value.summary)")
                }
                config.targets = targets
            case "optimizer":
                config.optimizer = try OptimizerConfig.read(value)
            case "clip_gradient_norm":
                guard let norm = value.float, norm.isFinite, norm > 0 else {
                    throw .model("clip_gradient_norm: expected a number > 0, got \(value.summary)")
                }
                config.clipGradientNorm = norm
            case "freeze":
                guard value.kind == .array else { throw .model("freeze: expected an array of layer indices, got \(value.summary)") }
                for index in 0..<value.count {
                    guard let layer = value[index].integer, layer >= 0, layer < model.layers.count else {
                        throw .model("freeze[\(index)]: \(value[index].summary) is not a layer index (the model has layers 0 to \(model.layers.count - 1))")
                    }
                    config.frozenLayers.insert(Int(layer))
                }
            case "stateful":
                guard let flag = value.boolean else { throw .model("stateful: expected true or false, got \(value.summary)") }
                config.stateful = flag
            case "record_hidden_gradient_norms":
                guard let flag = value.boolean else {
                    throw .model("record_hidden_gradient_norms: expected true or false, got \(value.summary)")
                }
                config.recordHiddenGradientNorms = flag
            default:
                throw .model("trainer config: unknown key \"\(key)\" (expected loss, targets, optimizer, clip_gradient_norm, freeze, stateful or record_hidden_gradient_norms)")
            }
        }
        // The classification losses read logits: the head must be a dense
        // layer whose activation they can replace.
        if config.stateful, let index = model.firstBidirectionalLayer {
            throw .model("stateful: layers[\(index)] is bidirectional, and its reverse cell starts each sequence at its last step, so no state can carry from one training step to the next; use \"stateful\": false")
        }
        let head = model.layers[model.layers.count - 1]
        switch config.loss {
        case .mse:
            break
        case .crossEntropy:
            guard head.kind == .dense, head.activation == .linear || head.activation == .softmax else {
                throw .model("loss: cross_entropy needs a last layer of type dense with linear or softmax activation, the model ends with \(describe(head))")
            }
        case .binaryCrossEntropy:
            guard head.kind == .dense, head.activation == .linear || head.activation == .sigmoid else {
                throw .model("loss: binary_cross_entropy needs a last layer of type dense with linear or sigmoid activation, the model ends with \(describe(head))")
            }
        }
        return config
    }

    private static func describe(_ layer: Layer) -> String {
        layer.kind == .dense || layer.kind == .rnn ? "\(layer.kind.rawValue) (\(layer.activation.rawValue))" : layer.kind.rawValue
    }
}

/// The optimizer and its hyper-parameters, with PyTorch's defaults.
public struct OptimizerConfig: Sendable {
    public enum Kind: String, Sendable { case sgd, adam, adamw }
    public var kind: Kind = .adam
    public var learningRate: Float = 0.001
    public var momentum: Float = 0
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    public var weightDecay: Float = 0

    public init() {}

    static func read(_ value: JSONValue) throws(RecurError) -> OptimizerConfig {
        guard value.kind == .object else {
            throw .model("optimizer: expected an object like {\"type\": \"adam\", \"learning_rate\": 0.001}, got \(value.summary)")
        }
        var config = OptimizerConfig()
        let members = value.members
        if let type = members.first(where: { $0.key == "type" })?.value {
            guard let name = type.string, let kind = Kind(rawValue: name) else {
                throw .model("optimizer.type: unknown optimizer \(type.summary) (expected sgd, adam or adamw)")
            }
            config.kind = kind
        }
        if config.kind == .adamw { config.weightDecay = 0.01 }   // torch.optim.AdamW's default
        let allowed = config.kind == .sgd
            ? ["type", "learning_rate", "momentum", "weight_decay"]
            : ["type", "learning_rate", "beta1", "beta2", "epsilon", "weight_decay"]
        for (key, member) in members where key != "type" {
            guard allowed.contains(key) else {
                throw .model("optimizer.\(key): not a hyper-parameter of \(config.kind.rawValue) (expected \(list(Array(allowed.dropFirst()), "or")))")
            }
            guard let number = member.float, number.isFinite else {
                throw .model("optimizer.\(key): expected a finite number, got \(member.summary)")
            }
            switch key {
            case "learning_rate": config.learningRate = try atLeastZero(number, key)
            case "momentum": config.momentum = try atLeastZero(number, key)
            case "weight_decay": config.weightDecay = try atLeastZero(number, key)
            case "epsilon":
                guard number > 0 else { throw .model("optimizer.epsilon: expected a number > 0, got \(member.summary)") }
                config.epsilon = number
            case "beta1", "beta2":
                guard number >= 0 && number < 1 else { throw .model("optimizer.\(key): expected a number in [0, 1), got \(member.summary)") }
                if key == "beta1" { config.beta1 = number } else { config.beta2 = number }
            default: break
            }
        }
        return config
    }

    private static func atLeastZero(_ number: Float, _ key: String) throws(RecurError) -> Float {
        guard number >= 0 else { throw .model("optimizer.\(key): expected a number >= 0, got \(number)") }
        return number
    }
}
