// Reads a model document (format v1, docs/model-format.md) into a `Model`.
//
// Three passes, so that nothing large is allocated for a document that is
// wrong: (1) the structure — keys, types, sizes — with a JSON path in every
// error; (2) the limits, checked on the sizes alone; (3) one allocation of
// the parameter buffer, then every tensor is read straight into its slot
// (or initialised from `init`).

/// Limits that keep a hostile document from exhausting memory. They are
/// checked before anything is allocated and named in the error.
public enum ModelLimits {
    /// Largest `input_size`, `hidden_size` or `units`.
    public static let maximumSize = 1 << 20
    /// Largest number of parameters in one model (1 GiB of float32).
    public static let maximumParameters = 1 << 28
    /// Most layers in one model.
    public static let maximumLayers = 1024
    /// Largest hidden_size initialised with orthogonal blocks (`init`
    /// recurrent "orthogonal", or "identity" for LSTM/GRU): making an n x n
    /// orthogonal matrix costs n^3: an LSTM of this size takes about a second.
    public static let maximumOrthogonalSize = 512
    /// Largest total of gates x hidden_size^3 over the layers initialised with
    /// orthogonal blocks: four LSTM layers of 512 units (a few seconds).
    public static let maximumOrthogonalWork = 4 * 4 * 512 * 512 * 512
}

/// How a layer without `weights` is initialised (the top-level `init`).
struct InitSpec {
    enum Recurrent: String { case uniform, orthogonal, identity }
    var seed: UInt64 = 0
    var recurrent: Recurrent = .uniform
}

/// Pass 1's result for one layer.
private struct LayerPlan {
    let kind: LayerKind
    /// `hidden_size` or `units`.
    let size: Int
    let activation: Activation
    let direction: Direction
    /// The `weights` object, or nil when the layer is initialised from `init`.
    let weights: [(key: String, value: JSONValue)]?
    let path: String
}

extension Model {
    /// Parses and validates a model document.
    public static func load(json bytes: UnsafeRawBufferPointer) throws(RecurError) -> Model {
        if let (skeleton, extracted) = try TensorExtractor.extract(bytes) {
            try DocumentBounds.check(skeleton.bytes)
            let document = try JSONDocument(parsing: skeleton.bytes)
            return try ModelReader.read(document.root, extracted: extracted)
        }
        try DocumentBounds.check(bytes)
        let document = try JSONDocument(parsing: bytes)
        return try ModelReader.read(document.root, extracted: ExtractedTensors())
    }
}

enum ModelReader {
    static func read(_ root: JSONValue, extracted: ExtractedTensors) throws(RecurError) -> Model {
        guard root.kind == .object else {
            throw .model("the document must be a JSON object with \"format\": \"recur\", got \(root.summary)")
        }
        let top = try members(root, path: "", allowed: ["format", "version", "input_size", "layers", "metadata", "init"])

        guard let format = top["format"] else { throw .model("format: missing (expected \"recur\")") }
        guard format.string == "recur" else { throw .model("format: expected \"recur\", got \(format.summary)") }

        guard let version = top["version"] else { throw .model("version: missing (expected 1)") }
        guard let number = version.integer, number >= 1 else {
            throw .model("version: expected the integer 1, got \(version.summary)")
        }
        guard number == 1 else {
            throw .model("version: this library reads format version 1, the document is version \(number)")
        }

        let inputSize = try size(top["input_size"], path: "input_size")

        guard let layersValue = top["layers"] else { throw .model("layers: missing (expected a non-empty array)") }
        guard layersValue.kind == .array, layersValue.count > 0 else {
            throw .model("layers: expected a non-empty array of layers, got \(layersValue.kind == .array ? "an empty array" : layersValue.summary)")
        }
        guard layersValue.count <= ModelLimits.maximumLayers else {
            throw .model("layers: \(layersValue.count) layers, more than the limit of \(ModelLimits.maximumLayers)")
        }

        var metadata: ByteBuffer? = nil
        if let value = top["metadata"] {
            guard value.kind == .object else { throw .model("metadata: expected an object, got \(value.summary)") }
            metadata = try value.textBuffer()
        }
        let initSpec = try readInit(top["init"])

        // Pass 1: every layer's structure.
        var plans: [LayerPlan] = []
        for index in 0..<layersValue.count {
            plans.append(try readLayer(layersValue[index], path: "layers[\(index)]"))
        }

        // Pass 2: layout and limits, before any allocation.
        var layers: [Layer] = []
        var bufferSize = 0
        var parameterCount = 0
        var layerInput = inputSize
        for plan in plans {
            let hasWeights = plan.weights != nil
            let keys = Set(plan.weights?.map(\.key) ?? [])
            let (layer, span) = Layer.layout(
                kind: plan.kind, inputSize: layerInput, hiddenSize: plan.size, activation: plan.activation, direction: plan.direction,
                inputBias: !hasWeights || keys.contains(plan.kind.isRecurrent ? "bias_ih" : "bias"),
                recurrentBias: plan.kind.isRecurrent && (!hasWeights || keys.contains("bias_hh")),
                at: bufferSize)
            // Sizes are at most 2^20 each, so these products cannot overflow.
            parameterCount += layer.tensors.reduce(0) { $0 + $1.count }
            bufferSize += span
            if parameterCount > ModelLimits.maximumParameters {
                let field = plan.kind == .dense ? "units" : "hidden_size"
                throw .model("\(plan.path).\(field): \(plan.size) makes the model \(parameterCount)+ parameters, more than the limit of \(ModelLimits.maximumParameters)")
            }
            layers.append(layer)
            layerInput = layer.outputSize
        }

        // Orthogonal initialisation costs hidden_size^3 per gate: refuse what
        // would take minutes, per layer and for the whole model.
        var orthogonalWork = 0
        for (index, plan) in plans.enumerated() where plan.weights == nil && plan.kind.isRecurrent {
            let orthogonal = initSpec.recurrent == .orthogonal || (initSpec.recurrent == .identity && plan.kind != .rnn)
            guard orthogonal else { continue }
            let size = plan.size
            if size > ModelLimits.maximumOrthogonalSize {
                throw .model("layers[\(index)].hidden_size: \(size) is larger than \(ModelLimits.maximumOrthogonalSize), the limit for init.recurrent \"\(initSpec.recurrent.rawValue)\" (orthogonal blocks); give the weights, or use \"uniform\"")
            }
            orthogonalWork += (plan.direction == .bidirectional ? 2 : 1) * plan.kind.gateCount * size * size * size
            if orthogonalWork > ModelLimits.maximumOrthogonalWork {
                throw .model("layers[\(index)].hidden_size: with this layer, init.recurrent \"\(initSpec.recurrent.rawValue)\" would build orthogonal blocks worth more than 4 LSTM layers of \(ModelLimits.maximumOrthogonalSize) units; give the weights, or use \"uniform\"")
            }
        }

        // Every tensor's structure, before the allocation: the data must
        // hold the values its shape declares (memory follows the document).
        for (index, plan) in plans.enumerated() {
            guard let weights = plan.weights else { continue }
            for slot in layers[index].tensors {
                guard let value = weights.first(where: { $0.key == slot.name })?.value else {
                    throw .model("\(plan.path).weights.\(slot.name): missing (expected shape \(shapeText(slot.shape)))")
                }
                try TensorReader.read(value, into: slot, of: nil, path: "\(plan.path).weights.\(slot.name)", extracted: extracted)
            }
        }

        // Pass 3: one allocation, then the values.
        let parameters = try FloatBuffer(count: bufferSize)
        for (index, plan) in plans.enumerated() {
            let layer = layers[index]
            if let weights = plan.weights {
                for slot in layer.tensors {
                    guard let value = weights.first(where: { $0.key == slot.name })?.value else {
                        throw .model("\(plan.path).weights.\(slot.name): missing (expected shape \(shapeText(slot.shape)))")
                    }
                    try TensorReader.read(value, into: slot, of: parameters, path: "\(plan.path).weights.\(slot.name)",
                                          extracted: extracted)
                }
            } else {
                Initializer.initialize(layer, index: index, spec: initSpec, parameters: parameters)
            }
        }
        return Model(inputSize: inputSize, layers: layers, parameters: parameters,
                     parameterCount: parameterCount, metadata: metadata)
    }

    // MARK: Pieces

    private static func readLayer(_ value: JSONValue, path: String) throws(RecurError) -> LayerPlan {
        guard value.kind == .object else { throw .model("\(path): expected a layer object, got \(value.summary)") }
        guard let typeValue = value.members.first(where: { $0.key == "type" })?.value else {
            throw .model("\(path).type: missing (expected rnn, lstm, gru or dense)")
        }
        guard let typeName = typeValue.string, let kind = LayerKind(rawValue: typeName) else {
            throw .model("\(path).type: unknown layer type \(typeValue.summary) (expected rnn, lstm, gru or dense)")
        }
        let sizeKey = kind == .dense ? "units" : "hidden_size"
        var allowed = ["type", sizeKey, "weights"]
        if kind == .rnn || kind == .dense { allowed.append("activation") }
        if kind.isRecurrent { allowed.append("direction") }
        let fields = try members(value, path: path, allowed: allowed, what: "\(kind.rawValue) layer")

        let size = try size(fields[sizeKey], path: "\(path).\(sizeKey)")

        var activation: Activation = kind == .dense ? .linear : .tanh
        if let activationValue = fields["activation"] {
            let choices: [Activation] = kind == .rnn ? [.tanh, .relu] : [.linear, .relu, .tanh, .sigmoid, .softmax]
            guard let name = activationValue.string, let chosen = Activation(rawValue: name), choices.contains(chosen) else {
                throw .model("\(path).activation: unknown activation \(activationValue.summary) for a\(kind == .rnn ? "n" : "") \(kind.rawValue) layer (expected \(list(choices.map(\.rawValue), "or")))")
            }
            activation = chosen
        }

        var direction = Direction.forward
        if let directionValue = fields["direction"] {
            guard let name = directionValue.string, let chosen = Direction(rawValue: name) else {
                throw .model("\(path).direction: expected \"forward\" or \"bidirectional\", got \(directionValue.summary)")
            }
            direction = chosen
        }

        var weights: [(key: String, value: JSONValue)]? = nil
        if let weightsValue = fields["weights"] {
            let cellNames = kind.isRecurrent ? ["weight_ih", "weight_hh", "bias_ih", "bias_hh"] : ["weight", "bias"]
            let reverseNames = cellNames.map { $0 + "_reverse" }
            let names = direction == .bidirectional ? cellNames + reverseNames : cellNames
            guard weightsValue.kind == .object else {
                throw .model("\(path).weights: expected an object with \(list(names, "and")), got \(weightsValue.summary)")
            }
            if direction == .forward, kind.isRecurrent,
               let reverse = weightsValue.members.first(where: { reverseNames.contains($0.key) }) {
                throw .model("\(path).weights.\(reverse.key): a reverse-direction tensor on a forward layer (add \"direction\": \"bidirectional\" to the layer, or remove it)")
            }
            let present = try members(weightsValue, path: "\(path).weights", allowed: names, what: "\(kind.rawValue) weights")
            for required in names where required.hasPrefix("weight") && present[required] == nil {
                throw .model("\(path).weights.\(required): missing\(required.hasSuffix("_reverse") ? " (a bidirectional layer has weights for both directions)" : "")")
            }
            // Both directions have a bias or neither does: the two cells share one layout.
            for bias in ["bias_ih", "bias_hh"] where direction == .bidirectional && (present[bias] == nil) != (present[bias + "_reverse"] == nil) {
                let (missing, given) = present[bias] == nil ? (bias, bias + "_reverse") : (bias + "_reverse", bias)
                throw .model("\(path).weights.\(missing): missing, but \(given) is given (both directions have this bias or neither does)")
            }
            weights = weightsValue.members
        }
        return LayerPlan(kind: kind, size: size, activation: activation, direction: direction, weights: weights, path: path)
    }

    private static func readInit(_ value: JSONValue?) throws(RecurError) -> InitSpec {
        var spec = InitSpec()
        guard let value else { return spec }
        guard value.kind == .object else { throw .model("init: expected an object like {\"seed\": 42, \"recurrent\": \"orthogonal\"}, got \(value.summary)") }
        let fields = try members(value, path: "init", allowed: ["seed", "recurrent"])
        if let seed = fields["seed"] {
            guard let number = seed.integer, number >= 0 else {
                throw .model("init.seed: expected an integer >= 0, got \(seed.summary)")
            }
            spec.seed = UInt64(number)
        }
        if let recurrent = fields["recurrent"] {
            guard let name = recurrent.string, let choice = InitSpec.Recurrent(rawValue: name) else {
                throw .model("init.recurrent: unknown scheme \(recurrent.summary) (expected uniform, orthogonal or identity)")
            }
            spec.recurrent = choice
        }
        return spec
    }

    /// The members of an object as a dictionary, refusing unknown keys.
    private static func members(_ value: JSONValue, path: String, allowed: [String],
                                what: String? = nil) throws(RecurError) -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        for (key, member) in value.members {
            guard allowed.contains(key) else {
                let place = path.isEmpty ? "top level" : path
                throw .model("\(place): unknown key \"\(key)\"\(what.map { " in a \($0)" } ?? "") (expected \(list(allowed, "or")))")
            }
            result[key] = member
        }
        return result
    }

    /// A size field: an integer in 1...maximumSize.
    private static func size(_ value: JSONValue?, path: String) throws(RecurError) -> Int {
        guard let value else { throw .model("\(path): missing (expected an integer >= 1)") }
        guard let number = value.integer, number >= 1 else {
            throw .model("\(path): expected an integer >= 1, got \(value.summary)")
        }
        guard number <= ModelLimits.maximumSize else {
            throw .model("\(path): \(number) is larger than the limit of \(ModelLimits.maximumSize)")
        }
        return Int(number)
    }
}

func shapeText(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
}

func list(_ items: [String], _ conjunction: String) -> String {
    guard items.count > 1 else { return items.first ?? "" }
    return items.dropLast().joined(separator: ", ") + " \(conjunction) " + items[items.count - 1]
}
