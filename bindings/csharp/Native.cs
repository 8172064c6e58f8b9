// Native.cs: every function of include/recur.h, declared for P/Invoke.
//
// One declaration per C function, in the header's order, with the header's
// names, so that a reader can check them side by side (tests/Tests.cs also
// checks that each function of the header is declared here with as many
// parameters). Type mapping:
//   size_t          -> UIntPtr (pointer-sized on every platform)
//   recur_status    -> RecurStatus (an int-sized enum, as the C enum)
//   float*, int32_t*, size_t*  -> raw pointers: the callers pin with `fixed`,
//                      so nothing is copied or allocated per call
//   const char* in  -> byte[] holding NUL-terminated UTF-8 (Utf8.Encode);
//                      a blittable array is pinned, not copied
//   const char* out -> IntPtr, decoded by Utf8.Decode (the library owns it)
//   handles         -> the SafeHandle subclasses of Handles.cs: the runtime
//                      adds a reference for the length of each call, so a
//                      Dispose on another thread cannot free a handle that
//                      a call is still using
using System;
using System.Runtime.InteropServices;

namespace Recur
{
    internal static unsafe class Native
    {
        // Resolved by the runtime as librecur.so (Linux), librecur.dylib,
        // recur.dll: see docs/csharp.md for where the file may go.
        private const string Lib = "recur";

        // ---- Library ----
        [DllImport(Lib)] internal static extern uint recur_version_number();
        [DllImport(Lib)] internal static extern IntPtr recur_version_string();
        [DllImport(Lib)] internal static extern IntPtr recur_last_error();
        [DllImport(Lib)] internal static extern IntPtr recur_status_string(RecurStatus status);
        [DllImport(Lib)] internal static extern IntPtr recur_cpu_kernels();

        // ---- Models ----
        [DllImport(Lib)] internal static extern RecurStatus recur_model_load_file(byte[] path, out ModelHandle outModel);
        [DllImport(Lib)] internal static extern RecurStatus recur_model_load_json(byte* json, UIntPtr length, out ModelHandle outModel);
        [DllImport(Lib)] internal static extern RecurStatus recur_model_save_file(ModelHandle model, byte[] path);
        [DllImport(Lib)] internal static extern RecurStatus recur_model_save_file_encoded(ModelHandle model, byte[] path, TensorEncoding encoding);
        [DllImport(Lib)] internal static extern RecurStatus recur_model_to_json(ModelHandle model, out IntPtr outJson, out UIntPtr outLength);
        [DllImport(Lib)] internal static extern RecurStatus recur_model_to_json_encoded(ModelHandle model, TensorEncoding encoding, out IntPtr outJson, out UIntPtr outLength);
        [DllImport(Lib)] internal static extern void recur_string_free(IntPtr text);
        [DllImport(Lib)] internal static extern RecurStatus recur_model_clone(ModelHandle model, out ModelHandle outModel);
        [DllImport(Lib)] internal static extern void recur_model_free(IntPtr model);
        [DllImport(Lib)] internal static extern UIntPtr recur_model_input_size(ModelHandle model);
        [DllImport(Lib)] internal static extern UIntPtr recur_model_output_size(ModelHandle model);
        [DllImport(Lib)] internal static extern UIntPtr recur_model_parameter_count(ModelHandle model);
        [DllImport(Lib)] internal static extern UIntPtr recur_model_layer_count(ModelHandle model);
        [DllImport(Lib)] internal static extern RecurStatus recur_model_layer_info(ModelHandle model, UIntPtr index, ref LayerInfoNative outInfo);
        [DllImport(Lib)] internal static extern RecurStatus recur_model_tensor_name(ModelHandle model, UIntPtr layer, UIntPtr index, out IntPtr outName);
        [DllImport(Lib)] internal static extern UIntPtr recur_model_state_size(ModelHandle model);
        [DllImport(Lib)] internal static extern RecurStatus recur_model_get_tensor(ModelHandle model, UIntPtr layer, byte[] name, float* output, UIntPtr count);
        [DllImport(Lib)] internal static extern RecurStatus recur_model_tensor_shape(ModelHandle model, UIntPtr layer, byte[] name, out UIntPtr outRows, out UIntPtr outColumns);
        [DllImport(Lib)] internal static extern RecurStatus recur_model_set_tensor(ModelHandle model, UIntPtr layer, byte[] name, float* values, UIntPtr count);
        [DllImport(Lib)] internal static extern RecurStatus recur_model_set_weight_storage(ModelHandle model, WeightStorage storage);
        [DllImport(Lib)] internal static extern WeightStorage recur_model_weight_storage(ModelHandle model);

        // ---- Inference state ----
        [DllImport(Lib)] internal static extern RecurStatus recur_state_create(ModelHandle model, UIntPtr batch, out StateHandle outState);
        [DllImport(Lib)] internal static extern void recur_state_free(IntPtr state);
        [DllImport(Lib)] internal static extern RecurStatus recur_state_reset(StateHandle state);
        [DllImport(Lib)] internal static extern RecurStatus recur_state_reset_stream(StateHandle state, UIntPtr stream);
        [DllImport(Lib)] internal static extern UIntPtr recur_state_size(StateHandle state);
        [DllImport(Lib)] internal static extern UIntPtr recur_state_batch(StateHandle state);
        [DllImport(Lib)] internal static extern RecurStatus recur_state_get(StateHandle state, float* output, UIntPtr count);
        [DllImport(Lib)] internal static extern RecurStatus recur_state_set(StateHandle state, float* values, UIntPtr count);
        [DllImport(Lib)] internal static extern RecurStatus recur_state_step(StateHandle state, float* x, float* y);
        [DllImport(Lib)] internal static extern RecurStatus recur_state_run(StateHandle state, float* x, UIntPtr steps, float* y);
        [DllImport(Lib)] internal static extern RecurStatus recur_state_run_lengths(StateHandle state, float* x, UIntPtr steps, UIntPtr* lengths, float* y);
        [DllImport(Lib)] internal static extern RecurStatus recur_state_set_threads(StateHandle state, UIntPtr threads);

        // ---- Fine-tuning ----
        [DllImport(Lib)] internal static extern RecurStatus recur_trainer_create(ModelHandle model, byte[] configJson, out TrainerHandle outTrainer);
        [DllImport(Lib)] internal static extern void recur_trainer_free(IntPtr trainer);
        [DllImport(Lib)] internal static extern RecurStatus recur_trainer_clone(TrainerHandle trainer, ModelHandle model, out TrainerHandle outTrainer);
        [DllImport(Lib)] internal static extern RecurStatus recur_trainer_step(TrainerHandle trainer, float* x, UIntPtr batch, UIntPtr steps, float* target, out float outLoss);
        [DllImport(Lib)] internal static extern RecurStatus recur_trainer_step_labels(TrainerHandle trainer, float* x, UIntPtr batch, UIntPtr steps, int* labels, out float outLoss);
        [DllImport(Lib)] internal static extern RecurStatus recur_trainer_step_lengths(TrainerHandle trainer, float* x, UIntPtr batch, UIntPtr steps, UIntPtr* lengths, float* target, out float outLoss);
        [DllImport(Lib)] internal static extern RecurStatus recur_trainer_step_labels_lengths(TrainerHandle trainer, float* x, UIntPtr batch, UIntPtr steps, UIntPtr* lengths, int* labels, out float outLoss);
        [DllImport(Lib)] internal static extern RecurStatus recur_trainer_target_count(TrainerHandle trainer, UIntPtr batch, UIntPtr steps, out UIntPtr outTargets, out UIntPtr outLabels);
        [DllImport(Lib)] internal static extern float recur_trainer_last_gradient_norm(TrainerHandle trainer);
        [DllImport(Lib)] internal static extern RecurStatus recur_trainer_get_gradient(TrainerHandle trainer, UIntPtr layer, byte[] name, float* output, UIntPtr count);
        [DllImport(Lib)] internal static extern RecurStatus recur_trainer_reset_state(TrainerHandle trainer);
        [DllImport(Lib)] internal static extern RecurStatus recur_trainer_set_threads(TrainerHandle trainer, UIntPtr threads);
        [DllImport(Lib)] internal static extern RecurStatus recur_trainer_hidden_gradient_norms(TrainerHandle trainer, UIntPtr layer, float* output, UIntPtr steps);
    }

    // recur_layer_info, field for field. struct_size is set to this struct's
    // size, so a newer library that appended fields fills only these.
    [StructLayout(LayoutKind.Sequential)]
    internal struct LayerInfoNative
    {
        internal UIntPtr struct_size;
        internal IntPtr type;
        internal IntPtr activation;
        internal UIntPtr input_size;
        internal UIntPtr output_size;
        internal UIntPtr hidden_size;
        internal UIntPtr state_size;
        internal int bidirectional;
        internal int has_bias;
        internal UIntPtr tensor_count;
    }
}
