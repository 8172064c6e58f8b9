// The kernels a state or trainer calls, chosen once: the reference kernels
// (plain loops, the ground truth) or the fast kernels built for this CPU.
//
// RECUR_CPU=reference|sse2|avx2|avx512 in the environment forces a level
// (one the CPU lacks falls back to the best it has); the default is the best.
import CRecurCPU
import Glibc
import RecurKernelsAVX2
import RecurKernelsAVX512
import RecurKernelsSSE2

/// One implementation of every kernel, behind the signatures of
/// `FastKernels` (Sources/RecurKernels). Fields are plain functions, so a
/// call allocates nothing.
public struct KernelSet: Sendable {
    /// "reference", "sse2", "avx2" or "avx512".
    public let name: String

    typealias Project = @Sendable (_ count: Int, _ depth: Int, _ width: Int, _ weights: UnsafePointer<Float>,
                                   _ input: UnsafePointer<Float>, _ inputStride: Int,
                                   _ output: UnsafeMutablePointer<Float>, _ outputStride: Int) -> Void
    typealias ProjectHalf = @Sendable (_ count: Int, _ depth: Int, _ width: Int, _ weights: UnsafePointer<UInt16>,
                                       _ input: UnsafePointer<Float>, _ inputStride: Int,
                                       _ output: UnsafeMutablePointer<Float>, _ outputStride: Int) -> Void
    typealias WeightGradient = @Sendable (_ count: Int, _ depth: Int, _ width: Int,
                                          _ input: UnsafePointer<Float>, _ inputStride: Int,
                                          _ gradient: UnsafePointer<Float>, _ gradientStride: Int,
                                          _ into: UnsafeMutablePointer<Float>) -> Void
    typealias RowSum = @Sendable (_ count: Int, _ width: Int, _ gradient: UnsafePointer<Float>, _ gradientStride: Int,
                                  _ into: UnsafeMutablePointer<Float>) -> Void
    typealias GatedForward = @Sendable (_ count: Int, _ hidden: Int,
                                        _ ax: UnsafePointer<Float>, _ axStride: Int, _ ah: UnsafePointer<Float>, _ ahStride: Int,
                                        _ biasIH: UnsafePointer<Float>?, _ biasHH: UnsafePointer<Float>?,
                                        _ state: UnsafeMutablePointer<Float>, _ stateStride: Int,
                                        _ output: UnsafeMutablePointer<Float>?, _ outputStride: Int,
                                        _ record: UnsafeMutablePointer<Float>?, _ recordStride: Int) -> Void
    typealias LSTMBackward = @Sendable (_ count: Int, _ hidden: Int, _ outputGradient: UnsafePointer<Float>, _ outputGradientStride: Int,
                                        _ carryH: UnsafePointer<Float>, _ carryC: UnsafeMutablePointer<Float>, _ carryStride: Int,
                                        _ record: UnsafePointer<Float>, _ previousRecord: UnsafePointer<Float>, _ recordStride: Int,
                                        _ gateGradient: UnsafeMutablePointer<Float>, _ gateGradientStride: Int) -> Void
    typealias GRUBackward = @Sendable (_ count: Int, _ hidden: Int, _ outputGradient: UnsafePointer<Float>, _ outputGradientStride: Int,
                                       _ carryH: UnsafeMutablePointer<Float>, _ carryStride: Int,
                                       _ record: UnsafePointer<Float>, _ recordStride: Int,
                                       _ previousH: UnsafePointer<Float>, _ previousHStride: Int,
                                       _ inputSide: UnsafeMutablePointer<Float>, _ stateSide: UnsafeMutablePointer<Float>,
                                       _ gateGradientStride: Int) -> Void
    typealias RNNForward = @Sendable (_ count: Int, _ hidden: Int, _ relu: Bool,
                                      _ ax: UnsafePointer<Float>, _ axStride: Int, _ ah: UnsafePointer<Float>, _ ahStride: Int,
                                      _ biasIH: UnsafePointer<Float>?, _ biasHH: UnsafePointer<Float>?,
                                      _ state: UnsafeMutablePointer<Float>, _ stateStride: Int,
                                      _ output: UnsafeMutablePointer<Float>?, _ outputStride: Int) -> Void
    typealias RNNBackward = @Sendable (_ count: Int, _ hidden: Int, _ relu: Bool,
                                       _ outputGradient: UnsafePointer<Float>, _ outputGradientStride: Int,
                                       _ carryH: UnsafePointer<Float>, _ carryStride: Int,
                                       _ output: UnsafePointer<Float>, _ outputStride: Int,
                                       _ gateGradient: UnsafeMutablePointer<Float>, _ gateGradientStride: Int) -> Void
    typealias DenseForward = @Sendable (_ count: Int, _ units: Int, _ width: Int, _ activation: Int,
                                        _ values: UnsafeMutablePointer<Float>, _ stride: Int, _ bias: UnsafePointer<Float>?,
                                        _ record: UnsafeMutablePointer<Float>?, _ recordStride: Int) -> Void
    typealias DenseBackward = @Sendable (_ count: Int, _ width: Int, _ activation: Int, _ throughActivation: Bool,
                                         _ outputGradient: UnsafePointer<Float>, _ outputGradientStride: Int,
                                         _ output: UnsafePointer<Float>, _ outputStride: Int,
                                         _ gradient: UnsafeMutablePointer<Float>, _ gradientStride: Int) -> Void

    let project: Project
    let projectHalf: ProjectHalf
    let accumulateWeightGradient: WeightGradient
    let accumulateRows: RowSum
    let lstmForward: GatedForward
    let lstmBackward: LSTMBackward
    let gruForward: GatedForward
    let gruBackward: GRUBackward
    let rnnForward: RNNForward
    let rnnBackward: RNNBackward
    let denseForward: DenseForward
    let denseBackward: DenseBackward
}

extension KernelSet {
    /// Plain loops: RecurCore/Kernels/Reference.swift and RecurCore/Layers.
    public static let reference = KernelSet(
        name: "reference",
        project: ReferenceKernels.project, projectHalf: ReferenceKernels.projectHalf,
        accumulateWeightGradient: ReferenceKernels.accumulateWeightGradient, accumulateRows: ReferenceKernels.accumulateRows,
        lstmForward: LSTMCell.forward, lstmBackward: LSTMCell.backward,
        gruForward: GRUCell.forward, gruBackward: GRUCell.backward,
        rnnForward: RNNCell.forward, rnnBackward: RNNCell.backward,
        denseForward: DenseCell.forward, denseBackward: DenseCell.backward)

    public static let sse2 = KernelSet(
        name: "sse2",
        project: RecurKernelsSSE2.FastKernels.project, projectHalf: RecurKernelsSSE2.FastKernels.projectHalf,
        accumulateWeightGradient: RecurKernelsSSE2.FastKernels.accumulateWeightGradient,
        accumulateRows: RecurKernelsSSE2.FastKernels.accumulateRows,
        lstmForward: RecurKernelsSSE2.FastKernels.lstmForward, lstmBackward: RecurKernelsSSE2.FastKernels.lstmBackward,
        gruForward: RecurKernelsSSE2.FastKernels.gruForward, gruBackward: RecurKernelsSSE2.FastKernels.gruBackward,
        rnnForward: RecurKernelsSSE2.FastKernels.rnnForward, rnnBackward: RecurKernelsSSE2.FastKernels.rnnBackward,
        denseForward: RecurKernelsSSE2.FastKernels.denseForward, denseBackward: RecurKernelsSSE2.FastKernels.denseBackward)

    public static let avx2 = KernelSet(
        name: "avx2",
        project: RecurKernelsAVX2.FastKernels.project, projectHalf: RecurKernelsAVX2.FastKernels.projectHalf,
        accumulateWeightGradient: RecurKernelsAVX2.FastKernels.accumulateWeightGradient,
        accumulateRows: RecurKernelsAVX2.FastKernels.accumulateRows,
        lstmForward: RecurKernelsAVX2.FastKernels.lstmForward, lstmBackward: RecurKernelsAVX2.FastKernels.lstmBackward,
        gruForward: RecurKernelsAVX2.FastKernels.gruForward, gruBackward: RecurKernelsAVX2.FastKernels.gruBackward,
        rnnForward: RecurKernelsAVX2.FastKernels.rnnForward, rnnBackward: RecurKernelsAVX2.FastKernels.rnnBackward,
        denseForward: RecurKernelsAVX2.FastKernels.denseForward, denseBackward: RecurKernelsAVX2.FastKernels.denseBackward)

    public static let avx512 = KernelSet(
        name: "avx512",
        project: RecurKernelsAVX512.FastKernels.project, projectHalf: RecurKernelsAVX512.FastKernels.projectHalf,
        accumulateWeightGradient: RecurKernelsAVX512.FastKernels.accumulateWeightGradient,
        accumulateRows: RecurKernelsAVX512.FastKernels.accumulateRows,
        lstmForward: RecurKernelsAVX512.FastKernels.lstmForward, lstmBackward: RecurKernelsAVX512.FastKernels.lstmBackward,
        gruForward: RecurKernelsAVX512.FastKernels.gruForward, gruBackward: RecurKernelsAVX512.FastKernels.gruBackward,
        rnnForward: RecurKernelsAVX512.FastKernels.rnnForward, rnnBackward: RecurKernelsAVX512.FastKernels.rnnBackward,
        denseForward: RecurKernelsAVX512.FastKernels.denseForward, denseBackward: RecurKernelsAVX512.FastKernels.denseBackward)

    /// The fast levels, lowest first.
    static let levels: [KernelSet] = [.sse2, .avx2, .avx512]

    /// The fast levels this CPU can run.
    public static var supported: [KernelSet] {
        Array(levels.prefix(Int(recurcpu_best_level()) + 1))
    }

    /// The kernels used unless a state or trainer is given others: the best
    /// level of this CPU, or the one RECUR_CPU names.
    public static let active: KernelSet = {
        let best = supported.last ?? .sse2
        guard let requested = getenv("RECUR_CPU").map({ String(cString: $0) }) else { return best }
        if requested == "reference" { return .reference }
        return supported.first { $0.name == requested } ?? best
    }()
}
