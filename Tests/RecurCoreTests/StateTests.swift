// State semantics: get/set/reset/reset one stream, refusals that leave the
// state untouched, and hand-computed values for tiny models.
import XCTest
@testable import RecurCore

final class StateTests: XCTestCase {
    /// h_t = relu(h_{t-1} + x_t): a running sum of positive inputs.
    private let runningSum = """
    {"format": "recur", "version": 1, "input_size": 1, "layers": [
      {"type": "rnn", "hidden_size": 1, "activation": "relu", "weights": {"weight_ih": [[1]], "weight_hh": [[1]]}}]}
    """

    func testHandComputedRunningSum() throws {
        let state = try State(model: try Model.load(jsonText: runningSum), batch: 2)
        let y = try state.run([1, 2, 3, -10, 5, 0.5, 0.25, 1], steps: 4)
        XCTAssertEqual(y, [1, 3, 6, 0, 5, 5.5, 5.75, 6.75])
        XCTAssertEqual(state.values, [0, 6.75])
    }

    func testHandComputedLSTMAndSoftmax() throws {
        // One LSTM unit, all gates' weights 0 and biases b: i = f = o = σ(b), g = tanh(b).
        let text = """
        {"format": "recur", "version": 1, "input_size": 1, "layers": [
          {"type": "lstm", "hidden_size": 1, "weights": {"weight_ih": [[0], [0], [0], [0]], "weight_hh": [[0], [0], [0], [0]],
            "bias_ih": [0.5, 0.5, 0.5, 0.5]}},
          {"type": "dense", "units": 2, "activation": "softmax", "weights": {"weight": [[1], [-1]]}}]}
        """
        let state = try State(model: try Model.load(jsonText: text), batch: 1)
        let s = 1 / (1 + exp(-0.5)), g = tanh(0.5)
        var c = 0.0
        for _ in 0..<3 {
            c = s * c + s * g
            let h = s * tanh(c)
            let y = try state.step([7])
            let p0 = exp(h) / (exp(h) + exp(-h))
            XCTAssertEqual(Double(y[0]), p0, accuracy: 1e-6)
            XCTAssertEqual(Double(y[1]), 1 - p0, accuracy: 1e-6)
            XCTAssertEqual(Double(state.values[0]), h, accuracy: 1e-6)
            XCTAssertEqual(Double(state.values[1]), c, accuracy: 1e-6)
        }
    }

    func testGetSetAndResetOneStream() throws {
        let reference = try ReferenceCase(TestData.directory.appendingPathComponent("lstm_stack_softmax.json"))
        let model = try reference.loadModel()
        XCTAssertEqual(model.stateSize, 2 * 8 + 2 * 6)
        let state = try State(model: model, batch: 3)
        let values = (0..<(3 * state.size)).map { Float($0) * 0.01 - 0.3 }
        try state.setValues(values)
        XCTAssertEqual(bits(state.values), bits(values))
        try state.reset(stream: 1)
        let after = state.values
        XCTAssertEqual(Array(after[0 ..< state.size]), Array(values[0 ..< state.size]))
        XCTAssertTrue(after[state.size ..< 2 * state.size].allSatisfy { $0 == 0 })
        XCTAssertEqual(Array(after[(2 * state.size)...]), Array(values[(2 * state.size)...]))

        // A stream reset mid-run continues exactly like a fresh stream.
        let (t, i) = (reference.steps, model.inputSize)
        let stream0 = Array(reference.input[0 ..< t * i])
        let fresh = try State(model: model, batch: 1).run(stream0, steps: t)
        try state.reset(stream: 2)
        let batched = try state.run(stream0 + stream0 + stream0, steps: t)
        XCTAssertEqual(bits(Array(batched[2 * t * 3 ..< 3 * t * 3])), bits(fresh))
        XCTAssertEqual(bits(Array(batched[t * 3 ..< 2 * t * 3])), bits(fresh))

        XCTAssertThrowsError(try state.reset(stream: 3)) { XCTAssertEqual(($0 as! RecurError).status, .invalidArgument) }
        XCTAssertThrowsError(try state.reset(stream: -1)) { XCTAssertEqual(($0 as! RecurError).status, .invalidArgument) }
    }

    /// Non-finite input is found 8 values at a time with a scalar tail: at
    /// every place of a 2-stream, 21-step run (both parts, both streams),
    /// each kind of non-finite value is refused with its place named; past
    /// a stream's length it is never read, so it is accepted.
    func testNonFiniteInputFoundAtEveryPlace() throws {
        let model = try Model.load(jsonText: runningSum)
        let state = try State(model: model, batch: 2), steps = 21
        for place in 0..<(2 * steps) {
            for bad in [Float.nan, .infinity, -.infinity, Float(bitPattern: 0x7F80_0001)] {
                var input = [Float](repeating: 0.5, count: 2 * steps)
                input[place] = bad
                XCTAssertThrowsError(try state.run(input, steps: steps), "place \(place)") {
                    let error = $0 as! RecurError
                    XCTAssertEqual(error.status, .numeric)
                    XCTAssertTrue(error.message.contains("input[\(place / steps)][\(place % steps)][0]"), error.message)
                }
                // Stream 1 runs 10 steps: its later inputs are never read.
                let lengths: [UInt] = [UInt(steps), 10]
                var output = [Float](repeating: .nan, count: 2 * steps)
                let refused: Bool
                do {
                    try input.withUnsafeBufferPointer { x in
                        try lengths.withUnsafeBufferPointer { l in
                            try output.withUnsafeMutableBufferPointer { try state.run(input: x, steps: steps, lengths: l, output: $0) }
                        }
                    }
                    refused = false
                } catch {
                    refused = true
                }
                XCTAssertEqual(refused, place < steps + 10, "place \(place) with lengths")
            }
        }
        // Large finite values are not mistaken for infinity.
        XCTAssertNoThrow(try state.run([Float](repeating: .greatestFiniteMagnitude, count: 2 * steps), steps: steps))
    }

    func testRefusalsLeaveTheStateUnchanged() throws {
        let model = try Model.load(jsonText: runningSum)
        let state = try State(model: model, batch: 2)
        _ = try state.run([1, 2, 3, 4], steps: 2)
        let before = state.values

        XCTAssertThrowsError(try state.run([1, .nan, 3, 4], steps: 2)) {
            let error = $0 as! RecurError
            XCTAssertEqual(error.status, .numeric)
            XCTAssertTrue(error.message.contains("input[0][1][0]"), error.message)
        }
        XCTAssertThrowsError(try state.step([1, .infinity])) { XCTAssertEqual(($0 as! RecurError).status, .numeric) }
        XCTAssertThrowsError(try state.setValues([1, .nan])) { XCTAssertEqual(($0 as! RecurError).status, .numeric) }
        XCTAssertThrowsError(try state.setValues([1, 2, 3])) { XCTAssertEqual(($0 as! RecurError).status, .shape) }
        XCTAssertThrowsError(try state.run([1, 2, 3], steps: 2)) { XCTAssertEqual(($0 as! RecurError).status, .shape) }
        XCTAssertThrowsError(try state.run([], steps: 0)) { XCTAssertEqual(($0 as! RecurError).status, .invalidArgument) }
        XCTAssertEqual(bits(state.values), bits(before))

        XCTAssertThrowsError(try State(model: model, batch: 0)) { XCTAssertEqual(($0 as! RecurError).status, .invalidArgument) }
        XCTAssertThrowsError(try State(model: model, batch: Int.max)) { XCTAssertEqual(($0 as! RecurError).status, .invalidArgument) }
    }

    func testStateKeepsItsModelAndClonesAreIndependent() throws {
        var model: Model? = try Model.load(jsonText: runningSum)
        weak var weakModel = model
        let state = try State(model: model!, batch: 1)
        let clone = try model!.clone()
        model = nil
        XCTAssertNotNil(weakModel, "the state keeps the model alive")
        XCTAssertEqual(try state.step([2]), [2])
        XCTAssertEqual(clone.json(), weakModel?.json())
    }
}
