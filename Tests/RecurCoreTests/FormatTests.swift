// Saving and loading: the three tensor forms agree, save -> load -> save is
// byte-identical, floats survive bit for bit, metadata is kept, and `init`
// gives the same weights for the same seed.
import Foundation
import XCTest
@testable import RecurCore

final class FormatTests: XCTestCase {
    func testTheThreeTensorFormsLoadTheSameModel() throws {
        let flat = try ReferenceCase(TestData.directory.appendingPathComponent("rnn_tanh.json")).loadModel()
        for name in ["rnn_tanh_nested.json", "rnn_tanh_base64.json"] {
            let other = try ReferenceCase(TestData.directory.appendingPathComponent(name)).loadModel()
            for (index, layer) in flat.layers.enumerated() {
                for slot in layer.tensors {
                    XCTAssertEqual(bits(other.tensorValues(other.layers[index].tensors.first { $0.name == slot.name }!)),
                                   bits(flat.tensorValues(slot)), "\(name) layers[\(index)].\(slot.name)")
                }
            }
        }
    }

    func testSaveLoadSaveIsByteIdentical() throws {
        for file in try TestData.caseFiles() {
            let reference = try ReferenceCase(file)
            let model = try reference.loadModel()
            for encoding in [TensorEncoding.flat, .base64] {
                let first = model.json(encoding: encoding)
                let reloaded = try Model.load(jsonText: first)
                XCTAssertEqual(reloaded.json(encoding: encoding), first, "\(reference.name) \(encoding)")
                XCTAssertEqual(reloaded.json(), model.json(), "\(reference.name): \(encoding) keeps every bit")
                let state = try State(model: reloaded, batch: reference.batch)
                assertClose(try state.run(reference.input, steps: reference.steps), reference.output, reference.name)
            }
        }
    }

    func testFloatsSurviveBitForBit() throws {
        // Awkward float32 values: subnormals, extremes, values near decimal ties.
        var random = SplitMix64(seed: 7)
        var values: [Float] = [.leastNonzeroMagnitude, -.leastNormalMagnitude, .greatestFiniteMagnitude, -0.0, 1e-45, 0.1, 1 / 3]
        while values.count < 400 {
            let candidate = Float(bitPattern: UInt32(truncatingIfNeeded: random.next()))
            if candidate.isFinite { values.append(candidate) }
        }
        let text = """
        {"format": "recur", "version": 1, "input_size": 1, "layers": [{"type": "dense", "units": \(values.count),
         "weights": {"weight": {"shape": [\(values.count), 1], "data": [\(values.map { "\($0)" }.joined(separator: ","))]}}}]}
        """
        let model = try Model.load(jsonText: text)
        let saved = try Model.load(jsonText: model.json())
        let viaBase64 = try Model.load(jsonText: model.json(encoding: .base64))
        for (index, value) in values.enumerated() {
            XCTAssertEqual(saved.parameter(layer: 0, tensor: "weight", index: index)?.bitPattern, value.bitPattern, "\(value)")
            XCTAssertEqual(viaBase64.parameter(layer: 0, tensor: "weight", index: index)?.bitPattern, value.bitPattern, "\(value)")
        }
    }

    func testMetadataIsKeptAndBiasesStayAbsent() throws {
        let text = """
        {"format": "recur", "version": 1, "input_size": 1, "metadata": {"source": "torch", "nested": {"list": [1, 2.5, "x"]}},
         "layers": [{"type": "lstm", "hidden_size": 2, "weights": {"weight_ih": [[1], [2], [3], [4], [5], [6], [7], [8]],
            "weight_hh": {"shape": [8, 2], "data": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]}}}]}
        """
        let model = try Model.load(jsonText: text)
        XCTAssertEqual(model.parameterCount, 8 + 16)
        let saved = model.json()
        XCTAssertFalse(saved.contains("bias"))
        let document = try JSONSerialization.jsonObject(with: Data(saved.utf8)) as! [String: Any]
        let metadata = document["metadata"] as! [String: Any]
        XCTAssertEqual(metadata["source"] as? String, "torch")
        XCTAssertEqual((metadata["nested"] as! [String: Any])["list"] as! NSArray, [1, 2.5, "x"] as NSArray)
        // weight_hh sits packed beside weight_ih, yet reads back row by row.
        XCTAssertEqual(model.parameter(layer: 0, tensor: "weight_hh", index: 3), 4)
        XCTAssertEqual(model.parameter(layer: 0, tensor: "weight_ih", index: 7), 8)
    }

    func testSaveFileIsAtomicAndLoadsBack() throws {
        let model = try ReferenceCase(TestData.directory.appendingPathComponent("lstm_clip.json")).loadModel()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("recur-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("model.json").path
        try "old".write(toFile: path, atomically: false, encoding: .utf8)
        try model.save(file: path)
        XCTAssertEqual(try Model.load(file: path).json(), model.json())
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["model.json"], "no temporary file left")
        XCTAssertThrowsError(try model.save(file: directory.appendingPathComponent("missing/model.json").path)) {
            XCTAssertEqual(($0 as! RecurError).status, .io)
        }
        XCTAssertEqual(try Model.load(file: path).json(), model.json(), "a failed save leaves the old file")
    }

    // MARK: init

    private func initDocument(seed: Int, recurrent: String) -> String {
        """
        {"format": "recur", "version": 1, "input_size": 3, "init": {"seed": \(seed), "recurrent": "\(recurrent)"},
         "layers": [{"type": "rnn", "hidden_size": 5, "activation": "relu"}, {"type": "lstm", "hidden_size": 4},
                    {"type": "gru", "hidden_size": 3}, {"type": "dense", "units": 2}]}
        """
    }

    func testInitIsDeterministic() throws {
        for scheme in ["uniform", "orthogonal", "identity"] {
            let a = try Model.load(jsonText: initDocument(seed: 42, recurrent: scheme)).json()
            let b = try Model.load(jsonText: initDocument(seed: 42, recurrent: scheme)).json()
            let c = try Model.load(jsonText: initDocument(seed: 43, recurrent: scheme)).json()
            XCTAssertEqual(a, b, scheme)
            XCTAssertNotEqual(a, c, scheme)
        }
        // Pinned values: the same seed gives these floats on every machine.
        let model = try Model.load(jsonText: initDocument(seed: 42, recurrent: "uniform"))
        let pinned = (0..<3).map { model.parameter(layer: 0, tensor: "weight_ih", index: $0)!.bitPattern }
        XCTAssertEqual(pinned, InitPins.uniformSeed42)
    }

    func testInitSchemes() throws {
        let uniform = try Model.load(jsonText: initDocument(seed: 1, recurrent: "uniform"))
        let limit = 1 / Float(5).squareRoot()
        for index in 0..<25 {
            let w = uniform.parameter(layer: 0, tensor: "weight_hh", index: index)!
            XCTAssertLessThanOrEqual(abs(w), limit)
        }
        XCTAssertNotEqual(uniform.parameter(layer: 1, tensor: "bias_hh", index: 0), 0)
        let glorot = (6 / Float(3 + 2)).squareRoot()
        for index in 0..<6 { XCTAssertLessThanOrEqual(abs(uniform.parameter(layer: 3, tensor: "weight", index: index)!), glorot) }
        XCTAssertEqual(uniform.parameter(layer: 3, tensor: "bias", index: 0), 0)

        let identity = try Model.load(jsonText: initDocument(seed: 1, recurrent: "identity"))
        for row in 0..<5 {
            for column in 0..<5 {
                XCTAssertEqual(identity.parameter(layer: 0, tensor: "weight_hh", index: row * 5 + column), row == column ? 1 : 0)
            }
            XCTAssertEqual(identity.parameter(layer: 0, tensor: "bias_ih", index: row), 0)
        }
        // LSTM: forget-gate bias 1, each gate block of W_hh orthogonal.
        for scheme in ["identity", "orthogonal"] {
            let model = try Model.load(jsonText: initDocument(seed: 9, recurrent: scheme))
            for j in 0..<4 {
                XCTAssertEqual(model.parameter(layer: 1, tensor: "bias_ih", index: 4 + j), 1)
                XCTAssertEqual(model.parameter(layer: 1, tensor: "bias_ih", index: j), 0)
            }
            for (layer, h, gates) in [(1, 4, 4), (2, 3, 3)] {
                for gate in 0..<gates {
                    for a in 0..<h {
                        for b in 0..<h {
                            var dot: Float = 0
                            for k in 0..<h {
                                dot += model.parameter(layer: layer, tensor: "weight_hh", index: (gate * h + a) * h + k)!
                                    * model.parameter(layer: layer, tensor: "weight_hh", index: (gate * h + b) * h + k)!
                            }
                            XCTAssertEqual(dot, a == b ? 1 : 0, accuracy: 1e-5, "\(scheme) layer \(layer) gate \(gate)")
                        }
                    }
                }
            }
        }
    }
}

enum InitPins {
    /// layer 0 weight_ih[0..<3] for seed 42, "uniform", computed by an
    /// independent Python transcription of SplitMix64 and the seeding rule.
    static let uniformSeed42: [UInt32] = [3188688677, 1053865261, 3158837685]
}
