// Errors become a status code and a thread-local message, in one place.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RecurCore

/// Runs `body`; returns `RECUR_OK`, or the error's status after storing its
/// message as the calling thread's last error.
@inline(__always)
func withStatus(_ body: () throws(RecurError) -> Void) -> Status {
    do {
        try body()
        return RecurStatus.ok.rawValue
    } catch {
        LastError.set(error.message)
        return error.status.rawValue
    }
}

/// The calling thread's last error message, a malloc'd C string owned by a
/// pthread key whose destructor frees it when the thread ends.
enum LastError {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { pointer in free(pointer) }
        return key
    }()

    private static let empty: StaticString = ""

    static func set(_ message: String) {
        let copy = strdup(message)
        free(pthread_getspecific(key))
        pthread_setspecific(key, copy)
    }

    static var current: UnsafePointer<CChar> {
        if let pointer = pthread_getspecific(key) {
            return UnsafePointer(pointer.assumingMemoryBound(to: CChar.self))
        }
        return UnsafeRawPointer(empty.utf8Start).assumingMemoryBound(to: CChar.self)
    }
}
