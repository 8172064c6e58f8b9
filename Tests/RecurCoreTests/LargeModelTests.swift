// Large tensors take a fast path (TensorExtractor) around json-c: it must
// read exactly what the json-c path reads, and its number parser must round
// exactly like a correctly rounded decimal-to-float conversion.
import Foundation
import XCTest
@testable import RecurCore

final class LargeModelTests: XCTestCase {
    private func jsoncOnly(_ text: String) throws -> Model {
        var bytes = Array(text.utf8)
        return try bytes.withUnsafeMutableBytes { raw in
            let document = try JSONDocument(parsing: UnsafeRawBufferPointer(raw))
            return try ModelReader.read(document.root, extracted: ExtractedTensors())
        }
    }

    func testFastPathReadsWhatJsonCReads() throws {
        let source = try Model.load(jsonText: """
            {"format": "recur", "version": 1, "input_size": 40, "init": {"seed": 11}, "metadata": {"data": [1, 2, 3]},
             "layers": [{"type": "lstm", "hidden_size": 48}, {"type": "gru", "hidden_size": 33}, {"type": "dense", "units": 5}]}
            """)
        for encoding in [TensorEncoding.flat, .base64] {
            let text = source.json(encoding: encoding)
            XCTAssertGreaterThan(text.utf8.count, 64 * 1024)
            let bytes = Array(text.utf8)
            let extracted = try bytes.withUnsafeBytes { try TensorExtractor.extract($0) }
            XCTAssertNotNil(extracted, "\(encoding): large tensors are taken out")
            XCTAssertGreaterThanOrEqual(extracted?.tensors.arrays.count ?? 0, 3)
            let fast = try Model.load(jsonText: text), slow = try jsoncOnly(text)
            XCTAssertEqual(fast.json(), slow.json(), "\(encoding)")
            XCTAssertEqual(fast.json(), source.json(), "\(encoding)")
            XCTAssertEqual(fast.metadata, "{\"data\":[1,2,3]}")
        }
    }

    func testFastPathLeavesErrorsToTheNormalPath() throws {
        let source = try Model.load(jsonText: """
            {"format": "recur", "version": 1, "input_size": 64, "init": {"seed": 2}, "layers": [{"type": "rnn", "hidden_size": 200}]}
            """)
        let text = source.json(encoding: .flat)
        // A string among the numbers, an overflowing number, a wrong count.
        let broken = [
            (text.replacingOccurrences(of: "\"data\": [", with: "\"data\": [\"1\", "), "layers[0].weights.weight_ih.data"),
            (text.replacingOccurrences(of: #""data": \[[^,]+,"#, with: "\"data\": [1e999,", options: .regularExpression),
             "layers[0].weights.weight_ih.data[0]"),
            (text.replacingOccurrences(of: "\"data\": [", with: "\"data\": [0.5, "), "layers[0].weights.weight_ih.data"),
        ]
        for (document, path) in broken {
            XCTAssertThrowsError(try Model.load(jsonText: document)) { error in
                let error = error as! RecurError
                XCTAssertEqual(error.status, .model)
                XCTAssertTrue(error.message.contains(path), error.message)
            }
        }
    }

    func testNumberParsingIsCorrectlyRounded() {
        var random = SplitMix64(seed: 77)
        var texts = ["0", "-0", "0.1", "1e-45", "1.4e-45", "3.4028235e38", "3.4028236e38", "1.17549435e-38", "16777217",
                     "0.000001", "123456789012345678901234567890", "1.0000000596046447753906250", "1.00000005960464477539062501",
                     "2.5e-46", "7.006492321624085e-46", "-1.5E+3", "9007199254740993", "4.9999999999999996e-1"]
        for _ in 0..<20000 {
            // Random floats printed with 6 to 20 significant digits, near and far from ties.
            let f = Float(bitPattern: UInt32(truncatingIfNeeded: random.next()))
            guard f.isFinite else { continue }
            let digits = 6 + Int(random.next() % 15)
            texts.append(String(format: "%.\(digits)g", Double(f)))
            // Exactly halfway between f and its successor, in decimal.
            let half = (Double(f) + Double(f.nextUp)) / 2
            texts.append(String(format: "%.17g", half))
        }
        for text in texts {
            let bytes = Array(text.utf8)
            let parsed = bytes.withUnsafeBufferPointer { TensorExtractor.parseNumber($0, 0) }
            let expected = Float(text)!
            XCTAssertEqual(parsed?.0.bitPattern, expected.bitPattern, text)
            XCTAssertEqual(parsed?.1, bytes.count, text)
        }
        for bad in ["01", "1.", ".5", "-", "1e", "+1", "1e+"] {
            let bytes = Array(bad.utf8)
            let parsed = bytes.withUnsafeBufferPointer { TensorExtractor.parseNumber($0, 0) }
            XCTAssertTrue(parsed == nil || parsed!.1 < bytes.count, bad)
        }
    }
}
