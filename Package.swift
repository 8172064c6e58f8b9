// swift-tools-version:6.0
// Recur: an embeddable runtime for recurrent neural networks.
//
//   CJSONC     json-c's header, nothing else (a system library)
//   RecurCore  the engine: plain Swift, no Foundation, no C types in its API
//   RecurCAPI  the @_cdecl exports that make up librecur.so
import PackageDescription

let package = Package(
    name: "Recur",
    products: [
        .library(name: "recur", type: .dynamic, targets: ["RecurCAPI"]),
    ],
    targets: [
        .systemLibrary(
            name: "CJSONC",
            pkgConfig: "json-c",
            providers: [.apt(["libjson-c-dev"])]
        ),
        .target(
            name: "RecurCore",
            dependencies: ["CJSONC"]
        ),
        .target(
            name: "RecurCAPI",
            dependencies: ["RecurCore"],
            linkerSettings: [
                // The release library carries the Swift runtime inside it, so a C
                // program or Python needs no Swift toolchain (debug builds and
                // `swift test` link it dynamically; see docs/development.md).
                .unsafeFlags(["-static-stdlib"], .when(configuration: .release)),
            ]
        ),
        .testTarget(
            name: "RecurCoreTests",
            dependencies: ["RecurCore"]
        ),
    ]
)
