// int8 weight storage (WeightStorage.int8): each weight matrix of the model
// (W_ih and W_hh of every cell, W of dense layers) quantized per output with
// a symmetric scale (max |w| / 127), laid out for the integer dot-product
// instructions: k in quads, [ceil(depth/4)][width][4]. Biases stay float32.
// The product is Sources/CRecurInt8 (C: VNNI has no Swift spelling): it
// quantizes each input row on the fly, sums in int32 (exactly, so every CPU
// path gives the same bits) and scales back to float32.
import CRecurInt8
import RecurKernelInterface

/// One weight matrix's int8 copy.
struct Int8Block {
    /// Where the float32 matrix starts in the model's parameters (the key
    /// the projections look it up by).
    let weightOffset: Int
    let values: Int      // offset in `Int8Weights.values`
    let outputs: Int     // offset in `scales` and `compensation`
}

final class Int8Weights {
    let values: AlignedBuffer<Int8>
    let scales: FloatBuffer
    let compensation: AlignedBuffer<Int32>
    let blocks: AlignedBuffer<Int8Block>

    init(model: Model) throws(RecurError) {
        // Every matrix: (float offset, depth, width).
        var matrices: [(offset: Int, depth: Int, width: Int)] = []
        for layer in model.layers {
            for index in layer.cells {
                let cell = layer.cell(index)
                matrices.append((cell.inputWeightOffset, cell.inputSize, cell.width))
                if cell.kind.isRecurrent { matrices.append((cell.recurrentWeightOffset, cell.hiddenSize, cell.width)) }
            }
        }
        let valueCount = matrices.reduce(0) { $0 + ($1.depth + 3) / 4 * 4 * $1.width }
        let outputCount = matrices.reduce(0) { $0 + $1.width }
        values = try AlignedBuffer<Int8>(count: valueCount)
        scales = try FloatBuffer(count: outputCount)
        compensation = try AlignedBuffer<Int32>(count: outputCount)
        blocks = try AlignedBuffer<Int8Block>(count: matrices.count)
        var valueOffset = 0, outputOffset = 0
        let p = model.parameters.base
        for (n, matrix) in matrices.enumerated() {
            let (depth, width) = (matrix.depth, matrix.width)
            blocks.base[n] = Int8Block(weightOffset: matrix.offset, values: valueOffset, outputs: outputOffset)
            for r in 0..<width {
                var largest: Float = 0
                for k in 0..<depth { largest = max(largest, abs(p[matrix.offset + panelIndex(input: k, output: r, depth: depth, width: width)])) }
                let scale = largest / 127
                var sum: Int32 = 0
                for k in 0..<depth {
                    let w = p[matrix.offset + panelIndex(input: k, output: r, depth: depth, width: width)]
                    let q = scale > 0 ? Int8(max(-127, min(127, (w / scale).rounded(.toNearestOrEven)))) : 0
                    values.base[valueOffset + (k / 4 * width + r) * 4 + k % 4] = q
                    sum += Int32(q)
                }
                scales.base[outputOffset + r] = scale
                compensation.base[outputOffset + r] = 128 * sum
            }
            valueOffset += (depth + 3) / 4 * 4 * width
            outputOffset += width
        }
    }

    /// Plain pointers for the step path.
    var view: Int8View {
        Int8View(values: UnsafePointer(values.base), scales: UnsafePointer(scales.base),
                 compensation: UnsafePointer(compensation.base), blocks: UnsafePointer(blocks.base), blockCount: blocks.count)
    }
}

/// What a projection needs of the int8 weights (no reference counting).
struct Int8View {
    let values: UnsafePointer<Int8>
    let scales: UnsafePointer<Float>
    let compensation: UnsafePointer<Int32>
    let blocks: UnsafePointer<Int8Block>
    let blockCount: Int

    /// out[i] = W x[i] for the matrix whose float32 copy is at `weightOffset`.
    @inline(__always)
    func project(path: Int32, count: Int, depth: Int, width: Int, weightOffset: Int, input: MutableRows, output: MutableRows) {
        var n = 0
        while n < blockCount && blocks[n].weightOffset != weightOffset { n += 1 }
        let block = blocks[n]
        recurint8_project(path, count, depth, width, values + block.values, scales + block.outputs,
                           compensation + block.outputs, input.base, input.stride, output.base, output.stride)
    }
}
