import RecurCore

/// Why a Recur call failed: a code and a message that says what and where
/// (a JSON path, the expected and the actual value), the same message the
/// C API's `recur_last_error()` gives.
///
/// Every throwing function of this module throws `RecurError` (typed throws),
/// so a `catch` sees the code without casting:
///
/// ```swift
/// do {
///     let model = try Model(contentsOfFile: "model.json")
/// } catch {
///     print(error.code, error.message)   // error is a RecurError
/// }
/// ```
public struct RecurError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure; the raw values are the C API's `recur_status` codes.
    public enum Code: Int32, Sendable {
        /// A bad argument: a size of zero, an index out of range, a bad option.
        case invalidArgument = 1
        /// The text is not valid JSON.
        case parse = 2
        /// Valid JSON, but not a valid model or trainer configuration.
        case model = 3
        /// A file could not be read or written.
        case io = 4
        /// Array sizes do not fit the model.
        case shape = 5
        /// NaN or infinity where a finite number is needed.
        case numeric = 6
        /// Memory could not be allocated.
        case outOfMemory = 7
        /// A bug in Recur: please report it.
        case internalError = 8
    }

    public let code: Code
    public let message: String

    public var description: String { message }

    init(_ core: RecurCore.RecurError) {
        code = Code(rawValue: core.status.rawValue) ?? .internalError
        message = core.message
    }

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}

/// Runs a core call, turning its error into this module's `RecurError`:
/// the one place where core errors cross into the public API.
@inline(__always)
func bridged<T>(_ body: () throws(RecurCore.RecurError) -> T) throws(RecurError) -> T {
    do throws(RecurCore.RecurError) {
        return try body()
    } catch {
        throw RecurError(error)
    }
}

/// The library's version, "MAJOR.MINOR.PATCH".
public var recurVersion: String { RecurVersion.string }

/// The kernel level this CPU runs: "avx512", "avx2", "sse2", "portable" or "reference"
/// (`RECUR_CPU` can choose a lower one).
public var recurKernels: String { KernelSet.active.name }
