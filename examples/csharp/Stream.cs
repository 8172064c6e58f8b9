// Stream.cs: Recur from C# (bindings/csharp): load a bundled model, feed it a
// stream one step at a time, print what comes out.
//
// Run from the project root (make test-csharp builds it into build/csharp/):
//   LD_LIBRARY_PATH=build/lib mono build/csharp/Stream.exe [MODEL_JSON]
//   (default examples/models/tiny_lstm.json)
// Build: mcs -unsafe -out:build/csharp/Recur.dll -target:library bindings/csharp/*.cs
//        mcs -r:build/csharp/Recur.dll -out:build/csharp/Stream.exe examples/csharp/Stream.cs
using System;
using System.Globalization;
using Recur;

internal static class Stream
{
    private static int Main(string[] args)
    {
        string path = args.Length > 0 ? args[0] : "examples/models/tiny_lstm.json";
        try {
            using (Model model = Model.Load(path)) {
                Console.WriteLine("{0}: {1} inputs -> {2} layers -> {3} outputs, {4} parameters (Recur {5}, {6} kernels)",
                                  path, model.InputSize, model.LayerCount, model.OutputSize, model.ParameterCount,
                                  Library.Version, Library.CpuKernels);

                // The inputs of examples/models/make_tiny_lstm.py (it prints the outputs they must give).
                float[][] inputs = {
                    new[] { 1.0f, 0.0f }, new[] { 0.5f, -0.5f }, new[] { 0.0f, 1.0f },
                    new[] { -1.0f, 0.25f }, new[] { 0.25f, 0.75f }, new[] { 0.0f, 0.0f },
                };

                using (State state = model.CreateState(1)) { // one stream, starting at zero
                    float[] y = new float[state.OutputSize];  // reused: a step allocates nothing
                    Console.WriteLine("  step     x[0]     x[1]            y");
                    for (int t = 0; t < inputs.Length; t++) {
                        state.Step(inputs[t], y);
                        Console.WriteLine(string.Format(CultureInfo.InvariantCulture, "  {0,4} {1,8:F3} {2,8:F3} {3,12:F7}",
                                                        t + 1, inputs[t][0], inputs[t][1], y[0]));
                    }

                    // Sizes are checked before the library is called: a wrong-sized
                    // input throws ArgumentException naming the argument ...
                    try {
                        state.Step(new[] { 1.0f, 2.0f, 3.0f }, y);
                    } catch (ArgumentException error) {
                        Console.WriteLine("a 3-value input: {0}: {1}", error.ParamName, error.Message.Split('\n')[0]);
                    }
                    // ... and what only the library can see throws RecurException
                    // with its status and message; the state is left as it was.
                    try {
                        state.Step(new[] { float.NaN, 0.0f }, y);
                    } catch (RecurException error) {
                        Console.WriteLine("a NaN input: {0} ({1}): {2}", error.Status, (int)error.Status, error.Message);
                    }
                }
            }
        } catch (Exception error) {
            Console.Error.WriteLine("Stream: " + error.Message);
            return 1;
        }
        return 0;
    }
}
