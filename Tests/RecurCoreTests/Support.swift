// Test support: finding Tests/testdata, reading reference cases with
// Foundation's JSON parser (independent of the library's json-c reader), and
// the README's tolerances.
import Foundation
import XCTest
@testable import RecurCore

enum TestData {
    /// The project root, found from this file's path.
    static let projectRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The project's reference cases (Tests/testdata/README.md), or the
    /// folder RECUR_TESTDATA names.
    static let directory: URL = {
        if let path = ProcessInfo.processInfo.environment["RECUR_TESTDATA"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return projectRoot.appendingPathComponent("Tests/testdata")
    }()

    /// Every reference case file, sorted by name.
    static func caseFiles() throws -> [URL] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        return names.filter { $0.hasSuffix(".json") }.sorted().map { directory.appendingPathComponent($0) }
    }
}

/// One reference case (see Tests/testdata/README.md).
struct ReferenceCase {
    let name: String
    let document: [String: Any]
    let modelJSON: Data
    let batch: Int
    let steps: Int
    var input: [Float]
    let output: [Float]
    let finalState: [Float]

    init(_ url: URL) throws {
        let data = try Data(contentsOf: url)
        document = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        name = document["name"] as! String
        modelJSON = try JSONSerialization.data(withJSONObject: document["model"]!)
        batch = document["batch"] as! Int
        steps = document["steps"] as! Int
        input = floats(document["input"])
        output = floats(document["output"])
        finalState = floats(document["final_state"])
    }

    func loadModel() throws -> Model {
        try modelJSON.withUnsafeBytes { try Model.load(json: $0) }
    }
}

/// The kernels the tests run with: the reference kernels and every fast level
/// this CPU can run, or only the level a library user gets here
/// (`KernelSet.active`) when RECUR_TEST_LEVELS=native (`make check`).
let allKernelSets: [KernelSet] = ProcessInfo.processInfo.environment["RECUR_TEST_LEVELS"] == "native"
    ? [.active] : [.reference] + KernelSet.supported

/// The fast levels the tests compare with each other and with the reference:
/// every one this CPU can run, or only the active one with RECUR_TEST_LEVELS=native.
let fastKernelSets: [KernelSet] = ProcessInfo.processInfo.environment["RECUR_TEST_LEVELS"] == "native"
    ? [KernelSet.active].filter { $0.name != "reference" } : KernelSet.supported

func floats(_ value: Any?) -> [Float] {
    (value as? [Any] ?? []).map { Float(($0 as! NSNumber).doubleValue) }
}

/// The README's tolerance for outputs, states, gradients and weights.
func assertClose(_ mine: [Float], _ reference: [Float], _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(mine.count, reference.count, "\(what): count", file: file, line: line)
    var worst = 0
    var worstExcess: Float = -1
    for i in 0..<min(mine.count, reference.count) {
        let excess = abs(mine[i] - reference[i]) - (5e-5 + 5e-4 * abs(reference[i]))
        if excess > worstExcess || mine[i].isNaN { worstExcess = mine[i].isNaN ? .infinity : excess; worst = i }
    }
    XCTAssertLessThanOrEqual(worstExcess, 0, "\(what): element \(worst) is \(mine.isEmpty ? .nan : mine[worst]), reference \(reference.isEmpty ? .nan : reference[worst])", file: file, line: line)
}

extension Model {
    static func load(jsonText: String) throws -> Model {
        var text = jsonText
        return try text.withUTF8 { try Model.load(json: UnsafeRawBufferPointer($0)) }
    }
}

extension State {
    /// Runs `steps` steps over a [batch][steps][input] array.
    func run(_ input: [Float], steps: Int) throws -> [Float] {
        var output = [Float](repeating: .nan, count: batch * steps * model.outputSize)
        try input.withUnsafeBufferPointer { x in
            try output.withUnsafeMutableBufferPointer { y in try run(input: x, steps: steps, output: y) }
        }
        return output
    }

    func step(_ input: [Float]) throws -> [Float] {
        var output = [Float](repeating: .nan, count: batch * model.outputSize)
        try input.withUnsafeBufferPointer { x in
            try output.withUnsafeMutableBufferPointer { y in try step(input: x, output: y) }
        }
        return output
    }

    var values: [Float] {
        var out = [Float](repeating: .nan, count: batch * size)
        try! out.withUnsafeMutableBufferPointer { try get(into: $0) }
        return out
    }

    func setValues(_ values: [Float]) throws {
        try values.withUnsafeBufferPointer { try set(from: $0) }
    }
}

/// Bit patterns, for asserting bit-identical floats.
func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }
