#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Bytes the core owns and grows (a file's content, a JSON text being
/// written), in malloc'd memory: when memory runs out it throws
/// `.outOfMemory` instead of trapping, as a Swift array or string would.
public final class ByteBuffer {
    public private(set) var base: UnsafeMutablePointer<UInt8>
    public private(set) var count = 0
    private var capacity: Int

    init(capacity: Int = 4096) throws(RecurError) {
        let size = max(capacity, 16)
        guard let memory = malloc(size) else { throw RecurError(.outOfMemory, "could not allocate \(size) bytes") }
        base = memory.assumingMemoryBound(to: UInt8.self)
        self.capacity = size
    }

    deinit { free(base) }

    /// Room for `extra` more bytes (doubling, so appends stay linear).
    func reserve(_ extra: Int) throws(RecurError) {
        let (needed, overflow) = count.addingReportingOverflow(extra)
        guard !overflow else { throw RecurError(.outOfMemory, "a text of more than \(Int.max) bytes") }
        guard needed > capacity else { return }
        let grown = max(needed, capacity <= Int.max / 2 ? capacity * 2 : Int.max)
        guard let memory = realloc(base, grown) else {
            throw RecurError(.outOfMemory, "could not grow a text of \(count) bytes to \(grown)")
        }
        base = memory.assumingMemoryBound(to: UInt8.self)
        capacity = grown
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws(RecurError) {
        try reserve(bytes.count)
        if let source = bytes.baseAddress { (base + count).update(from: source.assumingMemoryBound(to: UInt8.self), count: bytes.count) }
        count += bytes.count
    }

    /// Counts `n` bytes written straight at `base + count` (after `reserve`).
    func advance(by n: Int) { count += n }

    func append(_ byte: UInt8) throws(RecurError) {
        try reserve(1)
        base[count] = byte
        count += 1
    }

    /// A string's UTF-8 bytes (numbers and keys: small strings, kept inline).
    func append(_ text: String) throws(RecurError) {
        var text = text
        var result: Result<Void, RecurError> = .success(())
        text.withUTF8 { bytes in
            do throws(RecurError) { try append(UnsafeRawBufferPointer(bytes)) } catch { result = .failure(error) }
        }
        try result.get()
    }

    /// The bytes, for reading.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Hands the bytes over as a NUL-terminated malloc'd C string that the
    /// caller frees (recur_string_free); this buffer is left empty.
    public func takeCString() throws(RecurError) -> UnsafeMutablePointer<CChar> {
        try append(0)
        let text = UnsafeMutableRawPointer(base).assumingMemoryBound(to: CChar.self)
        guard let fresh = malloc(16) else { throw RecurError(.outOfMemory, "could not allocate 16 bytes") }
        base = fresh.assumingMemoryBound(to: UInt8.self)
        capacity = 16
        count = 0
        return text
    }
}
