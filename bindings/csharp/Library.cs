// Library.cs: facts about the loaded librecur, and its version check.
using System;

namespace Recur
{
    /// <summary>How tensors are written when a model is saved (recur_tensor_encoding).</summary>
    public enum TensorEncoding
    {
        /// <summary>{"shape": [...], "data": [...]}: readable decimal numbers.</summary>
        Flat = 0,
        /// <summary>{"shape": [...], "base64": "..."}: little-endian float32, fast to load.</summary>
        Base64 = 1,
        /// <summary>Base64 for tensors of more than 4096 values, flat for the others.</summary>
        Automatic = 2,
    }

    /// <summary>How a model keeps the weights inference reads (recur_weight_storage).</summary>
    public enum WeightStorage
    {
        Fp32 = 0,
        /// <summary>fp16 copies, widened to float32 as read; outputs move by about 1e-3.</summary>
        Fp16 = 1,
        /// <summary>int8 copies with a scale per output, multiplied in integers; inference only.</summary>
        Int8 = 2,
    }

    /// <summary>The loaded librecur: its version and kernels.</summary>
    public static class Library
    {
        /// <summary>
        /// RECUR_VERSION_NUMBER of the recur.h this binding declares
        /// (MAJOR*10000 + MINOR*100 + PATCH): the API it was written against.
        /// </summary>
        public const int HeaderVersionNumber = 100;

        /// <summary>The library's version, "MAJOR.MINOR.PATCH".</summary>
        public static string Version { get { return Utf8.Decode(Native.recur_version_string()); } }

        /// <summary>The library's version as MAJOR*10000 + MINOR*100 + PATCH.</summary>
        public static int VersionNumber { get { return (int)Native.recur_version_number(); } }

        /// <summary>The kernels in use: "avx512", "avx2", "sse2" or "reference".</summary>
        public static string CpuKernels { get { return Utf8.Decode(Native.recur_cpu_kernels()); } }

        /// <summary>The library's short description of a status.</summary>
        public static string StatusString(RecurStatus status)
        {
            return Utf8.Decode(Native.recur_status_string(status));
        }

        /// <summary>
        /// True when the loaded library serves this binding: the same MAJOR and
        /// at least the header's MINOR (a MINOR release only adds; docs/versioning.md).
        /// </summary>
        public static bool IsCompatible
        {
            get
            {
                int library = VersionNumber;
                return library / 10000 == HeaderVersionNumber / 10000
                    && library / 100 % 100 >= HeaderVersionNumber / 100 % 100;
            }
        }

        /// <summary>Throws InvalidOperationException unless IsCompatible.</summary>
        public static void CheckVersion()
        {
            if (!IsCompatible)
                throw new InvalidOperationException(string.Format(
                    "Recur: this binding is written for librecur {0} (same MAJOR, at least that MINOR) " +
                    "but the loaded library is {1}", FormatNumber(HeaderVersionNumber), Version));
        }

        // Checked once, by the first model made: every other object comes from one.
        private static volatile bool checkedVersion;

        internal static void EnsureCompatible()
        {
            if (checkedVersion)
                return;
            try {
                CheckVersion();
            } catch (DllNotFoundException error) {
                // The runtime's own message does not say where to put the library.
                throw new DllNotFoundException(
                    "Recur: the native library (librecur.so on Linux) could not be loaded: put it next to " +
                    "Recur.dll or the program, or in a directory on LD_LIBRARY_PATH (docs/csharp.md)", error);
            }
            checkedVersion = true;
        }

        private static string FormatNumber(int n)
        {
            return string.Format("{0}.{1}.{2}", n / 10000, n / 100 % 100, n % 100);
        }
    }
}
