import Glibc

/// A zero-filled, 64-byte aligned block of float32 that the core owns: the
/// model's parameters, a state's streams, scratch space. Allocated once,
/// never resized; kernels take its `base` pointer.
final class FloatBuffer {
    let base: UnsafeMutablePointer<Float>
    let count: Int

    /// Throws `.outOfMemory` (instead of trapping) when the memory is not there.
    init(count: Int) throws(RecurError) {
        let bytes = max(count, 1).multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
        var raw: UnsafeMutableRawPointer? = nil
        guard !bytes.overflow, posix_memalign(&raw, 64, bytes.partialValue) == 0, let raw else {
            throw RecurError(.outOfMemory, "could not allocate \(count) floats")
        }
        memset(raw, 0, bytes.partialValue)
        self.base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        self.count = count
    }

    /// A new buffer with the same contents.
    func copy() throws(RecurError) -> FloatBuffer {
        let result = try FloatBuffer(count: count)
        result.base.update(from: base, count: count)
        return result
    }

    func zero(from start: Int = 0, count length: Int? = nil) {
        let length = length ?? count - start
        (base + start).update(repeating: 0, count: length)
    }

    deinit { free(base) }
}

/// The same for fp16 values, kept as their bit patterns.
final class HalfBuffer {
    let base: UnsafeMutablePointer<UInt16>
    let count: Int

    init(count: Int) throws(RecurError) {
        var raw: UnsafeMutableRawPointer? = nil
        guard posix_memalign(&raw, 64, max(count, 1) * 2) == 0, let raw else {
            throw RecurError(.outOfMemory, "could not allocate \(count) fp16 values")
        }
        memset(raw, 0, max(count, 1) * 2)
        base = raw.bindMemory(to: UInt16.self, capacity: max(count, 1))
        self.count = count
    }

    deinit { free(base) }
}
