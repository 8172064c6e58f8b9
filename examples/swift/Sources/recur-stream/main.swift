// recur-stream: loads a model, streams a sine wave through it one step at a
// time, runs the same input as one sequence (the same floats, bit for bit),
// then fine-tunes a copy for a few steps and shows the loss going down.
//
//   recur-stream [MODEL_JSON]     (default: examples/models/tiny_lstm.json)
import Recur
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let path = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "examples/models/tiny_lstm.json"

do {
    let model = try Model(contentsOfFile: path)
    print("Recur \(recurVersion) (\(recurKernels)): \(path), \(model.parameterCount) parameters")
    for (index, layer) in model.layers.enumerated() {
        print("  layers[\(index)]: \(layer.type) \(layer.inputSize) -> \(layer.outputSize)")
    }

    // A stream of inputs: input i at step t is sin(0.3 t + i).
    let steps = 8, inputs = model.inputSize
    var xs: [Float] = []
    for t in 0..<steps { for i in 0..<inputs { xs.append(Float(sine(0.3 * Double(t) + Double(i)))) } }

    // One step at a time, into a preallocated output (allocates nothing per step).
    let state = try model.makeState()
    var y = [Float](repeating: 0, count: model.outputSize)
    var streamed: [Float] = []
    for t in 0..<steps {
        try state.step(Array(xs[t * inputs ..< (t + 1) * inputs]), into: &y)
        streamed += y
        print("  step \(t): " + y.map { format($0) }.joined(separator: " "))
    }

    // The whole sequence in one call, from a fresh state: the same floats.
    let whole = try model.makeState().run(xs, steps: steps)
    print(whole == streamed ? "run == steps, bit for bit" : "MISMATCH between run and steps")

    // Fine-tune a copy to output zeros; the original is untouched.
    let copy = try model.clone()
    let trainer = try copy.makeTrainer(config: #"{"loss": "mse", "optimizer": {"type": "adam", "learning_rate": 0.01}}"#)
    let targets = [Float](repeating: 0, count: steps * model.outputSize)
    var losses: [Float] = []
    for _ in 0..<20 { losses.append(try trainer.step(xs, batch: 1, steps: steps, targets: targets)) }
    print("fine-tuning: loss \(format(losses[0])) -> \(format(losses[losses.count - 1])) in 20 steps")
    if whole != streamed || !(losses[losses.count - 1] < losses[0]) { exit(1) }
} catch {
    print("recur-stream: \(error.code): \(error.message)")
    exit(1)
}

/// sin without Foundation: a Taylor series after reducing to [-pi, pi].
func sine(_ x: Double) -> Double {
    var r = x.truncatingRemainder(dividingBy: 2 * Double.pi)
    if r > Double.pi { r -= 2 * Double.pi }
    if r < -Double.pi { r += 2 * Double.pi }
    var term = r, sum = r
    for k in 1..<12 { term *= -r * r / Double((2 * k) * (2 * k + 1)); sum += term }
    return sum
}

func format(_ value: Float) -> String {
    let scaled = (Double(value) * 10000).rounded() / 10000
    return String(scaled)
}
