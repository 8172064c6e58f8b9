// Files, through the C library (Glibc; Darwin elsewhere): the only file of the core that opens, reads, writes
// or renames. Failures become `RecurError(.io, ...)` naming the path and
// the system's reason.
#if canImport(Glibc)
import Glibc
/// The system's read(2) (`Files.read` shadows the name inside `Files`).
private let systemRead = Glibc.read
#elseif canImport(Darwin)
import Darwin
private let systemRead = Darwin.read
#endif

enum Files {
    /// The whole content of a file, in memory that fails with
    /// `.outOfMemory` rather than trapping.
    static func read(_ path: String) throws(RecurError) -> ByteBuffer {
        // O_NONBLOCK: opening a FIFO (or a device) must not wait for a
        // writer; it is refused below as not a regular file.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw failure("cannot open", path) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw failure("cannot stat", path) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw RecurError(.io, "\(path): not a regular file (a model is read from a regular file only)")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        // Sized by fstat; grown if the file grows while it is read.
        let bytes = try ByteBuffer(capacity: max(Int(info.st_size), 0) + 1)
        while true {
            try bytes.reserve(1 << 16)
            let got = systemRead(fd, bytes.base + bytes.count, 1 << 16)
            if got < 0 {
                if errno == EINTR { continue }
                throw failure("cannot read", path)
            }
            if got == 0 { break }
            bytes.advance(by: got)
        }
        return bytes
    }

    /// Writes `text` to a temporary file beside `path`, flushes it to disk
    /// and renames it over `path`. The temporary name is short
    /// (`.recur-XXXXXX` in the same directory), so any name the filesystem
    /// accepts can be saved over.
    static func writeAtomically(_ path: String, _ bytes: UnsafeRawBufferPointer) throws(RecurError) {
        let directory = path.lastIndex(of: "/").map { String(path[...$0]) } ?? ""
        let temporary = directory + ".recur-XXXXXX"
        var template = Array(temporary.utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw failure("cannot create a temporary file for", path) }
        let temporaryPath = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var ok = false
        defer {
            if !ok { unlink(temporaryPath) }
        }
        var offset = 0, written = true
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 { if errno == EINTR { continue }; written = false; break }
            offset += n
        }
        guard written, fchmod(fd, 0o644) == 0, fsync(fd) == 0 else {
            let error = failure("cannot write", temporaryPath)
            close(fd)
            throw error
        }
        guard close(fd) == 0 else { throw failure("cannot close", temporaryPath) }
        guard rename(temporaryPath, path) == 0 else { throw failure("cannot rename \(temporaryPath) to", path) }
        ok = true
    }

    private static func failure(_ what: String, _ path: String) -> RecurError {
        RecurError(.io, "\(what) \(path): \(String(cString: strerror(errno)))")
    }
}
