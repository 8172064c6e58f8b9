/// The library's version. `scripts/generate-header.py` copies these numbers
/// into `RECUR_VERSION_MAJOR`, `_MINOR` and `_PATCH` in `include/recur.h`.
public enum RecurVersion {
    public static let major = 0
    public static let minor = 1
    public static let patch = 0

    /// MAJOR*10000 + MINOR*100 + PATCH, as `RECUR_VERSION_NUMBER`.
    public static let number = UInt32(major * 10000 + minor * 100 + patch)
    /// "MAJOR.MINOR.PATCH"
    public static let string = "\(major).\(minor).\(patch)"
}
