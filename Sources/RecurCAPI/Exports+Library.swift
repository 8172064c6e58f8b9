// MARK: - Library
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RecurCore

/// The library's version as MAJOR*10000 + MINOR*100 + PATCH. Bindings compare
/// it with the RECUR_VERSION_NUMBER of the header they were built against.
@_cdecl("recur_version_number")
public func recur_version_number() -> UInt32 {
    RecurVersion.number
}

/// The library's version as "MAJOR.MINOR.PATCH". Static storage: never free it.
@_cdecl("recur_version_string")
public func recur_version_string() -> UnsafePointer<CChar>? {
    UnsafePointer(versionText)
}

/// The message of the last failing call on the calling thread, or "" when
/// none failed yet. Owned by the library; valid until this thread's next
/// failing call. Never NULL.
@_cdecl("recur_last_error")
public func recur_last_error() -> UnsafePointer<CChar>? {
    LastError.current
}

/// A short static description of a status ("unknown status" for a value
/// this version does not know). Never NULL; never free it.
@_cdecl("recur_status_string")
public func recur_status_string(_ status: Status) -> UnsafePointer<CChar>? {
    let text: StaticString
    switch RecurStatus(rawValue: status) {
    case .ok: text = "ok"
    case .invalidArgument: text = "invalid argument"
    case .parse: text = "not valid JSON"
    case .model: text = "not a valid model or configuration"
    case .io: text = "a file could not be read or written"
    case .shape: text = "sizes do not fit the model"
    case .numeric: text = "not a finite number"
    case .outOfMemory: text = "out of memory"
    case .internal: text = "internal error (a bug in Recur)"
    case nil: text = "unknown status"
    }
    return UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
}

/// The version as a C string, made once and kept for the process's life.
nonisolated(unsafe) private let versionText: UnsafeMutablePointer<CChar> = strdup(RecurVersion.string)

/// The kernels this process uses: "avx512", "avx2", "sse2" (the best level
/// the CPU supports, or the one the RECUR_CPU environment variable names
/// when the CPU supports it), "portable" (Swift SIMD with fused
/// multiply-adds: the fast level of builds for other CPUs, e.g. arm64, and
/// RECUR_CPU=portable) or "reference" (RECUR_CPU=reference: plain loops).
/// Static storage: never free it.
@_cdecl("recur_cpu_kernels")
public func recur_cpu_kernels() -> UnsafePointer<CChar>? {
    let text: StaticString
    switch KernelSet.active.name {
    case "avx512": text = "avx512"
    case "avx2": text = "avx2"
    case "sse2": text = "sse2"
    case "portable": text = "portable"
    default: text = "reference"
    }
    return UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
}
