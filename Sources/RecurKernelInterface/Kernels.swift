// The kernels, as one protocol of static functions: FastKernels (the shared
// source Sources/RecurKernels, built once per level) and RecurCore's
// ReferenceKernels conform, and RecurCore calls them through
// `any Kernels.Type` (a metatype: no allocation, no reference counting).
//
// Every array argument is a view with its own stride: row i is stream i.
// Gate blocks are `hidden` floats apart (hidden a multiple of `padding`;
// padding lanes stay zero). Biases may be absent (nil). Every
// implementation performs the same float32 operations in the same order
// (see Sources/RecurCore/Kernels/Reference.swift).

public protocol Kernels: Sendable {
    /// output[i][r] = sum over k < depth of input[i][k] * W[k][r], for i <
    /// count, r < width (W in the panel layout): in order of k, one FMA per
    /// k, from zero.
    static func project(count: Int, depth: Int, width: Int, weights: UnsafePointer<Float>,
                        input: ConstRows, output: MutableRows)
    /// `project` with fp16 weights (their bit patterns), widened to float32.
    static func projectHalf(count: Int, depth: Int, width: Int, weights: UnsafePointer<UInt16>,
                            input: ConstRows, output: MutableRows)
    /// W[k][r] += sum over i < count of input[i][k] * gradient[i][r] (W, at
    /// `into`, in the panel layout).
    static func accumulateWeightGradient(count: Int, depth: Int, width: Int,
                                         input: ConstRows, gradient: ConstRows, into: UnsafeMutablePointer<Float>)
    /// into[r] += sum over i < count of gradient[i][r], for r < width.
    static func accumulateRows(count: Int, width: Int, gradient: ConstRows, into: UnsafeMutablePointer<Float>)

    /// One LSTM step (gates i, f, g, o) from the projections W_ih x and
    /// W_hh h; state rows hold h then c; a record holds i, f, g, o, c'.
    static func lstmForward(count: Int, hidden: Int, inputProjection: ConstRows, stateProjection: ConstRows,
                            biasIH: UnsafePointer<Float>?, biasHH: UnsafePointer<Float>?,
                            state: MutableRows, output: MutableRows?, record: MutableRows?)
    /// Gate gradients (pre-activation, 4 blocks) from dL/dh_t =
    /// outputGradient + carryH and dL/dc_t = carryC; leaves dL/dc_t-1 in
    /// carryC. `record` is step t's, `previousRecord` step t-1's (its c).
    static func lstmBackward(count: Int, hidden: Int, outputGradient: ConstRows, carryH: ConstRows, carryC: MutableRows,
                             record: ConstRows, previousRecord: ConstRows, gateGradient: MutableRows)

    /// One GRU step (gates r, z, n); a record holds r, z, n, W_hn h + b_hn.
    static func gruForward(count: Int, hidden: Int, inputProjection: ConstRows, stateProjection: ConstRows,
                           biasIH: UnsafePointer<Float>?, biasHH: UnsafePointer<Float>?,
                           state: MutableRows, output: MutableRows?, record: MutableRows?)
    /// Gate gradients of the input side (r, z, n) and the state side
    /// (r, z, r * n) from dL/dh_t = outputGradient + carryH; leaves the
    /// direct part z * dh of dL/dh_t-1 in carryH.
    static func gruBackward(count: Int, hidden: Int, outputGradient: ConstRows, carryH: MutableRows,
                            record: ConstRows, previousH: ConstRows, inputSide: MutableRows, stateSide: MutableRows)

    /// One Elman step: h' = tanh or relu of the summed projections.
    static func rnnForward(count: Int, hidden: Int, relu: Bool, inputProjection: ConstRows, stateProjection: ConstRows,
                           biasIH: UnsafePointer<Float>?, biasHH: UnsafePointer<Float>?,
                           state: MutableRows, output: MutableRows?)
    /// The pre-activation gradient from dL/dh_t = outputGradient + carryH
    /// and h_t (`output`).
    static func rnnBackward(count: Int, hidden: Int, relu: Bool, outputGradient: ConstRows, carryH: ConstRows,
                            output: ConstRows, gateGradient: MutableRows)

    /// `steps` inference steps of one stream, each with its state
    /// projection fused in: W_hh h (`depth` = H rows of the layer's float32
    /// W_hh block) and the cell in one pass, with no call between steps
    /// (a single stream's step is a chain of latencies: calls and reloads
    /// would add to it). The same bits as, per step t, `project` of h into
    /// `stateProjection` followed by the kind's `...Forward` for one stream
    /// with no record. Row t of `inputProjections` is W_ih x_t, row t of
    /// `outputs` receives h_t; `state` is the stream's (h, then c).
    static func lstmSteps(_ steps: Int, depth: Int, hidden: Int, stateWeights: UnsafePointer<Float>, inputProjections: ConstRows,
                          biasIH: UnsafePointer<Float>?, biasHH: UnsafePointer<Float>?,
                          stateProjection: UnsafeMutablePointer<Float>, state: UnsafeMutablePointer<Float>,
                          outputs: MutableRows)
    static func gruSteps(_ steps: Int, depth: Int, hidden: Int, stateWeights: UnsafePointer<Float>, inputProjections: ConstRows,
                         biasIH: UnsafePointer<Float>?, biasHH: UnsafePointer<Float>?,
                         stateProjection: UnsafeMutablePointer<Float>, state: UnsafeMutablePointer<Float>,
                         outputs: MutableRows)
    static func rnnSteps(_ steps: Int, depth: Int, hidden: Int, relu: Bool, stateWeights: UnsafePointer<Float>,
                         inputProjections: ConstRows, biasIH: UnsafePointer<Float>?, biasHH: UnsafePointer<Float>?,
                         stateProjection: UnsafeMutablePointer<Float>, state: UnsafeMutablePointer<Float>,
                         outputs: MutableRows)

    /// In place on `values` (W x): adds the bias, records the
    /// pre-activation values, applies the activation; lanes `units` ..<
    /// `width` are left zero (in the record too).
    static func denseForward(count: Int, units: Int, width: Int, activation: ActivationCode,
                             values: MutableRows, bias: UnsafePointer<Float>?, record: MutableRows?)
    /// values[i] = e^values[i] for i < count (a multiple of `padding`),
    /// lane by lane as Approx.exp: the losses' exponentials, vectorised.
    static func exponentials(count: Int, values: UnsafeMutablePointer<Float>)
    /// dL/dz from dL/dy and y; with `throughActivation` false (a loss on
    /// logits) dL/dz = dL/dy.
    static func denseBackward(count: Int, width: Int, activation: ActivationCode, throughActivation: Bool,
                              outputGradient: ConstRows, output: ConstRows, gradient: MutableRows)
}
