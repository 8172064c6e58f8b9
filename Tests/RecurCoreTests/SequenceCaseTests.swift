// The cases of Tests/testdata/sequences (bidirectional layers and per-stream
// lengths, computed with PyTorch's packed sequences), at every kernel level:
// outputs, final states, training (losses, gradient norms, first gradients,
// updated weights), and the same-bits promises: each level gives the
// reference kernels' bits, and a stream alone gives its slice of a batch.
import Foundation
import XCTest
@testable import RecurCore

struct SequenceCase {
    let reference: ReferenceCase
    /// Per stream, when the case has lengths.
    let lengths: [UInt]?
    let training: TrainingCase?
    var name: String { reference.name }
    var bidirectional: Bool {
        let layers = (reference.document["model"] as! [String: Any])["layers"] as! [[String: Any]]
        return layers.contains { $0["direction"] as? String == "bidirectional" }
    }

    init(_ url: URL) throws {
        reference = try ReferenceCase(url)
        lengths = (reference.document["lengths"] as? [Int])?.map(UInt.init)
        training = try TrainingCase(reference)
    }

    static func all() throws -> [SequenceCase] {
        let directory = TestData.directory.appendingPathComponent("sequences")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }.sorted()
        return try names.map { try SequenceCase(directory.appendingPathComponent($0)) }
    }

    /// Runs the case's input (with its lengths) through a fresh state.
    func run(_ model: Model, kernels: KernelSet, threads: Int = 1) throws -> (output: [Float], state: [Float]) {
        let state = try State(model: model, batch: reference.batch, kernels: kernels)
        try state.setThreads(threads)
        var output = [Float](repeating: .nan, count: reference.batch * reference.steps * model.outputSize)
        try reference.input.withUnsafeBufferPointer { x in
            try output.withUnsafeMutableBufferPointer { y in
                if let lengths {
                    try lengths.withUnsafeBufferPointer { try state.run(input: x, steps: reference.steps, lengths: $0, output: y) }
                } else {
                    try state.run(input: x, steps: reference.steps, output: y)
                }
            }
        }
        return (output, state.values)
    }

    /// One training step with the case's targets and lengths.
    func step(_ trainer: Trainer) throws -> Float {
        let training = training!
        return try reference.input.withUnsafeBufferPointer { x in
            try (lengths ?? []).withUnsafeBufferPointer { lengthBuffer in
                let lengths = self.lengths == nil ? nil : lengthBuffer
                if let labels = training.labels {
                    return try labels.withUnsafeBufferPointer {
                        try trainer.step(input: x, batch: reference.batch, steps: reference.steps, lengths: lengths, targets: .labels($0))
                    }
                }
                return try training.target!.withUnsafeBufferPointer {
                    try trainer.step(input: x, batch: reference.batch, steps: reference.steps, lengths: lengths, targets: .values($0))
                }
            }
        }
    }
}

final class SequenceCaseTests: XCTestCase {
    func testThereAreSequenceCases() throws {
        let cases = try SequenceCase.all()
        XCTAssertGreaterThanOrEqual(cases.filter(\.bidirectional).count, 8)
        XCTAssertGreaterThanOrEqual(cases.filter { $0.lengths != nil }.count, 10)
    }

    func testOutputsAndFinalStatesMatchTheReferenceAtEveryLevel() throws {
        for kernels in allKernelSets { for sequence in try SequenceCase.all() {
            let name = "\(sequence.name) [\(kernels.name)]"
            let model = try sequence.reference.loadModel()
            let (output, state) = try sequence.run(model, kernels: kernels)
            assertClose(output, sequence.reference.output, "\(name) output")
            if !sequence.reference.finalState.isEmpty { assertClose(state, sequence.reference.finalState, "\(name) final state") }
            if let lengths = sequence.lengths {
                let o = model.outputSize, steps = sequence.reference.steps
                for (stream, length) in lengths.enumerated() {
                    let past = output[(stream * steps + Int(length)) * o ..< (stream + 1) * steps * o]
                    XCTAssertTrue(past.allSatisfy { $0 == 0 }, "\(name): outputs past stream \(stream)'s length are 0")
                }
            }
        } }
    }

    /// Every level the same-bits promise covers, and 2 threads, give the
    /// reference kernels' bits (SSE2, without FMA, is outside the promise:
    /// docs/performance.md); SSE2 is checked against its own 1 thread.
    func testEveryLevelAndThreadCountGivesTheReferenceBits() throws {
        for sequence in try SequenceCase.all() {
            let model = try sequence.reference.loadModel()
            for kernels in fastKernelSets {
                let expected = try sequence.run(model, kernels: promisedKernelSets.contains { $0.name == kernels.name } ? .reference : kernels)
                for threads in [1, 2] {
                    let got = try sequence.run(model, kernels: kernels, threads: threads)
                    XCTAssertEqual(bits(got.output), bits(expected.output), "\(sequence.name) [\(kernels.name), \(threads) threads]")
                    XCTAssertEqual(bits(got.state), bits(expected.state), "\(sequence.name) state [\(kernels.name)]")
                }
            }
            guard sequence.training != nil else { continue }
            func trained(_ kernels: KernelSet, threads: Int) throws -> (Float, String) {
                let model = try sequence.reference.loadModel()
                let trainer = try sequence.training!.makeTrainer(model, kernels: kernels)
                try trainer.setThreads(threads)
                let loss = try sequence.step(trainer)
                return (loss, model.json())
            }
            for kernels in fastKernelSets {
                let reference = try trained(promisedKernelSets.contains { $0.name == kernels.name } ? .reference : kernels, threads: 1)
                for threads in [1, 2] {
                    let got = try trained(kernels, threads: threads)
                    XCTAssertEqual(got.0.bitPattern, reference.0.bitPattern, "\(sequence.name) loss [\(kernels.name), \(threads) threads]")
                    XCTAssertTrue(got.1 == reference.1, "\(sequence.name) updated model [\(kernels.name), \(threads) threads]")
                }
            }
        }
    }

    /// A stream run alone for its own length gives its slice of the batch,
    /// bit for bit, and inputs past the lengths are never read.
    func testAStreamAloneGivesItsSliceOfTheBatch() throws {
        for kernels in allKernelSets { for sequence in try SequenceCase.all() {
            guard let lengths = sequence.lengths else { continue }
            let model = try sequence.reference.loadModel()
            let (output, state) = try sequence.run(model, kernels: kernels)
            let steps = sequence.reference.steps, i = model.inputSize, o = model.outputSize, size = model.stateSize
            for (stream, length) in lengths.enumerated() where length > 0 {
                let alone = try State(model: model, batch: 1, kernels: kernels)
                let x = Array(sequence.reference.input[stream * steps * i ..< (stream * steps + Int(length)) * i])
                let y = try alone.run(x, steps: Int(length))
                XCTAssertEqual(bits(y), bits(Array(output[stream * steps * o ..< (stream * steps + Int(length)) * o])),
                               "\(sequence.name) stream \(stream) alone [\(kernels.name)]")
                XCTAssertEqual(bits(alone.values), bits(Array(state[stream * size ..< (stream + 1) * size])))
            }
            // NaN past every length: refused if read, so the run must not see it.
            var poisoned = sequence.reference
            var input = poisoned.input
            for (stream, length) in lengths.enumerated() {
                for k in (stream * steps + Int(length)) * i ..< (stream + 1) * steps * i { input[k] = .nan }
            }
            poisoned = ReferenceCase(copying: poisoned, input: input)
            let again = try SequenceCase(reference: poisoned, lengths: lengths).run(model, kernels: kernels)
            XCTAssertEqual(bits(again.output), bits(output), "\(sequence.name) with NaN padding [\(kernels.name)]")
        } }
    }

    func testTrainingMatchesTheReferenceAtEveryLevel() throws {
        var compared = 0
        for kernels in allKernelSets { for sequence in try SequenceCase.all() {
            guard let training = sequence.training else { continue }
            let name = "\(sequence.name) [\(kernels.name)]"
            let model = try sequence.reference.loadModel()
            let trainer = try training.makeTrainer(model, kernels: kernels)
            for step in 0..<training.steps {
                let loss = try sequence.step(trainer)
                assertCloseRelative(loss, training.losses[step], "\(name) loss \(step)")
                assertCloseRelative(trainer.lastGradientNorm, training.gradientNorms[step], "\(name) gradient norm \(step)")
                if step == 0 {
                    for (layer, tensors) in training.firstGradients.enumerated() {
                        for (tensor, expected) in tensors {
                            var gradient = [Float](repeating: .nan, count: expected.count)
                            try gradient.withUnsafeMutableBufferPointer { try trainer.getGradient(layer: layer, name: tensor, into: $0) }
                            assertClose(gradient, expected, "\(name) gradient layers[\(layer)].\(tensor)")
                            compared += 1
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
        XCTAssertGreaterThanOrEqual(compared, 40 * allKernelSets.count)
    }
}

extension SequenceCase {
    init(reference: ReferenceCase, lengths: [UInt]?) {
        self.reference = reference
        self.lengths = lengths
        training = nil
    }
}

extension ReferenceCase {
    /// The same case with other inputs.
    init(copying other: ReferenceCase, input: [Float]) {
        self = other
        self.input = input
    }
}
