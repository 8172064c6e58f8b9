// The element-wise part of each cell, forward and backward side by side,
// for `count` streams at once (the `Kernels` protocol documents the
// arguments). The formulas and their order of operations are those of the
// reference cells in RecurCore/Layers.
import RecurKernelInterface

extension FastKernels {
    @inline(__always)
    static func gate(_ ax: UnsafePointer<Float>, _ ah: UnsafePointer<Float>, _ bih: UnsafePointer<Float>?,
                     _ bhh: UnsafePointer<Float>?, _ offset: Int) -> Vec {
        var fromInput = load(ax + offset), fromState = load(ah + offset)
        if let bih { fromInput += load(bih + offset) }
        if let bhh { fromState += load(bhh + offset) }
        return fromInput + fromState
    }

    // MARK: LSTM (gates i, f, g, o; state h then c, `hidden` floats each)

    public static func lstmForward(count: Int, hidden: Int, inputProjection: ConstRows, stateProjection: ConstRows,
                                   biasIH: UnsafePointer<Float>?, biasHH: UnsafePointer<Float>?,
                                   state: MutableRows, output: MutableRows?, record: MutableRows?) {
        for s in 0..<count {
            let (a, b) = (inputProjection[s], stateProjection[s])
            let h = state[s], c = h + hidden
            var j = 0
            while j < hidden {
                let i = vsigmoid(gate(a, b, biasIH, biasHH, j))
                let f = vsigmoid(gate(a, b, biasIH, biasHH, hidden + j))
                let g = vtanh(gate(a, b, biasIH, biasHH, 2 * hidden + j))
                let o = vsigmoid(gate(a, b, biasIH, biasHH, 3 * hidden + j))
                let cNew = f * load(c + j) + i * g
                let hNew = o * vtanh(cNew)
                store(cNew, c + j)
                store(hNew, h + j)
                if let output { store(hNew, output[s] + j) }
                if let record {
                    let rec = record[s] + j
                    store(i, rec); store(f, rec + hidden); store(g, rec + 2 * hidden)
                    store(o, rec + 3 * hidden); store(cNew, rec + 4 * hidden)
                }
                j += lanes
            }
        }
    }

    /// The caller turns the gate gradients into dL/dh_t-1.
    public static func lstmBackward(count: Int, hidden: Int, outputGradient: ConstRows, carryH: ConstRows, carryC: MutableRows,
                                    record: ConstRows, previousRecord: ConstRows, gateGradient: MutableRows) {
        for s in 0..<count {
            let rec = record[s], cPrevious = previousRecord[s] + 4 * hidden
            let dg = gateGradient[s]
            var j = 0
            while j < hidden {
                let dh = load(outputGradient[s] + j) + load(carryH[s] + j)
                let i = load(rec + j), f = load(rec + hidden + j), g = load(rec + 2 * hidden + j)
                let o = load(rec + 3 * hidden + j), c = load(rec + 4 * hidden + j)
                let tanhC = vtanh(c)
                let dc = carryC[s] + j
                let dcTotal = load(dc) + dh * o * (splat(1) - tanhC * tanhC)
                store(dcTotal * g * i * (splat(1) - i), dg + j)
                store(dcTotal * load(cPrevious + j) * f * (splat(1) - f), dg + hidden + j)
                store(dcTotal * i * (splat(1) - g * g), dg + 2 * hidden + j)
                store(dh * tanhC * o * (splat(1) - o), dg + 3 * hidden + j)
                store(dcTotal * f, dc)
                j += lanes
            }
        }
    }

    // MARK: GRU (gates r, z, n; state h)

    public static func gruForward(count: Int, hidden: Int, inputProjection: ConstRows, stateProjection: ConstRows,
                                  biasIH: UnsafePointer<Float>?, biasHH: UnsafePointer<Float>?,
                                  state: MutableRows, output: MutableRows?, record: MutableRows?) {
        for s in 0..<count {
            let (a, b) = (inputProjection[s], stateProjection[s])
            let h = state[s]
            var j = 0
            while j < hidden {
                let r = vsigmoid(gate(a, b, biasIH, biasHH, j))
                let z = vsigmoid(gate(a, b, biasIH, biasHH, hidden + j))
                var fromInputN = load(a + 2 * hidden + j), fromStateN = load(b + 2 * hidden + j)
                if let biasIH { fromInputN += load(biasIH + 2 * hidden + j) }
                if let biasHH { fromStateN += load(biasHH + 2 * hidden + j) }
                let n = vtanh(fromInputN + r * fromStateN)
                let hNew = (splat(1) - z) * n + z * load(h + j)
                store(hNew, h + j)
                if let output { store(hNew, output[s] + j) }
                if let record {
                    let rec = record[s] + j
                    store(r, rec); store(z, rec + hidden); store(n, rec + 2 * hidden); store(fromStateN, rec + 3 * hidden)
                }
                j += lanes
            }
        }
    }

    /// The caller adds W_hh's part to the direct part left in `carryH`.
    public static func gruBackward(count: Int, hidden: Int, outputGradient: ConstRows, carryH: MutableRows,
                                   record: ConstRows, previousH: ConstRows, inputSide: MutableRows, stateSide: MutableRows) {
        for s in 0..<count {
            let rec = record[s], hPrevious = previousH[s]
            let (gx, gh) = (inputSide[s], stateSide[s])
            let carry = carryH[s]
            var j = 0
            while j < hidden {
                let dh = load(outputGradient[s] + j) + load(carry + j)
                let r = load(rec + j), z = load(rec + hidden + j), n = load(rec + 2 * hidden + j), fromStateN = load(rec + 3 * hidden + j)
                let dn = dh * (splat(1) - z) * (splat(1) - n * n)
                let dz = dh * (load(hPrevious + j) - n) * z * (splat(1) - z)
                let dr = dn * fromStateN * r * (splat(1) - r)
                store(dr, gx + j); store(dz, gx + hidden + j); store(dn, gx + 2 * hidden + j)
                store(dr, gh + j); store(dz, gh + hidden + j); store(dn * r, gh + 2 * hidden + j)
                store(dh * z, carry + j)
                j += lanes
            }
        }
    }

    // MARK: Elman RNN (state h)

    public static func rnnForward(count: Int, hidden: Int, relu: Bool, inputProjection: ConstRows, stateProjection: ConstRows,
                                  biasIH: UnsafePointer<Float>?, biasHH: UnsafePointer<Float>?,
                                  state: MutableRows, output: MutableRows?) {
        for s in 0..<count {
            let (a, b) = (inputProjection[s], stateProjection[s])
            let h = state[s]
            var j = 0
            while j < hidden {
                let pre = gate(a, b, biasIH, biasHH, j)
                let hNew = relu ? pre.replacing(with: 0, where: pre .< 0) : vtanh(pre)
                store(hNew, h + j)
                if let output { store(hNew, output[s] + j) }
                j += lanes
            }
        }
    }

    public static func rnnBackward(count: Int, hidden: Int, relu: Bool, outputGradient: ConstRows, carryH: ConstRows,
                                   output: ConstRows, gateGradient: MutableRows) {
        for s in 0..<count {
            var j = 0
            while j < hidden {
                let dh = load(outputGradient[s] + j) + load(carryH[s] + j)
                let y = load(output[s] + j)
                let slope = relu ? Vec(repeating: 1).replacing(with: 0, where: y .<= 0) : splat(1) - y * y
                store(dh * slope, gateGradient[s] + j)
                j += lanes
            }
        }
    }

    // MARK: Dense activations

    public static func denseForward(count: Int, units: Int, width: Int, activation: ActivationCode,
                                    values: MutableRows, bias: UnsafePointer<Float>?, record: MutableRows?) {
        for s in 0..<count {
            let v = values[s]
            var j = 0
            while j < width {
                var x = load(v + j)
                if let bias { x += load(bias + j) }
                if let record { store(x, record[s] + j) }
                switch activation {
                case .relu: x = x.replacing(with: 0, where: x .< 0)
                case .tanh: x = vtanh(x)
                case .sigmoid: x = vsigmoid(x)
                case .linear, .softmax: break
                }
                store(x, v + j)
                j += lanes
            }
            if activation == .softmax { softmax(v, units: units, width: width) }
            // Padding lanes stay zero (softmax and the next layer rely on it).
            for k in units..<width { v[k] = 0 }
            if let record { for k in units..<width { record[s][k] = 0 } }
        }
    }

    public static func exponentials(count: Int, values: UnsafeMutablePointer<Float>) {
        var j = 0
        while j < count {
            store(vexp(load(values + j)), values + j)
            j += lanes
        }
    }

    /// e^(v - max) (padding lanes 0), summed as 16 lanes and a tree
    /// (Block16), each times the sum's inverse: as ReferenceKernels.denseForward.
    private static func softmax(_ v: UnsafeMutablePointer<Float>, units: Int, width: Int) {
        var largest = -Float.infinity
        for k in 0..<units { largest = max(largest, v[k]) }
        var j = 0
        while j < width {
            var e = vexp(load(v + j) - splat(largest))
            for lane in 0..<lanes where j + lane >= units { e[lane] = 0 }
            store(e, v + j)
            j += lanes
        }
        var total = Block16()
        j = 0
        while j < width { total.add(v + j); j += 16 }
        let inverse = splat(1 / total.sum())
        j = 0
        while j < width {
            store(load(v + j) * inverse, v + j)
            j += lanes
        }
    }

    public static func denseBackward(count: Int, width: Int, activation: ActivationCode, throughActivation: Bool,
                                     outputGradient: ConstRows, output: ConstRows, gradient: MutableRows) {
        let kind = throughActivation ? activation : .linear
        for s in 0..<count {
            let (g, out, d) = (outputGradient[s], output[s], gradient[s])
            var dot = Float(0)
            if kind == .softmax {
                var acc = Block16()
                var j = 0
                while j < width { acc.addProducts(g + j, out + j); j += 16 }
                dot = acc.sum()
            }
            var j = 0
            while j < width {
                let dv = load(g + j), yv = load(out + j)
                let result: Vec
                switch kind {
                case .relu: result = dv.replacing(with: 0, where: yv .<= 0)
                case .tanh: result = dv * (splat(1) - yv * yv)
                case .sigmoid: result = dv * yv * (splat(1) - yv)
                case .softmax: result = yv * (dv - splat(dot))
                case .linear: result = dv
                }
                store(result, d + j)
                j += lanes
            }
        }
    }
}
