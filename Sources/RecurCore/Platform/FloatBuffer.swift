#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A zero-filled, 64-byte aligned block of plain values that the core owns:
/// the model's parameters (Float) and their fp16 copies (UInt16 bit
/// patterns), a state's streams, scratch space, per-stream counts (Int).
/// Allocated once, never resized; kernels take its `base` pointer.
final class AlignedBuffer<Element> {
    let base: UnsafeMutablePointer<Element>
    let count: Int

    /// Throws `.outOfMemory` (instead of trapping) when the memory is not there.
    init(count: Int) throws(RecurError) {
        let bytes = max(count, 1).multipliedReportingOverflow(by: MemoryLayout<Element>.stride)
        var raw: UnsafeMutableRawPointer? = nil
        guard !bytes.overflow, posix_memalign(&raw, 64, bytes.partialValue) == 0, let raw else {
            throw RecurError(.outOfMemory, "could not allocate \(count) values of \(MemoryLayout<Element>.stride) bytes")
        }
        memset(raw, 0, bytes.partialValue)
        self.base = raw.bindMemory(to: Element.self, capacity: max(count, 1))
        self.count = count
    }

    /// A new buffer with the same contents.
    func copy() throws(RecurError) -> AlignedBuffer<Element> {
        let result = try AlignedBuffer<Element>(count: count)
        result.base.update(from: base, count: count)
        return result
    }

    /// Sets `length` values from `start` (all from there by default) to zero bits.
    func zero(from start: Int = 0, count length: Int? = nil) {
        let length = length ?? count - start
        memset(base + start, 0, length * MemoryLayout<Element>.stride)
    }

    deinit { free(base) }
}

typealias FloatBuffer = AlignedBuffer<Float>
/// fp16 values, kept as their bit patterns.
typealias HalfBuffer = AlignedBuffer<UInt16>
typealias IntBuffer = AlignedBuffer<Int>
