// The Swift API (`import Recur`) against the reference cases in
// Tests/testdata (PyTorch, float64) and its own promises: typed errors,
// the unsafe-buffer overloads equal the array ones, lengths, training.
import Foundation
import Recur
import XCTest

/// A reference case read with Foundation (independent of the library's reader).
private struct Case {
    let document: [String: Any]
    var model: String
    var batch: Int { document["batch"] as! Int }
    var steps: Int { document["steps"] as! Int }
    var input: [Float] { floats(document["input"]) }
    var output: [Float] { floats(document["output"]) }
    var lengths: [Int]? { document["lengths"] as? [Int] }
    var train: [String: Any]? { document["train"] as? [String: Any] }

    init(_ name: String) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        let directory = ProcessInfo.processInfo.environment["RECUR_TESTDATA"].map { URL(fileURLWithPath: $0) }
            ?? root.appendingPathComponent("testdata")
        let data = try Data(contentsOf: directory.appendingPathComponent(name + ".json"))
        document = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        model = String(decoding: try JSONSerialization.data(withJSONObject: document["model"]!), as: UTF8.self)
    }
}

private func floats(_ value: Any?) -> [Float] { (value as? [NSNumber] ?? []).map { $0.floatValue } }

/// The tolerance of Tests/testdata/README.md.
private func assertClose(_ mine: [Float], _ reference: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(mine.count, reference.count, what, file: file, line: line)
    for (a, b) in zip(mine, reference) where !(abs(a - b) <= 5e-5 + 5e-4 * abs(b)) {
        return XCTFail("\(what): \(a) vs \(b)", file: file, line: line)
    }
}

final class RecurTests: XCTestCase {
    func testStepAndRunMatchTheReference() throws {
        let reference = try Case("lstm_stack_softmax")
        let model = try Model(json: reference.model)
        XCTAssertEqual(model.layers.first?.type, "lstm")
        let state = try model.makeState(batch: reference.batch)
        let y = try state.run(reference.input, steps: reference.steps)
        assertClose(y, reference.output, "run")

        // Step by step, into a preallocated array, gives the same floats.
        state.reset()
        var out = [Float](repeating: .nan, count: reference.batch * model.outputSize)
        let (i, o) = (model.inputSize, model.outputSize)
        for t in 0..<reference.steps {
            var x: [Float] = []
            for b in 0..<reference.batch { x += reference.input[(b * reference.steps + t) * i ..< (b * reference.steps + t + 1) * i] }
            try state.step(x, into: &out)
            for b in 0..<reference.batch {
                XCTAssertEqual(Array(out[b * o ..< (b + 1) * o]), Array(y[(b * reference.steps + t) * o ..< (b * reference.steps + t + 1) * o]))
            }
        }
    }

    func testUnsafeBufferOverloadsEqualTheArrayOnes() throws {
        let reference = try Case("gru_long")
        let model = try Model(json: reference.model)
        let expected = try model.makeState(batch: reference.batch).run(reference.input, steps: reference.steps)
        let state = try model.makeState(batch: reference.batch)
        var y = [Float](repeating: .nan, count: expected.count)
        try reference.input.withUnsafeBufferPointer { x in
            try y.withUnsafeMutableBufferPointer { try state.run(x, steps: reference.steps, into: $0) }
        }
        XCTAssertEqual(y, expected)
    }

    func testBidirectionalModelsAndLengthsMatchTheReference() throws {
        let reference = try Case("sequences/bilstm_lstm_lengths")
        let model = try Model(json: reference.model)
        XCTAssertTrue(model.layers[0].bidirectional)
        XCTAssertEqual(model.layers[0].outputSize, 2 * model.layers[0].hiddenSize)
        let state = try model.makeState(batch: reference.batch)
        assertClose(try state.run(reference.input, steps: reference.steps, lengths: reference.lengths), reference.output, "run with lengths")
        XCTAssertThrowsError(try state.step([Float](repeating: 0, count: reference.batch * model.inputSize))) { error in
            XCTAssertEqual((error as? RecurError)?.code, .model)
        }
    }

    func testTrainingMatchesTheReference() throws {
        let reference = try Case("lstm_clip")
        let train = try XCTUnwrap(reference.train)
        let config = String(decoding: try JSONSerialization.data(withJSONObject: train["config"]!), as: UTF8.self)
        let model = try Model(json: reference.model)
        let trainer = try model.makeTrainer(config: config)
        let losses = floats(train["losses"])
        for step in 0..<(train["steps"] as! Int) {
            let loss = try trainer.step(reference.input, batch: reference.batch, steps: reference.steps, targets: floats(train["target"]))
            XCTAssertEqual(loss, losses[step], accuracy: 1e-4 * abs(losses[step]), "loss \(step)")
        }
        let updated = (train["updated_model"] as! [String: Any])["layers"] as! [[String: Any]]
        for (index, layer) in updated.enumerated() {
            for (name, tensor) in layer["weights"] as? [String: Any] ?? [:] {
                assertClose(try model.tensor(layer: index, name: name), floats((tensor as! [String: Any])["data"]), "layers[\(index)].\(name)")
            }
        }
    }

    func testErrorsAreTypedAndSayWhat() {
        do {
            _ = try Model(json: "{\"format\": \"recur\"")
            XCTFail("accepted broken JSON")
        } catch {
            XCTAssertEqual(error.code, .parse)   // error is a RecurError: typed throws
        }
        do {
            _ = try Model(contentsOfFile: "/nonexistent/model.json")
            XCTFail("accepted a missing file")
        } catch {
            XCTAssertEqual(error.code, .io)
            XCTAssertTrue(error.message.contains("/nonexistent/model.json"), error.message)
        }
        do {
            let model = try Model(json: #"{"format": "recur", "version": 1, "input_size": 2, "init": {"seed": 1}, "layers": [{"type": "gru", "hidden_size": 3}]}"#)
            let state = try model.makeState(batch: 2)
            var y = [Float](repeating: 0, count: 6)
            try state.step([1, 2, 3], into: &y)
            XCTFail("accepted a short input")
        } catch {
            XCTAssertEqual(error.code, .shape)
            XCTAssertTrue(error.message.contains("input has 3 floats"), error.message)
        }
    }

    func testSaveCloneAndHalfWeights() throws {
        let model = try Model(contentsOfFile: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("examples/models/tiny_lstm.json").path)
        let path = NSTemporaryDirectory() + "recur-swift-api-\(getpid()).json"
        defer { unlink(path) }
        try model.save(toFile: path)
        let again = try Model(contentsOfFile: path)
        XCTAssertEqual(try again.json(readable: true), try model.json(readable: true))
        let copy = try model.clone()
        var weights = try copy.tensor(layer: 0, name: "weight_ih")
        weights[0] += 1
        try copy.setTensor(layer: 0, name: "weight_ih", to: weights)
        XCTAssertNotEqual(try copy.tensor(layer: 0, name: "weight_ih"), try model.tensor(layer: 0, name: "weight_ih"))
        try copy.useHalfWeights(true)
        XCTAssertTrue(copy.usesHalfWeights)
        XCTAssertFalse(recurVersion.isEmpty)
        XCTAssertTrue(["avx512", "avx2", "sse2", "portable", "reference"].contains(recurKernels))
    }
}
