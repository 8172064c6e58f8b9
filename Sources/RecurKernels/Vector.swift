// Fast kernels, compiled three times from these same files (symlinked into
// RecurKernelsSSE2, RecurKernelsAVX2, RecurKernelsAVX512 with different
// -march flags); RecurCore picks one set at load time (KernelSet.swift).
// This module has no stable API: only RecurCore calls it.
//
// Determinism: every output element is one chain of operations in a fixed
// order (a sum over k, one FMA per k, from zero; sums across lanes as 16
// lanes and a tree, Block16), whatever the number of streams or steps in a
// call, however the work is tiled and whatever the vector width. So a
// stream's floats do not depend on how it is called, and the AVX2 and
// AVX-512 levels give the bits of the reference kernels (RecurCore's
// Reference.swift, Layers/*.swift and Approximations.swift), which define
// them. SSE2 has no FMA: it multiplies and adds, and differs.
import RecurKernelInterface

#if RECUR_AVX512
typealias Vec = SIMD16<Float>
typealias IntVec = SIMD16<Int32>
typealias HalfVec = SIMD16<Float16>
#elseif RECUR_AVX2
typealias Vec = SIMD8<Float>
typealias IntVec = SIMD8<Int32>
typealias HalfVec = SIMD8<Float16>
#else
typealias Vec = SIMD4<Float>
typealias IntVec = SIMD4<Int32>
typealias HalfVec = SIMD4<Float16>
#endif

/// How weights of a given storage type become a vector of float32: float32
/// weights load as they are; fp16 weights (stored as their bit patterns)
/// are widened on load (F16C's vcvtph2ps at the AVX2 and AVX-512 levels).
/// The arithmetic is float32 either way.
protocol WeightElement {
    static func vector(_ p: UnsafePointer<Self>) -> Vec
}

extension Float: WeightElement {
    @inline(__always) static func vector(_ p: UnsafePointer<Float>) -> Vec { load(p) }
}

extension UInt16: WeightElement {
    @inline(__always) static func vector(_ p: UnsafePointer<UInt16>) -> Vec {
        let half = UnsafeRawPointer(p).loadUnaligned(as: HalfVec.self)
        #if RECUR_AVX512
        // The 16-wide conversion is an out-of-line generic call in this
        // toolchain (accumulators spilled around it: 4x slower than AVX2);
        // two 8-wide ones inline to vcvtph2ps.
        return Vec(lowHalf: SIMD8<Float>(half.lowHalf), highHalf: SIMD8<Float>(half.highHalf))
        #else
        return Vec(half)
        #endif
    }
}

/// Floats per vector at this level.
let lanes = Vec.scalarCount

/// 32 floats as whole vectors of this level (LLVM's own 32-wide vectors
/// compile to slow code here). `HalfPanel` is the same for 16 floats.
struct Panel {
    #if RECUR_AVX512
    var v0 = Vec(), v1 = Vec()
    #elseif RECUR_AVX2
    var v0 = Vec(), v1 = Vec(), v2 = Vec(), v3 = Vec()
    #else
    var v0 = Vec(), v1 = Vec(), v2 = Vec(), v3 = Vec(), v4 = Vec(), v5 = Vec(), v6 = Vec(), v7 = Vec()
    #endif

    /// self += b * (32 weights at p), one FMA per lane.
    @inline(__always)
    mutating func add<E: WeightElement>(_ b: Vec, times p: UnsafePointer<E>) {
        v0 = fma(v0, b, E.vector(p)); v1 = fma(v1, b, E.vector(p + lanes))
        #if !RECUR_AVX512
        v2 = fma(v2, b, E.vector(p + 2 * lanes)); v3 = fma(v3, b, E.vector(p + 3 * lanes))
        #endif
        #if !RECUR_AVX512 && !RECUR_AVX2
        v4 = fma(v4, b, E.vector(p + 4 * lanes)); v5 = fma(v5, b, E.vector(p + 5 * lanes))
        v6 = fma(v6, b, E.vector(p + 6 * lanes)); v7 = fma(v7, b, E.vector(p + 7 * lanes))
        #endif
    }

    /// Writes (32 floats at p) + self to p when `accumulate`, else self.
    @inline(__always)
    func store(_ p: UnsafeMutablePointer<Float>, accumulate: Bool = false) {
        @inline(__always) func put(_ v: Vec, _ q: UnsafeMutablePointer<Float>) {
            RecurKernelsStore(accumulate ? load(UnsafePointer(q)) + v : v, q)
        }
        put(v0, p); put(v1, p + lanes)
        #if !RECUR_AVX512
        put(v2, p + 2 * lanes); put(v3, p + 3 * lanes)
        #endif
        #if !RECUR_AVX512 && !RECUR_AVX2
        put(v4, p + 4 * lanes); put(v5, p + 5 * lanes); put(v6, p + 6 * lanes); put(v7, p + 7 * lanes)
        #endif
    }
}

struct HalfPanel {
    #if RECUR_AVX512
    var v0 = Vec()
    #elseif RECUR_AVX2
    var v0 = Vec(), v1 = Vec()
    #else
    var v0 = Vec(), v1 = Vec(), v2 = Vec(), v3 = Vec()
    #endif

    @inline(__always)
    mutating func add<E: WeightElement>(_ b: Vec, times p: UnsafePointer<E>) {
        v0 = fma(v0, b, E.vector(p))
        #if !RECUR_AVX512
        v1 = fma(v1, b, E.vector(p + lanes))
        #endif
        #if !RECUR_AVX512 && !RECUR_AVX2
        v2 = fma(v2, b, E.vector(p + 2 * lanes)); v3 = fma(v3, b, E.vector(p + 3 * lanes))
        #endif
    }

    @inline(__always)
    func store(_ p: UnsafeMutablePointer<Float>, accumulate: Bool = false) {
        @inline(__always) func put(_ v: Vec, _ q: UnsafeMutablePointer<Float>) {
            RecurKernelsStore(accumulate ? load(UnsafePointer(q)) + v : v, q)
        }
        put(v0, p)
        #if !RECUR_AVX512
        put(v1, p + lanes)
        #endif
        #if !RECUR_AVX512 && !RECUR_AVX2
        put(v2, p + 2 * lanes); put(v3, p + 3 * lanes)
        #endif
    }
}

/// 16 floats as 16 lanes at every level (one, two or four vectors): sums
/// whose order does not depend on the level. `sum()` adds lane l and lane
/// l + 8, then + 4, + 2, + 1 (RecurCore's Approx.sum16 / dot16 in scalar).
struct Block16 {
    #if RECUR_AVX512
    var v0 = Vec()
    #elseif RECUR_AVX2
    var v0 = Vec(), v1 = Vec()
    #else
    var v0 = Vec(), v1 = Vec(), v2 = Vec(), v3 = Vec()
    #endif

    /// self += (16 floats at p).
    @inline(__always)
    mutating func add(_ p: UnsafePointer<Float>) {
        v0 += load(p)
        #if !RECUR_AVX512
        v1 += load(p + lanes)
        #endif
        #if !RECUR_AVX512 && !RECUR_AVX2
        v2 += load(p + 2 * lanes); v3 += load(p + 3 * lanes)
        #endif
    }

    /// self += (16 floats at a) * (16 floats at b), one FMA per lane.
    @inline(__always)
    mutating func addProducts(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>) {
        v0 = fma(v0, load(a), load(b))
        #if !RECUR_AVX512
        v1 = fma(v1, load(a + lanes), load(b + lanes))
        #endif
        #if !RECUR_AVX512 && !RECUR_AVX2
        v2 = fma(v2, load(a + 2 * lanes), load(b + 2 * lanes)); v3 = fma(v3, load(a + 3 * lanes), load(b + 3 * lanes))
        #endif
    }

    @inline(__always)
    func sum() -> Float {
        #if RECUR_AVX512
        return horizontalSum(v0)
        #elseif RECUR_AVX2
        return horizontalSum(v0 + v1)
        #else
        return horizontalSum((v0 + v2) + (v1 + v3))
        #endif
    }
}

@inline(__always)
func RecurKernelsStore(_ v: Vec, _ p: UnsafeMutablePointer<Float>) { store(v, p) }

/// acc + a * b: fused (one rounding) where the level has FMA, as the
/// reference kernels' Approx.fused; without FMA a fused product would be a
/// libm call per lane, so SSE2 multiplies and adds (and leaves the promise).
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
