// Reads one tensor, in any of the format's three forms, into its slot of
// the parameter buffer:
//   1. nested arrays            [[0.1, 0.2], [0.3, 0.4]]
//   2. flat data + shape        {"shape": [2, 2], "data": [0.1, 0.2, 0.3, 0.4]}
//   3. base64 + shape           {"shape": [2, 2], "base64": "<little-endian float32>"}
// The shape is checked against the slot before any value is read. With no
// buffer (`of: nil`) only the structure is checked: the shape and that the
// data holds as many values as it declares, so that the model's buffer is
// allocated only for data that is there (a 200-byte document cannot ask for
// a gigabyte); the values are then read, and checked, into the buffer.

enum TensorReader {
    static func read(_ value: JSONValue, into slot: TensorSlot, of buffer: FloatBuffer?,
                     path: String, extracted: ExtractedTensors) throws(RecurError) {
        switch value.kind {
        case .array:
            try readNested(value, into: slot, of: buffer, path: path)
        case .object:
            try readShaped(value, into: slot, of: buffer, path: path, extracted: extracted)
        default:
            throw .model("\(path): expected a tensor (nested arrays, or an object with \"shape\" and \"data\" or \"base64\"), got \(value.summary)")
        }
    }

    // MARK: Form 1

    private static func readNested(_ value: JSONValue, into slot: TensorSlot, of buffer: FloatBuffer?,
                                   path: String) throws(RecurError) {
        // The nesting is the shape: follow the first elements down.
        var shape: [Int] = []
        var probe = value
        while probe.kind == .array && shape.count <= slot.shape.count {
            shape.append(probe.count)
            if probe.count == 0 { break }
            probe = probe[0]
        }
        guard shape == slot.shape else {
            throw .model("\(path): expected shape \(shapeText(slot.shape)), got \(shapeText(shape))")
        }
        if slot.shape.count == 1 {
            guard let buffer else { return }
            try readNumbers(value, count: slot.rows, path: path) { i, x in buffer.base[slot.index(row: i, column: 0)] = x }
            return
        }
        for row in 0..<slot.rows {
            let rowValue = value[row]
            let rowPath = "\(path)[\(row)]"
            guard rowValue.kind == .array, rowValue.count == slot.columns else {
                throw .model("\(rowPath): expected an array of \(slot.columns) numbers, got \(rowValue.kind == .array ? "\(rowValue.count) elements" : rowValue.summary)")
            }
            guard let buffer else { continue }
            try readNumbers(rowValue, count: slot.columns, path: rowPath) { column, x in
                buffer.base[slot.index(row: row, column: column)] = x
            }
        }
    }

    // MARK: Forms 2 and 3

    private static func readShaped(_ value: JSONValue, into slot: TensorSlot, of buffer: FloatBuffer?,
                                   path: String, extracted: ExtractedTensors) throws(RecurError) {
        var shapeValue: JSONValue? = nil
        var dataValue: JSONValue? = nil
        var base64Value: JSONValue? = nil
        for (key, member) in value.members {
            switch key {
            case "shape": shapeValue = member
            case "data": dataValue = member
            case "base64": base64Value = member
            default: throw .model("\(path): unknown key \"\(key)\" in a tensor (expected shape, and data or base64)")
            }
        }
        guard let shapeValue else { throw .model("\(path).shape: missing") }
        guard shapeValue.kind == .array else { throw .model("\(path).shape: expected an array of sizes, got \(shapeValue.summary)") }
        var shape: [Int] = []
        for index in 0..<min(shapeValue.count, 8) {
            guard let size = shapeValue[index].integer, size >= 0 else {
                throw .model("\(path).shape[\(index)]: expected an integer >= 0, got \(shapeValue[index].summary)")
            }
            shape.append(Int(clamping: size))
        }
        guard shape == slot.shape, shapeValue.count == shape.count else {
            throw .model("\(path): expected shape \(shapeText(slot.shape)), got \(shapeValue.count > 8 ? "\(shapeValue.count) dimensions" : shapeText(shape))")
        }
        let count = slot.count
        // A payload the TensorExtractor already parsed.
        if let placeholder = (dataValue ?? base64Value)?.string, let values = extracted.array(for: placeholder),
           (dataValue == nil) != (base64Value == nil) {
            guard values.count == count else {
                throw .model("\(path).\(dataValue != nil ? "data" : "base64"): has \(values.count) values, shape \(shapeText(slot.shape)) needs \(count)")
            }
            if let buffer { slot.store(values.base, into: buffer.base) }
            return
        }
        switch (dataValue, base64Value) {
        case (let data?, nil):
            guard data.kind == .array else { throw .model("\(path).data: expected an array of numbers, got \(data.summary)") }
            guard data.count == count else {
                throw .model("\(path).data: has \(data.count) values, shape \(shapeText(slot.shape)) needs \(count)")
            }
            guard let buffer else { return }
            try readNumbers(data, count: count, path: "\(path).data") { i, x in
                buffer.base[slot.index(row: i / slot.columns, column: i % slot.columns)] = x
            }
        case (nil, let encoded?):
            guard let text = encoded.string else { throw .model("\(path).base64: expected a string, got \(encoded.summary)") }
            guard let buffer else {
                // 4 characters per 3 bytes, the last group padded with '='.
                let needed = (count * 4 + 2) / 3 * 4
                guard text.utf8.count == needed else {
                    throw .model("\(path).base64: \(text.utf8.count) base64 characters do not hold \(count) float32 values (\(needed) characters needed)")
                }
                return
            }
            try Base64.decodeFloats(text, count: count, path: "\(path).base64") { i, x in
                buffer.base[slot.index(row: i / slot.columns, column: i % slot.columns)] = x
            }
        case (nil, nil):
            throw .model("\(path): a tensor with \"shape\" needs \"data\" or \"base64\"")
        case (_?, _?):
            throw .model("\(path): give \"data\" or \"base64\", not both")
        }
    }

    /// Reads `count` finite numbers from an array, handing each to `store`.
    private static func readNumbers(_ array: JSONValue, count: Int, path: String,
                                    store: (Int, Float) -> Void) throws(RecurError) {
        for index in 0..<count {
            let element = array[index]
            guard let x = element.float else {
                throw .model("\(path)[\(index)]: expected a number, got \(element.kind == .string ? "the string \(element.summary)" : element.summary)")
            }
            guard x.isFinite else {
                throw RecurError(.model, "\(path)[\(index)]: \(element.summary) is not a finite float32")
            }
            store(index, x)
        }
    }
}

/// Standard base64 (RFC 4648, with padding) of little-endian float32 data.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, character) in alphabet.enumerated() { table[Int(character)] = UInt8(index) }
        return table
    }()

    /// Appends `count` floats (`value(i)`, little-endian float32 bytes) as
    /// standard base64, 3 bytes to 4 characters, straight into `out`.
    static func encode(count: Int, _ value: (Int) -> Float, into out: ByteBuffer) throws(RecurError) {
        let byteCount = count * 4
        try out.reserve((byteCount + 2) / 3 * 4)
        @inline(__always) func byte(_ k: Int) -> UInt32 {
            (value(k / 4).bitPattern.littleEndian >> (8 * UInt32(k % 4))) & 0xFF
        }
        var index = 0
        while index < byteCount {
            let b0 = byte(index)
            let b1 = index + 1 < byteCount ? byte(index + 1) : 0
            let b2 = index + 2 < byteCount ? byte(index + 2) : 0
            let triple = b0 << 16 | b1 << 8 | b2
            try out.append(alphabet[Int(triple >> 18 & 63)])
            try out.append(alphabet[Int(triple >> 12 & 63)])
            try out.append(index + 1 < byteCount ? alphabet[Int(triple >> 6 & 63)] : UInt8(ascii: "="))
            try out.append(index + 2 < byteCount ? alphabet[Int(triple & 63)] : UInt8(ascii: "="))
            index += 3
        }
    }

    /// Decodes exactly `count` finite floats, handing each to `store`.
    static func decodeFloats(_ text: String, count: Int, path: String,
                             store: (Int, Float) -> Void) throws(RecurError) {
        var utf8 = Array(text.utf8)
        var padding = 0
        while utf8.last == UInt8(ascii: "=") && padding < 2 { utf8.removeLast(); padding += 1 }
        let expectedBytes = count * 4
        let expectedCharacters = (expectedBytes + 2) / 3 * 4
        guard utf8.count + padding == expectedCharacters, padding == (3 - expectedBytes % 3) % 3 else {
            throw .model("\(path): \(text.utf8.count) base64 characters do not hold \(count) float32 values (\(expectedCharacters) characters needed)")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(expectedBytes + 2)
        var accumulator: UInt32 = 0
        var bits = 0
        for (position, character) in utf8.enumerated() {
            let sextet = decodeTable[Int(character)]
            guard sextet != 0xFF else {
                throw .model("\(path): character \(position) is not base64")
            }
            accumulator = accumulator << 6 | UInt32(sextet)
            bits += 6
            if bits >= 8 {
                bits -= 8
                bytes.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        for index in 0..<count {
            let raw = UInt32(bytes[4 * index]) | UInt32(bytes[4 * index + 1]) << 8
                | UInt32(bytes[4 * index + 2]) << 16 | UInt32(bytes[4 * index + 3]) << 24
            let value = Float(bitPattern: raw)
            guard value.isFinite else { throw .model("\(path): value \(index) is not a finite float32") }
            store(index, value)
        }
    }
}
