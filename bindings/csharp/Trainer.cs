// Trainer.cs: fine-tuning a model in place (recur_trainer).
using System;
using System.Runtime.InteropServices;

namespace Recur
{
    /// <summary>
    /// Fine-tunes a model in place by backpropagation through time. Make one
    /// with model.CreateTrainer(configJson); the configuration keys are those of
    /// recur_trainer_create (docs/fine-tuning.md).
    /// </summary>
    /// <remarks>
    /// x is [batch][steps][input_size]; float targets are
    /// [batch][steps][output_size], or [batch][output_size] with
    /// "targets": "last"; labels the same without output_size. Each step
    /// returns the loss before its update. The trainer keeps its model alive;
    /// while a step runs no State may run on the model (serve from
    /// model.Clone() meanwhile). One thread at a time.
    /// </remarks>
    public sealed class Trainer : IDisposable
    {
        private readonly TrainerHandle handle;
        private readonly LayerInfo[] layers; // the model's, for the gradients' sizes
        private UIntPtr[] lengthScratch;     // size_t lengths; grows with the batch

        internal Trainer(Model model, string configJson)
        {
            ModelHandle live = model.Live;
            layers = model.Layers();
            byte[] config = string.IsNullOrEmpty(configJson) ? null : Utf8.Encode(configJson, "configJson");
            TrainerHandle made;
            RecurStatus status = Native.recur_trainer_create(live, config, out made);
            if (status != RecurStatus.Ok) {
                if (made != null)
                    made.Dispose();
                Errors.Check(status);
            }
            handle = made;
            InputSize = Args.ToInt(Native.recur_model_input_size(live));
            OutputSize = Args.ToInt(Native.recur_model_output_size(live));
            // "targets": "last" takes one target per sequence: a step of two
            // steps takes as many as a step of one.
            UIntPtr one, two, labels;
            try {
                Errors.Check(Native.recur_trainer_target_count(made, (UIntPtr)1u, (UIntPtr)1u, out one, out labels));
                Errors.Check(Native.recur_trainer_target_count(made, (UIntPtr)1u, (UIntPtr)2u, out two, out labels));
            } catch {
                made.Dispose();
                throw;
            }
            TargetsLast = one == two;
        }

        public int InputSize { get; private set; }
        public int OutputSize { get; private set; }
        /// <summary>True when the configuration says "targets": "last" (one target per sequence).</summary>
        public bool TargetsLast { get; private set; }

        // ---- steps on arrays ----

        /// <summary>One training step on float targets; returns the loss before the update.</summary>
        public unsafe float Step(float[] x, int batch, int steps, float[] target)
        {
            TrainerHandle live = Live;
            CheckInputs(x == null ? -1 : x.Length, batch, steps);
            Args.NotNull(target, "target");
            CheckTargets(target.Length, batch, steps);
            fixed (float* px = x)
            fixed (float* pt = target)
                return Call(live, px, batch, steps, null, pt, null);
        }

        /// <summary>
        /// A step over sequences of different lengths: sequence b has its
        /// first lengths[b] steps (1 to steps). The loss is the mean over the
        /// valid positions ("last": each sequence's own last step); inputs and
        /// targets past a length are never read. target keeps Step's layout.
        /// </summary>
        public unsafe float Step(float[] x, int batch, int steps, int[] lengths, float[] target)
        {
            TrainerHandle live = Live;
            CheckInputs(x == null ? -1 : x.Length, batch, steps);
            Args.NotNull(lengths, "lengths");
            Args.Count(lengths.Length, batch, "lengths", "[batch]");
            Args.NotNull(target, "target");
            CheckTargets(target.Length, batch, steps);
            fixed (float* px = x)
            fixed (int* pl = lengths)
            fixed (float* pt = target)
                return Call(live, px, batch, steps, pl, pt, null);
        }

        /// <summary>
        /// One step on class labels ("loss": "cross_entropy"): labels is
        /// [batch][steps] ([batch] for "targets": "last"), each in [0, output_size).
        /// </summary>
        public unsafe float StepLabels(float[] x, int batch, int steps, int[] labels)
        {
            TrainerHandle live = Live;
            CheckInputs(x == null ? -1 : x.Length, batch, steps);
            Args.NotNull(labels, "labels");
            CheckLabels(labels.Length, batch, steps);
            fixed (float* px = x)
            fixed (int* pb = labels)
                return Call(live, px, batch, steps, null, null, pb);
        }

        /// <summary>StepLabels over sequences of different lengths (1 to steps).</summary>
        public unsafe float StepLabels(float[] x, int batch, int steps, int[] lengths, int[] labels)
        {
            TrainerHandle live = Live;
            CheckInputs(x == null ? -1 : x.Length, batch, steps);
            Args.NotNull(lengths, "lengths");
            Args.Count(lengths.Length, batch, "lengths", "[batch]");
            Args.NotNull(labels, "labels");
            CheckLabels(labels.Length, batch, steps);
            fixed (float* px = x)
            fixed (int* pl = lengths)
            fixed (int* pb = labels)
                return Call(live, px, batch, steps, pl, null, pb);
        }

#if !RECUR_NO_SPAN
        // ---- the same on spans ----

        /// <summary>One training step on float targets; returns the loss before the update.</summary>
        public unsafe float Step(ReadOnlySpan<float> x, int batch, int steps, ReadOnlySpan<float> target)
        {
            TrainerHandle live = Live;
            CheckInputs(x.Length, batch, steps);
            CheckTargets(target.Length, batch, steps);
            fixed (float* px = &MemoryMarshal.GetReference(x))
            fixed (float* pt = &MemoryMarshal.GetReference(target))
                return Call(live, px, batch, steps, null, pt, null);
        }

        /// <summary>A step over sequences of different lengths (see the array overload).</summary>
        public unsafe float Step(ReadOnlySpan<float> x, int batch, int steps, ReadOnlySpan<int> lengths, ReadOnlySpan<float> target)
        {
            TrainerHandle live = Live;
            CheckInputs(x.Length, batch, steps);
            Args.Count(lengths.Length, batch, "lengths", "[batch]");
            CheckTargets(target.Length, batch, steps);
            fixed (float* px = &MemoryMarshal.GetReference(x))
            fixed (int* pl = &MemoryMarshal.GetReference(lengths))
            fixed (float* pt = &MemoryMarshal.GetReference(target))
                return Call(live, px, batch, steps, pl, pt, null);
        }

        /// <summary>One step on class labels ("loss": "cross_entropy").</summary>
        public unsafe float StepLabels(ReadOnlySpan<float> x, int batch, int steps, ReadOnlySpan<int> labels)
        {
            TrainerHandle live = Live;
            CheckInputs(x.Length, batch, steps);
            CheckLabels(labels.Length, batch, steps);
            fixed (float* px = &MemoryMarshal.GetReference(x))
            fixed (int* pb = &MemoryMarshal.GetReference(labels))
                return Call(live, px, batch, steps, null, null, pb);
        }

        /// <summary>StepLabels over sequences of different lengths (1 to steps).</summary>
        public unsafe float StepLabels(ReadOnlySpan<float> x, int batch, int steps, ReadOnlySpan<int> lengths, ReadOnlySpan<int> labels)
        {
            TrainerHandle live = Live;
            CheckInputs(x.Length, batch, steps);
            Args.Count(lengths.Length, batch, "lengths", "[batch]");
            CheckLabels(labels.Length, batch, steps);
            fixed (float* px = &MemoryMarshal.GetReference(x))
            fixed (int* pl = &MemoryMarshal.GetReference(lengths))
            fixed (int* pb = &MemoryMarshal.GetReference(labels))
                return Call(live, px, batch, steps, pl, null, pb);
        }
#endif

        // The one place the four step functions are called: float targets or
        // labels, with or without lengths. Returns the loss.
        private unsafe float Call(TrainerHandle live, float* x, int batch, int steps, int* lengths, float* target, int* labels)
        {
            float loss;
            UIntPtr b = (UIntPtr)(uint)batch, t = (UIntPtr)(uint)steps;
            if (lengths == null) {
                Errors.Check(labels == null
                    ? Native.recur_trainer_step(live, x, b, t, target, out loss)
                    : Native.recur_trainer_step_labels(live, x, b, t, labels, out loss));
                return loss;
            }
            // The scratch is replaced only by a larger batch: steady training allocates nothing.
            if (lengthScratch == null || lengthScratch.Length < batch)
                lengthScratch = new UIntPtr[batch];
            fixed (UIntPtr* counts = lengthScratch) {
                Args.Lengths(lengths, batch, 1, steps, counts);
                Errors.Check(labels == null
                    ? Native.recur_trainer_step_lengths(live, x, b, t, counts, target, out loss)
                    : Native.recur_trainer_step_labels_lengths(live, x, b, t, counts, labels, out loss));
            }
            return loss;
        }

        // xLength -1 stands for a null x.
        private void CheckInputs(int xLength, int batch, int steps)
        {
            if (xLength < 0)
                throw new ArgumentNullException("x");
            Args.Positive(batch, "batch");
            Args.Positive(steps, "steps");
            Args.Count(xLength, (long)batch * steps * InputSize, "x", "[batch][steps][input_size]");
        }

        private void CheckTargets(int length, int batch, int steps)
        {
            if (TargetsLast)
                Args.Count(length, (long)batch * OutputSize, "target", "[batch][output_size] (\"targets\": \"last\")");
            else
                Args.Count(length, (long)batch * steps * OutputSize, "target", "[batch][steps][output_size]");
        }

        private void CheckLabels(int length, int batch, int steps)
        {
            if (TargetsLast)
                Args.Count(length, batch, "labels", "[batch] (\"targets\": \"last\")");
            else
                Args.Count(length, (long)batch * steps, "labels", "[batch][steps]");
        }

        // ---- diagnostics ----

        /// <summary>The global L2 norm of the last step's gradient, before clipping (0 before any step).</summary>
        public float LastGradientNorm { get { return Native.recur_trainer_last_gradient_norm(Live); } }

        /// <summary>The last step's gradient of tensor `name` of layer `layer`, row-major (zeros when frozen).</summary>
        public unsafe float[] GetGradient(int layer, string name)
        {
            TrainerHandle live = Live;
            if (layer < 0 || layer >= layers.Length)
                throw new ArgumentOutOfRangeException("layer", layer,
                    string.Format("layer {0} is out of range: the model has {1} layers", layer, layers.Length));
            float[] output = new float[layers[layer].TensorSize(name)];
            fixed (float* p = output)
                Errors.Check(Native.recur_trainer_get_gradient(live, (UIntPtr)(uint)layer, Utf8.Encode(name, "name"),
                                                               p, (UIntPtr)(uint)output.Length));
            return output;
        }

        /// <summary>
        /// For each of the last step's `steps` time steps, the L2 norm over the
        /// batch of dL/dh_t of recurrent layer `layer`. Needs
        /// "record_hidden_gradient_norms": true in the configuration.
        /// </summary>
        public unsafe float[] HiddenGradientNorms(int layer, int steps)
        {
            TrainerHandle live = Live;
            Args.NotNegative(layer, "layer");
            Args.Positive(steps, "steps");
            float[] output = new float[steps];
            fixed (float* p = output)
                Errors.Check(Native.recur_trainer_hidden_gradient_norms(live, (UIntPtr)(uint)layer, p, (UIntPtr)(uint)steps));
            return output;
        }

        /// <summary>Stateful trainers: forget the carried state (the next step starts from zeros).</summary>
        public void ResetState()
        {
            Errors.Check(Native.recur_trainer_reset_state(Live));
        }

        /// <summary>Splits later steps over `threads` worker threads; results stay bit-identical.</summary>
        public void SetThreads(int threads)
        {
            TrainerHandle live = Live;
            Args.Positive(threads, "threads");
            Errors.Check(Native.recur_trainer_set_threads(live, (UIntPtr)(uint)threads));
        }

        /// <summary>True once Dispose has been called.</summary>
        public bool IsDisposed { get { return handle.IsClosed; } }

        /// <summary>Frees the trainer (and its reference to the model). Safe to call more than once.</summary>
        public void Dispose()
        {
            handle.Dispose();
        }

        private TrainerHandle Live
        {
            get
            {
                if (handle.IsClosed)
                    throw new ObjectDisposedException("Recur.Trainer");
                return handle;
            }
        }
    }
}
