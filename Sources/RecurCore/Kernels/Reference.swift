// The reference kernels: plain loops, written to be obviously right. They
// are the ground truth that every fast kernel is tested against, and they
// fix the order of every sum, which is what makes a stream's floats the same
// however it is called (step or run, alone or in a batch).
import Glibc

enum Kernels {
    /// out[r] = sum over c of matrix[r * rowStride + c] * vector[c], for r < rows,
    /// summed in order of c.
    static func matrixVector(rows: Int, columns: Int, matrix: UnsafePointer<Float>, rowStride: Int,
                             vector: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let row = matrix + r * rowStride
            var sum: Float = 0
            for c in 0..<columns { sum += row[c] * vector[c] }
            out[r] = sum
        }
    }

    /// out[c] = sum over r of matrix[r * rowStride + c] * vector[r], for c < columns,
    /// summed in order of r. (The backward pass: W^T v.)
    static func transposedMatrixVector(rows: Int, columns: Int, matrix: UnsafePointer<Float>, rowStride: Int,
                                       vector: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        out.update(repeating: 0, count: columns)
        for r in 0..<rows {
            let row = matrix + r * rowStride
            let scale = vector[r]
            for c in 0..<columns { out[c] += row[c] * scale }
        }
    }

    /// matrix[r * rowStride + c] += left[r] * right[c]: a weight gradient.
    static func accumulateOuterProduct(rows: Int, columns: Int, into matrix: UnsafeMutablePointer<Float>, rowStride: Int,
                                       left: UnsafePointer<Float>, right: UnsafePointer<Float>) {
        for r in 0..<rows {
            let row = matrix + r * rowStride
            let scale = left[r]
            for c in 0..<columns { row[c] += scale * right[c] }
        }
    }

    /// values[i] += bias[i], when there is a bias.
    @inline(__always)
    static func addBias(_ bias: UnsafePointer<Float>?, to values: UnsafeMutablePointer<Float>, count: Int) {
        guard let bias else { return }
        for i in 0..<count { values[i] += bias[i] }
    }

    /// Applies an activation in place to `count` values (softmax over all of them).
    static func activate(_ activation: Activation, _ values: UnsafeMutablePointer<Float>, count: Int) {
        switch activation {
        case .linear:
            break
        case .relu:
            for i in 0..<count { values[i] = relu(values[i]) }
        case .tanh:
            for i in 0..<count { values[i] = tanhf(values[i]) }
        case .sigmoid:
            for i in 0..<count { values[i] = sigmoid(values[i]) }
        case .softmax:
            var largest = -Float.infinity
            for i in 0..<count { largest = max(largest, values[i]) }
            var total: Float = 0
            for i in 0..<count {
                values[i] = expf(values[i] - largest)
                total += values[i]
            }
            for i in 0..<count { values[i] /= total }
        }
    }

    @inline(__always) static func sigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }
    @inline(__always) static func relu(_ x: Float) -> Float { x > 0 ? x : 0 }
}
