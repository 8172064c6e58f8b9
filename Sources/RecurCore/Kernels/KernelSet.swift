// The kernels a state or trainer calls, chosen once: the reference kernels
// (plain loops, the ground truth) or the fast kernels built for this CPU.
//
// RECUR_CPU=reference|sse2|avx2|avx512 in the environment forces a level
// (one the CPU lacks falls back to the best it has); the default is the best.
import CRecurCPU
import Glibc
import RecurKernelInterface
import RecurKernelsAVX2
import RecurKernelsAVX512
import RecurKernelsSSE2

/// One implementation of every kernel: a type conforming to `Kernels`
/// (RecurKernelInterface). Calls through the metatype allocate nothing.
public struct KernelSet: Sendable {
    /// "reference", "sse2", "avx2" or "avx512".
    public let name: String
    let level: any Kernels.Type
}

extension KernelSet {
    /// Plain loops: RecurCore/Kernels/Reference.swift and RecurCore/Layers.
    public static let reference = KernelSet(name: "reference", level: ReferenceKernels.self)
    public static let sse2 = KernelSet(name: "sse2", level: RecurKernelsSSE2.FastKernels.self)
    public static let avx2 = KernelSet(name: "avx2", level: RecurKernelsAVX2.FastKernels.self)
    public static let avx512 = KernelSet(name: "avx512", level: RecurKernelsAVX512.FastKernels.self)

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
