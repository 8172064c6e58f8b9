// Fast kernels, compiled three times from these same files (symlinked into
// RecurKernelsSSE2, RecurKernelsAVX2, RecurKernelsAVX512 with different
// -march flags); RecurCore picks one set at load time (KernelSet.swift).
// This module has no stable API: only RecurCore calls it.
//
// Determinism: every output element is one chain of operations in a fixed
// order (a sum over k, one FMA per k, from zero), whatever the number of
// streams or steps in a call and however the work is tiled. So a stream's
// floats do not depend on how it is called, at every dispatch level.

#if RECUR_AVX512
typealias Vec = SIMD16<Float>
typealias IntVec = SIMD16<Int32>
#elseif RECUR_AVX2
typealias Vec = SIMD8<Float>
typealias IntVec = SIMD8<Int32>
#else
typealias Vec = SIMD4<Float>
typealias IntVec = SIMD4<Int32>
#endif

/// Floats per vector at this level.
let lanes = Vec.scalarCount

/// acc + a * b: fused (one rounding) where the level has FMA; without FMA a
/// fused product would be a libm call per lane, so SSE2 multiplies and adds.
@inline(__always)
func fma(_ acc: Vec, _ a: Vec, _ b: Vec) -> Vec {
    #if RECUR_FMA
    return acc.addingProduct(a, b)
    #else
    return acc + a * b
    #endif
}

@inline(__always)
func load(_ p: UnsafePointer<Float>) -> Vec {
    UnsafeRawPointer(p).loadUnaligned(as: Vec.self)
}

@inline(__always)
func store(_ v: Vec, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vec.self)
}

@inline(__always)
func splat(_ x: Float) -> Vec { Vec(repeating: x) }

/// The lanes added in a fixed order (a balanced tree): deterministic.
@inline(__always)
func horizontalSum(_ v: Vec) -> Float {
    #if RECUR_AVX512
    let a = v.lowHalf + v.highHalf
    let b = a.lowHalf + a.highHalf
    let c = b.lowHalf + b.highHalf
    return c[0] + c[1]
    #elseif RECUR_AVX2
    let b = v.lowHalf + v.highHalf
    let c = b.lowHalf + b.highHalf
    return c[0] + c[1]
    #else
    let c = v.lowHalf + v.highHalf
    return c[0] + c[1]
    #endif
}
