// Bidirectional layers beyond the reference cases: saving and loading,
// initialisation, what a layer reports, and what such a model refuses
// (stepping, setting a state, stateful training), with the reason.
import Foundation
import XCTest
@testable import RecurCore

final class BidirectionalTests: XCTestCase {
    private let initialised = """
        {"format": "recur", "version": 1, "input_size": 3, "init": {"seed": 7}, "layers": [
          {"type": "gru", "hidden_size": 5, "direction": "bidirectional"},
          {"type": "lstm", "hidden_size": 4},
          {"type": "dense", "units": 2}]}
        """

    func testSaveLoadRoundTripsBitForBit() throws {
        let model = try Model.load(jsonText: initialised)
        let text = model.json(encoding: .flat)
        XCTAssertTrue(text.contains("\"direction\": \"bidirectional\""))
        XCTAssertTrue(text.contains("\"weight_hh_reverse\""))
        let again = try Model.load(jsonText: text)
        XCTAssertEqual(again.json(encoding: .flat), text)
        XCTAssertEqual(again.parameterCount, model.parameterCount)
        // PyTorch's count: 2 directions x (3·5·(3+5) + 2·3·5) + LSTM 4·4·(10+4) + 2·4·4 + dense 2·4 + 2.
        XCTAssertEqual(model.parameterCount, 2 * (15 * 8 + 30) + 16 * 14 + 32 + 10)
        for encoding in [TensorEncoding.base64, .automatic] {
            XCTAssertEqual(try Model.load(jsonText: model.json(encoding: encoding)).json(encoding: .flat), text)
        }
    }

    func testInitGivesEachDirectionItsOwnDeterministicWeights() throws {
        let model = try Model.load(jsonText: initialised)
        let forward = model.tensorValues(try model.slot(layer: 0, tensor: "weight_hh"))
        let reverse = model.tensorValues(try model.slot(layer: 0, tensor: "weight_hh_reverse"))
        XCTAssertNotEqual(bits(forward), bits(reverse), "the directions are initialised differently")
        let bound = 1 / Float(5).squareRoot()
        XCTAssertTrue((forward + reverse).allSatisfy { abs($0) <= bound && $0 != 0 })
        // Deterministic, and the forward cell is what a forward layer of the same seed gets.
        XCTAssertEqual(try Model.load(jsonText: initialised).json(), model.json())
        let plain = try Model.load(jsonText: initialised.replacingOccurrences(of: #", "direction": "bidirectional""#, with: ""))
        XCTAssertEqual(bits(plain.tensorValues(try plain.slot(layer: 0, tensor: "weight_hh"))), bits(forward))
    }

    func testLayerDescriptionsReportDirectionAndSizes() throws {
        let model = try Model.load(jsonText: initialised)
        let bi = try model.describeLayer(0)
        XCTAssertTrue(bi.bidirectional)
        XCTAssertEqual([bi.inputSize, bi.hiddenSize, bi.outputSize, bi.stateSize], [3, 5, 10, 0])
        XCTAssertEqual(bi.tensorNames, ["weight_ih", "weight_hh", "bias_ih", "bias_hh",
                                        "weight_ih_reverse", "weight_hh_reverse", "bias_ih_reverse", "bias_hh_reverse"])
        let next = try model.describeLayer(1)
        XCTAssertFalse(next.bidirectional)
        XCTAssertEqual([next.inputSize, next.outputSize, next.stateSize], [10, 4, 8])
        XCTAssertEqual(model.stateSize, 8)
    }

    func testAModelWithABidirectionalLayerRunsWholeSequencesOnly() throws {
        let model = try Model.load(jsonText: initialised)
        let state = try State(model: model, batch: 2)
        XCTAssertThrowsError(try state.step([Float](repeating: 0.5, count: 6))) { error in
            let error = error as! RecurError
            XCTAssertEqual(error.status, .model)
            XCTAssertTrue(error.message.contains("layers[0] is bidirectional"), error.message)
        }
        XCTAssertThrowsError(try state.setValues([Float](repeating: 0, count: 16))) { error in
            XCTAssertTrue((error as! RecurError).message.contains("layers[0] is bidirectional"))
        }
        // Each run is a whole sequence from zero state: the same input gives
        // the same output however often, and however long the runs before.
        let x: [Float] = (0..<30).map { (i: Int) -> Float in Float(i % 7) / 7 - 0.4 }
        let first = try state.run(x, steps: 5)
        let long = Array([[Float]](repeating: x, count: 20).joined())
        _ = try state.run(long, steps: 100)   // longer than a chunk (64): the state's room grows
        XCTAssertEqual(bits(try state.run(x, steps: 5)), bits(first))
        let fresh = try State(model: model, batch: 2)
        XCTAssertEqual(bits(try fresh.run(x, steps: 5)), bits(first))
        // The reverse cell sees the end first: changing the last step changes the first output.
        var changed = x
        changed[4 * 3] += 1
        XCTAssertNotEqual(Array(try fresh.run(changed, steps: 5)[0..<2]), Array(first[0..<2]))
    }

    func testStatefulTrainingIsRefusedWithTheReason() throws {
        let model = try Model.load(jsonText: initialised)
        XCTAssertThrowsError(try Trainer(model: model, configText: #"{"stateful": true}"#)) { error in
            let error = error as! RecurError
            XCTAssertEqual(error.status, .model)
            XCTAssertTrue(error.message.contains("stateful: layers[0] is bidirectional"), error.message)
        }
        XCTAssertNoThrow(try Trainer(model: model, configText: #"{"stateful": false}"#))
    }
}
