// Every fast kernel level against the reference kernels, kernel by kernel,
// over random shapes (odd sizes, 1 to 300) and random values: bit for bit at
// the levels with FMA (the promise of docs/c-api.md, "Determinism"), within
// rounding at SSE2 (no FMA: outside the promise).
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
                func run(_ k: KernelSet) -> (out: [Float], grad: [Float], rows: [Float], half: [Float]) {
                    var out = [Float](repeating: .nan, count: count * (width + 16))
                    var half = [Float](repeating: .nan, count: count * width)
                    halfWeights.withUnsafeBufferPointer { w in
                        x.withUnsafeBufferPointer { x in
                            half.withUnsafeMutableBufferPointer {
                                k.projectHalf(count, depth, width, w.baseAddress!, x.baseAddress!, depth + 3, $0.baseAddress!, width)
                            }
                        }
                    }
                    var grad = (0..<(depth * width)).map { Float($0 % 3) }
                    var rows = (0..<width).map { Float($0 % 4) }
                    weights.withUnsafeBufferPointer { w in
                        x.withUnsafeBufferPointer { x in
                            d.withUnsafeBufferPointer { d in
                                out.withUnsafeMutableBufferPointer {
                                    k.project(count, depth, width, w.baseAddress!, x.baseAddress!, depth + 3, $0.baseAddress!, width + 16)
                                }
                                grad.withUnsafeMutableBufferPointer {
                                    k.accumulateWeightGradient(count, depth, width, x.baseAddress!, depth + 3, d.baseAddress!, width + 16, $0.baseAddress!)
                                }
                                rows.withUnsafeMutableBufferPointer {
                                    k.accumulateRows(count, width, d.baseAddress!, width + 16, $0.baseAddress!)
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
                func run(_ k: KernelSet) -> [[Float]] {
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
                        let (a, h, bi, bh, dy) = (ax.baseAddress!, ah.baseAddress!, bih.baseAddress!, bhh.baseAddress!, dOut.baseAddress!)
                        state.withUnsafeMutableBufferPointer { s in out.withUnsafeMutableBufferPointer { o in
                        record.withUnsafeMutableBufferPointer { r in
                            // Two steps, so the backward has a previous record.
                            k.lstmForward(count, hidden, a, width, h, width, bi, bh, s.baseAddress!, 2 * hidden, o.baseAddress!, hidden,
                                          r.baseAddress!, 10 * hidden)
                            k.lstmForward(count, hidden, h, width, a, width, bi, nil, s.baseAddress!, 2 * hidden, o.baseAddress!, hidden,
                                          r.baseAddress! + 5 * hidden, 10 * hidden)
                            carry.withUnsafeMutableBufferPointer { c in gates.withUnsafeMutableBufferPointer { g in
                                k.lstmBackward(count, hidden, dy, hidden, c.baseAddress!, c.baseAddress! + hidden, 2 * hidden,
                                               r.baseAddress! + 5 * hidden, r.baseAddress!, 10 * hidden, g.baseAddress!, width)
                            } }
                        } } }
                        gruState.withUnsafeMutableBufferPointer { s in gruRecord.withUnsafeMutableBufferPointer { r in
                            let prior = Array(s)
                            k.gruForward(count, hidden, a, width, h, width, nil, bh, s.baseAddress!, hidden, nil, 0, r.baseAddress!, 4 * hidden)
                            prior.withUnsafeBufferPointer { p in gruCarry.withUnsafeMutableBufferPointer { c in
                            gx.withUnsafeMutableBufferPointer { gx in gh.withUnsafeMutableBufferPointer { gh in
                                k.gruBackward(count, hidden, dy, hidden, c.baseAddress!, hidden, r.baseAddress!, 4 * hidden,
                                              p.baseAddress!, hidden, gx.baseAddress!, gh.baseAddress!, width)
                            } } } }
                        } }
                        rnnState.withUnsafeMutableBufferPointer { s in rnnGates.withUnsafeMutableBufferPointer { g in
                            k.rnnForward(count, hidden, false, a, width, h, width, bi, bh, s.baseAddress!, hidden, nil, 0)
                            k.rnnBackward(count, hidden, false, dy, hidden, dy, hidden, s.baseAddress!, hidden, g.baseAddress!, width)
                        } }
                        dense.withUnsafeMutableBufferPointer { v in denseRecord.withUnsafeMutableBufferPointer { r in
                        denseGradient.withUnsafeMutableBufferPointer { g in
                            k.denseForward(count, hidden - 5, hidden, 4, v.baseAddress!, hidden, bi, r.baseAddress!, hidden)
                            k.denseBackward(count, hidden, 4, true, dy, hidden, v.baseAddress!, hidden, g.baseAddress!, hidden)
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
}
