// Without libFuzzer (a plain `swift build`), RecurFuzz runs each file named
// on the command line through the fuzz target once: a reproducer for a
// crash file, and what keeps this target building in ordinary builds.
// Built with `--sanitize=fuzzer`, libFuzzer's own main is used instead
// (see mk/fuzz.mk).
import Glibc

/// Runs each file through the target; returns how many could not be read.
func runFiles(_ paths: ArraySlice<String>) -> Int32 {
var failures: Int32 = 0
for path in paths {
    guard let file = fopen(path, "rb") else {
        fputs("RecurFuzz: cannot open \(path)\n", stderr)
        failures += 1
        continue
    }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = fread(&buffer, 1, buffer.count, file)
        if count <= 0 { break }
        bytes += buffer[0..<count]
    }
    fclose(file)
    // An exact-size heap copy, as libFuzzer gives it.
    let copy = UnsafeMutablePointer<UInt8>.allocate(capacity: max(bytes.count, 1))
    copy.initialize(from: bytes, count: bytes.count)
    _ = LLVMFuzzerTestOneInput(copy, bytes.count)
    copy.deallocate()
    print("ok \(path)")
}
return failures
}

exit(runFiles(CommandLine.arguments.dropFirst()) == 0 ? 0 : 1)
