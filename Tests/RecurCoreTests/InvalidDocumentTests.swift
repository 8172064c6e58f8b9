// Every document in Tests/testdata/invalid is refused with the status its
// manifest names and a message containing its substrings; plus refusals the
// corpus does not cover.
import Foundation
import XCTest
@testable import RecurCore

final class InvalidDocumentTests: XCTestCase {
    private func refusal(_ bytes: [UInt8]) -> RecurError? {
        do {
            _ = try bytes.withUnsafeBytes { try Model.load(json: $0) }
            return nil
        } catch let error as RecurError {
            return error
        } catch {
            XCTFail("unexpected error type \(error)")
            return nil
        }
    }

    private func refusal(_ text: String) -> RecurError? { refusal(Array(text.utf8)) }

    func testManifest() throws {
        let directory = TestData.directory.appendingPathComponent("invalid")
        let manifest = try JSONSerialization.jsonObject(
            with: Data(contentsOf: directory.appendingPathComponent("manifest.json"))) as! [[String: Any]]
        XCTAssertGreaterThanOrEqual(manifest.count, 15)
        let statuses: [String: RecurStatus] = [
            "RECUR_ERROR_PARSE": .parse, "RECUR_ERROR_MODEL": .model, "RECUR_ERROR_INVALID_ARGUMENT": .invalidArgument,
            "RECUR_ERROR_SHAPE": .shape, "RECUR_ERROR_NUMERIC": .numeric, "RECUR_ERROR_IO": .io,
        ]
        for entry in manifest {
            let name = entry["file"] as! String
            let bytes = [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
            guard let error = refusal(bytes) else { XCTFail("\(name) was accepted"); continue }
            if let expected = entry["status"] as? String {
                XCTAssertEqual(error.status, statuses[expected], "\(name): \(error.message)")
            }
            for part in entry["message_contains"] as? [String] ?? [] {
                XCTAssertTrue(error.message.contains(part), "\(name): \"\(error.message)\" lacks \"\(part)\"")
            }
            XCTAssertFalse(error.message.isEmpty, name)

            // The same through a file.
            do {
                _ = try Model.load(file: directory.appendingPathComponent(name).path)
                XCTFail("\(name) loaded from a file")
            } catch {
                XCTAssertEqual(error.status, refusal(bytes)?.status, name)
            }
        }
    }

    /// A valid two-layer document to break in small ways.
    private let valid = """
    {"format": "recur", "version": 1, "input_size": 2, "layers": [
      {"type": "gru", "hidden_size": 2},
      {"type": "dense", "units": 1, "weights": {"weight": [[0.5, -0.5]], "bias": [0.1]}}]}
    """

    func testTheBaseDocumentLoads() throws {
        XCTAssertEqual(try Model.load(jsonText: valid).parameterCount, 3 * 2 * (2 + 2) + 2 * 3 * 2 + 3)
    }

    func testRefusalsNameWhatAndWhere() {
        let cases: [(String, String, RecurStatus, [String])] = [
            ("\"input_size\": 2", "\"input_size\": 0", .model, ["input_size", "0"]),
            ("\"input_size\": 2", "\"input_size\": 2.5", .model, ["input_size", "2.5"]),
            ("\"hidden_size\": 2}", "\"hidden_size\": 2, \"activation\": \"relu\"}", .model, ["layers[0]", "activation"]),
            ("\"bias\": [0.1]", "\"bias\": [0.1, 0.2]", .model, ["layers[1].weights.bias", "[1]", "[2]"]),
            ("\"bias\": [0.1]", "\"bias\": {\"shape\": [1], \"data\": [1], \"base64\": \"AAAAAA==\"}", .model, ["layers[1].weights.bias"]),
            ("\"bias\": [0.1]", "\"bias\": {\"shape\": [1], \"base64\": \"AACAfw==\"}", .model, ["layers[1].weights.bias", "finite"]),
            ("\"bias\": [0.1]", "\"bias\": {\"shape\": [1], \"data\": [1], \"dtype\": \"f32\"}", .model, ["layers[1].weights.bias", "dtype"]),
            ("\"bias\": [0.1]", "\"bias\": {\"data\": [1]}", .model, ["layers[1].weights.bias.shape"]),
            ("\"bias\": [0.1]", "\"bias\": [0.1], \"kernel\": [1]", .model, ["layers[1].weights", "kernel"]),
            ("\"weight\": [[0.5, -0.5]]", "\"weight\": [[0.5, -0.5, 1]]", .model, ["layers[1].weights.weight", "[1, 2]", "[1, 3]"]),
            ("\"weight\": [[0.5, -0.5]]", "\"weight\": [[0.5], [-0.5]]", .model, ["layers[1].weights.weight", "[1, 2]", "[2, 1]"]),
            ("\"weight\": [[0.5, -0.5]], ", "", .model, ["layers[1].weights.weight", "missing"]),
            ("\"weight\": [[0.5, -0.5]]", "\"weight\": [[0.5, null]]", .model, ["layers[1].weights.weight[0][1]", "null"]),
            ("\"weight\": [[0.5, -0.5]]", "\"weight\": [[0.5, 1e39]]", .model, ["layers[1].weights.weight[0][1]", "finite"]),
            ("\"type\": \"gru\"", "\"type\": \"GRU\"", .model, ["layers[0].type", "GRU"]),
            ("{\"format\"", "{\"init\": {\"seed\": -1}, \"format\"", .model, ["init.seed"]),
            ("{\"format\"", "{\"init\": {\"recurrent\": \"he\"}, \"format\"", .model, ["init.recurrent", "he"]),
            ("{\"format\"", "{\"metadata\": [1], \"format\"", .model, ["metadata"]),
            ("\"version\": 1", "\"version\": \"1\"", .model, ["version"]),
            ("\"hidden_size\": 2}", "\"hidden_size\": 2000000}", .model, ["layers[0].hidden_size", "2000000"]),
            ("\"hidden_size\": 2}", "\"hidden_size\": 60000}", .model, ["hidden_size", "limit"]),
        ]
        for (original, replacement, status, parts) in cases {
            let text = valid.replacingOccurrences(of: original, with: replacement)
            XCTAssertNotEqual(text, valid, "the case \(replacement) changes nothing")
            guard let error = refusal(text) else { XCTFail("accepted: \(replacement)"); continue }
            XCTAssertEqual(error.status, status, "\(replacement): \(error.message)")
            for part in parts {
                XCTAssertTrue(error.message.contains(part), "\(replacement): \"\(error.message)\" lacks \"\(part)\"")
            }
        }
    }

    func testNotJSON() {
        for text in ["", "   ", "{", "{\"format\": \"recur\",}", "{} {}", "nul", "[1, 2,]"] {
            XCTAssertEqual(refusal(text)?.status, .parse, "\(text)")
        }
        XCTAssertEqual(refusal([0x7B, 0x00, 0x7D])?.status, .parse)
        // `null` is valid JSON, just not a model.
        XCTAssertEqual(refusal("null")?.status, .model)
        XCTAssertEqual(refusal(" 42 ")?.status, .model)
    }

    func testMissingFileIsAnIOError() {
        XCTAssertThrowsError(try Model.load(file: "/nonexistent/model.json")) { error in
            let error = error as! RecurError
            XCTAssertEqual(error.status, .io)
            XCTAssertTrue(error.message.contains("/nonexistent/model.json"), error.message)
        }
        XCTAssertThrowsError(try Model.load(file: "/tmp")) { error in
            XCTAssertEqual((error as! RecurError).status, .io)
        }
    }
}

final class InitLimitTests: XCTestCase {
    /// Orthogonal blocks cost hidden_size^3: a size that would take minutes is refused, naming the field.
    func testLargeOrthogonalInitIsRefused() {
        XCTAssertThrowsError(try Model.load(jsonText: """
            {"format": "recur", "version": 1, "input_size": 3, "init": {"recurrent": "orthogonal"},
             "layers": [{"type": "gru", "hidden_size": 5000}]}
            """)) { error in
            let error = error as! RecurError
            XCTAssertEqual(error.status, .model)
            XCTAssertTrue(error.message.contains("layers[0].hidden_size"), error.message)
        }
        // Uniform init of the same size is fine (no cubic cost), and identity for an RNN too.
        XCTAssertNoThrow(try Model.load(jsonText: """
            {"format": "recur", "version": 1, "input_size": 3, "init": {"recurrent": "identity"},
             "layers": [{"type": "rnn", "hidden_size": 2000, "activation": "relu"}]}
            """))
    }
}

extension InitLimitTests {
    /// Many layers of the largest orthogonal size: the total is bounded too (found by fuzzing).
    func testManyOrthogonalLayersAreRefused() {
        let layers = Array(repeating: #"{"type": "gru", "hidden_size": 512}"#, count: 40).joined(separator: ", ")
        XCTAssertThrowsError(try Model.load(jsonText: """
            {"format": "recur", "version": 1, "input_size": 1, "init": {"recurrent": "identity"}, "layers": [\(layers)]}
            """)) { error in
            let error = error as! RecurError
            XCTAssertEqual(error.status, .model)
            XCTAssertTrue(error.message.contains("hidden_size"), error.message)
        }
    }
}
