// RecurKernelInterface: what RecurCore and the kernel targets
// (RecurKernelsSSE2/AVX2/AVX512) must agree on: the memory layout, the
// activation codes, the strided views and the `Kernels` protocol.
//
// Internal to the package: not a product, no stable API. It exists only
// because the kernels are separate modules (one per -march); anything here
// may change with RecurCore. No dependencies, no Foundation.

// The constants are inlinable computed values, so that every module folds
// them (a stored global would be a load behind an accessor across modules).

/// Sizes are padded to this many floats (64 bytes), so that every vector the
/// kernels load is whole and aligned.
@inlinable public var padding: Int { 16 }

/// Weight blocks are stored in panels of this many outputs (see
/// Sources/RecurKernels/Projection.swift).
@inlinable public var panelWidth: Int { 32 }

/// A width that is an odd multiple of `padding` ends in a half panel: this
/// many outputs (= `padding`).
@inlinable public var halfPanelWidth: Int { panelWidth / 2 }

/// A dense layer's activation (an RNN's, tanh or relu, is a Bool `relu`).
public enum ActivationCode: Int, Sendable {
    case linear = 0, relu, tanh, sigmoid, softmax
}

/// Rows of floats `stride` apart, read only: row i starts at base + i·stride.
@frozen
public struct ConstRows {
    public let base: UnsafePointer<Float>
    public let stride: Int

    @inlinable @inline(__always)
    public init(base: UnsafePointer<Float>, stride: Int) {
        self.base = base
        self.stride = stride
    }

    @inlinable @inline(__always)
    public init(_ rows: MutableRows) {
        self.init(base: UnsafePointer(rows.base), stride: rows.stride)
    }

    @inlinable @inline(__always)
    public subscript(row: Int) -> UnsafePointer<Float> { base + row * stride }
}

/// Rows of floats `stride` apart, written: row i starts at base + i·stride.
@frozen
public struct MutableRows {
    public let base: UnsafeMutablePointer<Float>
    public let stride: Int

    @inlinable @inline(__always)
    public init(base: UnsafeMutablePointer<Float>, stride: Int) {
        self.base = base
        self.stride = stride
    }

    @inlinable @inline(__always)
    public subscript(row: Int) -> UnsafeMutablePointer<Float> { base + row * stride }

    /// The same rows from row `row` on.
    @inlinable @inline(__always)
    public func from(_ row: Int) -> MutableRows { MutableRows(base: base + row * stride, stride: stride) }

    @inlinable @inline(__always)
    public var readOnly: ConstRows { ConstRows(self) }
}
