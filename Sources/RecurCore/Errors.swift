/// Why a Recur operation failed. The raw values are the C API's
/// `recur_status` codes: append only, a value is never reused.
/// `scripts/generate-header.py` turns this enum into the C enum, with these
/// comments, as `RECUR_OK` and `RECUR_ERROR_<NAME>`.
// c-enum: recur_status RECUR_ERROR_ ok=RECUR_OK
public enum RecurStatus: Int32, Sendable {
    /// Success.
    case ok = 0
    /// A NULL pointer, a zero size or a bad option.
    case invalidArgument = 1
    /// The text is not valid JSON.
    case parse = 2
    /// Valid JSON, but not a valid model or configuration.
    case model = 3
    /// A file could not be read or written.
    case io = 4
    /// Sizes do not fit the model.
    case shape = 5
    /// NaN or infinity where a finite number is needed.
    case numeric = 6
    /// Memory could not be allocated.
    case outOfMemory = 7
    /// A bug in Recur: please report it.
    case `internal` = 8

}

/// The one error type of the core: a status and a message that says what and
/// where (a JSON path, the expected and the actual value).
public struct RecurError: Error, Sendable, CustomStringConvertible {
    public let status: RecurStatus
    public let message: String

    public init(_ status: RecurStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { message }

    static func invalidArgument(_ message: String) -> RecurError { RecurError(.invalidArgument, message) }
    static func model(_ message: String) -> RecurError { RecurError(.model, message) }
    static func shape(_ message: String) -> RecurError { RecurError(.shape, message) }
}

/// Runs a throwing body over the bytes of an array. (`withUnsafeBytes`
/// rethrows as `any Error`; this keeps the typed `RecurError`.)
func withBytes<R>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(RecurError) -> R) throws(RecurError) -> R {
    var result: Result<R, RecurError>? = nil
    bytes.withUnsafeBytes { raw in
        do throws(RecurError) { result = .success(try body(raw)) } catch { result = .failure(error) }
    }
    guard let result else { throw RecurError(.internal, "withBytes: body did not run") }
    return try result.get()
}
