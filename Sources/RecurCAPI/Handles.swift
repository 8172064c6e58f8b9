// How core objects cross the C boundary: a handle is an `Unmanaged` retain
// of the Swift object, shown to C as a pointer to an opaque struct.
//
// The type names below are what `scripts/generate-header.py` reads to write
// the typed C prototypes: `ModelPointer?` becomes `recur_model *`,
// `ConstModelPointer?` becomes `const recur_model *`, and so on. To Swift
// they are all `OpaquePointer`.
import RecurCore

public typealias ModelPointer = OpaquePointer
public typealias ConstModelPointer = OpaquePointer
public typealias StatePointer = OpaquePointer
public typealias ConstStatePointer = OpaquePointer
public typealias TrainerPointer = OpaquePointer
public typealias ConstTrainerPointer = OpaquePointer
/// `recur_status` in C.
public typealias Status = Int32
/// `recur_tensor_encoding` in C.
public typealias TensorEncodingCode = UInt32
/// `recur_weight_storage` in C.
public typealias WeightStorageCode = UInt32

enum Handle {
    /// A new +1 reference for the caller, who releases it with `release`.
    static func retain<T: AnyObject>(_ object: T) -> OpaquePointer {
        OpaquePointer(Unmanaged.passRetained(object).toOpaque())
    }

    static func release<T: AnyObject>(_ pointer: OpaquePointer?, as type: T.Type) {
        guard let pointer else { return }
        Unmanaged<T>.fromOpaque(UnsafeRawPointer(pointer)).release()
    }

    /// The object behind a handle, or an `.invalidArgument` error naming the
    /// parameter when it is NULL.
    static func unbox<T: AnyObject>(_ pointer: OpaquePointer?, as type: T.Type, _ name: String) throws(RecurError) -> T {
        guard let pointer else { throw RecurError(.invalidArgument, "\(name) is NULL") }
        return Unmanaged<T>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }

    /// `body(object)` with the object behind a handle, which the caller's
    /// handle keeps alive for the call: no retain and release around it
    /// (two atomic operations on every step). NULL is refused as by `unbox`.
    static func borrow<T: AnyObject, R>(_ pointer: OpaquePointer?, as type: T.Type, _ name: String,
                                        _ body: (T) throws(RecurError) -> R) throws(RecurError) -> R {
        guard let pointer else { throw RecurError(.invalidArgument, "\(name) is NULL") }
        let result: Result<R, RecurError> = Unmanaged<T>.fromOpaque(UnsafeRawPointer(pointer))._withUnsafeGuaranteedRef { object in
            do throws(RecurError) { return .success(try body(object)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// The object behind a handle, or nil.
    static func peek<T: AnyObject>(_ pointer: OpaquePointer?, as type: T.Type) -> T? {
        pointer.map { Unmanaged<T>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
    }
}

/// Checks a pointer argument that must not be NULL.
func required<T>(_ pointer: T?, _ name: String) throws(RecurError) -> T {
    guard let pointer else { throw RecurError(.invalidArgument, "\(name) is NULL") }
    return pointer
}

/// A C index or setting (`size_t`: a layer, a stream, a thread count) as an
/// Int. Values past Int.max are refused here, printed as the caller passed
/// them (unsigned: -1 from C arrives as 18446744073709551615); smaller ones
/// go to the core, whose messages say what the range is.
func index(_ value: UInt, _ name: String) throws(RecurError) -> Int {
    guard value <= UInt(Int.max) else { throw RecurError(.invalidArgument, "\(name) is \(value): out of range") }
    return Int(value)
}

/// A C count (`size_t`) as an Int, refusing values no memory could hold.
func count(_ value: UInt, _ name: String) throws(RecurError) -> Int {
    guard value <= UInt(Int.max / 8) else { throw RecurError(.invalidArgument, "\(name) is \(value), too large") }
    return Int(value)
}
