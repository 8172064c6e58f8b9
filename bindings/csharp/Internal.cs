// Internal.cs: UTF-8 strings across the boundary, and the argument checks
// every wrapper makes before it calls the library.
using System;
using System.Text;

namespace Recur
{
    internal static unsafe class Utf8
    {
        // NUL-terminated UTF-8, as the library's const char* parameters take
        // (the runtime's own string marshalling is not UTF-8 everywhere).
        internal static byte[] Encode(string text, string argument)
        {
            if (text == null)
                throw new ArgumentNullException(argument);
            if (text.IndexOf('\0') >= 0)
                throw new ArgumentException(argument + " contains a NUL character", argument);
            byte[] bytes = new byte[Encoding.UTF8.GetByteCount(text) + 1];
            Encoding.UTF8.GetBytes(text, 0, text.Length, bytes, 0);
            return bytes;
        }

        // A NUL-terminated string the library owns; "" for NULL.
        internal static string Decode(IntPtr text)
        {
            if (text == IntPtr.Zero)
                return "";
            byte* start = (byte*)text;
            int length = 0;
            while (start[length] != 0)
                length++;
            return Encoding.UTF8.GetString(start, length);
        }
    }

    // Every check passes string literals and numbers only, and builds its
    // message only when it fails: a call that passes allocates nothing.
    internal static unsafe class Args
    {
        internal static void NotNull(object value, string name)
        {
            if (value == null)
                throw new ArgumentNullException(name);
        }

        internal static void Positive(int value, string name)
        {
            if (value <= 0)
                throw new ArgumentOutOfRangeException(name, value, name + " must be at least 1");
        }

        internal static void NotNegative(int value, string name)
        {
            if (value < 0)
                throw new ArgumentOutOfRangeException(name, value, name + " must not be negative");
        }

        // `got` values where exactly `expected` are needed; layout names the
        // factors, e.g. "[batch][input_size]".
        internal static void Count(int got, long expected, string name, string layout)
        {
            if (got != expected)
                throw new ArgumentException(string.Format("{0} has {1} values, expected {2} = {3}",
                                                          name, got, layout, expected), name);
        }

        // An array used from `offset` on: it must hold at least `expected`
        // values from there (the rest of the array is not touched).
        internal static void Slice(int length, int offset, long expected, string name, string offsetName, string layout)
        {
            if (offset < 0 || offset > length)
                throw new ArgumentOutOfRangeException(offsetName, offset,
                    string.Format("{0} must be within {1} (length {2})", offsetName, name, length));
            if (length - offset < expected)
                throw new ArgumentException(string.Format("{0} holds {1} values from offset {2}, expected {3} = {4}",
                                                          name, length - offset, offset, layout, expected), name);
        }

        // Copies lengths into the size_t scratch the library reads, checking
        // each is in [min, steps] (0 or 1 to steps, as the call allows).
        internal static void Lengths(int* lengths, int count, int min, int steps, UIntPtr* scratch)
        {
            for (int b = 0; b < count; b++) {
                int length = lengths[b];
                if (length < min || length > steps)
                    throw new ArgumentOutOfRangeException("lengths", length,
                        string.Format("lengths[{0}] is {1}, not within {2} to steps ({3})", b, length, min, steps));
                scratch[b] = (UIntPtr)(uint)length;
            }
        }

        internal static int ToInt(UIntPtr value)
        {
            return checked((int)(ulong)value);
        }
    }
}
