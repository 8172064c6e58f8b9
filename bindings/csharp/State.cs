// State.cs: inference state for `batch` independent streams (recur_state).
using System;
using System.Runtime.InteropServices;

namespace Recur
{
    /// <summary>
    /// Runs a model over Batch independent streams. Make one with
    /// model.CreateState(batch).
    /// </summary>
    /// <remarks>
    /// Arrays are float32, row-major, batch first: a step is
    /// [batch][features], a sequence [batch][steps][features]. Every size is
    /// checked before the library is called (ArgumentException naming the
    /// argument). Step and Run pin the caller's arrays and allocate nothing.
    /// A state is used by one thread at a time; it keeps its model alive, so
    /// the Model may be disposed first.
    /// </remarks>
    public sealed class State : IDisposable
    {
        private readonly StateHandle handle;
        private UIntPtr[] lengthScratch; // size_t lengths for the library, made on the first Run with lengths

        internal State(Model model, int batch)
        {
            ModelHandle live = model.Live;
            Args.Positive(batch, "batch");
            StateHandle made;
            RecurStatus status = Native.recur_state_create(live, (UIntPtr)(uint)batch, out made);
            if (status != RecurStatus.Ok) {
                if (made != null)
                    made.Dispose();
                Errors.Check(status);
            }
            handle = made;
            Batch = batch;
            InputSize = Args.ToInt(Native.recur_model_input_size(live));
            OutputSize = Args.ToInt(Native.recur_model_output_size(live));
            Size = Args.ToInt(Native.recur_state_size(made));
        }

        /// <summary>Number of streams.</summary>
        public int Batch { get; private set; }
        /// <summary>The model's features per step in.</summary>
        public int InputSize { get; private set; }
        /// <summary>The model's features per step out.</summary>
        public int OutputSize { get; private set; }
        /// <summary>Floats of state per stream (layer 0's h, its c for LSTM, layer 1's h, ...).</summary>
        public int Size { get; private set; }

        // ---- Step: one time step for every stream ----

        /// <summary>
        /// Advances every stream by one step: x is [batch][input_size], y
        /// receives [batch][output_size]. On error the state is unchanged.
        /// </summary>
        public unsafe void Step(float[] x, float[] y)
        {
            StateHandle live = Live;
            Args.NotNull(x, "x");
            Args.NotNull(y, "y");
            Args.Count(x.Length, (long)Batch * InputSize, "x", "[batch][input_size]");
            Args.Count(y.Length, (long)Batch * OutputSize, "y", "[batch][output_size]");
            fixed (float* px = x)
            fixed (float* py = y)
                Errors.Check(Native.recur_state_step(live, px, py));
        }

        /// <summary>Step on parts of larger buffers: x from xOffset, y from yOffset.</summary>
        public unsafe void Step(float[] x, int xOffset, float[] y, int yOffset)
        {
            StateHandle live = Live;
            Args.NotNull(x, "x");
            Args.NotNull(y, "y");
            Args.Slice(x.Length, xOffset, (long)Batch * InputSize, "x", "xOffset", "[batch][input_size]");
            Args.Slice(y.Length, yOffset, (long)Batch * OutputSize, "y", "yOffset", "[batch][output_size]");
            fixed (float* px = &x[xOffset])
            fixed (float* py = &y[yOffset])
                Errors.Check(Native.recur_state_step(live, px, py));
        }

        // ---- Run: `steps` time steps for every stream ----

        /// <summary>
        /// Advances every stream by `steps` steps, continuing from the state:
        /// x is [batch][steps][input_size], y receives [batch][steps][output_size].
        /// The same floats as `steps` calls of Step.
        /// </summary>
        public unsafe void Run(float[] x, int steps, float[] y)
        {
            StateHandle live = Live;
            CheckRun(x, steps, y);
            fixed (float* px = x)
            fixed (float* py = y)
                Errors.Check(Native.recur_state_run(live, px, (UIntPtr)(uint)steps, py));
        }

        /// <summary>Run on parts of larger buffers: x from xOffset, y from yOffset.</summary>
        public unsafe void Run(float[] x, int xOffset, int steps, float[] y, int yOffset)
        {
            StateHandle live = Live;
            Args.NotNull(x, "x");
            Args.NotNull(y, "y");
            Args.Positive(steps, "steps");
            Args.Slice(x.Length, xOffset, (long)Batch * steps * InputSize, "x", "xOffset", "[batch][steps][input_size]");
            Args.Slice(y.Length, yOffset, (long)Batch * steps * OutputSize, "y", "yOffset", "[batch][steps][output_size]");
            fixed (float* px = &x[xOffset])
            fixed (float* py = &y[yOffset])
                Errors.Check(Native.recur_state_run(live, px, (UIntPtr)(uint)steps, py));
        }

        /// <summary>
        /// Run over streams of different lengths: stream b runs only its first
        /// lengths[b] steps (0 to steps). Its inputs past them are never read,
        /// its outputs there are written as 0, and its state is the one after
        /// its own last step (recur_state_run_lengths).
        /// </summary>
        public unsafe void Run(float[] x, int steps, int[] lengths, float[] y)
        {
            StateHandle live = Live;
            CheckRun(x, steps, y);
            Args.NotNull(lengths, "lengths");
            Args.Count(lengths.Length, Batch, "lengths", "[batch]");
            fixed (float* px = x)
            fixed (int* pl = lengths)
            fixed (float* py = y)
                RunLengths(live, px, steps, pl, py);
        }

        private void CheckRun(float[] x, int steps, float[] y)
        {
            Args.NotNull(x, "x");
            Args.NotNull(y, "y");
            Args.Positive(steps, "steps");
            Args.Count(x.Length, (long)Batch * steps * InputSize, "x", "[batch][steps][input_size]");
            Args.Count(y.Length, (long)Batch * steps * OutputSize, "y", "[batch][steps][output_size]");
        }

        private unsafe void RunLengths(StateHandle live, float* x, int steps, int* lengths, float* y)
        {
            if (lengthScratch == null)
                lengthScratch = new UIntPtr[Batch];
            fixed (UIntPtr* counts = lengthScratch) {
                Args.Lengths(lengths, Batch, 0, steps, counts);
                Errors.Check(Native.recur_state_run_lengths(live, x, (UIntPtr)(uint)steps, counts, y));
            }
        }

#if !RECUR_NO_SPAN
        // ---- the same on spans (exactly the sizes above) ----

        /// <summary>Step: x is [batch][input_size], y receives [batch][output_size].</summary>
        public unsafe void Step(ReadOnlySpan<float> x, Span<float> y)
        {
            StateHandle live = Live;
            Args.Count(x.Length, (long)Batch * InputSize, "x", "[batch][input_size]");
            Args.Count(y.Length, (long)Batch * OutputSize, "y", "[batch][output_size]");
            fixed (float* px = &MemoryMarshal.GetReference(x))
            fixed (float* py = &MemoryMarshal.GetReference(y))
                Errors.Check(Native.recur_state_step(live, px, py));
        }

        /// <summary>Run: x is [batch][steps][input_size], y receives [batch][steps][output_size].</summary>
        public unsafe void Run(ReadOnlySpan<float> x, int steps, Span<float> y)
        {
            StateHandle live = Live;
            CheckRun(x.Length, steps, y.Length);
            fixed (float* px = &MemoryMarshal.GetReference(x))
            fixed (float* py = &MemoryMarshal.GetReference(y))
                Errors.Check(Native.recur_state_run(live, px, (UIntPtr)(uint)steps, py));
        }

        /// <summary>Run over streams of different lengths (see the array overload).</summary>
        public unsafe void Run(ReadOnlySpan<float> x, int steps, ReadOnlySpan<int> lengths, Span<float> y)
        {
            StateHandle live = Live;
            CheckRun(x.Length, steps, y.Length);
            Args.Count(lengths.Length, Batch, "lengths", "[batch]");
            fixed (float* px = &MemoryMarshal.GetReference(x))
            fixed (int* pl = &MemoryMarshal.GetReference(lengths))
            fixed (float* py = &MemoryMarshal.GetReference(y))
                RunLengths(live, px, steps, pl, py);
        }

        private void CheckRun(int xLength, int steps, int yLength)
        {
            Args.Positive(steps, "steps");
            Args.Count(xLength, (long)Batch * steps * InputSize, "x", "[batch][steps][input_size]");
            Args.Count(yLength, (long)Batch * steps * OutputSize, "y", "[batch][steps][output_size]");
        }
#endif

        // ---- streams ----

        /// <summary>Sets every stream's state to zero.</summary>
        public void Reset()
        {
            Errors.Check(Native.recur_state_reset(Live));
        }

        /// <summary>Sets stream `stream` to zero (e.g. a new player in that slot); the others are untouched.</summary>
        public void ResetStream(int stream)
        {
            StateHandle live = Live;
            if (stream < 0 || stream >= Batch)
                throw new ArgumentOutOfRangeException("stream", stream,
                    string.Format("stream {0} is out of range: the state has {1} streams", stream, Batch));
            Errors.Check(Native.recur_state_reset_stream(live, (UIntPtr)(uint)stream));
        }

        // ---- save and restore (save-games) ----
        //
        // Empty: a model of dense layers only keeps no state, so its arrays are
        // empty, and `fixed` gives NULL for an empty array, which the library
        // refuses even with a count of 0. Such calls pass the address of a
        // local instead; with a count of 0 nothing is read or written there.

        /// <summary>A copy of the state, [batch][Size] floats.</summary>
        public float[] GetState()
        {
            float[] output = new float[(long)Batch * Size];
            GetState(output);
            return output;
        }

        /// <summary>Copies the state into `output`, [batch][Size] floats.</summary>
        public unsafe void GetState(float[] output)
        {
            StateHandle live = Live;
            Args.NotNull(output, "output");
            Args.Count(output.Length, (long)Batch * Size, "output", "[batch][state_size]");
            float none; // for an empty state: see Empty
            fixed (float* p = output)
                Errors.Check(Native.recur_state_get(live, p != null ? p : &none, (UIntPtr)(uint)output.Length));
        }

        /// <summary>Replaces the state with `values`, [batch][Size] finite floats. On error it is unchanged.</summary>
        public unsafe void SetState(float[] values)
        {
            StateHandle live = Live;
            Args.NotNull(values, "values");
            Args.Count(values.Length, (long)Batch * Size, "values", "[batch][state_size]");
            float none;
            fixed (float* p = values)
                Errors.Check(Native.recur_state_set(live, p != null ? p : &none, (UIntPtr)(uint)values.Length));
        }

#if !RECUR_NO_SPAN
        /// <summary>Copies the state into `output`, [batch][Size] floats.</summary>
        public unsafe void GetState(Span<float> output)
        {
            StateHandle live = Live;
            Args.Count(output.Length, (long)Batch * Size, "output", "[batch][state_size]");
            float none;
            fixed (float* p = &MemoryMarshal.GetReference(output))
                Errors.Check(Native.recur_state_get(live, p != null ? p : &none, (UIntPtr)(uint)output.Length));
        }

        /// <summary>Replaces the state with `values`, [batch][Size] finite floats.</summary>
        public unsafe void SetState(ReadOnlySpan<float> values)
        {
            StateHandle live = Live;
            Args.Count(values.Length, (long)Batch * Size, "values", "[batch][state_size]");
            float none;
            fixed (float* p = &MemoryMarshal.GetReference(values))
                Errors.Check(Native.recur_state_set(live, p != null ? p : &none, (UIntPtr)(uint)values.Length));
        }
#endif

        /// <summary>
        /// Splits the streams of later Step/Run calls over `threads` worker
        /// threads (1, the default, starts none). Outputs stay bit-identical.
        /// </summary>
        public void SetThreads(int threads)
        {
            StateHandle live = Live;
            Args.Positive(threads, "threads");
            Errors.Check(Native.recur_state_set_threads(live, (UIntPtr)(uint)threads));
        }

        /// <summary>True once Dispose has been called.</summary>
        public bool IsDisposed { get { return handle.IsClosed; } }

        /// <summary>Frees the state (and its reference to the model). Safe to call more than once.</summary>
        public void Dispose()
        {
            handle.Dispose();
        }

        private StateHandle Live
        {
            get
            {
                if (handle.IsClosed)
                    throw new ObjectDisposedException("Recur.State");
                return handle;
            }
        }
    }
}
