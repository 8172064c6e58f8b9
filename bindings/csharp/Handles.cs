// Handles.cs: the owned library pointers. A SafeHandle is released exactly
// once, by Dispose or, if the program forgot, by the finalizer; the runtime
// also keeps it from being released while a P/Invoke call is using it.
using System;
using System.Runtime.InteropServices;

namespace Recur
{
    internal abstract class RecurHandle : SafeHandle
    {
        protected RecurHandle() : base(IntPtr.Zero, true) { }

        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }
    }

    // The P/Invoke marshaller creates these for `out` parameters, through the
    // parameterless constructor.
    internal sealed class ModelHandle : RecurHandle
    {
        protected override bool ReleaseHandle() { Native.recur_model_free(handle); return true; }
    }

    internal sealed class StateHandle : RecurHandle
    {
        protected override bool ReleaseHandle() { Native.recur_state_free(handle); return true; }
    }

    internal sealed class TrainerHandle : RecurHandle
    {
        protected override bool ReleaseHandle() { Native.recur_trainer_free(handle); return true; }
    }
}
