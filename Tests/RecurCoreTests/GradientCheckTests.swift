// Gradient checks: the trainer's analytic float32 gradients against central
// finite differences of an independent float64 forward pass written here
// from the format's formulas, for every layer type, activation and loss,
// many-to-many and many-to-one, stacked, frozen and stateful.
import Foundation
import XCTest
@testable import RecurCore

/// An independent float64 implementation of the model format's forward pass.
private struct DoubleModel {
    struct Layer {
        let kind: String
        let activation: String
        let input: Int
        /// hidden_size (each direction's) or units.
        let output: Int
        let bidirectional: Bool
        var tensors: [String: [Double]]
    }
    var layers: [Layer]

    init(_ model: Model) throws {
        var layers: [Layer] = []
        for (index, layer) in model.layers.enumerated() {
            var tensors: [String: [Double]] = [:]
            for slot in layer.tensors {
                var values = [Float](repeating: 0, count: slot.count)
                try values.withUnsafeMutableBufferPointer { try model.getTensor(layer: index, name: slot.name, into: $0) }
                tensors[slot.name] = values.map { Double($0) }
            }
            layers.append(Layer(kind: layer.kind.rawValue, activation: layer.activation.rawValue,
                                input: layer.inputSize, output: layer.hiddenSize, bidirectional: layer.isBidirectional,
                                tensors: tensors))
        }
        self.layers = layers
    }

    static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

    /// W x (+ b) for a [rows, columns] weight.
    static func affine(_ w: [Double], _ b: [Double]?, _ x: [Double], rows: Int) -> [Double] {
        let columns = x.count
        var out = [Double](repeating: 0, count: rows)
        for r in 0..<rows {
            var sum: Double = b?[r] ?? 0
            for c in 0..<columns { sum += w[r * columns + c] * x[c] }
            out[r] = sum
        }
        return out
    }

    /// Runs one stream; returns per step the head's output and its
    /// pre-activation (logits), and the final state (layer by layer h, c).
    func run(_ xs: [[Double]], initial: [[Double]]) -> (outputs: [[Double]], logits: [[Double]], final: [[Double]]) {
        var sequence = xs
        var logits: [[Double]] = []
        var final: [[Double]] = []
        for (index, layer) in layers.enumerated() {
            let t = layer.tensors
            let h = layer.output
            var state = initial[index]
            var outputs: [[Double]] = []
            if layer.kind == "dense" {
                for x in sequence {
                    let z = DoubleModel.affine(t["weight"]!, t["bias"], x, rows: h)
                    if index == layers.count - 1 { logits.append(z) }
                    switch layer.activation {
                    case "relu": outputs.append(z.map { max($0, 0) })
                    case "tanh": outputs.append(z.map { tanh($0) })
                    case "sigmoid": outputs.append(z.map(DoubleModel.sigmoid))
                    case "softmax":
                        let m = z.max()!
                        let e = z.map { exp($0 - m) }
                        let s = e.reduce(0, +)
                        outputs.append(e.map { $0 / s })
                    default: outputs.append(z)
                    }
                }
            } else {
                if layer.bidirectional {
                    // Two cells from zero state, the second over the steps reversed.
                    let zero = [Double](repeating: 0, count: state.count)
                    let ahead = DoubleModel.cell(layer, "", sequence, initial: zero).outputs
                    let back = DoubleModel.cell(layer, "_reverse", sequence.reversed(), initial: zero).outputs
                    outputs = (0..<sequence.count).map { ahead[$0] + back[sequence.count - 1 - $0] }
                } else {
                    (outputs, state) = DoubleModel.cell(layer, "", sequence, initial: state)
                }
            }
            final.append(state)
            sequence = outputs
        }
        return (sequence, logits, final)
    }

    /// One recurrent cell (tensors named with `suffix`) over `xs`: its h at
    /// every step and its final state (h, and c for an LSTM).
    static func cell(_ layer: Layer, _ suffix: String, _ xs: [[Double]], initial: [Double]) -> (outputs: [[Double]], final: [Double]) {
        let t = layer.tensors, h = layer.output
        var state = initial
        var outputs: [[Double]] = []
        for x in xs {
            let gates = layer.kind == "lstm" ? 4 : layer.kind == "gru" ? 3 : 1
            let hPrev = Array(state[0..<h])
            let a = DoubleModel.affine(t["weight_ih" + suffix]!, t["bias_ih" + suffix], x, rows: gates * h)
            let b = DoubleModel.affine(t["weight_hh" + suffix]!, t["bias_hh" + suffix], hPrev, rows: gates * h)
            if layer.kind == "rnn" {
                let pre = (0..<h).map { a[$0] + b[$0] }
                state = layer.activation == "relu" ? pre.map { max($0, 0) } : pre.map { tanh($0) }
            } else if layer.kind == "lstm" {
                var c = Array(state[h...])
                var hNew = [Double](repeating: 0, count: h)
                for j in 0..<h {
                    let i = DoubleModel.sigmoid(a[j] + b[j]), f = DoubleModel.sigmoid(a[h + j] + b[h + j])
                    let g = tanh(a[2 * h + j] + b[2 * h + j]), o = DoubleModel.sigmoid(a[3 * h + j] + b[3 * h + j])
                    c[j] = f * c[j] + i * g
                    hNew[j] = o * tanh(c[j])
                }
                state = hNew + c
            } else {
                var hNew = [Double](repeating: 0, count: h)
                for j in 0..<h {
                    let r = DoubleModel.sigmoid(a[j] + b[j]), z = DoubleModel.sigmoid(a[h + j] + b[h + j])
                    let n = tanh(a[2 * h + j] + r * b[2 * h + j])
                    hNew[j] = (1 - z) * n + z * hPrev[j]
                }
                state = hNew
            }
            outputs.append(Array(state[0..<h]))
        }
        return (outputs, state)
    }

    /// The loss of a batch, as the contract defines it.
    /// With `lengths`, each stream runs only its own steps (PyTorch's
    /// packed sequences) and only those carry targets.
    func loss(_ config: TrainerConfig, inputs: [[[Double]]], targets: [[[Double]]], labels: [[Int]]?,
              initial: [[[Double]]], lengths: [Int]? = nil) -> Double {
        var total = 0.0
        var count = 0
        for (stream, all) in inputs.enumerated() {
            let xs = Array(all.prefix(lengths?[stream] ?? all.count))
            let result = run(xs, initial: initial[stream])
            let steps = config.targets == .sequence ? Array(0..<xs.count) : [xs.count - 1]
            for (k, t) in steps.enumerated() {
                switch config.loss {
                case .mse:
                    for (y, target) in zip(result.outputs[t], targets[stream][k]) { total += (y - target) * (y - target); count += 1 }
                case .binaryCrossEntropy:
                    for (z, target) in zip(result.logits[t], targets[stream][k]) {
                        total += max(z, 0) - z * target + log(1 + exp(-abs(z))); count += 1
                    }
                case .crossEntropy:
                    let z = result.logits[t]
                    let m = z.max()!
                    let logSum = m + log(z.map { exp($0 - m) }.reduce(0, +))
                    if let labels { total -= z[labels[stream][k]] - logSum } else {
                        for (zj, target) in zip(z, targets[stream][k]) { total -= target * (zj - logSum) }
                    }
                    count += 1
                }
            }
        }
        return total / Double(count)
    }

    func zeroState() -> [[Double]] {
        layers.map { [Double](repeating: 0, count: $0.kind == "dense" ? 0 : $0.kind == "lstm" ? 2 * $0.output : $0.output) }
    }
}

final class GradientCheckTests: XCTestCase {
    private func document(_ layers: String, input: Int, seed: Int) -> String {
        """
        {"format": "recur", "version": 1, "input_size": \(input), "init": {"seed": \(seed)}, "layers": [\(layers)]}
        """
    }

    /// Checks every gradient element of a small model against finite differences.
    private func check(_ layers: String, config configText: String, input: Int = 3, batch: Int = 2, steps: Int = 4,
                       seed: Int = 1, stateful: Bool = false, labels useLabels: Bool = false, lengths: [Int]? = nil,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        for kernels in [KernelSet.reference, .active] {
            try check(layers, config: configText, input: input, batch: batch, steps: steps, seed: seed, stateful: stateful,
                      labels: useLabels, lengths: lengths, kernels: kernels, file: file, line: line)
        }
    }

    private func check(_ layers: String, config configText: String, input: Int, batch: Int, steps: Int,
                       seed: Int, stateful: Bool, labels useLabels: Bool, lengths: [Int]?, kernels: KernelSet,
                       file: StaticString, line: UInt) throws {
        let model = try Model.load(jsonText: document(layers, input: input, seed: seed))
        let trainer = try Trainer(model: model, configText: configText, kernels: kernels)
        let config = trainer.config
        let outputs = model.outputSize
        var random = SplitMix64(seed: UInt64(seed) + 100)
        let xs = (0..<(batch * steps * input)).map { _ in Float(random.uniform(-1, 1)) }
        let positions = config.targets == .sequence ? steps : 1
        var targetValues = (0..<(batch * positions * outputs)).map { _ in Float(random.uniform(0, 1)) }
        if config.loss == .crossEntropy {   // probability rows
            for k in 0..<(batch * positions) {
                let total = targetValues[k * outputs ..< (k + 1) * outputs].reduce(0, +)
                for j in 0..<outputs { targetValues[k * outputs + j] /= total }
            }
        }
        let labels = (0..<(batch * positions)).map { _ in Int32(random.next() % UInt64(outputs)) }

        let lengthValues = (lengths ?? []).map(UInt.init)
        func step(_ t: Trainer) throws -> Float {
            try xs.withUnsafeBufferPointer { x in
                try lengthValues.withUnsafeBufferPointer { lengthBuffer in
                    let ls = lengths == nil ? nil : lengthBuffer
                    if useLabels {
                        return try labels.withUnsafeBufferPointer {
                            try t.step(input: x, batch: batch, steps: steps, lengths: ls, targets: .labels($0))
                        }
                    }
                    return try targetValues.withUnsafeBufferPointer {
                        try t.step(input: x, batch: batch, steps: steps, lengths: ls, targets: .values($0))
                    }
                }
            }
        }

        // The double-precision view of the same data.
        var reference = try DoubleModel(model)
        let inputs = (0..<batch).map { b in (0..<steps).map { t in (0..<input).map { Double(xs[(b * steps + t) * input + $0]) } } }
        let targets = (0..<batch).map { b in (0..<positions).map { k in (0..<outputs).map { Double(targetValues[(b * positions + k) * outputs + $0]) } } }
        let labelRows = useLabels ? (0..<batch).map { b in (0..<positions).map { Int(labels[b * positions + $0]) } } : nil
        var initial = (0..<batch).map { _ in reference.zeroState() }

        if stateful {
            // Step 1 (learning rate 0) only moves the state on; check step 2.
            _ = try step(trainer)
            initial = (0..<batch).map { reference.run(Array(inputs[$0].prefix(lengths?[$0] ?? steps)), initial: initial[$0]).final }
        }
        let loss = try step(trainer)
        let expectedLoss = reference.loss(config, inputs: inputs, targets: targets, labels: labelRows, initial: initial, lengths: lengths)
        XCTAssertEqual(Double(loss), expectedLoss, accuracy: 1e-5 + 1e-4 * abs(expectedLoss), "loss", file: file, line: line)

        var checked = 0
        for (index, layer) in model.layers.enumerated() {
            for slot in layer.tensors {
                var analytic = [Float](repeating: .nan, count: slot.count)
                try analytic.withUnsafeMutableBufferPointer { try trainer.getGradient(layer: index, name: slot.name, into: $0) }
                let frozen = config.frozenLayers.contains(index)
                for element in 0..<slot.count {
                    let original = reference.layers[index].tensors[slot.name]![element]
                    let h = 1e-6
                    reference.layers[index].tensors[slot.name]![element] = original + h
                    let up = reference.loss(config, inputs: inputs, targets: targets, labels: labelRows, initial: initial, lengths: lengths)
                    reference.layers[index].tensors[slot.name]![element] = original - h
                    let down = reference.loss(config, inputs: inputs, targets: targets, labels: labelRows, initial: initial, lengths: lengths)
                    reference.layers[index].tensors[slot.name]![element] = original
                    let numeric = frozen ? 0 : (up - down) / (2 * h)
                    XCTAssertEqual(Double(analytic[element]), numeric, accuracy: 2e-5 + 2e-3 * abs(numeric),
                                   "layers[\(index)].\(slot.name)[\(element)] with \(configText) [\(kernels.name)]", file: file, line: line)
                    checked += 1
                }
            }
        }
        XCTAssertEqual(checked, model.parameterCount, file: file, line: line)
    }

    private let sgd = "\"optimizer\": {\"type\": \"sgd\", \"learning_rate\": 0}"

    func testRecurrentLayersWithMSE() throws {
        for targets in ["sequence", "last"] {
            let config = "{\"loss\": \"mse\", \"targets\": \"\(targets)\", \(sgd)}"
            try check(#"{"type": "rnn", "hidden_size": 4}, {"type": "dense", "units": 2}"#, config: config)
            try check(#"{"type": "rnn", "hidden_size": 4, "activation": "relu"}, {"type": "dense", "units": 2}"#, config: config, seed: 3)
            try check(#"{"type": "lstm", "hidden_size": 4}, {"type": "dense", "units": 2}"#, config: config)
            try check(#"{"type": "gru", "hidden_size": 4}, {"type": "dense", "units": 2}"#, config: config)
            try check(#"{"type": "gru", "hidden_size": 3}"#, config: config)
            try check(#"{"type": "lstm", "hidden_size": 3}"#, config: config)
        }
    }

    func testDenseActivations() throws {
        for activation in ["linear", "relu", "tanh", "sigmoid", "softmax"] {
            try check(#"{"type": "lstm", "hidden_size": 3}, {"type": "dense", "units": 4, "activation": "\#(activation)"}"#,
                      config: "{\"loss\": \"mse\", \(sgd)}")
        }
        try check(#"{"type": "dense", "units": 5, "activation": "tanh"}, {"type": "rnn", "hidden_size": 3}, {"type": "dense", "units": 2, "activation": "relu"}"#,
                  config: "{\"loss\": \"mse\", \(sgd)}")
    }

    func testClassificationLosses() throws {
        for targets in ["sequence", "last"] {
            for head in ["linear", "softmax"] {
                let layers = #"{"type": "gru", "hidden_size": 4}, {"type": "dense", "units": 3, "activation": "\#(head)"}"#
                try check(layers, config: "{\"loss\": \"cross_entropy\", \"targets\": \"\(targets)\", \(sgd)}")
                try check(layers, config: "{\"loss\": \"cross_entropy\", \"targets\": \"\(targets)\", \(sgd)}", labels: true)
            }
            for head in ["linear", "sigmoid"] {
                try check(#"{"type": "lstm", "hidden_size": 4}, {"type": "dense", "units": 2, "activation": "\#(head)"}"#,
                          config: "{\"loss\": \"binary_cross_entropy\", \"targets\": \"\(targets)\", \(sgd)}")
            }
        }
    }

    func testStacksFreezingAndStatefulness() throws {
        let stack = #"{"type": "lstm", "hidden_size": 3}, {"type": "gru", "hidden_size": 4}, {"type": "rnn", "hidden_size": 3}, {"type": "dense", "units": 2}"#
        try check(stack, config: "{\(sgd)}", steps: 5)
        try check(stack, config: "{\"freeze\": [1], \(sgd)}", steps: 5)
        try check(stack, config: "{\"freeze\": [0, 3], \"targets\": \"last\", \(sgd)}", steps: 5)
        try check(stack, config: "{\"stateful\": true, \(sgd)}", steps: 3, stateful: true)
        try check(#"{"type": "gru", "hidden_size": 4}, {"type": "dense", "units": 3}"#,
                  config: "{\"stateful\": true, \"loss\": \"cross_entropy\", \(sgd)}", stateful: true, labels: true)
    }

    /// Bidirectional layers of every kind, alone, stacked and as the last
    /// layer, with and without lengths.
    func testBidirectionalLayers() throws {
        for kind in ["rnn", "lstm", "gru"] {
            let bi = #"{"type": "\#(kind)", "hidden_size": 3, "direction": "bidirectional"}"#
            try check(bi + #", {"type": "dense", "units": 2}"#, config: "{\(sgd)}")
            try check(bi, config: "{\"targets\": \"last\", \(sgd)}", lengths: [4, 2])
            try check(#"{"type": "lstm", "hidden_size": 2}, "# + bi + #", {"type": "dense", "units": 3}"#,
                      config: "{\"loss\": \"cross_entropy\", \(sgd)}", batch: 3, steps: 5, labels: true, lengths: [5, 1, 3])
        }
        let stacked = #"{"type": "gru", "hidden_size": 3, "direction": "bidirectional"}, {"type": "lstm", "hidden_size": 2, "direction": "bidirectional"}, {"type": "dense", "units": 2, "activation": "sigmoid"}"#
        try check(stacked, config: "{\"loss\": \"binary_cross_entropy\", \(sgd)}", lengths: [3, 4])
        try check(stacked, config: "{\"freeze\": [1], \(sgd)}", lengths: [4, 1])
    }

    /// Streams of different lengths through forward stacks: only each
    /// stream's own steps count, and stateful training carries each
    /// stream's state after its own last step.
    func testLengths() throws {
        let stack = #"{"type": "rnn", "hidden_size": 3}, {"type": "lstm", "hidden_size": 3}, {"type": "dense", "units": 2}"#
        try check(stack, config: "{\(sgd)}", batch: 3, steps: 5, lengths: [5, 2, 1])
        try check(stack, config: "{\"targets\": \"last\", \(sgd)}", batch: 3, steps: 5, lengths: [1, 4, 3])
        try check(#"{"type": "gru", "hidden_size": 4}, {"type": "dense", "units": 3}"#,
                  config: "{\"loss\": \"cross_entropy\", \(sgd)}", batch: 3, labels: true, lengths: [2, 4, 3])
        try check(stack, config: "{\"stateful\": true, \(sgd)}", batch: 3, steps: 4, stateful: true, lengths: [4, 2, 3])
    }
}
