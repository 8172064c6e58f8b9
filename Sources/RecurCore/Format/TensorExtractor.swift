// Large tensors, read without building a JSON object per number.
//
// json-c keeps every number of a document as its own heap object: a
// 13.6M-parameter model in flat form takes ~1.6 GB and seconds to parse.
// Before json-c sees a document, this pass finds the big tensor payloads —
// the value of `data` (an array of numbers) or `base64` (a string) inside
// `layers[i].weights.NAME` — parses them straight into float arrays and hands
// json-c a skeleton in which each is replaced by a placeholder string.
//
// Anything unusual (a non-number element, a non-finite value, an escape in a
// base64 string, a small array) is left in place for the normal path, which
// reports errors with their JSON paths. Numbers are converted with correct
// rounding, so both paths give the same floats. Its memory (the skeleton,
// the payloads) is checked: running out is OUT_OF_MEMORY, not a trap.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Tensor payloads taken out of a document, by placeholder index.
struct ExtractedTensors {
    var arrays: [FloatBuffer] = []

    /// The placeholder string that stands for array `index` in the skeleton:
    /// it starts with a NUL character, which no real tensor value has.
    static let marker: [UInt8] = Array("\\u0000recur-tensor-".utf8)

    /// The array behind a placeholder (the string as json-c decoded it).
    func array(for placeholder: String) -> FloatBuffer? {
        let prefix = "\u{0}recur-tensor-"
        guard placeholder.hasPrefix(prefix), let index = Int(placeholder.dropFirst(prefix.count)),
              arrays.indices.contains(index) else { return nil }
        return arrays[index]
    }
}

enum TensorExtractor {
    /// Payloads smaller than this stay in the document.
    static let minimumElements = 1024

    /// The document with large tensor payloads replaced by placeholders, and
    /// the payloads. Returns nil when there is nothing to take out.
    static func extract(_ bytes: UnsafeRawBufferPointer) throws(RecurError) -> (skeleton: ByteBuffer, tensors: ExtractedTensors)? {
        let text = bytes.bindMemory(to: UInt8.self)
        let n = text.count
        guard n > 64 * 1024 else { return nil }
        let skeleton = try ByteBuffer(capacity: 1 << 16)
        var tensors = ExtractedTensors()
        var copiedUpTo = 0
        // Containers open at the current point, and the key each was opened under.
        var containers: [(isObject: Bool, key: ArraySlice<UInt8>)] = []
        var lastKey: ArraySlice<UInt8> = []
        var expectingKey = false
        var i = 0
        let dataKey = Array("data".utf8)[...], base64Key = Array("base64".utf8)[...]
        let layersKey = Array("layers".utf8)[...], weightsKey = Array("weights".utf8)[...]

        /// Inside layers[i].weights.NAME, right after the key `data` or `base64`.
        func atTensorPayload() -> Bool {
            // top object / "layers" array / layer object / "weights" object / tensor object
            containers.count == 5 && containers[4].isObject && !containers[1].isObject
                && containers[1].key == layersKey && containers[3].key == weightsKey
        }

        while i < n {
            let c = text[i]
            switch c {
            case UInt8(ascii: "\""):
                let start = i + 1
                guard let j = closingQuote(text, from: start) else { return try finish() }
                let isBase64Payload = !expectingKey && atTensorPayload() && lastKey == base64Key
                if expectingKey, let last = containers.last, last.isObject {
                    lastKey = Array(text[start..<j])[...]
                } else if isBase64Payload && j - start >= minimumElements * 4 / 3,
                          let floats = try decodeBase64(text, start, j) {
                    try replace(start - 1, j + 1, with: floats)
                }
                i = j + 1
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                if c == UInt8(ascii: "["), atTensorPayload(), lastKey == dataKey,
                   let (floats, end) = try parseNumbers(text, i), floats.count >= minimumElements {
                    try replace(i, end, with: floats)
                    i = end
                    continue
                }
                containers.append((c == UInt8(ascii: "{"), containers.last?.isObject == true ? lastKey : []))
                expectingKey = c == UInt8(ascii: "{")
                i += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if !containers.isEmpty { containers.removeLast() }
                expectingKey = false
                i += 1
            case UInt8(ascii: ","):
                expectingKey = containers.last?.isObject == true
                i += 1
            case UInt8(ascii: ":"):
                expectingKey = false
                i += 1
            default:
                i += 1
            }
        }
        return try finish()

        func replace(_ from: Int, _ to: Int, with floats: FloatBuffer) throws(RecurError) {
            try skeleton.append(UnsafeRawBufferPointer(rebasing: bytes[copiedUpTo..<from]))
            try skeleton.append(UInt8(ascii: "\""))
            for byte in ExtractedTensors.marker { try skeleton.append(byte) }
            try skeleton.append(String(tensors.arrays.count))
            try skeleton.append(UInt8(ascii: "\""))
            tensors.arrays.append(floats)
            copiedUpTo = to
        }

        func finish() throws(RecurError) -> (skeleton: ByteBuffer, tensors: ExtractedTensors)? {
            guard !tensors.arrays.isEmpty else { return nil }
            try skeleton.append(UnsafeRawBufferPointer(rebasing: bytes[copiedUpTo..<n]))
            return (skeleton, tensors)
        }
    }

    /// The index of the quote that ends a string whose text starts at
    /// `start` (memchr, then a look back for escaping backslashes).
    static func closingQuote(_ text: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var position = start
        while position < text.count {
            guard let found = memchr(text.baseAddress! + position, 0x22, text.count - position) else { return nil }
            let index = text.baseAddress!.distance(to: found.assumingMemoryBound(to: UInt8.self))
            var backslashes = 0
            while index - backslashes - 1 >= start && text[index - backslashes - 1] == UInt8(ascii: "\\") { backslashes += 1 }
            if backslashes % 2 == 0 { return index }
            position = index + 1
        }
        return nil
    }

    /// A JSON array of finite numbers starting at `start` ("["): its floats
    /// and the index after its "]". Nil for anything else. Its elements are
    /// counted first (no brackets, braces or quotes inside), so that one
    /// checked allocation holds them.
    static func parseNumbers(_ text: UnsafeBufferPointer<UInt8>, _ start: Int) throws(RecurError) -> (FloatBuffer, Int)? {
        let n = text.count
        var elements = 1, j = start + 1, empty = true
        while j < n && text[j] != UInt8(ascii: "]") {
            switch text[j] {
            case UInt8(ascii: ","): elements += 1
            case UInt8(ascii: "["), UInt8(ascii: "{"), UInt8(ascii: "\""): return nil
            case 0x20, 0x0A, 0x0D, 0x09: break
            default: empty = false
            }
            j += 1
        }
        guard j < n else { return nil }
        if empty { return elements == 1 ? (try FloatBuffer(count: 0), j + 1) : nil }
        let floats = try FloatBuffer(count: elements)
        var i = start + 1
        @inline(__always) func skipSpace() {
            while i < n, text[i] == 0x20 || text[i] == 0x0A || text[i] == 0x0D || text[i] == 0x09 { i += 1 }
        }
        for k in 0..<elements {
            skipSpace()
            guard let (value, end) = parseNumber(text, i), value.isFinite else { return nil }
            floats.base[k] = value
            i = end
            skipSpace()
            guard i < n, text[i] == UInt8(ascii: k + 1 < elements ? "," : "]") else { return nil }
            i += 1
        }
        return (floats, i)
    }

    /// Exact powers of ten in Double.
    private static let powersOfTen: [Double] = (0...22).map { exponent in
        var value = 1.0
        for _ in 0..<exponent { value *= 10 }
        return value
    }

    /// One JSON number (RFC 8259 grammar) at `start`, correctly rounded to
    /// float32, and the index after it.
    static func parseNumber(_ text: UnsafeBufferPointer<UInt8>, _ start: Int) -> (Float, Int)? {
        let n = text.count
        var i = start
        let negative = i < n && text[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        var mantissa: UInt64 = 0
        var digits = 0, exponent = 0
        var truncated = false   // digits dropped, or a huge exponent: use the slow path
        @inline(__always) func isDigit(_ i: Int) -> Bool { i < n && text[i] >= 0x30 && text[i] <= 0x39 }
        guard isDigit(i) else { return nil }
        if text[i] == 0x30 {
            i += 1
            if isDigit(i) { return nil }            // no leading zeros
        } else {
            while isDigit(i) {
                if digits < 19 { mantissa = mantissa * 10 + UInt64(text[i] - 0x30); digits += mantissa == 0 ? 0 : 1 }
                else { exponent += 1; truncated = true }
                i += 1
            }
        }
        if i < n && text[i] == UInt8(ascii: ".") {
            i += 1
            guard isDigit(i) else { return nil }
            while isDigit(i) {
                if digits < 19 { mantissa = mantissa * 10 + UInt64(text[i] - 0x30); digits += mantissa == 0 ? 0 : 1; exponent -= 1 }
                else { truncated = true }
                i += 1
            }
        }
        if i < n && (text[i] == UInt8(ascii: "e") || text[i] == UInt8(ascii: "E")) {
            i += 1
            var exponentNegative = false
            if i < n && (text[i] == UInt8(ascii: "+") || text[i] == UInt8(ascii: "-")) { exponentNegative = text[i] == UInt8(ascii: "-"); i += 1 }
            guard isDigit(i) else { return nil }
            var value = 0
            while isDigit(i) { if value < 100_000 { value = value * 10 + Int(text[i] - 0x30) } else { truncated = true }; i += 1 }
            exponent += exponentNegative ? -value : value
        }
        // Clinger's fast path: an exact mantissa and an exact power of ten
        // give the correctly rounded Double in one operation; rounding that to
        // Float is then correct unless the Double sits exactly halfway
        // between two floats (checked), where the slow path decides.
        if !truncated && digits < 19 && mantissa < (1 << 53) && abs(exponent) <= 22 {
            var d = Double(mantissa)
            d = exponent >= 0 ? d * powersOfTen[exponent] : d / powersOfTen[-exponent]
            let f = Float(d)
            if Double(f) == d || !isHalfway(d, f) {
                return (negative ? -f : f, i)
            }
        }
        let slice = UnsafeBufferPointer(rebasing: text[start..<i])
        guard let f = Float(String(decoding: slice, as: UTF8.self)) else { return nil }
        return (f, i)
    }

    /// Whether `d` lies exactly halfway between `f` and its neighbour.
    private static func isHalfway(_ d: Double, _ f: Float) -> Bool {
        let other = Double(f) < d ? f.nextUp : f.nextDown
        return (Double(f) + Double(other)) / 2 == d
    }

    /// Standard base64 of little-endian float32 in text[start..<end], all
    /// finite; nil for anything else (left to the normal path).
    static func decodeBase64(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) throws(RecurError) -> FloatBuffer? {
        let length = end - start
        guard length % 4 == 0, length > 0 else { return nil }
        var padding = 0
        while padding < 2 && text[end - 1 - padding] == UInt8(ascii: "=") { padding += 1 }
        let byteCount = length / 4 * 3 - padding
        guard byteCount % 4 == 0 else { return nil }
        let floats = try FloatBuffer(count: byteCount / 4)
        let ok = UnsafeMutableRawPointer(floats.base).withMemoryRebound(to: UInt8.self, capacity: byteCount + 3) { bytes -> Bool in
            return Base64.decodeTable.withUnsafeBufferPointer { table -> Bool in
                // Whole groups of four characters -> three bytes; a bad
                // character anywhere leaves bits 0xC0 set.
                let groups = length / 4 - (padding > 0 ? 1 : 0)
                var bad: UInt8 = 0
                var i = start, written = 0
                for _ in 0..<groups {
                    let a = table[Int(text[i])], b = table[Int(text[i + 1])]
                    let c = table[Int(text[i + 2])], d = table[Int(text[i + 3])]
                    bad |= a | b | c | d
                    let triple = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                    bytes[written] = UInt8(truncatingIfNeeded: triple >> 16)
                    bytes[written + 1] = UInt8(truncatingIfNeeded: triple >> 8)
                    bytes[written + 2] = UInt8(truncatingIfNeeded: triple)
                    written += 3
                    i += 4
                }
                if padding > 0 {   // the last group: 2 or 3 characters and '='
                    let a = table[Int(text[i])], b = table[Int(text[i + 1])]
                    let c = padding == 1 ? table[Int(text[i + 2])] : 0
                    bad |= a | b | c
                    let triple = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6
                    bytes[written] = UInt8(truncatingIfNeeded: triple >> 16)
                    if padding == 1 { bytes[written + 1] = UInt8(truncatingIfNeeded: triple >> 8) }
                }
                return bad & 0xC0 == 0
            }
        }
        guard ok else { return nil }
        for i in 0..<floats.count {
            floats.base[i] = Float(bitPattern: UInt32(littleEndian: floats.base[i].bitPattern))
            if !floats.base[i].isFinite { return nil }
        }
        return floats
    }
}
