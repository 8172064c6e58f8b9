// What a document may ask json-c to build, checked on its text before
// json-c builds it. json-c keeps every value as its own heap object (an
// empty object costs ~700 bytes for 3 bytes of text), so a small hostile
// file could otherwise take a gigabyte. Counted outside strings, in one pass.

enum DocumentBounds {
    /// Most values in `metadata` (objects, arrays, strings, numbers, literals).
    static let maximumMetadataValues = 65_536
    /// Objects anywhere: a model needs a few per layer; beyond this many,
    /// one per 64 bytes of text.
    static let baseObjects = 4_096

    /// Refuses a document whose metadata holds more than
    /// `maximumMetadataValues` values, or that has more objects than its
    /// size allows (MODEL, with the path).
    static func check(_ bytes: UnsafeRawBufferPointer) throws(RecurError) {
        let text = bytes.bindMemory(to: UInt8.self)
        var depth = 0, objects = 0
        var metadataDepth: Int? = nil   // depth of the metadata value while inside it
        var metadataValues = 0
        var lastString: (start: Int, end: Int)? = nil   // the last string at depth 1, maybe a key
        var i = 0
        let n = text.count
        let allowedObjects = baseObjects + n / 64
        @inline(__always) func counting() -> Bool { metadataDepth.map { depth >= $0 } ?? false }
        while i < n {
            let c = text[i]
            switch c {
            case UInt8(ascii: "\""):
                let start = i + 1
                i += 1
                var nul: Int? = nil   // where a \u0000 escape is, if any
                while i < n && text[i] != UInt8(ascii: "\"") {
                    if text[i] == UInt8(ascii: "\\") {
                        if nul == nil, i + 5 < n, text[i + 1] == UInt8(ascii: "u"),
                           text[i + 2] == 0x30, text[i + 3] == 0x30, text[i + 4] == 0x30, text[i + 5] == 0x30 {
                            nul = i
                        }
                        i += 2
                    } else {
                        i += 1
                    }
                }
                // A NUL in a key would cut it short in every message that names it.
                if let nul {
                    var after = i + 1
                    while after < n, text[after] == 0x20 || text[after] == 0x0A || text[after] == 0x0D || text[after] == 0x09 { after += 1 }
                    if after < n && text[after] == UInt8(ascii: ":") {
                        throw .model("a key holds \\u0000 (at byte \(nul)): keys cannot hold NUL characters")
                    }
                }
                if depth == 1 { lastString = (start, min(i, n)) }
                if counting() { metadataValues += 1 }
            case UInt8(ascii: ":"):
                if depth == 1, let key = lastString, key.end - key.start == 8,
                   zip(text[key.start..<key.end], "metadata".utf8).allSatisfy({ $0 == $1 }) {
                    metadataDepth = 2   // the metadata value opens at the next level
                    // A scalar metadata value (refused later) counts as one.
                }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                if c == UInt8(ascii: "{") {
                    objects += 1
                    if objects > allowedObjects {
                        throw .model("\(counting() ? "metadata: " : "")the document has more than \(allowedObjects) objects for its \(n) bytes (limit: \(baseObjects) + one per 64 bytes)")
                    }
                }
                depth += 1
                if counting() { metadataValues += 1 }
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if let d = metadataDepth, depth < d { metadataDepth = nil }
            case UInt8(ascii: ","):
                if depth == 1 { metadataDepth = nil }
                if counting() && text[max(i - 1, 0)] != UInt8(ascii: "\"") && text[max(i - 1, 0)] != UInt8(ascii: "}")
                    && text[max(i - 1, 0)] != UInt8(ascii: "]") {
                    metadataValues += 1   // a number or literal ended here (roughly: an upper bound)
                }
            default:
                break
            }
            if metadataValues > maximumMetadataValues {
                throw .model("metadata: more than \(maximumMetadataValues) values (the limit for metadata)")
            }
            i += 1
        }
    }
}
