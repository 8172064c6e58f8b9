// RecurException.cs: the status codes and the exception a failed call throws.
using System;

namespace Recur
{
    /// <summary>
    /// Why a Recur call failed: recur_status of include/recur.h, value for
    /// value. Append-only, as in C: a later library may return a value not
    /// named here, so give a switch over it a default case.
    /// </summary>
    public enum RecurStatus
    {
        Ok = 0,
        /// <summary>A NULL pointer, a zero size or a bad option.</summary>
        InvalidArgument = 1,
        /// <summary>The text is not valid JSON.</summary>
        Parse = 2,
        /// <summary>Valid JSON, but not a valid model or configuration.</summary>
        Model = 3,
        /// <summary>A file could not be read or written.</summary>
        IO = 4,
        /// <summary>Sizes do not fit the model.</summary>
        Shape = 5,
        /// <summary>NaN or infinity where a finite number is needed.</summary>
        Numeric = 6,
        /// <summary>Memory could not be allocated.</summary>
        OutOfMemory = 7,
        /// <summary>A bug in Recur: please report it.</summary>
        Internal = 8,
    }

    /// <summary>
    /// A call into librecur returned a status other than Ok. Message is the
    /// library's own (recur_last_error()): what went wrong and where.
    /// Sizes the binding can check itself (array lengths, negative counts)
    /// throw ArgumentException before the library is called.
    /// </summary>
    public class RecurException : Exception
    {
        public RecurException(RecurStatus status, string message) : base(message)
        {
            Status = status;
        }

        /// <summary>The library's status code (never Ok).</summary>
        public RecurStatus Status { get; private set; }

        /// <summary>The library's short description of Status (recur_status_string).</summary>
        public string StatusString { get { return Library.StatusString(Status); } }
    }

    // Turns a status into an exception. Kept apart from the calls so that the
    // success path is one comparison and allocates nothing.
    internal static class Errors
    {
        internal static void Check(RecurStatus status)
        {
            if (status != RecurStatus.Ok)
                Throw(status);
        }

        // Reads the message at once: it is per thread and lasts only until this
        // thread's next failing call, and P/Invoke runs on the calling thread.
        private static void Throw(RecurStatus status)
        {
            string message = Utf8.Decode(Native.recur_last_error());
            if (message.Length == 0)
                message = Library.StatusString(status);
            throw new RecurException(status, message);
        }
    }
}
