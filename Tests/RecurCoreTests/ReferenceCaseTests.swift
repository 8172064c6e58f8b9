// Every reference case in Tests/testdata: outputs and final states
// match PyTorch within the README's tolerances, and a stream's floats do not
// depend on how it is called (one run, step by step, split runs, alone or in
// a batch): bit-identical. Everything runs at every kernel level this CPU
// supports, and with the reference kernels.
import XCTest
@testable import RecurCore

final class ReferenceCaseTests: XCTestCase {
    func testThereAreReferenceCases() throws {
        XCTAssertGreaterThanOrEqual(try TestData.caseFiles().count, 10, "expected the cases in \(TestData.directory.path)")
    }

    func testEveryCaseAsOneRun() throws {
        for kernels in allKernelSets { for file in try TestData.caseFiles() {
            let reference = try ReferenceCase(file)
            let model = try reference.loadModel()
            let state = try State(model: model, batch: reference.batch, kernels: kernels)
            let output = try state.run(reference.input, steps: reference.steps)
            assertClose(output, reference.output, "\(reference.name) output [\(kernels.name)]")
            assertClose(state.values, reference.finalState, "\(reference.name) final state")
        } }
    }

    func testStepByStepIsBitIdenticalToOneRun() throws {
        for kernels in allKernelSets { for file in try TestData.caseFiles() {
            let reference = try ReferenceCase(file)
            let model = try reference.loadModel()
            let (b, t, i, o) = (reference.batch, reference.steps, model.inputSize, model.outputSize)
            let whole = try State(model: model, batch: b, kernels: kernels)
            let runOutput = try whole.run(reference.input, steps: t)

            let stepped = try State(model: model, batch: b, kernels: kernels)
            var stepOutput = [Float](repeating: .nan, count: b * t * o)
            for step in 0..<t {
                var x: [Float] = []
                for stream in 0..<b { x += reference.input[(stream * t + step) * i ..< (stream * t + step + 1) * i] }
                let y = try stepped.step(x)
                for stream in 0..<b {
                    for k in 0..<o { stepOutput[(stream * t + step) * o + k] = y[stream * o + k] }
                }
            }
            XCTAssertEqual(bits(stepOutput), bits(runOutput), "\(reference.name): step by step vs one run")
            XCTAssertEqual(bits(stepped.values), bits(whole.values), "\(reference.name): final states")

            // Two runs that continue each other.
            let split = max(1, t / 2)
            let halves = try State(model: model, batch: b, kernels: kernels)
            var first: [Float] = [], second: [Float] = []
            for stream in 0..<b {
                first += reference.input[stream * t * i ..< (stream * t + split) * i]
                second += reference.input[(stream * t + split) * i ..< (stream + 1) * t * i]
            }
            let y1 = try halves.run(first, steps: split)
            let y2 = t > split ? try halves.run(second, steps: t - split) : []
            var joined: [Float] = []
            for stream in 0..<b {
                joined += y1[stream * split * o ..< (stream + 1) * split * o]
                if t > split { joined += y2[stream * (t - split) * o ..< (stream + 1) * (t - split) * o] }
            }
            XCTAssertEqual(bits(joined), bits(runOutput), "\(reference.name): two runs vs one")
        } }
    }

    func testAStreamAloneEqualsItsSliceOfTheBatch() throws {
        for kernels in allKernelSets { for file in try TestData.caseFiles() {
            let reference = try ReferenceCase(file)
            let model = try reference.loadModel()
            let (b, t, i, o) = (reference.batch, reference.steps, model.inputSize, model.outputSize)
            let batched = try State(model: model, batch: b, kernels: kernels)
            let all = try batched.run(reference.input, steps: t)
            for stream in 0..<b {
                let alone = try State(model: model, batch: 1, kernels: kernels)
                let y = try alone.run(Array(reference.input[stream * t * i ..< (stream + 1) * t * i]), steps: t)
                XCTAssertEqual(bits(y), bits(Array(all[stream * t * o ..< (stream + 1) * t * o])),
                               "\(reference.name): stream \(stream) alone vs in the batch")
                let size = model.stateSize
                XCTAssertEqual(bits(alone.values), bits(Array(batched.values[stream * size ..< (stream + 1) * size])))
            }
            // The same stream repeated in a bigger batch, next to other streams.
            let wide = try State(model: model, batch: b + 3, kernels: kernels)
            var input = reference.input
            for extra in 0..<3 { input += reference.input[(extra % b) * t * i ..< (extra % b + 1) * t * i] }
            let y = try wide.run(input, steps: t)
            XCTAssertEqual(bits(Array(y[0 ..< b * t * o])), bits(all), "\(reference.name): batch of \(b + 3)")
        } }
    }

    func testResetThenRunReproducesTheReference() throws {
        for kernels in allKernelSets { for file in try TestData.caseFiles() {
            let reference = try ReferenceCase(file)
            let state = try State(model: try reference.loadModel(), batch: reference.batch, kernels: kernels)
            _ = try state.run(reference.input, steps: reference.steps)
            state.reset()
            XCTAssertTrue(state.values.allSatisfy { $0 == 0 })
            assertClose(try state.run(reference.input, steps: reference.steps), reference.output, "\(reference.name) after reset")
        } }
    }
}
