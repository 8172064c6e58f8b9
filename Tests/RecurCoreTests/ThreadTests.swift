// Opt-in threads: a state's outputs and a trainer's losses and weights are
// bit-identical with any thread count.
import XCTest
@testable import RecurCore

final class ThreadTests: XCTestCase {
    private let stack = """
    {"format": "recur", "version": 1, "input_size": 5, "init": {"seed": 3}, "layers": [
      {"type": "lstm", "hidden_size": 24}, {"type": "gru", "hidden_size": 17}, {"type": "dense", "units": 3, "activation": "softmax"}]}
    """

    func testStateOutputsAreBitIdenticalWithThreads() throws {
        let model = try Model.load(jsonText: stack)
        var random = SplitMix64(seed: 5)
        let (batch, steps) = (7, 70)
        let input = (0..<(batch * steps * 5)).map { _ in Float(random.uniform(-1, 1)) }
        let single = try State(model: model, batch: batch)
        let expected = try single.run(input, steps: steps)
        for threads in [2, 3, 8] {
            let state = try State(model: model, batch: batch)
            try state.setThreads(threads)
            XCTAssertEqual(state.threads, min(threads, batch))
            XCTAssertEqual(bits(try state.run(input, steps: steps)), bits(expected), "\(threads) threads")
            XCTAssertEqual(bits(state.values), bits(single.values))
        }
        XCTAssertThrowsError(try single.setThreads(0))
    }

    func testTrainerWithThreadsIsBitIdentical() throws {
        let config = "{\"loss\": \"cross_entropy\", \"optimizer\": {\"type\": \"adam\", \"learning_rate\": 0.01}}"
        var random = SplitMix64(seed: 9)
        let (batch, steps) = (6, 12)
        let input = (0..<(batch * steps * 5)).map { _ in Float(random.uniform(-1, 1)) }
        let labels = (0..<(batch * steps)).map { _ in Int32(random.next() % 3) }
        func train(threads: Int) throws -> (losses: [Float], model: Model) {
            let model = try Model.load(jsonText: stack)
            let trainer = try Trainer(model: model, configText: config)
            try trainer.setThreads(threads)
            var losses: [Float] = []
            for _ in 0..<4 {
                losses.append(try input.withUnsafeBufferPointer { x in
                    try labels.withUnsafeBufferPointer { try trainer.step(input: x, batch: batch, steps: steps, targets: .labels($0)) }
                })
            }
            return (losses, model)
        }
        let one = try train(threads: 1)
        for threads in [2, 3, 8] {
            let other = try train(threads: threads)
            XCTAssertEqual(bits(other.losses), bits(one.losses), "\(threads) threads")
            XCTAssertEqual(bits(Array(UnsafeBufferPointer(start: other.model.parameters.base, count: other.model.parameters.count))),
                           bits(Array(UnsafeBufferPointer(start: one.model.parameters.base, count: one.model.parameters.count))),
                           "\(threads) threads: updated weights")
        }
    }
}

final class HiddenGradientNormTests: XCTestCase {
    /// One RNN layer, a target on the last step only: dL/dh at the last step
    /// is 2 (h - target) / (B·H), known in closed form.
    func testLastStepNormIsTheLossGradient() throws {
        let model = try Model.load(jsonText: """
            {"format": "recur", "version": 1, "input_size": 2, "init": {"seed": 8}, "layers": [{"type": "rnn", "hidden_size": 3}]}
            """)
        let config = "{\"targets\": \"last\", \"optimizer\": {\"type\": \"sgd\", \"learning_rate\": 0}"
        let trainer = try Trainer(model: model, configText: config + ", \"record_hidden_gradient_norms\": true}")
        // Without the key the norms are not recorded, and asking for them says so.
        let plain = try Trainer(model: model, configText: config + "}")
        var unused = [Float](repeating: 0, count: 6)
        XCTAssertThrowsError(try unused.withUnsafeMutableBufferPointer { try plain.hiddenGradientNorms(layer: 0, into: $0) }) { error in
            XCTAssertTrue("\(error)".contains("record_hidden_gradient_norms"), "\(error)")
        }
        let (batch, steps) = (2, 6)
        let input = (0..<(batch * steps * 2)).map { Float($0 % 7) * 0.1 - 0.3 }
        let target: [Float] = [0.5, -0.5, 0.25, 0.1, 0.2, 0.3]
        let outputs = try State(model: model, batch: batch).run(input, steps: steps)
        _ = try input.withUnsafeBufferPointer { x in
            try target.withUnsafeBufferPointer { try trainer.step(input: x, batch: batch, steps: steps, targets: .values($0)) }
        }
        var norms = [Float](repeating: .nan, count: steps)
        try norms.withUnsafeMutableBufferPointer { try trainer.hiddenGradientNorms(layer: 0, into: $0) }
        var expected: Float = 0
        for b in 0..<batch {
            for j in 0..<3 {
                let h = outputs[(b * steps + steps - 1) * 3 + j]
                let g = 2 * (h - target[b * 3 + j]) / Float(batch * 3)
                expected += g * g
            }
        }
        XCTAssertEqual(norms[steps - 1], expected.squareRoot(), accuracy: 1e-6)
        XCTAssertTrue(norms.allSatisfy { $0.isFinite && $0 > 0 })
        XCTAssertThrowsError(try norms.withUnsafeMutableBufferPointer { try trainer.hiddenGradientNorms(layer: 1, into: $0) })
    }
}
