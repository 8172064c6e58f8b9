// swift-tools-version:6.0
// Recur: an embeddable runtime for recurrent neural networks.
//
//   CJSONC             json-c's header, nothing else (a system library)
//   CRecurCPU          CPU feature detection (C: __builtin_cpu_supports)
//   RecurKernelInterface  what core and kernels share: layout constants,
//                      activation codes, strided views, the Kernels protocol
//   RecurKernels<LVL>  the fast kernels, one source (Sources/RecurKernels,
//                      symlinked) built for SSE2, AVX2+FMA and AVX-512 (x86-64
//                      only), and as the portable level (Swift SIMD types:
//                      NEON on arm64; fused multiply-adds, the reference's bits)
//   RecurCore          the engine: plain Swift, no Foundation, no C types in its API
//   RecurCAPI          the @_cdecl exports that make up librecur.so
//   Recur              the Swift API (library product "Recur": `import Recur`)
import PackageDescription

/// The x86-64 kernel levels (and their -march flags) are built on x86-64
/// hosts, unless RECUR_PORTABLE=1 asks for the portable level alone (how
/// `make test-portable` proves the package builds and passes without them).
#if arch(x86_64)
let x86Levels = Context.environment["RECUR_PORTABLE"] == nil
#else
let x86Levels = false
#endif
let x86KernelTargets = x86Levels ? ["RecurKernelsSSE2", "RecurKernelsAVX2", "RecurKernelsAVX512"] : []

/// Kernels are always optimised (also in debug builds, so tests run fast);
/// inputs are validated before any kernel runs.
func kernels(_ level: String, defines: [String], march: String?) -> Target {
    var flags = ["-Ounchecked", "-enforce-exclusivity=unchecked"]
    if let march { flags += ["-Xcc", "-march=\(march)"] }
    return .target(
        name: "RecurKernels\(level)",
        dependencies: ["RecurKernelInterface"],
        swiftSettings: defines.map { .define($0) } + [.unsafeFlags(flags)]
    )
}

let package = Package(
    name: "Recur",
    products: [
        .library(name: "recur", type: .dynamic, targets: ["RecurCAPI"]),
        // The Swift face of the same engine: `import Recur` (docs/swift.md).
        .library(name: "Recur", targets: ["Recur"]),
        // libFuzzer target over the C API's parsers (mk/fuzz.mk: make fuzz).
        .executable(name: "RecurFuzz", targets: ["RecurFuzz"]),
    ],
    targets: [
        // json-c is linked statically (RecurCore's linker settings), so the
        // library needs no libjson-c at run time.
        .systemLibrary(
            name: "CJSONC",
            providers: [.apt(["libjson-c-dev"])]
        ),
        .target(name: "CRecurCPU"),
        // int8 weight storage's product (VNNI intrinsics have no Swift spelling);
        // always optimised, like the Swift kernels (DWARF 4: valgrind 3.19 reads no DWARF 5).
        .target(name: "CRecurInt8", cSettings: [.unsafeFlags(["-O2", "-gdwarf-4"])]),
        .target(name: "RecurKernelInterface"),
        kernels("Portable", defines: ["RECUR_PORTABLE", "RECUR_FMA"], march: nil),
        .target(
            name: "RecurCore",
            dependencies: ["CJSONC", "CRecurCPU", "CRecurInt8", "RecurKernelInterface", "RecurKernelsPortable"]
                + x86KernelTargets.map { .target(name: $0) },
            swiftSettings: x86Levels ? [.define("RECUR_X86_LEVELS")] : [],
            linkerSettings: [.unsafeFlags(["-Xlinker", "-l:libjson-c.a"], .when(platforms: [.linux]))]
        ),
        .target(
            name: "RecurCAPI",
            dependencies: ["RecurCore"],
            exclude: ["recur.map"],
            linkerSettings: [
                // librecur.so.MAJOR, exporting recur_* only.
                .unsafeFlags(["-Xlinker", "-soname=librecur.so.0",
                              "-Xlinker", "--version-script=\(Context.packageDirectory)/Sources/RecurCAPI/recur.map"],
                             .when(platforms: [.linux])),
                // The release library carries the Swift runtime inside it, so a C
                // program or Python needs no Swift toolchain (debug builds and
                // `swift test` link it dynamically; see docs/development.md).
                .unsafeFlags(["-static-stdlib"], .when(platforms: [.linux], configuration: .release)),
            ]
        ),
        .target(name: "Recur", dependencies: ["RecurCore"]),
        // Fuzzing: recur_model_load_json and recur_trainer_create's config
        // parser under libFuzzer + ASan (mk/fuzz.mk). Without
        // --sanitize=fuzzer it builds as a runner of input files.
        .executableTarget(
            name: "RecurFuzz",
            dependencies: ["RecurCAPI"],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .testTarget(name: "RecurTests", dependencies: ["Recur"]),
        .testTarget(
            name: "RecurCoreTests",
            dependencies: ["RecurCore", "RecurKernelInterface", "CRecurInt8"]
        ),
    ] + (x86Levels ? [
        kernels("SSE2", defines: [], march: nil),
        kernels("AVX2", defines: ["RECUR_AVX2", "RECUR_FMA"], march: "x86-64-v3"),
        kernels("AVX512", defines: ["RECUR_AVX512", "RECUR_FMA"], march: "x86-64-v4"),
    ] : [])
)
