// int8 weight storage: every reference case (top-level and sequences/)
// within int8's error, the measured error printed; the same bits at every
// kernel level (the integer sums are exact on every path: portable C,
// AVX-VNNI, AVX-512 VNNI) and however a stream is called; training refused;
// a changed tensor re-quantized; saving writes the float32 weights.
import CRecurInt8
import Foundation
import XCTest
@testable import RecurCore

final class Int8WeightTests: XCTestCase {
    /// Every case of Tests/testdata and its sequences/ folder, with its lengths.
    private func cases() throws -> [(reference: ReferenceCase, lengths: [UInt]?)] {
        let top = try TestData.caseFiles().map { (try ReferenceCase($0), nil as [UInt]?) }
        let sequences = try SequenceCase.all().map { ($0.reference, $0.lengths) }
        return top + sequences
    }

    private func run(_ reference: ReferenceCase, lengths: [UInt]?, _ model: Model, kernels: KernelSet) throws -> [Float] {
        try SequenceCase(reference: reference, lengths: lengths).run(model, kernels: kernels).output
    }

    func testReferenceCasesWithInt8WeightsAndTheSameBitsOnEveryPath() throws {
        var worst: Float = 0
        for (reference, lengths) in try cases() {
            let model = try reference.loadModel()
            try model.setWeightStorage(.int8)
            XCTAssertEqual(model.weightStorage, .int8)
            let expected = try run(reference, lengths: lengths, model, kernels: .reference)
            for (mine, pytorch) in zip(expected, reference.output) {
                worst = max(worst, abs(mine - pytorch))
                XCTAssertLessThanOrEqual(abs(mine - pytorch), 0.02, "\(reference.name): int8 output \(mine) vs \(pytorch)")
            }
            // The int8 products are the same on every path; the cells around
            // them are too at every level of the same-bits promise (SSE2,
            // without FMA, is outside it).
            for kernels in promisedKernelSets.dropFirst() + [.portable] {
                XCTAssertEqual(bits(try run(reference, lengths: lengths, model, kernels: kernels)), bits(expected),
                               "\(reference.name) [\(kernels.name)]: the int8 paths give the same bits")
            }
        }
        print("int8 weights: largest output error over the reference cases \(worst)")
        XCTAssertGreaterThan(worst, 0, "int8 storage changes outputs a little")
    }

    /// Every path the CPU has (portable C, AVX2 vpmaddwd, AVX-VNNI, AVX-512
    /// VNNI) against the portable one, bit for bit, on random products of
    /// awkward sizes (depth not a multiple of 4, several rows, long rows).
    func testEveryInt8PathGivesThePortableBits() throws {
        let paths = recurint8_paths()
        var random = SplitMix64(seed: 9)
        var compared = 0
        // Also wide rows (passes of 256, 64 and 16 outputs) and more quads than one AVX2 block (256).
        for (count, depth, width) in [(1, 16, 64), (3, 37, 48), (2, 300, 16), (1, 20_001, 32), (2, 70, 1072), (1, 1100, 80)] {
            let quads = (depth + 3) / 4
            let weights = (0..<(quads * 4 * width)).map { _ in Int8(truncatingIfNeeded: Int(random.next() % 255) - 127) }
            let scale = (0..<width).map { _ in Float(random.uniform(0.001, 0.02)) }
            let compensation = (0..<width).map { r in 128 * (0..<quads * 4).reduce(Int32(0)) { $0 + Int32(weights[($1 / 4 * width + r) * 4 + $1 % 4]) } }
            let input = (0..<(count * depth)).map { _ in Float(random.uniform(-3, 3)) }
            func run(_ path: Int32) -> [Float] {
                var out = [Float](repeating: .nan, count: count * width)
                recurint8_project(path, count, depth, width, weights, scale, compensation, input, depth, &out, width)
                return out
            }
            let portable = run(0)
            for path in Int32(1)...3 where paths & (1 << path) != 0 {
                XCTAssertEqual(bits(run(path)), bits(portable), "path \(path), \(count)x\(depth)x\(width)")
                compared += 1
            }
        }
        print("int8 paths this CPU has: \(String(paths, radix: 2)) (bit n: path n); \(compared) comparisons")
    }

    func testStepByStepEqualsOneRun() throws {
        let reference = try ReferenceCase(TestData.directory.appendingPathComponent("gru_long.json"))
        let model = try reference.loadModel()
        try model.setWeightStorage(.int8)
        let whole = try State(model: model, batch: 1).run(Array(reference.input[0 ..< reference.steps * model.inputSize]),
                                                           steps: reference.steps)
        let stepped = try State(model: model, batch: 1)
        var outputs: [Float] = []
        for t in 0..<reference.steps {
            outputs += try stepped.step(Array(reference.input[t * model.inputSize ..< (t + 1) * model.inputSize]))
        }
        XCTAssertEqual(bits(outputs), bits(whole))
    }

    func testTrainingIsRefusedAndTheFloatWeightsStay() throws {
        let training = try TrainingCase.all().first { $0.reference.name == "lstm_clip" }!
        let model = try training.reference.loadModel()
        let saved = model.json()
        try model.setWeightStorage(.int8)
        XCTAssertEqual(model.json(), saved, "saving writes the float32 weights")
        let trainer = try training.makeTrainer(model)
        XCTAssertThrowsError(try training.step(trainer)) { error in
            let error = error as! RecurError
            XCTAssertEqual(error.status, .model)
            XCTAssertTrue(error.message.contains("int8"), error.message)
        }
        XCTAssertEqual(model.json(), saved, "a refused step changes nothing")
        // A changed tensor is quantized again: the output follows it.
        let state = try State(model: model, batch: 1)
        let x = [Float](repeating: 0.5, count: model.inputSize)
        let before = try state.step(x)
        var weights = [Float](repeating: 0, count: try model.slot(layer: 0, tensor: "weight_ih").count)
        try weights.withUnsafeBufferPointer { try model.setTensor(layer: 0, name: "weight_ih", from: $0) }
        state.reset()
        XCTAssertNotEqual(try state.step(x), before)
        XCTAssertEqual(try model.clone().weightStorage, .int8)
        try model.setWeightStorage(.fp32)
        XCTAssertNoThrow(try training.step(trainer))
    }
}
