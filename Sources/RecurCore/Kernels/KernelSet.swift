// The kernels a state or trainer calls, chosen once: the reference kernels
// (plain loops, the ground truth) or the fast kernels built for this CPU.
//
// RECUR_CPU=reference|portable|sse2|avx2|avx512 in the environment forces a
// level (one the CPU lacks falls back to the best it has); the default is
// the best. The x86-64 levels exist only in x86-64 builds (Package.swift);
// elsewhere, or built with RECUR_PORTABLE=1, the portable level is the
// fast one.
import CRecurCPU
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RecurKernelInterface
import RecurKernelsPortable
#if RECUR_X86_LEVELS
import RecurKernelsAVX2
import RecurKernelsAVX512
import RecurKernelsSSE2
#endif

/// One implementation of every kernel: a type conforming to `Kernels`
/// (RecurKernelInterface). Calls through the metatype allocate nothing.
public struct KernelSet: Sendable {
    /// "reference", "portable", "sse2", "avx2" or "avx512".
    public let name: String
    let level: any Kernels.Type
    /// The int8 product's path at this level (Sources/CRecurInt8): AVX-512
    /// VNNI at avx512; at avx2, AVX-VNNI (else AVX2's vpmaddwd); portable C
    /// otherwise; each falls back to what the CPU has. Every path gives the
    /// same bits. Stored, as the step path reads it on every call.
    let int8Path: Int32

    init(name: String, level: any Kernels.Type, int8Path: Int32 = 0) {
        self.name = name
        self.level = level
        self.int8Path = int8Path
    }
}

extension KernelSet {
    /// Plain loops: RecurCore/Kernels/Reference.swift and RecurCore/Layers.
    public static let reference = KernelSet(name: "reference", level: ReferenceKernels.self)
    /// The fast kernels' source with Swift's 4-lane SIMD types and fused
    /// multiply-adds: NEON on arm64; the reference kernels' bits anywhere.
    /// On x86-64 without FMA each fused product is a libm call: correct, slow.
    public static let portable = KernelSet(name: "portable", level: RecurKernelsPortable.FastKernels.self)
    #if RECUR_X86_LEVELS
    public static let sse2 = KernelSet(name: "sse2", level: RecurKernelsSSE2.FastKernels.self)
    public static let avx2 = KernelSet(name: "avx2", level: RecurKernelsAVX2.FastKernels.self, int8Path: 2)
    public static let avx512 = KernelSet(name: "avx512", level: RecurKernelsAVX512.FastKernels.self, int8Path: 3)

    /// The fast levels, lowest first.
    static let levels: [KernelSet] = [.sse2, .avx2, .avx512]

    /// The fast levels this CPU can run (the portable level is not among
    /// them on x86-64: RECUR_CPU=portable still selects it).
    public static var supported: [KernelSet] {
        Array(levels.prefix(Int(recurcpu_best_level()) + 1))
    }
    #else
    /// The fast levels this build has: the portable one.
    public static var supported: [KernelSet] { [.portable] }
    #endif

    /// Every level this build can run, by name (for RECUR_CPU).
    static var selectable: [KernelSet] { [.reference] + supported + (supported.contains { $0.name == "portable" } ? [] : [.portable]) }

    /// The level dispatch picks by default (on AMD Zen 4, AVX2 rather than
    /// AVX-512: docs/performance.md).
    static var preferred: KernelSet? {
        #if RECUR_X86_LEVELS
        return levels[Int(recurcpu_preferred_level())]
        #else
        return supported.last
        #endif
    }

    /// The kernels used unless a state or trainer is given others: the
    /// preferred level of this CPU, or the one RECUR_CPU names (any level
    /// the CPU can run, e.g. RECUR_CPU=avx512 on Zen 4).
    public static let active: KernelSet = {
        let best = preferred ?? .portable
        guard let requested = getenv("RECUR_CPU").map({ String(cString: $0) }) else { return best }
        return selectable.first { $0.name == requested } ?? best
    }()
}
