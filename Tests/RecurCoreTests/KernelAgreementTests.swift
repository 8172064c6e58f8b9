// Every fast kernel level against the reference kernels, kernel by kernel,
// over random shapes (odd sizes, 1 to 300) and random values: bit for bit at
// the levels with FMA (the promise of docs/c-api.md, "Determinism"), within
// rounding at SSE2 (no FMA: outside the promise).
import RecurKernelInterface
import XCTest
@testable import RecurCore

final class KernelAgreementTests: XCTestCase {
    private var random = SplitMix64(seed: 2024)

    private func values(_ count: Int, scale: Double = 1) -> [Float] {
        (0..<count).map { _ in Float(random.uniform(-scale, scale)) }
    }

    /// The same bits, or at SSE2 (`what` starts with "sse2")
    /// |a - b| <= tolerance * (1 + |b|) element by element.
    private func assertAgree(_ a: [Float], _ b: [Float], _ what: String, tolerance: Float = 2e-5,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        if !what.hasPrefix("sse2") {
            for i in 0..<min(a.count, b.count) where a[i].bitPattern != b[i].bitPattern {
                XCTFail("\(what): element \(i): \(a[i]) vs reference \(b[i]): not bit-identical", file: file, line: line)
                return
            }
            return
        }
        for i in 0..<min(a.count, b.count) where !(abs(a[i] - b[i]) <= tolerance * (1 + abs(b[i]))) {
            XCTFail("\(what): element \(i): \(a[i]) vs reference \(b[i])", file: file, line: line)
            return
        }
    }

    private let shapes: [(count: Int, depth: Int, width: Int)] = [
        (1, 1, 16), (1, 3, 32), (2, 7, 48), (3, 16, 64), (4, 33, 80), (5, 64, 256), (7, 129, 112),
        (1, 300, 304), (9, 31, 16), (6, 257, 96), (1, 80, 256), (11, 5, 208),
        // Tiles of six streams and then four (AVX-512), six rows of a weight gradient.
        (10, 37, 96), (14, 6, 48), (32, 12, 64),
    ] + {
        // Random ones: odd depths 1 ... 299, widths 16 ... 304.
        var random = SplitMix64(seed: 77)
        return (0..<12).map { _ in
            (Int(random.next() % 13) + 1, Int(random.next() % 150) * 2 + 1, (Int(random.next() % 19) + 1) * 16)
        }
    }()

    func testProjections() {
        for kernels in fastKernelSets {
            for (count, depth, width) in shapes {
                let weights = values(depth * width), x = values(count * (depth + 3)), d = values(count * (width + 16))
                let halfWeights = weights.map { Float16($0).bitPattern }
                func run(_ set: KernelSet) -> (out: [Float], grad: [Float], rows: [Float], half: [Float]) {
                    let k = set.level
                    var out = [Float](repeating: .nan, count: count * (width + 16))
                    var half = [Float](repeating: .nan, count: count * width)
                    halfWeights.withUnsafeBufferPointer { w in
                        x.withUnsafeBufferPointer { x in
                            half.withUnsafeMutableBufferPointer {
                                k.projectHalf(count: count, depth: depth, width: width, weights: w.baseAddress!,
                                              input: ConstRows(base: x.baseAddress!, stride: depth + 3),
                                              output: MutableRows(base: $0.baseAddress!, stride: width))
                            }
                        }
                    }
                    var grad = (0..<(depth * width)).map { Float($0 % 3) }
                    var rows = (0..<width).map { Float($0 % 4) }
                    weights.withUnsafeBufferPointer { w in
                        x.withUnsafeBufferPointer { x in
                            d.withUnsafeBufferPointer { d in
                                out.withUnsafeMutableBufferPointer {
                                    k.project(count: count, depth: depth, width: width, weights: w.baseAddress!,
                                              input: ConstRows(base: x.baseAddress!, stride: depth + 3),
                                              output: MutableRows(base: $0.baseAddress!, stride: width + 16))
                                }
                                grad.withUnsafeMutableBufferPointer {
                                    k.accumulateWeightGradient(count: count, depth: depth, width: width,
                                                               input: ConstRows(base: x.baseAddress!, stride: depth + 3),
                                                               gradient: ConstRows(base: d.baseAddress!, stride: width + 16),
                                                               into: $0.baseAddress!)
                                }
                                rows.withUnsafeMutableBufferPointer {
                                    k.accumulateRows(count: count, width: width,
                                                     gradient: ConstRows(base: d.baseAddress!, stride: width + 16),
                                                     into: $0.baseAddress!)
                                }
                            }
                        }
                    }
                    // Only the written part of `out` (the stride has a gap).
                    let written = (0..<count).flatMap { out[$0 * (width + 16) ..< $0 * (width + 16) + width] }
                    return (written, grad, rows, half)
                }
                let fast = run(kernels), reference = run(.reference)
                let what = "\(kernels.name) count \(count) depth \(depth) width \(width)"
                assertAgree(fast.out, reference.out, "\(what) project", tolerance: 1e-5 * Float(depth).squareRoot())
                assertAgree(fast.grad, reference.grad, "\(what) accumulateWeightGradient", tolerance: 1e-5 * Float(count))
                assertAgree(fast.rows, reference.rows, "\(what) accumulateRows")
                assertAgree(fast.half, reference.half, "\(what) projectHalf", tolerance: 1e-5 * Float(depth).squareRoot())
            }
        }
    }

    /// The element-wise cell kernels, forward and backward, on random
    /// pre-activations (scale 4 reaches the saturated ends of σ and tanh).
    func testCells() {
        for kernels in fastKernelSets {
            for hidden in [16, 32, 48, 112] {
                let count = 3, width = 4 * hidden
                let ax = values(count * width, scale: 4), ah = values(count * width, scale: 4)
                let bih = values(width), bhh = values(width)
                let state0 = values(count * 2 * hidden), dOut = values(count * hidden), carry0 = values(count * 2 * hidden)
                func run(_ set: KernelSet) -> [[Float]] {
                    let k = set.level
                    var results: [[Float]] = []
                    // LSTM forward (state h, c; output; record) and backward.
                    var state = state0, out = [Float](repeating: 0, count: count * hidden)
                    var record = [Float](repeating: 0, count: count * 2 * 5 * hidden)
                    var carry = carry0, gates = [Float](repeating: 0, count: count * width)
                    var gruState = Array(state0.prefix(count * hidden)), gruRecord = [Float](repeating: 0, count: count * 4 * hidden)
                    var gruCarry = Array(carry0.prefix(count * hidden)), gx = gates, gh = gates
                    var rnnState = gruState, rnnGates = gates
                    var dense = Array(ax.prefix(count * hidden)), denseRecord = [Float](repeating: 0, count: count * hidden)
                    var denseGradient = [Float](repeating: 0, count: count * hidden)
                    ax.withUnsafeBufferPointer { ax in ah.withUnsafeBufferPointer { ah in
                    bih.withUnsafeBufferPointer { bih in bhh.withUnsafeBufferPointer { bhh in
                    dOut.withUnsafeBufferPointer { dOut in
                        let (bi, bh) = (bih.baseAddress!, bhh.baseAddress!)
                        // Stream i's rows: gate inputs `width` apart, dL/dy `hidden` apart.
                        let (a, h) = (ConstRows(base: ax.baseAddress!, stride: width), ConstRows(base: ah.baseAddress!, stride: width))
                        let dy = ConstRows(base: dOut.baseAddress!, stride: hidden)
                        state.withUnsafeMutableBufferPointer { s in out.withUnsafeMutableBufferPointer { o in
                        record.withUnsafeMutableBufferPointer { r in
                            // Two steps, so the backward has a previous record.
                            let state = MutableRows(base: s.baseAddress!, stride: 2 * hidden)
                            let output = MutableRows(base: o.baseAddress!, stride: hidden)
                            let (step0, step1) = (MutableRows(base: r.baseAddress!, stride: 10 * hidden),
                                                  MutableRows(base: r.baseAddress! + 5 * hidden, stride: 10 * hidden))
                            k.lstmForward(count: count, hidden: hidden, inputProjection: a, stateProjection: h, biasIH: bi, biasHH: bh,
                                          state: state, output: output, record: step0)
                            k.lstmForward(count: count, hidden: hidden, inputProjection: h, stateProjection: a, biasIH: bi, biasHH: nil,
                                          state: state, output: output, record: step1)
                            carry.withUnsafeMutableBufferPointer { c in gates.withUnsafeMutableBufferPointer { g in
                                k.lstmBackward(count: count, hidden: hidden, outputGradient: dy,
                                               carryH: ConstRows(base: c.baseAddress!, stride: 2 * hidden),
                                               carryC: MutableRows(base: c.baseAddress! + hidden, stride: 2 * hidden),
                                               record: step1.readOnly, previousRecord: step0.readOnly,
                                               gateGradient: MutableRows(base: g.baseAddress!, stride: width))
                            } }
                        } } }
                        gruState.withUnsafeMutableBufferPointer { s in gruRecord.withUnsafeMutableBufferPointer { r in
                            let prior = Array(s)
                            let record = MutableRows(base: r.baseAddress!, stride: 4 * hidden)
                            k.gruForward(count: count, hidden: hidden, inputProjection: a, stateProjection: h, biasIH: nil, biasHH: bh,
                                         state: MutableRows(base: s.baseAddress!, stride: hidden), output: nil, record: record)
                            prior.withUnsafeBufferPointer { p in gruCarry.withUnsafeMutableBufferPointer { c in
                            gx.withUnsafeMutableBufferPointer { gx in gh.withUnsafeMutableBufferPointer { gh in
                                k.gruBackward(count: count, hidden: hidden, outputGradient: dy,
                                              carryH: MutableRows(base: c.baseAddress!, stride: hidden), record: record.readOnly,
                                              previousH: ConstRows(base: p.baseAddress!, stride: hidden),
                                              inputSide: MutableRows(base: gx.baseAddress!, stride: width),
                                              stateSide: MutableRows(base: gh.baseAddress!, stride: width))
                            } } } }
                        } }
                        rnnState.withUnsafeMutableBufferPointer { s in rnnGates.withUnsafeMutableBufferPointer { g in
                            let state = MutableRows(base: s.baseAddress!, stride: hidden)
                            k.rnnForward(count: count, hidden: hidden, relu: false, inputProjection: a, stateProjection: h,
                                         biasIH: bi, biasHH: bh, state: state, output: nil)
                            k.rnnBackward(count: count, hidden: hidden, relu: false, outputGradient: dy, carryH: dy,
                                          output: state.readOnly, gateGradient: MutableRows(base: g.baseAddress!, stride: width))
                        } }
                        dense.withUnsafeMutableBufferPointer { v in denseRecord.withUnsafeMutableBufferPointer { r in
                        denseGradient.withUnsafeMutableBufferPointer { g in
                            let values = MutableRows(base: v.baseAddress!, stride: hidden)
                            k.denseForward(count: count, units: hidden - 5, width: hidden, activation: .softmax, values: values,
                                           bias: bi, record: MutableRows(base: r.baseAddress!, stride: hidden))
                            k.denseBackward(count: count, width: hidden, activation: .softmax, throughActivation: true,
                                            outputGradient: dy, output: values.readOnly,
                                            gradient: MutableRows(base: g.baseAddress!, stride: hidden))
                        } } }
                    } } } } }
                    results = [state, out, record, carry, gates, gruState, gruRecord, gruCarry, gx, gh, rnnState, rnnGates,
                               dense, denseRecord, denseGradient]
                    return results
                }
                let fast = run(kernels), reference = run(.reference)
                let names = ["lstm state", "lstm output", "lstm record", "lstm carry", "lstm gates", "gru state", "gru record",
                             "gru carry", "gru input side", "gru state side", "rnn state", "rnn gates",
                             "softmax", "dense record", "softmax gradient"]
                for (index, name) in names.enumerated() {
                    assertAgree(fast[index], reference[index], "\(kernels.name) \(name) hidden \(hidden)", tolerance: 1e-5)
                }
            }
        }
    }

    /// The fused single-stream steps (`lstmSteps`, `gruSteps`, `rnnSteps`)
    /// against what they fuse, per step `project` of h and the kind's
    /// `...Forward`: bit for bit at the same level (SSE2 included: the same
    /// operations in the same order), and against the reference kernels as
    /// every other kernel. Hidden sizes cover both of the fused step's
    /// shapes (runs of 32 outputs, and the whole product first).
    func testFusedSteps() {
        for set in fastKernelSets + [.reference] {
            for (paddedHidden, depth) in [(16, 16), (32, 7), (48, 45), (64, 64), (96, 81), (128, 113)] {
                let steps = 3  // `depth` is the hidden size (W_hh's rows), `paddedHidden` its padded size
                for kind in ["lstm", "gru", "rnn-tanh", "rnn-relu"] {
                    let gates = kind == "lstm" ? 4 : kind == "gru" ? 3 : 1, width = gates * paddedHidden
                    let stateSize = (kind == "lstm" ? 2 : 1) * paddedHidden
                    let weights = values(depth * width, scale: 0.3), ax = values(steps * width, scale: 2)
                    let bih = values(width), bhh = values(width)
                    var initial = values(stateSize)
                    // h past `depth` (the hidden size) is padding: zero, as in a state.
                    for j in depth..<paddedHidden { initial[j] = 0 }
                    func run(_ k: any Kernels.Type, fused: Bool) -> [Float] {
                        var state = initial, outputs = [Float](repeating: .nan, count: steps * paddedHidden)
                        var scratch = [Float](repeating: .nan, count: width)
                        weights.withUnsafeBufferPointer { w in ax.withUnsafeBufferPointer { a in
                        bih.withUnsafeBufferPointer { bi in bhh.withUnsafeBufferPointer { bh in
                        state.withUnsafeMutableBufferPointer { s in outputs.withUnsafeMutableBufferPointer { o in
                        scratch.withUnsafeMutableBufferPointer { p in
                            let (w, s, p) = (w.baseAddress!, s.baseAddress!, p.baseAddress!)
                            let inputs = ConstRows(base: a.baseAddress!, stride: width)
                            let outs = MutableRows(base: o.baseAddress!, stride: paddedHidden)
                            let (bi, bh) = (bi.baseAddress!, bh.baseAddress!)
                            if fused {
                                switch kind {
                                case "lstm":
                                    k.lstmSteps(steps, depth: depth, hidden: paddedHidden, stateWeights: w, inputProjections: inputs,
                                                biasIH: bi, biasHH: bh, stateProjection: p, state: s, outputs: outs)
                                case "gru":
                                    k.gruSteps(steps, depth: depth, hidden: paddedHidden, stateWeights: w, inputProjections: inputs,
                                               biasIH: nil, biasHH: bh, stateProjection: p, state: s, outputs: outs)
                                default:
                                    k.rnnSteps(steps, depth: depth, hidden: paddedHidden, relu: kind == "rnn-relu", stateWeights: w,
                                               inputProjections: inputs, biasIH: bi, biasHH: nil, stateProjection: p, state: s,
                                               outputs: outs)
                                }
                                return
                            }
                            for t in 0..<steps {
                                k.project(count: 1, depth: depth, width: width, weights: w, input: ConstRows(base: s, stride: 0),
                                          output: MutableRows(base: p, stride: 0))
                                let (a, b) = (ConstRows(base: inputs[t], stride: 0), ConstRows(base: p, stride: 0))
                                let (state, out) = (MutableRows(base: s, stride: 0), MutableRows(base: outs[t], stride: 0))
                                switch kind {
                                case "lstm":
                                    k.lstmForward(count: 1, hidden: paddedHidden, inputProjection: a, stateProjection: b, biasIH: bi,
                                                  biasHH: bh, state: state, output: out, record: nil)
                                case "gru":
                                    k.gruForward(count: 1, hidden: paddedHidden, inputProjection: a, stateProjection: b, biasIH: nil,
                                                 biasHH: bh, state: state, output: out, record: nil)
                                default:
                                    k.rnnForward(count: 1, hidden: paddedHidden, relu: kind == "rnn-relu", inputProjection: a,
                                                 stateProjection: b, biasIH: bi, biasHH: nil, state: state, output: out)
                                }
                            }
                        } } } } } } }
                        return state + outputs
                    }
                    let what = "\(set.name) \(kind) padded hidden \(paddedHidden) depth \(depth)"
                    let fused = run(set.level, fused: true)
                    // Same level: always the same bits.
                    let unfused = run(set.level, fused: false)
                    for i in fused.indices where fused[i].bitPattern != unfused[i].bitPattern {
                        XCTFail("\(what): fused element \(i) is \(fused[i]), unfused \(unfused[i])")
                        break
                    }
                    XCTAssertFalse(fused.contains { !$0.isFinite }, what)
                    assertAgree(fused, run(ReferenceKernels.self, fused: false), what, tolerance: 1e-5)
                }
            }
        }
    }
}
