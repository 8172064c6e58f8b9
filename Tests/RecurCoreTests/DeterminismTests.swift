// The promise of docs/c-api.md, "Determinism": the same bits at the
// reference level and every fast level with FMA (AVX2, AVX-512), for
// inference and training, with any thread count. SSE2 (no FMA) is outside it
// and is only checked within rounding (KernelAgreementTests, the reference
// cases). Tests/determinism/hashes.txt holds the bits every machine must
// reproduce (DeterminismHashTests).
import Foundation
import RecurKernelInterface
import XCTest
@testable import RecurCore

/// The levels that promise the same bits: the reference kernels and the
/// fast levels with FMA that this CPU runs.
let promisedKernelSets: [KernelSet] = [.reference] + KernelSet.supported.filter { $0.name != "sse2" }

/// Everything a case produces: inference outputs and final states, and for
/// training the losses, gradient norms, first gradients and updated weights.
struct CaseBits: Equatable {
    var outputs: [UInt32] = []
    var state: [UInt32] = []
    var losses: [UInt32] = []
    var norms: [UInt32] = []
    var gradients: [UInt32] = []
    var weights: [UInt32] = []

    func firstDifference(_ other: CaseBits) -> String? {
        for (name, a, b) in [("outputs", outputs, other.outputs), ("final state", state, other.state),
                             ("losses", losses, other.losses), ("gradient norms", norms, other.norms),
                             ("gradients", gradients, other.gradients), ("updated weights", weights, other.weights)] where a != b {
            let index = a.indices.first { $0 >= b.count || a[$0] != b[$0] } ?? a.count
            return "\(name) differ at element \(index) of \(a.count)"
        }
        return nil
    }
}

/// Runs a reference case's inference, and its training when it has some,
/// with `kernels` and `threads` trainer threads.
func caseBits(_ reference: ReferenceCase, kernels: KernelSet, threads: Int = 1, half: Bool = false) throws -> CaseBits {
    var result = CaseBits()
    let model = try reference.loadModel()
    if half { try model.setWeightStorage(.fp16) }
    let state = try State(model: model, batch: reference.batch, kernels: kernels)
    result.outputs = bits(try state.run(reference.input, steps: reference.steps))
    result.state = bits(state.values)
    guard let training = try TrainingCase(reference) else { return result }
    let trainer = try training.makeTrainer(model, kernels: kernels)
    try trainer.setThreads(threads)
    for step in 0..<training.steps {
        result.losses.append(try training.step(trainer).bitPattern)
        result.norms.append(trainer.lastGradientNorm.bitPattern)
        if step == 0 { result.gradients = bits(Array(UnsafeBufferPointer(start: trainer.gradients.base, count: trainer.gradients.count))) }
    }
    result.weights = bits(Array(UnsafeBufferPointer(start: model.parameters.base, count: model.parameters.count)))
    return result
}

final class DeterminismTests: XCTestCase {
    func testTheCPUHasPromisedLevels() {
        print("determinism: comparing \(promisedKernelSets.map(\.name)) bit for bit")
        XCTAssertGreaterThanOrEqual(promisedKernelSets.count, 1)
    }

    /// Every reference case: inference and training, every promised level
    /// against the reference kernels, fp32 and fp16 weights.
    func testEveryCaseIsBitIdenticalAtEveryLevel() throws {
        var compared = 0
        for file in try TestData.caseFiles() {
            let reference = try ReferenceCase(file)
            for half in [false, true] {
                let expected = try caseBits(reference, kernels: .reference, half: half)
                for kernels in promisedKernelSets.dropFirst() {
                    let mine = try caseBits(reference, kernels: kernels, half: half)
                    if let difference = mine.firstDifference(expected) {
                        XCTFail("\(reference.name)\(half ? " fp16" : "") [\(kernels.name) vs reference]: \(difference)")
                    }
                    compared += 1
                }
            }
        }
        XCTAssertGreaterThanOrEqual(compared, 20 * (promisedKernelSets.count - 1))
    }

    /// The trainer's threads change nothing: 1, 2, 3 and 8 threads give the
    /// same losses, gradients and weights, on every case with training.
    func testTrainerThreadCountsAreBitIdenticalOnTheCases() throws {
        for training in try TrainingCase.all() {
            let one = try caseBits(training.reference, kernels: .active, threads: 1)
            for threads in [2, 3, 8] {
                let mine = try caseBits(training.reference, kernels: .active, threads: threads)
                if let difference = mine.firstDifference(one) {
                    XCTFail("\(training.reference.name): \(threads) threads vs 1: \(difference)")
                }
            }
        }
    }

    /// Random models (odd sizes up to 300, every layer type and head),
    /// inference and three training steps: every promised level the same
    /// bits, and the trainer's thread counts the same bits.
    func testRandomModelsAtEveryLevelAndThreadCount() throws {
        var random = SplitMix64(seed: 4242)
        func pick(_ n: Int) -> Int { Int(random.next() % UInt64(n)) }
        let heads: [(String, String)] = [("softmax", "cross_entropy"), ("linear", "mse"), ("sigmoid", "binary_cross_entropy"),
                                         ("linear", "cross_entropy"), ("tanh", "mse"), ("relu", "mse")]
        let sizes = [1, 3, 7, 17, 33, 63, 129, 301 - 2, 5, 45]
        for trial in 0..<8 {
            let input = sizes[pick(sizes.count)] % 40 + 1
            var layers: [String] = []
            for _ in 0..<(1 + pick(2)) {
                let hidden = trial == 0 ? 299 : sizes[pick(sizes.count)]
                switch pick(4) {
                case 0: layers.append(#"{"type": "lstm", "hidden_size": \#(hidden)}"#)
                case 1: layers.append(#"{"type": "gru", "hidden_size": \#(hidden)}"#)
                case 2: layers.append(#"{"type": "rnn", "hidden_size": \#(hidden), "activation": "relu"}"#)
                default: layers.append(#"{"type": "rnn", "hidden_size": \#(hidden)}"#)
                }
            }
            let (activation, loss) = heads[trial % heads.count]
            let units = [1, 3, 5, 19, 33][pick(5)]
            layers.append(#"{"type": "dense", "units": \#(units), "activation": "\#(activation)"}"#)
            let document = #"{"format": "recur", "version": 1, "input_size": \#(input), "init": {"seed": \#(trial)}, "layers": [\#(layers.joined(separator: ", "))]}"#
            let (batch, steps) = (1 + pick(9), 1 + pick(6))
            let x = (0..<(batch * steps * input)).map { _ in Float(random.uniform(-2, 2)) }
            let everyStep = pick(2) == 0
            let positions = everyStep ? batch * steps : batch
            let labels = (0..<positions).map { _ in Int32(pick(units)) }
            let targets = (0..<(positions * units)).map { _ in Float(random.uniform(0, 1)) }
            let clip = pick(2) == 0 ? #", "clip_gradient_norm": 0.5"# : ""
            let optimizer = [#"{"type": "adam", "learning_rate": 0.01}"#, #"{"type": "adamw", "learning_rate": 0.01, "weight_decay": 0.1}"#,
                             #"{"type": "sgd", "learning_rate": 0.1, "momentum": 0.9}"#][pick(3)]
            let config = #"{"loss": "\#(loss)", "targets": "\#(everyStep ? "sequence" : "last")", "optimizer": \#(optimizer)\#(clip)}"#
            let useLabels = loss == "cross_entropy" && pick(2) == 0

            func run(_ kernels: KernelSet, threads: Int, half: Bool = false) throws -> CaseBits {
                var result = CaseBits()
                let model = try Model.load(jsonText: document)
                if half { try model.setWeightStorage(.fp16) }
                let state = try State(model: model, batch: batch, kernels: kernels)
                result.outputs = bits(try state.run(x, steps: steps))
                result.state = bits(state.values)
                let trainer = try Trainer(model: model, configText: config, kernels: kernels)
                try trainer.setThreads(threads)
                for _ in 0..<3 {
                    let loss = try x.withUnsafeBufferPointer { input in
                        useLabels
                            ? try labels.withUnsafeBufferPointer { try trainer.step(input: input, batch: batch, steps: steps, targets: .labels($0)) }
                            : try targets.withUnsafeBufferPointer { try trainer.step(input: input, batch: batch, steps: steps, targets: .values($0)) }
                    }
                    result.losses.append(loss.bitPattern)
                    result.norms.append(trainer.lastGradientNorm.bitPattern)
                }
                result.gradients = bits(Array(UnsafeBufferPointer(start: trainer.gradients.base, count: trainer.gradients.count)))
                result.weights = bits(Array(UnsafeBufferPointer(start: model.parameters.base, count: model.parameters.count)))
                return result
            }
            let what = "trial \(trial): \(document) batch \(batch) steps \(steps) \(config)"
            for half in [false, true] {
                let expected = try run(.reference, threads: 1, half: half)
                for kernels in promisedKernelSets.dropFirst() {
                    if let difference = try run(kernels, threads: 1, half: half).firstDifference(expected) {
                        XCTFail("\(what)\(half ? " fp16" : ""): \(kernels.name) vs reference: \(difference)")
                    }
                }
            }
            let one = try run(.active, threads: 1)
            for threads in [2, 3, 8] {
                if let difference = try run(.active, threads: threads).firstDifference(one) {
                    XCTFail("\(what): \(threads) threads vs 1: \(difference)")
                }
            }
        }
    }

    /// The losses' Double log, log1p and power (no libm) against libm.
    func testLossTranscendentalsAreAccurate() {
        var random = SplitMix64(seed: 3)
        for _ in 0..<100_000 {
            let x = Foundation.exp(random.uniform(-700, 700))
            XCTAssertLessThanOrEqual(abs(Approx.log(x) - Foundation.log(x)), 4e-16 * max(1, abs(Foundation.log(x))), "log \(x)")
            let t = Foundation.exp(random.uniform(-60, 0))
            XCTAssertLessThanOrEqual(abs(Approx.log1p(t) - Foundation.log1p(t)), 1e-15 * Foundation.log1p(t), "log1p \(t)")
        }
        XCTAssertEqual(Approx.log(1), 0)
        XCTAssertEqual(Approx.log(.leastNonzeroMagnitude), Foundation.log(Double.leastNonzeroMagnitude), accuracy: 1e-12)
        for step in [1, 2, 10, 1000, 100_000] {
            XCTAssertEqual(Approx.power(0.999, step), Foundation.pow(0.999, Double(step)), accuracy: 1e-10 * Foundation.pow(0.999, Double(step)))
        }
    }

    /// exp, σ and tanh (through the dense activations) and softmax over a
    /// sweep of inputs, from deep saturation to zero: the same bits at every
    /// promised level.
    func testActivationsAreBitIdenticalOverASweep() {
        var inputs: [Float] = [0, -0, 1e-30, -1e-30, .leastNonzeroMagnitude, 88.3, 88.5, -87.3, -87.4, -104, 104, 1000, -1000]
        var v: Float = -120
        while v < 120 { inputs.append(v); v += 0.003_7 }
        var random = SplitMix64(seed: 1)
        // Random bit patterns: every exponent, both signs (finite ones: a NaN's
        // sign bit is not part of the promise; inputs are checked finite).
        while inputs.count < 40_000 {
            let value = Float(bitPattern: UInt32(truncatingIfNeeded: random.next()))
            if value.isFinite { inputs.append(value) }
        }
        let width = 16 * ((inputs.count + 15) / 16)
        inputs += [Float](repeating: 0, count: width - inputs.count)
        for activation in [ActivationCode.relu, .tanh, .sigmoid] {
            func run(_ k: KernelSet) -> [UInt32] {
                var values = inputs
                values.withUnsafeMutableBufferPointer {
                    k.level.denseForward(count: 1, units: width, width: width, activation: activation,
                                         values: MutableRows(base: $0.baseAddress!, stride: width), bias: nil, record: nil)
                }
                return bits(values)
            }
            let expected = run(.reference)
            for kernels in promisedKernelSets.dropFirst() {
                let mine = run(kernels)
                if let i = mine.indices.first(where: { mine[$0] != expected[$0] }) {
                    XCTFail("activation \(activation) [\(kernels.name)]: input \(inputs[i]) gives \(Float(bitPattern: mine[i])), reference \(Float(bitPattern: expected[i]))")
                }
            }
        }
        // Softmax and its gradient, in rows of odd unit counts.
        for units in [1, 3, 15, 17, 31, 33, 100, 299] {
            let width = 16 * ((units + 15) / 16), rows = 7
            let values = (0..<(rows * width)).map { _ in Float(random.uniform(-30, 30)) }
            let dy = (0..<(rows * width)).map { _ in Float(random.uniform(-1, 1)) }
            func run(_ k: KernelSet) -> [UInt32] {
                var v = values, record = values, dz = values
                v.withUnsafeMutableBufferPointer { v in record.withUnsafeMutableBufferPointer { r in dz.withUnsafeMutableBufferPointer { d in
                    dy.withUnsafeBufferPointer { g in
                        let values = MutableRows(base: v.baseAddress!, stride: width)
                        k.level.denseForward(count: rows, units: units, width: width, activation: .softmax, values: values,
                                             bias: nil, record: MutableRows(base: r.baseAddress!, stride: width))
                        k.level.denseBackward(count: rows, width: width, activation: .softmax, throughActivation: true,
                                              outputGradient: ConstRows(base: g.baseAddress!, stride: width),
                                              output: values.readOnly, gradient: MutableRows(base: d.baseAddress!, stride: width))
                    }
                } } }
                return bits(v + record + dz)
            }
            let expected = run(.reference)
            for kernels in promisedKernelSets.dropFirst() {
                XCTAssertEqual(run(kernels), expected, "softmax of \(units) units [\(kernels.name)]")
            }
        }
    }
}

/// FNV-1a, 64 bits, over bytes.
func fnv1a64<S: Sequence>(_ bytes: S, _ start: UInt64 = 0xCBF2_9CE4_8422_2325) -> UInt64 where S.Element == UInt8 {
    var hash = start
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
    return hash
}

/// FNV-1a 64 over float32 bit patterns, each as 4 little-endian bytes.
func fnv1a64(bits values: [UInt32]) -> UInt64 {
    fnv1a64(values.lazy.flatMap { v in (0..<4).lazy.map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } })
}

/// Tests/determinism/hashes.txt: for each reference case, the hash of its
/// file and of what it produces. Every machine, at every promised level,
/// must reproduce them. Regenerate (after a deliberate change of the bits or
/// of the case files) with `make determinism-hashes`, which runs this test
/// with RECUR_WRITE_HASHES=1.
final class DeterminismHashTests: XCTestCase {
    static let file = TestData.projectRoot.appendingPathComponent("Tests/determinism/hashes.txt")

    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// One line per case: name, case file hash, outputs, final state,
    /// losses, updated weights, fp16 outputs and state ("-": no training).
    static func line(_ file: URL, kernels: KernelSet) throws -> String {
        let reference = try ReferenceCase(file)
        let fp32 = try caseBits(reference, kernels: kernels)
        let fp16 = try caseBits(reference, kernels: kernels, half: true)
        let trains = !fp32.losses.isEmpty
        return [reference.name, hex(fnv1a64(try Data(contentsOf: file))),
                hex(fnv1a64(bits: fp32.outputs)), hex(fnv1a64(bits: fp32.state)),
                trains ? hex(fnv1a64(bits: fp32.losses)) : "-", trains ? hex(fnv1a64(bits: fp32.weights)) : "-",
                hex(fnv1a64(bits: fp16.outputs + fp16.state))].joined(separator: " ")
    }

    static let header = """
        # Recur determinism hashes (docs/c-api.md, "Determinism"): every machine, at
        # every promised level (reference, avx2, avx512) and thread count, reproduces
        # these bits. FNV-1a 64 over float32 bit patterns (4 little-endian bytes each).
        # Columns: case, FNV-1a 64 of the case file, outputs, final state, training
        # losses, updated weights ("-": no training), fp16-storage outputs + state.
        # Regenerate: make determinism-hashes (the cases of TestData.directory).

        """

    func testHashesMatchTheCommittedFile() throws {
        let files = try TestData.caseFiles()
        if ProcessInfo.processInfo.environment["RECUR_WRITE_HASHES"] != nil {
            let lines = try files.map { try Self.line($0, kernels: .reference) }
            try FileManager.default.createDirectory(at: Self.file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try (Self.header + lines.joined(separator: "\n") + "\n").write(to: Self.file, atomically: true, encoding: .utf8)
            print("wrote \(Self.file.path): \(lines.count) cases")
            return
        }
        let text = try String(contentsOf: Self.file, encoding: .utf8)
        var committed: [String: [String]] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: " ").map(String.init)
            committed[fields[0]] = fields
        }
        var checked = 0
        for file in files {
            let name = try ReferenceCase(file).name
            guard let expected = committed.removeValue(forKey: name) else {
                XCTFail("\(name): not in \(Self.file.path): run make determinism-hashes")
                continue
            }
            let fileHash = Self.hex(fnv1a64(try Data(contentsOf: file)))
            guard expected[1] == fileHash else {
                XCTFail("\(name): stale hashes: the case file changed (hash \(fileHash), the hashes were made from \(expected[1])): run make determinism-hashes")
                continue
            }
            for kernels in promisedKernelSets {
                let mine = try Self.line(file, kernels: kernels).split(separator: " ").map(String.init)
                let columns = ["case", "file", "outputs", "final state", "losses", "updated weights", "fp16"]
                for (index, column) in columns.enumerated().dropFirst(2) where mine[index] != expected[index] {
                    XCTFail("\(name) [\(kernels.name)]: \(column) hash \(mine[index]), committed \(expected[index])")
                }
                checked += 1
            }
        }
        for name in committed.keys.sorted() { XCTFail("\(name): in \(Self.file.path) but not in \(TestData.directory.path)") }
        XCTAssertGreaterThanOrEqual(checked, 10)
    }
}
