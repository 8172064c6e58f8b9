// Model.cs: a loaded model (recur_model).
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;

namespace Recur
{
    /// <summary>
    /// The structure of one layer (no weights), from recur_model_layer_info.
    /// </summary>
    public sealed class LayerInfo
    {
        private readonly string[] names;
        private readonly int[][] shapes;

        internal LayerInfo(int index, LayerInfoNative info, string[] names, int[][] shapes)
        {
            Index = index;
            Type = Utf8.Decode(info.type);
            Activation = Utf8.Decode(info.activation);
            InputSize = Args.ToInt(info.input_size);
            OutputSize = Args.ToInt(info.output_size);
            HiddenSize = Args.ToInt(info.hidden_size);
            StateSize = Args.ToInt(info.state_size);
            Bidirectional = info.bidirectional != 0;
            HasBias = info.has_bias != 0;
            this.names = names;
            this.shapes = shapes;
        }

        public int Index { get; private set; }
        /// <summary>"rnn", "lstm", "gru" or "dense".</summary>
        public string Type { get; private set; }
        /// <summary>"tanh", "relu", "linear", "sigmoid" or "softmax".</summary>
        public string Activation { get; private set; }
        public int InputSize { get; private set; }
        /// <summary>Values per step going out (2 * HiddenSize when bidirectional).</summary>
        public int OutputSize { get; private set; }
        /// <summary>hidden_size of a recurrent layer, units of a dense one.</summary>
        public int HiddenSize { get; private set; }
        /// <summary>Floats per stream this layer keeps (0 for dense layers).</summary>
        public int StateSize { get; private set; }
        public bool Bidirectional { get; private set; }
        public bool HasBias { get; private set; }

        /// <summary>The layer's tensors in the format's order ("weight_ih", ..., "weight", "bias").</summary>
        public IList<string> TensorNames { get { return Array.AsReadOnly(names); } }

        /// <summary>The shape of tensor `name`: {rows, columns} for a weight, {rows} for a bias.</summary>
        public int[] TensorShape(string name)
        {
            return (int[])shapes[Find(name)].Clone();
        }

        /// <summary>The number of values of tensor `name`.</summary>
        public int TensorSize(string name)
        {
            int[] shape = shapes[Find(name)];
            return shape.Length == 1 ? shape[0] : checked(shape[0] * shape[1]);
        }

        internal int Find(string name)
        {
            Args.NotNull(name, "name");
            int found = Array.IndexOf(names, name);
            if (found < 0)
                throw new ArgumentException(string.Format("layers[{0}] ({1}) has no tensor \"{2}\" (it has {3})",
                                                          Index, Type, name, string.Join(", ", names)), "name");
            return found;
        }

        public override string ToString()
        {
            return string.Format("{0}({1} -> {2}, {3})", Type, InputSize, OutputSize, Activation);
        }
    }

    /// <summary>
    /// A Recur model. Make one with Model.Load or Model.FromJson; run it with
    /// CreateState, fine-tune it with CreateTrainer.
    /// </summary>
    /// <remarks>
    /// Inference never changes a model: any number of threads may each run
    /// their own State on one model at once. SetTensor, WeightStorage and a
    /// Trainer's step change it in place: nothing else may use the model
    /// meanwhile. States and trainers keep the library's model alive, so the
    /// Model may be disposed before them.
    /// </remarks>
    public sealed class Model : IDisposable
    {
        private readonly ModelHandle handle;
        private LayerInfo[] layers; // read once, on first use

        private Model(ModelHandle handle)
        {
            this.handle = handle;
        }

        // ---- making models ----

        /// <summary>Loads a model file (JSON, model format v1).</summary>
        /// <exception cref="RecurException">Status IO, Parse or Model, with the library's message.</exception>
        public static Model Load(string path)
        {
            Library.EnsureCompatible();
            byte[] bytes = Utf8.Encode(path, "path");
            ModelHandle made;
            RecurStatus status = Native.recur_model_load_file(bytes, out made);
            return Adopt(status, made);
        }

        /// <summary>A model from JSON text.</summary>
        /// <exception cref="RecurException">Status Parse or Model, with the library's message.</exception>
        public static unsafe Model FromJson(string json)
        {
            Args.NotNull(json, "json");
            Library.EnsureCompatible();
            // One byte more than the text, so that "" still passes a non-NULL
            // pointer (and gets Parse, not InvalidArgument).
            int length = Encoding.UTF8.GetByteCount(json);
            byte[] bytes = new byte[length + 1];
            Encoding.UTF8.GetBytes(json, 0, json.Length, bytes, 0);
            ModelHandle made;
            RecurStatus status;
            fixed (byte* text = bytes)
                status = Native.recur_model_load_json(text, (UIntPtr)(uint)length, out made);
            return Adopt(status, made);
        }

        private static Model Adopt(RecurStatus status, ModelHandle made)
        {
            if (status != RecurStatus.Ok) {
                if (made != null)
                    made.Dispose();
                Errors.Check(status);
            }
            return new Model(made);
        }

        /// <summary>An independent copy with its own weights (e.g. to serve while this one trains).</summary>
        public Model Clone()
        {
            ModelHandle made;
            RecurStatus status = Native.recur_model_clone(Live, out made);
            return Adopt(status, made);
        }

        // ---- saving ----

        /// <summary>The model as JSON text.</summary>
        public string ToJson(TensorEncoding encoding = TensorEncoding.Automatic)
        {
            IntPtr text;
            UIntPtr length;
            Errors.Check(Native.recur_model_to_json_encoded(Live, encoding, out text, out length));
            try {
                unsafe {
                    return Encoding.UTF8.GetString((byte*)text, checked((int)(ulong)length));
                }
            } finally {
                Native.recur_string_free(text);
            }
        }

        /// <summary>Saves the model to a file, atomically (written beside it, then renamed over it).</summary>
        public void Save(string path, TensorEncoding encoding = TensorEncoding.Automatic)
        {
            ModelHandle live = Live;
            Errors.Check(Native.recur_model_save_file_encoded(live, Utf8.Encode(path, "path"), encoding));
        }

        // ---- sizes ----

        /// <summary>Features per time step of the input.</summary>
        public int InputSize { get { return Args.ToInt(Native.recur_model_input_size(Live)); } }

        /// <summary>Features per time step of the output (the last layer's).</summary>
        public int OutputSize { get { return Args.ToInt(Native.recur_model_output_size(Live)); } }

        /// <summary>Floats of state per stream (each recurrent layer's h, and c for LSTM).</summary>
        public int StateSize { get { return Args.ToInt(Native.recur_model_state_size(Live)); } }

        /// <summary>Number of weight and bias elements.</summary>
        public long ParameterCount { get { return checked((long)(ulong)Native.recur_model_parameter_count(Live)); } }

        public int LayerCount { get { return Args.ToInt(Native.recur_model_layer_count(Live)); } }

        /// <summary>Layer `index` (0: the layer the input enters).</summary>
        public LayerInfo GetLayer(int index)
        {
            LayerInfo[] all = Layers();
            if (index < 0 || index >= all.Length)
                throw new ArgumentOutOfRangeException("index", index,
                    string.Format("layer {0} is out of range: the model has {1} layers", index, all.Length));
            return all[index];
        }

        // ---- weights ----

        /// <summary>A copy of tensor `name` of layer `layer`, row-major.</summary>
        public float[] GetTensor(int layer, string name)
        {
            float[] output = new float[GetLayer(layer).TensorSize(name)];
            GetTensor(layer, name, output);
            return output;
        }

        /// <summary>Copies tensor `name` of layer `layer` into `output` (exactly its size).</summary>
        public unsafe void GetTensor(int layer, string name, float[] output)
        {
            ModelHandle live = Live;
            Args.NotNull(output, "output");
            byte[] key = TensorKey(layer, name, output.Length, "output");
            fixed (float* p = output)
                Errors.Check(Native.recur_model_get_tensor(live, (UIntPtr)(uint)layer, key, p, (UIntPtr)(uint)output.Length));
        }

        /// <summary>
        /// Replaces tensor `name` of layer `layer` with `values` (exactly its
        /// size, finite). No state or trainer may use the model meanwhile.
        /// </summary>
        public unsafe void SetTensor(int layer, string name, float[] values)
        {
            ModelHandle live = Live;
            Args.NotNull(values, "values");
            byte[] key = TensorKey(layer, name, values.Length, "values");
            fixed (float* p = values)
                Errors.Check(Native.recur_model_set_tensor(live, (UIntPtr)(uint)layer, key, p, (UIntPtr)(uint)values.Length));
        }

#if !RECUR_NO_SPAN
        /// <summary>Copies tensor `name` of layer `layer` into `output` (exactly its size).</summary>
        public unsafe void GetTensor(int layer, string name, Span<float> output)
        {
            ModelHandle live = Live;
            byte[] key = TensorKey(layer, name, output.Length, "output");
            fixed (float* p = &MemoryMarshal.GetReference(output))
                Errors.Check(Native.recur_model_get_tensor(live, (UIntPtr)(uint)layer, key, p, (UIntPtr)(uint)output.Length));
        }

        /// <summary>Replaces tensor `name` of layer `layer` (exactly its size, finite).</summary>
        public unsafe void SetTensor(int layer, string name, ReadOnlySpan<float> values)
        {
            ModelHandle live = Live;
            byte[] key = TensorKey(layer, name, values.Length, "values");
            fixed (float* p = &MemoryMarshal.GetReference(values))
                Errors.Check(Native.recur_model_set_tensor(live, (UIntPtr)(uint)layer, key, p, (UIntPtr)(uint)values.Length));
        }
#endif

        // Checks layer, name and count against the layers' shapes; the name as the library takes it.
        private byte[] TensorKey(int layer, string name, int count, string argument)
        {
            LayerInfo info = GetLayer(layer);
            Args.Count(count, info.TensorSize(name), argument, "the size of tensor " + name);
            return Utf8.Encode(name, "name");
        }

        /// <summary>
        /// How inference reads the weights: Fp32 (the default) or Fp16 (half
        /// the bytes per step). Set it only while no state runs on the model.
        /// </summary>
        public WeightStorage WeightStorage
        {
            get { return Native.recur_model_weight_storage(Live); }
            set { Errors.Check(Native.recur_model_set_weight_storage(Live, value)); }
        }

        // ---- running and training ----

        /// <summary>New inference state for `batch` independent streams, all at zero.</summary>
        public State CreateState(int batch = 1)
        {
            return new State(this, batch);
        }

        /// <summary>
        /// A trainer that fine-tunes this model in place. `configJson` is the
        /// JSON object recur_trainer_create takes (null or "" for the defaults).
        /// </summary>
        public Trainer CreateTrainer(string configJson = null)
        {
            return new Trainer(this, configJson);
        }

        /// <summary>True once Dispose has been called.</summary>
        public bool IsDisposed { get { return handle.IsClosed; } }

        /// <summary>
        /// Releases this reference to the model. States and trainers made from
        /// it keep working: each holds its own. Safe to call more than once.
        /// </summary>
        public void Dispose()
        {
            handle.Dispose();
        }

        public override string ToString()
        {
            if (IsDisposed)
                return "Recur.Model (disposed)";
            return string.Format("Recur.Model {0}; {1} parameters",
                                 string.Join(", ", Array.ConvertAll(Layers(), l => l.ToString())), ParameterCount);
        }

        // ---- internals ----

        // The handle, or ObjectDisposedException.
        internal ModelHandle Live
        {
            get
            {
                if (handle.IsClosed)
                    throw new ObjectDisposedException("Recur.Model");
                return handle;
            }
        }

        // The layers, read from the library once. Models may be shared by
        // threads: a race reads them twice, harmlessly, and keeps one.
        internal LayerInfo[] Layers()
        {
            LayerInfo[] all = layers;
            if (all == null) {
                all = ReadLayers(Live);
                Interlocked.CompareExchange(ref layers, all, null);
            }
            return layers;
        }

        private static LayerInfo[] ReadLayers(ModelHandle model)
        {
            int count = Args.ToInt(Native.recur_model_layer_count(model));
            LayerInfo[] all = new LayerInfo[count];
            for (int index = 0; index < count; index++) {
                LayerInfoNative info = new LayerInfoNative();
                info.struct_size = (UIntPtr)(uint)Marshal.SizeOf(typeof(LayerInfoNative));
                Errors.Check(Native.recur_model_layer_info(model, (UIntPtr)(uint)index, ref info));
                int tensors = Args.ToInt(info.tensor_count);
                string[] names = new string[tensors];
                int[][] shapes = new int[tensors][];
                for (int t = 0; t < tensors; t++) {
                    IntPtr name;
                    Errors.Check(Native.recur_model_tensor_name(model, (UIntPtr)(uint)index, (UIntPtr)(uint)t, out name));
                    names[t] = Utf8.Decode(name);
                    UIntPtr rows, columns;
                    Errors.Check(Native.recur_model_tensor_shape(model, (UIntPtr)(uint)index, Utf8.Encode(names[t], "name"),
                                                                 out rows, out columns));
                    // Weights are matrices [rows, columns], biases vectors [rows] (the format's shapes).
                    shapes[t] = names[t].StartsWith("weight", StringComparison.Ordinal)
                        ? new[] { Args.ToInt(rows), Args.ToInt(columns) }
                        : new[] { Args.ToInt(rows) };
                }
                all[index] = new LayerInfo(index, info, names, shapes);
            }
            return all;
        }
    }
}
