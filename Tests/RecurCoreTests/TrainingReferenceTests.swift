// Every reference case with a `train` section: losses, gradient norms, the
// first step's gradients and the updated model match PyTorch within the
// README's tolerances.
import Foundation
import XCTest
@testable import RecurCore

struct TrainingCase {
    let reference: ReferenceCase
    let train: [String: Any]
    let configJSON: Data
    let steps: Int
    let target: [Float]?
    let labels: [Int32]?
    let losses: [Float]
    let gradientNorms: [Float]
    let firstGradients: [[String: [Float]]]
    let updatedModel: Data

    init?(_ reference: ReferenceCase) throws {
        guard let train = reference.document["train"] as? [String: Any] else { return nil }
        self.reference = reference
        self.train = train
        configJSON = try JSONSerialization.data(withJSONObject: train["config"]!)
        steps = train["steps"] as! Int
        target = train["target"].map { floats($0) }
        labels = (train["labels"] as? [Int]).map { $0.map(Int32.init) }
        losses = floats(train["losses"])
        gradientNorms = floats(train["gradient_norms"])
        firstGradients = (train["first_gradients"] as! [[String: Any]]).map { $0.mapValues { floats($0) } }
        updatedModel = try JSONSerialization.data(withJSONObject: train["updated_model"]!)
    }

    static func all() throws -> [TrainingCase] {
        try TestData.caseFiles().compactMap { try TrainingCase(ReferenceCase($0)) }
    }

    func makeTrainer(_ model: Model, kernels: KernelSet = .active) throws -> Trainer {
        try configJSON.withUnsafeBytes { try Trainer(model: model, configJSON: $0, kernels: kernels) }
    }

    func step(_ trainer: Trainer) throws -> Float {
        try reference.input.withUnsafeBufferPointer { x in
            if let labels {
                return try labels.withUnsafeBufferPointer {
                    try trainer.step(input: x, batch: reference.batch, steps: reference.steps, targets: .labels($0))
                }
            }
            return try target!.withUnsafeBufferPointer {
                try trainer.step(input: x, batch: reference.batch, steps: reference.steps, targets: .values($0))
            }
        }
    }
}

/// The README's tolerance for losses and gradient norms.
func assertCloseRelative(_ mine: Float, _ reference: Float, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertLessThanOrEqual(abs(mine - reference), 1e-4 * abs(reference), "\(what): \(mine) vs \(reference)", file: file, line: line)
}

final class TrainingReferenceTests: XCTestCase {
    func testThereAreTrainingCases() throws {
        XCTAssertGreaterThanOrEqual(try TrainingCase.all().count, 7)
    }

    func testEveryTrainingCase() throws {
        var comparedGradients = 0, comparedLosses = 0
        defer {
            XCTAssertGreaterThanOrEqual(comparedGradients, 20 * allKernelSets.count)
            XCTAssertGreaterThanOrEqual(comparedLosses, 17 * allKernelSets.count)
        }
        for kernels in allKernelSets { for training in try TrainingCase.all() {
            let name = "\(training.reference.name) [\(kernels.name)]"
            let model = try training.reference.loadModel()
            let trainer = try training.makeTrainer(model, kernels: kernels)
            for step in 0..<training.steps {
                let loss = try training.step(trainer)
                assertCloseRelative(loss, training.losses[step], "\(name) loss \(step)")
                comparedLosses += 1
                assertCloseRelative(trainer.lastGradientNorm, training.gradientNorms[step], "\(name) gradient norm \(step)")
                if step == 0 {
                    for (layer, tensors) in training.firstGradients.enumerated() {
                        for (tensor, expected) in tensors {
                            var gradient = [Float](repeating: .nan, count: expected.count)
                            try gradient.withUnsafeMutableBufferPointer { try trainer.getGradient(layer: layer, name: tensor, into: $0) }
                            assertClose(gradient, expected, "\(name) gradient layers[\(layer)].\(tensor)")
                            comparedGradients += 1
                        }
                    }
                }
            }
            let updated = try training.updatedModel.withUnsafeBytes { try Model.load(json: $0) }
            for (index, layer) in updated.layers.enumerated() {
                for slot in layer.tensors {
                    assertClose(model.tensorValues(try model.slot(layer: index, tensor: slot.name)), updated.tensorValues(slot),
                                "\(name) updated layers[\(index)].\(slot.name)")
                }
            }
        } }
    }

    func testFrozenLayersDoNotChange() throws {
        for training in try TrainingCase.all() {
            let frozen = (training.train["config"] as! [String: Any])["freeze"] as? [Int] ?? []
            guard !frozen.isEmpty else { continue }
            let model = try training.reference.loadModel()
            let before = model.json()
            let trainer = try training.makeTrainer(model)
            _ = try training.step(trainer)
            let original = try training.reference.loadModel()
            for layer in frozen {
                for slot in model.layers[layer].tensors {
                    XCTAssertEqual(bits(model.tensorValues(slot)), bits(original.tensorValues(slot)))
                }
            }
            XCTAssertNotEqual(model.json(), before)
        }
    }
}
