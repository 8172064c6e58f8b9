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
            var j = 0
            while j < hidden {
                lstmLanes(j, hidden: hidden, inputProjection[s], stateProjection[s], biasIH, biasHH,
                          state: state[s], newH: state[s], output: output?[s], record: record?[s])
                j += lanes
            }
        }
    }

    public static func lstmSteps(_ steps: Int, depth: Int, hidden: Int, stateWeights w: UnsafePointer<Float>, inputProjections: ConstRows,
                                biasIH: UnsafePointer<Float>?, biasHH: UnsafePointer<Float>?,
                                stateProjection: UnsafeMutablePointer<Float>, state: UnsafeMutablePointer<Float>,
                                outputs: MutableRows) {
        for t in 0..<steps {
            fusedStep(gates: 4, depth: depth, hidden: hidden, weights: w, stateProjection: stateProjection, state: state,
                      output: outputs[t]) { lane, newH, output in
                lstmLanes(lane, hidden: hidden, inputProjections[t], stateProjection, biasIH, biasHH,
                          state: state, newH: newH, output: output, record: nil)
            }
        }
    }

    /// Lanes j ..< j + lanes of one stream's LSTM cell: c in place in
    /// `state` (h, then c), h' to `newH` and `output`, the record.
    @_transparent
    static func lstmLanes(_ j: Int, hidden: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                          _ biasIH: UnsafePointer<Float>?, _ biasHH: UnsafePointer<Float>?,
                          state: UnsafeMutablePointer<Float>, newH: UnsafeMutablePointer<Float>,
                          output: UnsafeMutablePointer<Float>?, record: UnsafeMutablePointer<Float>?) {
        let c = state + hidden
        let i = vsigmoid(gate(a, b, biasIH, biasHH, j))
        let f = vsigmoid(gate(a, b, biasIH, biasHH, hidden + j))
        let g = vtanh(gate(a, b, biasIH, biasHH, 2 * hidden + j))
        let o = vsigmoid(gate(a, b, biasIH, biasHH, 3 * hidden + j))
        let cNew = f * load(c + j) + i * g
        let hNew = o * vtanh(cNew)
        store(cNew, c + j)
        store(hNew, newH + j)
        if let output { store(hNew, output + j) }
        if let record {
            let rec = record + j
            store(i, rec); store(f, rec + hidden); store(g, rec + 2 * hidden)
            store(o, rec + 3 * hidden); store(cNew, rec + 4 * hidden)
        }
    }

    /// An LSTM's W_hh h for the 32 outputs from `j` of each of its 4 gate
    /// blocks (`hidden` apart, a multiple of 32: each such run is one whole
    /// panel of W_hh, `depth` x 4·hidden), into `out` at their places: each
    /// output one FMA chain over k from zero, as `project` makes it. The four
    /// panels go in one pass at AVX-512 (eight independent sums that hide the
    /// FMA latency), in two passes of two elsewhere; each is read in order,
    /// in whole rows of 128 bytes.
    @inline(__always)
    static func lstmStatePanels(at j: Int, depth: Int, hidden: Int, weights w: UnsafePointer<Float>,
                                h: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        @inline(__always) func panel(_ gate: Int) -> UnsafePointer<Float> { panelBase(w, (gate * hidden + j) / panelWidth, depth) }
        @inline(__always) func sums(_ gate: Int) -> UnsafeMutablePointer<Float> { out + gate * hidden + j }
        #if RECUR_AVX512
        sumPanels(4, depth: depth, input: h, weights: (panel(0), panel(1), panel(2), panel(3)),
                  outputs: (sums(0), sums(1), sums(2), sums(3)))
        #else
        for g in stride(from: 0, to: 4, by: 2) {
            sumPanels(2, depth: depth, input: h, weights: (panel(g), panel(g + 1), panel(g + 1), panel(g + 1)),
                      outputs: (sums(g), sums(g + 1), sums(g + 1), sums(g + 1)))
        }
        #endif
    }

    /// One fused step. An LSTM whose `hidden` is a multiple of 32 goes per
    /// run of 32 outputs: W_hh h of that run of each gate
    /// (`lstmStatePanels`), then the cell of its lanes, so that the cell
    /// math overlaps the next run's weight loads; h' goes to `output` (h is
    /// read until the last run), then to the state. Otherwise (3 gates or 1,
    /// whose panels would not pair up, or gate blocks that share panels)
    /// the whole W_hh h first, then every lane's cell, h' straight to the
    /// state and `output`. `cell(lane, newH, output)` writes h' to both.
    @inline(__always)
    static func fusedStep(gates: Int, depth: Int, hidden: Int, weights w: UnsafePointer<Float>,
                          stateProjection: UnsafeMutablePointer<Float>, state: UnsafeMutablePointer<Float>,
                          output: UnsafeMutablePointer<Float>,
                          cell: (_ lane: Int, _ newH: UnsafeMutablePointer<Float>, _ output: UnsafeMutablePointer<Float>?) -> Void) {
        if gates == 4 && hidden % panelWidth == 0 {
            var j = 0
            while j < hidden {
                lstmStatePanels(at: j, depth: depth, hidden: hidden, weights: w, h: state, into: stateProjection)
                for lane in stride(from: j, to: j + panelWidth, by: lanes) { cell(lane, output, nil) }
                j += panelWidth
            }
            for lane in stride(from: 0, to: hidden, by: lanes) { store(load(output + lane), state + lane) }
        } else {
            let width = gates * hidden
            projectOne(depth: depth, weights: w, panels: width / panelWidth, half: width % panelWidth != 0,
                       input: state, output: stateProjection)
            for lane in stride(from: 0, to: hidden, by: lanes) { cell(lane, state, output) }
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
            var j = 0
            while j < hidden {
                gruLanes(j, hidden: hidden, inputProjection[s], stateProjection[s], biasIH, biasHH,
                         h: state[s], newH: state[s], output: output?[s], record: record?[s])
                j += lanes
            }
        }
    }

    public static func gruSteps(_ steps: Int, depth: Int, hidden: Int, stateWeights w: UnsafePointer<Float>, inputProjections: ConstRows,
                               biasIH: UnsafePointer<Float>?, biasHH: UnsafePointer<Float>?,
                               stateProjection: UnsafeMutablePointer<Float>, state: UnsafeMutablePointer<Float>,
                               outputs: MutableRows) {
        for t in 0..<steps {
            fusedStep(gates: 3, depth: depth, hidden: hidden, weights: w, stateProjection: stateProjection, state: state,
                      output: outputs[t]) { lane, newH, output in
                gruLanes(lane, hidden: hidden, inputProjections[t], stateProjection, biasIH, biasHH,
                         h: state, newH: newH, output: output, record: nil)
            }
        }
    }

    /// Lanes j ..< j + lanes of one stream's GRU cell: h from `h`, h' to
    /// `newH` and `output`, the record.
    @_transparent
    static func gruLanes(_ j: Int, hidden: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                         _ biasIH: UnsafePointer<Float>?, _ biasHH: UnsafePointer<Float>?,
                         h: UnsafePointer<Float>, newH: UnsafeMutablePointer<Float>,
                         output: UnsafeMutablePointer<Float>?, record: UnsafeMutablePointer<Float>?) {
        let r = vsigmoid(gate(a, b, biasIH, biasHH, j))
        let z = vsigmoid(gate(a, b, biasIH, biasHH, hidden + j))
        var fromInputN = load(a + 2 * hidden + j), fromStateN = load(b + 2 * hidden + j)
        if let biasIH { fromInputN += load(biasIH + 2 * hidden + j) }
        if let biasHH { fromStateN += load(biasHH + 2 * hidden + j) }
        let n = vtanh(fromInputN + r * fromStateN)
        let hNew = (splat(1) - z) * n + z * load(h + j)
        store(hNew, newH + j)
        if let output { store(hNew, output + j) }
        if let record {
            let rec = record + j
            store(r, rec); store(z, rec + hidden); store(n, rec + 2 * hidden); store(fromStateN, rec + 3 * hidden)
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
            var j = 0
            while j < hidden {
                rnnLanes(j, relu: relu, inputProjection[s], stateProjection[s], biasIH, biasHH, newH: state[s], output: output?[s])
                j += lanes
            }
        }
    }

    public static func rnnSteps(_ steps: Int, depth: Int, hidden: Int, relu: Bool, stateWeights w: UnsafePointer<Float>, inputProjections: ConstRows,
                               biasIH: UnsafePointer<Float>?, biasHH: UnsafePointer<Float>?,
                               stateProjection: UnsafeMutablePointer<Float>, state: UnsafeMutablePointer<Float>,
                               outputs: MutableRows) {
        for t in 0..<steps {
            fusedStep(gates: 1, depth: depth, hidden: hidden, weights: w, stateProjection: stateProjection, state: state,
                      output: outputs[t]) { lane, newH, output in
                rnnLanes(lane, relu: relu, inputProjections[t], stateProjection, biasIH, biasHH, newH: newH, output: output)
            }
        }
    }

    /// Lanes j ..< j + lanes of one stream's Elman cell: h' to `newH` and `output`.
    @_transparent
    static func rnnLanes(_ j: Int, relu: Bool, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                         _ biasIH: UnsafePointer<Float>?, _ biasHH: UnsafePointer<Float>?,
                         newH: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>?) {
        let pre = gate(a, b, biasIH, biasHH, j)
        let hNew = relu ? pre.replacing(with: 0, where: pre .< 0) : vtanh(pre)
        store(hNew, newH + j)
        if let output { store(hNew, output + j) }
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
