// Without libFuzzer (a plain `swift build`, as `swift test` does), RecurFuzz
// is a program that runs each file named on its command line (each file of
// a directory named there) through the fuzz target once: a reproducer for a crash file, and what keeps this
// target building in ordinary builds.
//
// The fuzz build (mk/fuzz.mk) links libFuzzer, which brings its own main,
// and defines RECUR_LIBFUZZER so that this one is left out. (There is no
// main.swift: with --sanitize=fuzzer swiftc parses every file as a library,
// where top-level code is an error even inside an inactive #if.)
#if !RECUR_LIBFUZZER
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@main
enum Runner {
    static func main() {
        var failures: Int32 = 0
        var count = 0
        for path in CommandLine.arguments.dropFirst().flatMap(filesIn) {
            guard let bytes = readFile(path) else {
                fputs("RecurFuzz: cannot read \(path)\n", stderr)
                failures += 1
                continue
            }
            // An exact-size heap copy, as libFuzzer passes its inputs.
            let copy = UnsafeMutablePointer<UInt8>.allocate(capacity: max(bytes.count, 1))
            copy.initialize(from: bytes, count: bytes.count)
            _ = LLVMFuzzerTestOneInput(copy, bytes.count)
            copy.deallocate()
            count += 1
        }
        print("\(count) inputs passed, \(failures) unreadable")
        exit(failures == 0 ? 0 : 1)
    }

    /// A directory's files (sorted, not recursive), or the path itself.
    static func filesIn(_ path: String) -> [String] {
        guard let directory = opendir(path) else { return [path] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if entry.pointee.d_type != UInt8(DT_DIR) { names.append(name) }
        }
        return names.sorted().map { path + "/" + $0 }
    }

    static func readFile(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count <= 0 { break }
            bytes += buffer[0..<count]
        }
        return ferror(file) == 0 ? bytes : nil
    }
}
#endif
