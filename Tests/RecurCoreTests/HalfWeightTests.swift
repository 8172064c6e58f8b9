// fp16 weight storage: every reference case within fp16's error, the
// measured error printed; streams still bit-identical however called;
// training keeps the fp16 copy in step.
import XCTest
@testable import RecurCore

final class HalfWeightTests: XCTestCase {
    func testReferenceCasesWithHalfWeights() throws {
        var worst: Float = 0
        for kernels in allKernelSets {
            for file in try TestData.caseFiles() {
                let reference = try ReferenceCase(file)
                let model = try reference.loadModel()
                try model.setWeightStorage(.fp16)
                XCTAssertEqual(model.weightStorage, .fp16)
                let state = try State(model: model, batch: reference.batch, kernels: kernels)
                let output = try state.run(reference.input, steps: reference.steps)
                for (mine, expected) in zip(output, reference.output) {
                    let error = abs(mine - expected)
                    worst = max(worst, error)
                    // fp16 keeps 11 significant bits: weights move by up to 2^-12 relative.
                    XCTAssertLessThanOrEqual(error, 5e-3 + 5e-3 * abs(expected), "\(reference.name) [\(kernels.name)]")
                }
                // Bit-identical step by step.
                let stepped = try State(model: model, batch: 1, kernels: kernels)
                let (t, i) = (reference.steps, model.inputSize)
                var outputs: [Float] = []
                for step in 0..<t { outputs += try stepped.step(Array(reference.input[step * i ..< (step + 1) * i])) }
                XCTAssertEqual(bits(outputs), bits(Array(output[0 ..< t * model.outputSize])), reference.name)
            }
        }
        print("fp16 weights: largest output error over the reference cases \(worst)")
        XCTAssertGreaterThan(worst, 0, "fp16 storage changes outputs a little")
    }

    func testTrainingUpdatesTheHalfCopyAndSavingWritesFloat32() throws {
        let training = try TrainingCase.all().first { $0.reference.name == "lstm_clip" }!
        let model = try training.reference.loadModel()
        try model.setWeightStorage(.fp16)
        let trainer = try training.makeTrainer(model)
        for _ in 0..<training.steps { _ = try training.step(trainer) }
        // The float32 weights are exact: the reference update still matches.
        let updated = try training.updatedModel.withUnsafeBytes { try Model.load(json: $0) }
        XCTAssertEqual(updated.json().count > 0, true)
        for (index, layer) in updated.layers.enumerated() {
            for slot in layer.tensors {
                assertClose(model.tensorValues(try model.slot(layer: index, tensor: slot.name)), updated.tensorValues(slot), slot.name)
            }
        }
        // The fp16 copy follows them.
        for i in 0..<model.parameters.count {
            XCTAssertEqual(model.halfParameters!.base[i], Float16(model.parameters.base[i]).bitPattern)
        }
        XCTAssertThrowsError(try Model.load(jsonText: """
            {"format": "recur", "version": 1, "input_size": 1, "layers": [{"type": "dense", "units": 1, "weights": {"weight": [[70000]]}}]}
            """).setWeightStorage(.fp16)) { XCTAssertEqual(($0 as! RecurError).status, .numeric) }
    }
}
