// swift-tools-version:6.0
// A command-line tool that uses Recur through its Swift API: a package that
// depends on the Recur checkout by path, then `import Recur`.
//
//   swift run --package-path examples/swift recur-stream examples/models/tiny_lstm.json
import PackageDescription

let package = Package(
    name: "RecurSwiftExample",
    dependencies: [.package(name: "Recur", path: "../..")],
    targets: [
        .executableTarget(name: "recur-stream", dependencies: [.product(name: "Recur", package: "Recur")]),
    ]
)
