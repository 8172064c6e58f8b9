// The JSON funnel: the only file of RecurCore that touches json-c.
//
// Everything else reads JSON through `JSONDocument` / `JSONValue`, plain Swift
// views over the parsed tree, so the rest of the core knows nothing of json-c
// (the same idea as swift-system's one file of syscalls).
import CJSONC
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A parsed JSON document. Owns json-c's tree; `JSONValue`s taken from `root`
/// are valid while the document is alive.
final class JSONDocument {
    /// Deeper nesting than this is refused while parsing (a model needs ~6
    /// levels; `metadata` gets the rest), so a hostile file cannot exhaust
    /// the stack or the heap.
    static let maximumDepth: Int32 = 64

    /// nil for the document `null` (json-c's NULL object).
    private let tree: OpaquePointer?

    /// The top-level value.
    var root: JSONValue { JSONValue(tree) }

    /// Parses `bytes` as one strict JSON text (RFC 8259: no trailing commas,
    /// no trailing characters other than white space).
    init(parsing bytes: UnsafeRawBufferPointer) throws(RecurError) {
        guard let tokener = json_tokener_new_ex(JSONDocument.maximumDepth) else {
            throw RecurError(.outOfMemory, "could not allocate a JSON parser")
        }
        defer { json_tokener_free(tokener) }
        json_tokener_set_flags(tokener, JSON_TOKENER_STRICT)

        // json-c takes an `int` length: feed large documents in chunks.
        let chunkLimit = 1 << 30
        var chunkStart = 0
        var parsed: OpaquePointer? = nil
        while parsed == nil && chunkStart < bytes.count {
            let length = min(chunkLimit, bytes.count - chunkStart)
            let start = (bytes.baseAddress! + chunkStart).assumingMemoryBound(to: CChar.self)
            parsed = json_tokener_parse_ex(tokener, start, Int32(length))
            let status = json_tokener_get_error(tokener)
            if parsed == nil && status != json_tokener_continue {
                let at = chunkStart + Int(json_tokener_get_parse_end(tokener))
                // json-c stops with "success" when an allocation failed.
                if status == json_tokener_success {
                    throw RecurError(.outOfMemory, "out of memory while parsing the JSON text at byte \(at) of \(bytes.count)")
                }
                throw RecurError(.parse, "not valid JSON: \(String(cString: json_tokener_error_desc(status))) at byte \(at)")
            }
            if parsed == nil { chunkStart += length }
        }

        // A number at the very end (a document like `42`) is only complete
        // once something follows it: give json-c one space.
        if parsed == nil && bytes.count > 0 && json_tokener_get_error(tokener) == json_tokener_continue {
            parsed = json_tokener_parse_ex(tokener, " ", 1)
        }
        // json-c returns NULL both for `null` and for an incomplete text.
        let complete = bytes.count > 0 && json_tokener_get_error(tokener) == json_tokener_success
        guard parsed != nil || complete else {
            let what = bytes.allSatisfy { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
                ? "the document is empty" : "unexpected end of the document"
            throw RecurError(.parse, "not valid JSON: \(what) (\(bytes.count) bytes)")
        }
        let tree = parsed
        // Anything but white space after the value is an error.
        let end = chunkStart + Int(json_tokener_get_parse_end(tokener))
        if let extra = bytes[min(end, bytes.count)...].firstIndex(where: { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }) {
            if let tree { json_object_put(tree) }
            throw RecurError(.parse, "not valid JSON: unexpected text after the document at byte \(extra)")
        }
        self.tree = tree
    }

    deinit { if let tree { json_object_put(tree) } }
}

/// A borrowed view of one JSON value inside a `JSONDocument`.
struct JSONValue {
    enum Kind: String {
        case null, boolean, integer, number, string, array, object
    }

    fileprivate let object: OpaquePointer?

    fileprivate init(_ object: OpaquePointer?) { self.object = object }

    var kind: Kind {
        switch json_object_get_type(object) {
        case json_type_boolean: return .boolean
        case json_type_int: return .integer
        case json_type_double: return .number
        case json_type_string: return .string
        case json_type_array: return .array
        case json_type_object: return .object
        default: return .null
        }
    }

    /// The value of an integer (saturated at the Int64 range), else nil.
    var integer: Int64? {
        kind == .integer ? json_object_get_int64(object) : nil
    }

    /// The value of an integer or number, rounded once to float32, else nil.
    /// Decimal text is converted straight to Float (not through Double, which
    /// could round twice), so saved floats read back bit-identical.
    var float: Float? {
        switch kind {
        case .integer:
            return Float(json_object_get_int64(object))
        case .number:
            // json-c keeps the number's source text; Swift's parser is
            // correctly rounded and independent of the C locale.
            guard let text = json_object_get_string(object) else { return nil }
            return Float(String(cString: text)) ?? Float(json_object_get_double(object))
        default:
            return nil
        }
    }

    var boolean: Bool? { kind == .boolean ? json_object_get_boolean(object) != 0 : nil }

    var string: String? {
        guard kind == .string, let start = json_object_get_string(object) else { return nil }
        let length = Int(json_object_get_string_len(object))
        return start.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
    }

    /// Number of elements of an array (0 for anything else).
    var count: Int { kind == .array ? Int(json_object_array_length(object)) : 0 }

    /// Element `index` of an array; `index` must be below `count`.
    subscript(index: Int) -> JSONValue {
        JSONValue(json_object_array_get_idx(object, index))
    }

    /// The members of an object, in document order.
    var members: [(key: String, value: JSONValue)] {
        guard kind == .object else { return [] }
        var result: [(key: String, value: JSONValue)] = []
        var iterator = json_object_iter_begin(object)
        var end = json_object_iter_end(object)
        while json_object_iter_equal(&iterator, &end) == 0 {
            let key = String(cString: json_object_iter_peek_name(&iterator))
            result.append((key, JSONValue(json_object_iter_peek_value(&iterator))))
            json_object_iter_next(&iterator)
        }
        return result
    }

    /// Compact JSON text of this value (used to keep `metadata` unchanged).
    var text: String {
        String(cString: json_object_to_json_string_ext(object, JSON_C_TO_STRING_PLAIN))
    }

    /// The same text in checked memory (`metadata`, whose size the document decides).
    func textBuffer() throws(RecurError) -> ByteBuffer {
        guard let text = json_object_to_json_string_ext(object, JSON_C_TO_STRING_PLAIN) else {
            throw RecurError(.outOfMemory, "could not write the metadata as text")
        }
        let length = strlen(text)
        let buffer = try ByteBuffer(capacity: length + 1)
        try buffer.append(UnsafeRawBufferPointer(start: text, count: length))
        return buffer
    }

    /// A short description for error messages: `a string`, `-3`, `an array`.
    var summary: String {
        switch kind {
        case .null: return "null"
        case .boolean: return boolean == true ? "true" : "false"
        case .integer, .number: return text
        case .string:
            let value = string ?? ""
            return value.count <= 40 ? "\"\(value)\"" : "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}
