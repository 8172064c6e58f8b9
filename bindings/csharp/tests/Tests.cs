// Tests.cs: the C# binding's tests, against the real library.
//
//   mono Tests.exe TESTDATA HEADER MODELS
//     TESTDATA  the reference cases (Tests/testdata, see its README.md)
//     HEADER    include/recur.h (Native.cs is checked against it)
//     MODELS    examples/models
//
// Each check prints "FAIL: ..." when it fails; the last line is
// "csharp: N passed, M failed, K skipped", and the exit status is 1 when M > 0.
// `make test-csharp` builds and runs it (mk/csharp.mk).
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;
using System.Threading;
using Recur;

namespace RecurTests
{
    internal static class Tests
    {
        private static int passed, failed;
        private static string testdata, header, models;

        // The tolerances of Tests/testdata/README.md.
        private const double ValueAbsolute = 5e-5, ValueRelative = 5e-4, LossRelative = 1e-4;

        private static int Main(string[] args)
        {
            if (args.Length != 3) {
                Console.Error.WriteLine("usage: mono Tests.exe TESTDATA HEADER MODELS");
                return 2;
            }
            testdata = args[0];
            header = args[1];
            models = args[2];
            Type mono = Type.GetType("Mono.Runtime");
            object runtime = mono == null ? Environment.Version
                : mono.GetMethod("GetDisplayName", BindingFlags.NonPublic | BindingFlags.Static).Invoke(null, null);
            Console.WriteLine("Recur {0} ({1} kernels), runtime {2}", Library.Version, Library.CpuKernels, runtime);

            Run("library", TestLibrary);
            Run("declarations against recur.h", TestDeclarations);
            Run("reference cases: forward", TestForwardCases);
            Run("reference cases: training", TestTrainingCases);
            Run("invalid documents", TestInvalidDocuments);
            Run("overloads agree", TestOverloads);
            Run("lengths", TestLengths);
            Run("streams and saved state", TestStreams);
            Run("models: json, save, clone, tensors", TestModels);
            Run("a model without state", TestDenseOnly);
            Run("errors", TestErrors);
            Run("dispose and lifetimes", TestDispose);
            Run("trainer", TestTrainer);
            Run("threads", TestThreads);
            Run("no allocation per call", TestNoAllocation);

            // Skipped: reference cases the library cannot load yet (see Load).
            Console.WriteLine("csharp: {0} passed, {1} failed, {2} skipped", passed, failed, skippedCases.Count);
            return failed == 0 ? 0 : 1;
        }

        // ---- harness ----

        private static void Run(string name, Action test)
        {
            int before = failed;
            try {
                test();
            } catch (Exception error) {
                Fail(name + ": unexpected " + error);
            }
            Console.WriteLine("{0} {1}", failed == before ? "ok  " : "FAIL", name);
        }

        private static void Check(bool ok, string what)
        {
            if (ok)
                passed++;
            else
                Fail(what);
        }

        private static void Fail(string what)
        {
            failed++;
            Console.WriteLine("FAIL: " + what);
        }

        // Runs `action`, which must throw a T (or a subclass); returns it.
        private static T Throws<T>(Action action, string what) where T : Exception
        {
            try {
                action();
            } catch (Exception error) {
                if (error is T) {
                    passed++;
                    return (T)error;
                }
                Fail(what + ": threw " + error.GetType().Name + ": " + error.Message + ", expected " + typeof(T).Name);
                return null;
            }
            Fail(what + ": threw nothing, expected " + typeof(T).Name);
            return null;
        }

        // A RecurException with this status and a non-empty library message.
        private static RecurException ThrowsStatus(RecurStatus status, Action action, string what)
        {
            RecurException error = Throws<RecurException>(action, what);
            if (error != null) {
                Check(error.Status == status, what + ": status " + error.Status + ", expected " + status);
                Check(!string.IsNullOrEmpty(error.Message), what + ": the exception has no message");
            }
            return error;
        }

        // An ArgumentException (or subclass) whose ParamName is `name`.
        private static void ThrowsArgument(string name, Action action, string what)
        {
            ArgumentException error = Throws<ArgumentException>(action, what);
            if (error != null)
                Check(error.ParamName == name, what + ": ParamName is " + error.ParamName + ", expected " + name);
        }

        // Element by element within abs + rel * |reference|.
        private static void Near(float[] mine, float[] reference, double abs, double rel, string what)
        {
            if (mine.Length != reference.Length) {
                Fail(what + ": " + mine.Length + " values, expected " + reference.Length);
                return;
            }
            for (int i = 0; i < mine.Length; i++) {
                double error = Math.Abs((double)mine[i] - reference[i]);
                if (!(error <= abs + rel * Math.Abs(reference[i]))) {
                    Fail(string.Format("{0}[{1}] = {2:R}, expected {3:R}", what, i, mine[i], reference[i]));
                    return;
                }
            }
            passed++;
        }

        private static void Same(float[] a, float[] b, string what)
        {
            Check(a.Length == b.Length && a.Zip(b, (x, y) => BitConverter.SingleToInt32Bits(x) == BitConverter.SingleToInt32Bits(y)).All(e => e),
                  what + ": not bit-identical");
        }

        private static JsonObject Case(string name)
        {
            return (JsonObject)Json.Parse(File.ReadAllText(Path.Combine(testdata, name + ".json")));
        }

        private static IEnumerable<string> CaseNames()
        {
            foreach (string file in Directory.GetFiles(testdata, "*.json").OrderBy(f => f, StringComparer.Ordinal))
                yield return Path.GetFileNameWithoutExtension(file);
            foreach (string file in Directory.GetFiles(Path.Combine(testdata, "sequences"), "*.json").OrderBy(f => f, StringComparer.Ordinal))
                yield return "sequences/" + Path.GetFileNameWithoutExtension(file);
        }

        private static bool HasBidirectional(Model model)
        {
            for (int i = 0; i < model.LayerCount; i++)
                if (model.GetLayer(i).Bidirectional)
                    return true;
            return false;
        }

        private static Model TinyLstm()
        {
            return Model.Load(Path.Combine(models, "tiny_lstm.json"));
        }

        private static float[] Ramp(int count, float scale)
        {
            float[] values = new float[count];
            for (int i = 0; i < count; i++)
                values[i] = (float)Math.Sin(0.37 * i + 0.1) * scale;
            return values;
        }

        // ---- library ----

        private static void TestLibrary()
        {
            int n = Library.VersionNumber;
            Check(Library.Version == string.Format("{0}.{1}.{2}", n / 10000, n / 100 % 100, n % 100),
                  "Version " + Library.Version + " does not match VersionNumber " + n);
            Check(Library.IsCompatible, "the library is not compatible with the binding");
            Library.CheckVersion();
            Check(new[] { "avx512", "avx2", "sse2", "reference" }.Contains(Library.CpuKernels), "CpuKernels: " + Library.CpuKernels);
            Check(Library.StatusString(RecurStatus.Parse).Length > 0, "StatusString(Parse) is empty");
            Check(Library.StatusString((RecurStatus)999) == "unknown status", "StatusString of an unknown status");
        }

        // Every function of the header is declared in Native with as many
        // parameters, and the enums have the header's values.
        private static void TestDeclarations()
        {
            string text = File.ReadAllText(header);
            Type native = typeof(Model).Assembly.GetType("Recur.Native", true);
            var declared = native.GetMethods(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public)
                                 .ToDictionary(m => m.Name, m => m.GetParameters().Length);
            var prototypes = Regex.Matches(text, @"^[a-z_][\w \*]*?\b(recur_\w+)\(([^)]*)\);", RegexOptions.Multiline);
            Check(prototypes.Count > 40, "found only " + prototypes.Count + " prototypes in " + header);
            foreach (Match prototype in prototypes) {
                string name = prototype.Groups[1].Value, parameters = prototype.Groups[2].Value.Trim();
                int count = parameters == "void" ? 0 : parameters.Split(',').Length;
                int got;
                if (!declared.TryGetValue(name, out got))
                    Fail("Native does not declare " + name);
                else
                    Check(got == count, name + ": Native declares " + got + " parameters, the header " + count);
            }
            Check(declared.Count == prototypes.Count, "Native declares " + declared.Count + " functions, the header " + prototypes.Count);

            CheckEnum(text, "RECUR_ERROR_", typeof(RecurStatus), 1);
            CheckEnum(text, "RECUR_TENSORS_", typeof(TensorEncoding), 0);
            CheckEnum(text, "RECUR_WEIGHTS_", typeof(WeightStorage), 0);
            Check(Regex.IsMatch(text, @"RECUR_OK = 0\b"), "RECUR_OK is not 0 in the header");
            Check(Regex.IsMatch(text, @"#define RECUR_VERSION_NUMBER " + Library.HeaderVersionNumber + @"\b"),
                  "Library.HeaderVersionNumber differs from the header's RECUR_VERSION_NUMBER");
        }

        // PREFIX_SOME_NAME = value in the header <-> SomeName = value in the enum.
        private static void CheckEnum(string text, string prefix, Type type, int skip)
        {
            var members = Regex.Matches(text, @"\b" + prefix + @"([A-Z0-9_]+) = (\d+)");
            Check(members.Count > 0, "no " + prefix + "* in the header");
            foreach (Match member in members) {
                string snake = member.Groups[1].Value;
                int value = int.Parse(member.Groups[2].Value);
                string pascal = string.Concat(snake.Split('_').Select(w => w == "IO" ? w : w.Substring(0, 1) + w.Substring(1).ToLowerInvariant()));
                Check(Enum.IsDefined(type, pascal) && (int)Enum.Parse(type, pascal) == value,
                      type.Name + "." + pascal + " is not " + value + " as " + prefix + snake + " in the header");
            }
            Check(Enum.GetValues(type).Length == members.Count + skip, type.Name + " has members the header lacks");
        }

        // ---- reference cases ----

        // Every case: outputs from zero state (Run, with lengths where the case
        // has them) and the final state, within the README's tolerance; Step
        // by step gives Run's floats exactly.
        private static void TestForwardCases()
        {
            int cases = 0;
            foreach (string name in CaseNames()) {
                JsonObject c = Case(name);
                int batch = c.Int("batch"), steps = c.Int("steps");
                using (Model model = Load(c.Object("model"), name))
                using (State state = model == null ? null : model.CreateState(batch)) {
                    if (model == null)
                        continue;
                    float[] x = c.Floats("input");
                    float[] y = new float[batch * steps * model.OutputSize];
                    if (c.Has("lengths"))
                        state.Run(x, steps, c.Ints("lengths"), y);
                    else
                        state.Run(x, steps, y);
                    Near(y, c.Floats("output"), ValueAbsolute, ValueRelative, name + " output");
                    if (c.Has("final_state"))
                        Near(state.GetState(), c.Floats("final_state"), ValueAbsolute, ValueRelative, name + " final state");
                    if (!c.Has("lengths") && !HasBidirectional(model))
                        Same(StepByStep(model, batch, steps, x), y, name + ": Step by step against Run");
                }
                cases++;
            }
            Check(cases >= 20, "only " + cases + " reference cases found in " + testdata);
        }

        // The case's model, or null for a bidirectional one while the library
        // refuses those (Tests/testdata/README.md: sequences/ holds cases for
        // features still to come); once it reads them, they are tested too.
        private static Model Load(JsonObject document, string name)
        {
            try {
                return Model.FromJson(document.Raw);
            } catch (RecurException error) {
                if (error.Status != RecurStatus.Model || !document.Raw.Contains("\"bidirectional\"") || !error.Message.Contains("direction"))
                    throw;
                if (skippedCases.Add(name))
                    Console.WriteLine("skip: {0}: the library does not read bidirectional layers yet ({1})", name, error.Message);
                return null;
            }
        }

        private static readonly HashSet<string> skippedCases = new HashSet<string>();

        // x [batch][steps][in] one step at a time; returns [batch][steps][out].
        private static float[] StepByStep(Model model, int batch, int steps, float[] x)
        {
            int input = model.InputSize, output = model.OutputSize;
            float[] xt = new float[batch * input], yt = new float[batch * output];
            float[] y = new float[batch * steps * output];
            using (State state = model.CreateState(batch)) {
                for (int t = 0; t < steps; t++) {
                    for (int b = 0; b < batch; b++)
                        Array.Copy(x, (b * steps + t) * input, xt, b * input, input);
                    state.Step(xt, yt);
                    for (int b = 0; b < batch; b++)
                        Array.Copy(yt, b * output, y, (b * steps + t) * output, output);
                }
            }
            return y;
        }

        // Every training case: each step's loss and gradient norm, the first
        // step's gradients, and the weights after the last step.
        private static void TestTrainingCases()
        {
            int cases = 0;
            foreach (string name in CaseNames()) {
                JsonObject c = Case(name);
                if (!c.Has("train"))
                    continue;
                JsonObject train = c.Object("train");
                int batch = c.Int("batch"), steps = c.Int("steps");
                float[] x = c.Floats("input");
                int[] lengths = c.Has("lengths") ? c.Ints("lengths") : null;
                float[] losses = train.Floats("losses"), norms = train.Floats("gradient_norms");
                using (Model model = Load(c.Object("model"), name))
                using (Trainer trainer = model == null ? null : model.CreateTrainer(train.Object("config").Raw)) {
                    if (model == null)
                        continue;
                    for (int step = 0; step < train.Int("steps"); step++) {
                        float loss;
                        if (train.Has("labels"))
                            loss = lengths == null ? trainer.StepLabels(x, batch, steps, train.Ints("labels"))
                                                   : trainer.StepLabels(x, batch, steps, lengths, train.Ints("labels"));
                        else
                            loss = lengths == null ? trainer.Step(x, batch, steps, train.Floats("target"))
                                                   : trainer.Step(x, batch, steps, lengths, train.Floats("target"));
                        Near(new[] { loss }, new[] { losses[step] }, 0, LossRelative, name + " loss of step " + step);
                        Near(new[] { trainer.LastGradientNorm }, new[] { norms[step] }, 0, LossRelative, name + " gradient norm of step " + step);
                        if (step == 0) {
                            List<object> gradients = train.Array("first_gradients");
                            for (int layer = 0; layer < gradients.Count; layer++)
                                foreach (var tensor in (JsonObject)gradients[layer])
                                    Near(trainer.GetGradient(layer, tensor.Key), Json.Floats(tensor.Value),
                                         ValueAbsolute, ValueRelative, name + " first gradient of layers[" + layer + "]." + tensor.Key);
                        }
                    }
                    using (Model updated = Model.FromJson(train.Object("updated_model").Raw))
                        for (int layer = 0; layer < updated.LayerCount; layer++)
                            foreach (string tensor in updated.GetLayer(layer).TensorNames)
                                Near(model.GetTensor(layer, tensor), updated.GetTensor(layer, tensor),
                                     ValueAbsolute, ValueRelative, name + " updated layers[" + layer + "]." + tensor);
                }
                cases++;
            }
            Check(cases >= 16, "only " + cases + " training cases found");
        }

        // Tests/testdata/invalid: each refused with its status and message parts.
        private static void TestInvalidDocuments()
        {
            string folder = Path.Combine(testdata, "invalid");
            var manifest = (List<object>)Json.Parse(File.ReadAllText(Path.Combine(folder, "manifest.json")));
            Check(manifest.Count > 10, "the manifest lists " + manifest.Count + " documents");
            foreach (JsonObject entry in manifest) {
                string file = entry.String("file");
                RecurException error = Throws<RecurException>(() => Model.Load(Path.Combine(folder, file)).Dispose(), file);
                if (error == null)
                    continue;
                if (entry.Has("status")) {
                    string expected = entry.String("status");
                    Check(expected == "RECUR_ERROR_" + Snake(error.Status),
                          file + ": status " + error.Status + ", expected " + expected + " (" + error.Message + ")");
                }
                foreach (string part in entry.Array("message_contains").Cast<string>())
                    Check(error.Message.Contains(part), file + ": message '" + error.Message + "' lacks '" + part + "'");
            }
        }

        private static string Snake(RecurStatus status)
        {
            return Regex.Replace(status.ToString(), "(?<=[a-z])([A-Z])", "_$1").ToUpperInvariant();
        }

        // ---- overloads ----

        // Arrays, array slices and spans give the same floats.
        private static void TestOverloads()
        {
            JsonObject c = Case("lstm_clip");
            int batch = c.Int("batch"), steps = c.Int("steps");
            float[] x = c.Floats("input");
            using (Model model = Model.FromJson(c.Object("model").Raw)) {
                int outputs = batch * steps * model.OutputSize;
                float[] expected = new float[outputs];
                using (State state = model.CreateState(batch))
                    state.Run(x, steps, expected);

                // Inside larger buffers, at offsets.
                float[] bigX = new float[x.Length + 7], bigY = new float[outputs + 5];
                Array.Copy(x, 0, bigX, 7, x.Length);
                using (State state = model.CreateState(batch))
                    state.Run(bigX, 7, steps, bigY, 3);
                Same(bigY.Skip(3).Take(outputs).ToArray(), expected, "Run at offsets");
                Check(bigY.Take(3).All(v => v == 0) && bigY.Skip(3 + outputs).All(v => v == 0), "Run at offsets wrote outside its range");

                // Spans.
                float[] y = new float[outputs];
                using (State state = model.CreateState(batch))
                    state.Run(new ReadOnlySpan<float>(bigX, 7, x.Length), steps, new Span<float>(y));
                Same(y, expected, "Run on spans");

                // Step on spans and at offsets, against Step on arrays.
                int input = model.InputSize, output = model.OutputSize;
                float[] x0 = x.Take(batch * input).ToArray();
                float[] a = new float[batch * output], b = new float[batch * output + 2], s = new float[batch * output];
                using (State one = model.CreateState(batch))
                using (State two = model.CreateState(batch))
                using (State three = model.CreateState(batch)) {
                    for (int t = 0; t < 3; t++) {
                        one.Step(x0, a);
                        two.Step(bigX, 7, b, 2);
                        three.Step(new ReadOnlySpan<float>(x0), new Span<float>(s));
                    }
                    Same(b.Skip(2).ToArray(), a, "Step at offsets");
                    Same(s, a, "Step on spans");
                    float[] state = new float[batch * one.Size];
                    three.GetState(new Span<float>(state));
                    Same(state, one.GetState(), "GetState on a span");
                    two.SetState(new ReadOnlySpan<float>(state));
                    Same(two.GetState(), state, "SetState from a span");
                }

                // Tensors on spans.
                float[] weights = model.GetTensor(0, "weight_hh");
                float[] viaSpan = new float[weights.Length];
                model.GetTensor(0, "weight_hh", new Span<float>(viaSpan));
                Same(viaSpan, weights, "GetTensor into a span");
            }

            // Trainer on spans against arrays.
            JsonObject l = Case("lstm_stack_softmax");
            JsonObject train = l.Object("train");
            float[] lx = l.Floats("input");
            int lb = l.Int("batch"), ls = l.Int("steps");
            int[] labels = train.Ints("labels");
            using (Model m1 = Model.FromJson(l.Object("model").Raw))
            using (Model m2 = m1.Clone())
            using (Trainer t1 = m1.CreateTrainer(train.Object("config").Raw))
            using (Trainer t2 = m2.CreateTrainer(train.Object("config").Raw)) {
                for (int step = 0; step < 2; step++) {
                    float a = t1.StepLabels(lx, lb, ls, labels);
                    float b = t2.StepLabels(new ReadOnlySpan<float>(lx), lb, ls, new ReadOnlySpan<int>(labels));
                    Check(a == b, "StepLabels on spans: loss " + b + ", on arrays " + a);
                }
            }
        }

        // ---- lengths ----

        private static void TestLengths()
        {
            // Each stream of a lengths run is bit-identical to running it alone for its own length.
            JsonObject c = Case("sequences/gru_lengths_zero");
            int batch = c.Int("batch"), steps = c.Int("steps");
            int[] lengths = c.Ints("lengths");
            float[] x = c.Floats("input");
            using (Model model = Model.FromJson(c.Object("model").Raw)) {
                int input = model.InputSize, output = model.OutputSize;
                float[] y = new float[batch * steps * output];
                float[] spanY = new float[y.Length];
                using (State state = model.CreateState(batch)) {
                    state.Run(x, steps, lengths, y);
                    for (int b = 0; b < batch; b++) {
                        float[] tail = y.Skip((b * steps + lengths[b]) * output).Take((steps - lengths[b]) * output).ToArray();
                        Check(tail.All(v => v == 0), "outputs past stream " + b + "'s length are not 0");
                        using (State alone = model.CreateState(1)) {
                            if (lengths[b] == 0) {
                                Check(state.GetState().Skip(b * state.Size).Take(state.Size).All(v => v == 0), "a zero-length stream's state is not 0");
                                continue;
                            }
                            float[] ya = new float[lengths[b] * output];
                            alone.Run(x.Skip(b * steps * input).Take(lengths[b] * input).ToArray(), lengths[b], ya);
                            Same(y.Skip(b * steps * output).Take(lengths[b] * output).ToArray(), ya, "stream " + b + " of a lengths run against alone");
                            Same(state.GetState().Skip(b * state.Size).Take(state.Size).ToArray(), alone.GetState(), "stream " + b + "'s state against alone");
                        }
                    }
                }
                using (State state = model.CreateState(batch)) {
                    state.Run(new ReadOnlySpan<float>(x), steps, new ReadOnlySpan<int>(lengths), new Span<float>(spanY));
                    Same(spanY, y, "Run with lengths on spans");
                }

                using (State state = model.CreateState(batch)) {
                    ThrowsArgument("lengths", () => state.Run(x, steps, new int[batch - 1], y), "lengths one short");
                    ThrowsArgument("lengths", () => state.Run(x, steps, new[] { 0, -1, 0, 0 }, y), "a negative length");
                    ThrowsArgument("lengths", () => state.Run(x, steps, new[] { 0, steps + 1, 0, 0 }, y), "a length above steps");
                    Throws<ArgumentNullException>(() => state.Run(x, steps, (int[])null, y), "lengths null");
                    Check(state.GetState().All(v => v == 0), "a refused lengths run changed the state");
                }
            }

            // Trainer with lengths: lengths of 0 are refused (1 to steps).
            JsonObject t = Case("sequences/rnn_lstm_stateful_lengths");
            using (Model model = Model.FromJson(t.Object("model").Raw))
            using (Trainer trainer = model.CreateTrainer(t.Object("train").Object("config").Raw)) {
                int batch2 = t.Int("batch"), steps2 = t.Int("steps");
                float[] x2 = t.Floats("input"), target = t.Object("train").Floats("target");
                ThrowsArgument("lengths", () => trainer.Step(x2, batch2, steps2, new int[batch2], target), "trainer lengths of 0");
                ThrowsArgument("lengths", () => trainer.Step(x2, batch2, steps2, new int[batch2 + 1], target), "trainer lengths one too many");
            }
        }

        // ---- streams ----

        private static void TestStreams()
        {
            using (Model model = TinyLstm())
            using (State state = model.CreateState(2)) {
                Check(state.Batch == 2 && state.InputSize == 2 && state.OutputSize == 1, "the state's sizes");
                Check(state.Size == model.StateSize && state.Size == 8, "State.Size " + state.Size + ", model " + model.StateSize);
                float[] x = { 1, 0, 0, 1 }, y = new float[2];
                state.Step(x, y);
                float[] saved = state.GetState();
                Check(saved.Length == 16 && saved.Any(v => v != 0), "GetState after a step");

                state.ResetStream(1);
                float[] after = state.GetState();
                Same(after.Take(8).ToArray(), saved.Take(8).ToArray(), "ResetStream(1) left stream 0");
                Check(after.Skip(8).All(v => v == 0), "ResetStream(1) zeroed stream 1");

                // Restore (save-game), then the same steps give the same outputs.
                state.SetState(saved);
                Same(state.GetState(), saved, "SetState");
                state.Step(x, y);
                float[] first = (float[])y.Clone();
                state.SetState(saved);
                state.Step(x, y);
                Same(y, first, "a step after a restore");

                state.Reset();
                Check(state.GetState().All(v => v == 0), "Reset zeroed every stream");
                ThrowsArgument("stream", () => state.ResetStream(2), "ResetStream past the batch");
                ThrowsArgument("stream", () => state.ResetStream(-1), "ResetStream(-1)");
                ThrowsArgument("values", () => state.SetState(new float[15]), "SetState one short");
                ThrowsArgument("output", () => state.GetState(new float[17]), "GetState one too many");
                float[] bad = (float[])saved.Clone();
                bad[3] = float.NaN;
                ThrowsStatus(RecurStatus.Numeric, () => state.SetState(bad), "SetState with NaN");
                Check(state.GetState().All(v => v == 0), "a refused SetState changed the state");
            }
        }

        // A model of dense layers only keeps no state: empty arrays, no errors.
        private static void TestDenseOnly()
        {
            const string json = "{\"format\": \"recur\", \"version\": 1, \"input_size\": 2, \"layers\": [" +
                                "{\"type\": \"dense\", \"units\": 1, \"weights\": {\"weight\": [[1, 2]], \"bias\": [0.5]}}]}";
            using (Model model = Model.FromJson(json))
            using (State state = model.CreateState(2)) {
                Check(model.StateSize == 0 && state.Size == 0, "a dense model's state size");
                float[] y = new float[2];
                state.Step(new float[] { 1, 1, 2, 2 }, y);
                Same(y, new[] { 3.5f, 6.5f }, "a dense model's step");
                Check(state.GetState().Length == 0, "GetState of an empty state");
                state.SetState(new float[0]);
                state.GetState(new Span<float>());
                state.SetState(new ReadOnlySpan<float>());
                passed++;
            }
        }

        // ---- models ----

        private static void TestModels()
        {
            using (Model model = TinyLstm()) {
                Check(model.InputSize == 2 && model.OutputSize == 1 && model.LayerCount == 2, "tiny_lstm's sizes");
                Check(model.ParameterCount == 133, "tiny_lstm has " + model.ParameterCount + " parameters, expected 133");
                LayerInfo lstm = model.GetLayer(0), dense = model.GetLayer(1);
                Check(lstm.Type == "lstm" && lstm.HiddenSize == 4 && lstm.StateSize == 8 && lstm.HasBias && !lstm.Bidirectional, "layer 0: " + lstm);
                Check(dense.Type == "dense" && dense.Activation == "linear" && dense.OutputSize == 1, "layer 1: " + dense);
                Check(lstm.TensorNames.SequenceEqual(new[] { "weight_ih", "weight_hh", "bias_ih", "bias_hh" }), "layer 0's tensors");
                Check(lstm.TensorShape("weight_ih").SequenceEqual(new[] { 16, 2 }) && lstm.TensorShape("bias_hh").SequenceEqual(new[] { 16 }), "tensor shapes");
                Check(model.ToString().Contains("133 parameters"), "ToString: " + model);

                float[] x = Ramp(2 * 10, 1), expected = new float[10];
                using (State state = model.CreateState())
                    state.Run(x, 10, expected);

                // ToJson -> FromJson, Save -> Load: the same floats.
                foreach (TensorEncoding encoding in new[] { TensorEncoding.Flat, TensorEncoding.Base64, TensorEncoding.Automatic }) {
                    string json = model.ToJson(encoding);
                    Check(json.Contains(encoding == TensorEncoding.Base64 ? "\"base64\"" : "\"data\""), "ToJson(" + encoding + ") form");
                    using (Model again = Model.FromJson(json))
                        Same(Outputs(again, x, 10), expected, "ToJson(" + encoding + ") round trip");
                }
                string path = Path.Combine(Path.GetTempPath(), "recur-csharp-" + Guid.NewGuid().ToString("N") + " é.json");
                try {
                    model.Save(path);
                    using (Model again = Model.Load(path))
                        Same(Outputs(again, x, 10), expected, "Save -> Load round trip (a non-ASCII path)");
                } finally {
                    File.Delete(path);
                }

                // A clone has its own weights.
                using (Model clone = model.Clone()) {
                    float[] bias = clone.GetTensor(1, "bias");
                    bias[0] += 1;
                    clone.SetTensor(1, "bias", bias);
                    Same(clone.GetTensor(1, "bias"), bias, "SetTensor then GetTensor");
                    Same(Outputs(model, x, 10), expected, "SetTensor on a clone changed the original");
                    float[] shifted = Outputs(clone, x, 10);
                    Near(shifted, expected.Select(v => v + 1).ToArray(), 1e-6, 0, "a dense bias + 1 moves every output by 1");
                    ThrowsArgument("values", () => clone.SetTensor(1, "bias", new float[2]), "SetTensor of the wrong size");
                    ThrowsStatus(RecurStatus.Numeric, () => clone.SetTensor(1, "bias", new[] { float.PositiveInfinity }), "SetTensor with infinity");
                    ThrowsArgument("name", () => clone.GetTensor(1, "weight_hh"), "a tensor the layer lacks");
                    ThrowsArgument("index", () => clone.GetTensor(2, "bias"), "a layer out of range");
                    ThrowsArgument("output", () => clone.GetTensor(0, "bias_ih", new float[3]), "GetTensor into a short array");
                }

                // fp16 weights: about 1e-3 from fp32 (docs/performance.md), and back.
                using (Model half = model.Clone()) {
                    Check(half.WeightStorage == WeightStorage.Fp32, "the default weight storage");
                    half.WeightStorage = WeightStorage.Fp16;
                    Check(half.WeightStorage == WeightStorage.Fp16, "WeightStorage = Fp16");
                    Near(Outputs(half, x, 10), expected, 1e-2, 0, "fp16 outputs");
                    half.WeightStorage = WeightStorage.Fp32;
                    Same(Outputs(half, x, 10), expected, "back to fp32");
                }
            }
        }

        private static float[] Outputs(Model model, float[] x, int steps)
        {
            float[] y = new float[steps * model.OutputSize];
            using (State state = model.CreateState())
                state.Run(x, steps, y);
            return y;
        }

        // ---- errors ----

        private static void TestErrors()
        {
            RecurException parse = ThrowsStatus(RecurStatus.Parse, () => Model.FromJson("{\"format\": "), "truncated JSON");
            if (parse != null)
                Check(parse.StatusString == Library.StatusString(RecurStatus.Parse), "StatusString of the exception");
            ThrowsStatus(RecurStatus.Parse, () => Model.FromJson(""), "empty text");
            RecurException version = ThrowsStatus(RecurStatus.Model, () => Model.FromJson("{\"format\": \"recur\", \"version\": 2}"), "format version 2");
            if (version != null)
                Check(version.Message.Contains("version"), "the version error's message: " + version.Message);
            RecurException io = ThrowsStatus(RecurStatus.IO, () => Model.Load("/nonexistent/model.json"), "a missing file");
            if (io != null)
                Check(io.Message.Contains("/nonexistent/model.json"), "the IO error names the path: " + io.Message);
            Throws<ArgumentNullException>(() => Model.FromJson(null), "FromJson(null)");
            Throws<ArgumentNullException>(() => Model.Load(null), "Load(null)");

            using (Model model = TinyLstm()) {
                ThrowsStatus(RecurStatus.IO, () => model.Save("/nonexistent/dir/m.json"), "Save into a missing directory");
                ThrowsStatus(RecurStatus.Parse, () => model.CreateTrainer("{\"loss\": ").Dispose(), "a trainer config that is not JSON");
                RecurException key = ThrowsStatus(RecurStatus.Model, () => model.CreateTrainer("{\"loss\": \"hinge\"}").Dispose(), "an unknown loss");
                if (key != null)
                    Check(key.Message.Contains("loss"), "the config error names the key: " + key.Message);
                ThrowsArgument("batch", () => model.CreateState(0), "CreateState(0)");

                using (State state = model.CreateState(3)) {
                    float[] x = new float[6], y = new float[3];
                    ArgumentException shortX = Throws<ArgumentException>(() => state.Step(new float[5], y), "Step with x one short");
                    if (shortX != null)
                        Check(shortX.ParamName == "x" && shortX.Message.Contains("5 values") && shortX.Message.Contains("6"),
                              "the size message: " + shortX.Message);
                    ThrowsArgument("y", () => state.Step(x, new float[4]), "Step with y one too many");
                    Throws<ArgumentNullException>(() => state.Step(null, y), "Step(null, y)");
                    ThrowsArgument("steps", () => state.Run(x, 0, y), "Run with 0 steps");
                    ThrowsArgument("x", () => state.Run(x, 2, new float[6]), "Run with x for one step of two");
                    ThrowsArgument("y", () => state.Run(new float[12], 2, y), "Run with y for one step of two");
                    ThrowsArgument("xOffset", () => state.Step(x, 7, y, 0), "an offset past the array");
                    ThrowsArgument("x", () => state.Step(x, 1, y, 0), "an offset that leaves too few values");
                    ThrowsArgument("yOffset", () => state.Run(x, 0, 1, y, -1), "a negative offset");
                    ThrowsArgument("x", () => state.Step(new ReadOnlySpan<float>(x, 0, 5), new Span<float>(y)), "a span one short");
                    ThrowsArgument("threads", () => state.SetThreads(0), "SetThreads(0)");
                    ThrowsStatus(RecurStatus.InvalidArgument, () => state.SetThreads(257), "SetThreads(257)");

                    // NaN is refused by the library, naming the element, and nothing moves.
                    state.Step(Ramp(6, 1), y);
                    float[] before = state.GetState();
                    x[4] = float.NaN;
                    RecurException nan = ThrowsStatus(RecurStatus.Numeric, () => state.Step(x, y), "Step with NaN");
                    if (nan != null)
                        Check(nan.Message.Contains("nan"), "the NaN message: " + nan.Message);
                    Same(state.GetState(), before, "a refused step changed the state");
                }

                using (Trainer trainer = model.CreateTrainer("{\"loss\": \"mse\"}")) {
                    float[] x = new float[2 * 3 * 2], target = new float[2 * 3];
                    ThrowsArgument("x", () => trainer.Step(new float[11], 2, 3, target), "trainer x one short");
                    ThrowsArgument("target", () => trainer.Step(x, 2, 3, new float[2]), "trainer target for \"last\" on a sequence trainer");
                    ThrowsArgument("batch", () => trainer.Step(x, 0, 3, target), "trainer batch 0");
                    ThrowsArgument("steps", () => trainer.Step(x, 2, -1, target), "trainer steps -1");
                    ThrowsStatus(RecurStatus.InvalidArgument, () => trainer.StepLabels(x, 2, 3, new int[6]), "labels on an mse trainer");
                    target[1] = float.NaN;
                    ThrowsStatus(RecurStatus.Numeric, () => trainer.Step(x, 2, 3, target), "a NaN target");
                }
            }
        }

        // ---- dispose ----

        private static void TestDispose()
        {
            Model model = TinyLstm();
            State state = model.CreateState(1);
            Trainer trainer = model.CreateTrainer(null);
            float[] x = { 0.5f, -0.5f }, y = new float[1], expected = new float[1];
            using (State reference = model.CreateState(1))
                reference.Step(x, expected);

            // A state and a trainer keep the library's model alive.
            model.Dispose();
            Check(model.IsDisposed, "IsDisposed after Dispose");
            model.Dispose(); // idempotent
            passed++;
            state.Step(x, y);
            Same(y, expected, "a state steps after its model is disposed");
            float loss = trainer.Step(new float[2 * 4], 1, 4, new float[4]);
            Check(loss >= 0, "a trainer steps after its model is disposed");

            Throws<ObjectDisposedException>(() => { var n = model.InputSize; }, "InputSize after Dispose");
            Throws<ObjectDisposedException>(() => model.CreateState(1), "CreateState after Dispose");
            Throws<ObjectDisposedException>(() => model.ToJson(), "ToJson after Dispose");
            Throws<ObjectDisposedException>(() => model.Clone(), "Clone after Dispose");
            Check(model.ToString().Contains("disposed"), "ToString of a disposed model");

            state.Dispose();
            state.Dispose();
            Check(state.IsDisposed, "State.IsDisposed");
            Throws<ObjectDisposedException>(() => state.Step(x, y), "Step after Dispose");
            Throws<ObjectDisposedException>(() => state.Step(null, null), "Step(null, null) after Dispose: disposed is reported first");
            Throws<ObjectDisposedException>(() => state.Run(x, 1, y), "Run after Dispose");
            Throws<ObjectDisposedException>(() => state.Step(new ReadOnlySpan<float>(x), new Span<float>(y)), "Step on spans after Dispose");
            Throws<ObjectDisposedException>(() => state.Reset(), "Reset after Dispose");
            Throws<ObjectDisposedException>(() => state.GetState(), "GetState after Dispose");

            trainer.Dispose();
            trainer.Dispose();
            Check(trainer.IsDisposed, "Trainer.IsDisposed");
            Throws<ObjectDisposedException>(() => trainer.Step(new float[8], 1, 4, new float[4]), "Trainer.Step after Dispose");
            Throws<ObjectDisposedException>(() => { var n = trainer.LastGradientNorm; }, "LastGradientNorm after Dispose");

            // Left to the finalizers: they free without a crash.
            for (int i = 0; i < 100; i++)
                TinyLstm().CreateState(2);
            GC.Collect();
            GC.WaitForPendingFinalizers();
            passed++;
        }

        // ---- trainer ----

        private static void TestTrainer()
        {
            // A model trains towards a target: the loss falls.
            using (Model model = TinyLstm())
            using (Trainer trainer = model.CreateTrainer("{\"loss\": \"mse\", \"optimizer\": {\"type\": \"adam\", \"learning_rate\": 0.05}, \"record_hidden_gradient_norms\": true}")) {
                Check(!trainer.TargetsLast, "TargetsLast for a sequence trainer");
                Check(trainer.LastGradientNorm == 0, "LastGradientNorm before any step");
                float[] x = Ramp(4 * 8 * 2, 1), target = Enumerable.Repeat(0.5f, 4 * 8).ToArray();
                float first = trainer.Step(x, 4, 8, target), last = first;
                for (int i = 0; i < 60; i++)
                    last = trainer.Step(x, 4, 8, target);
                Check(last < first * 0.5f, "training: loss " + first + " -> " + last);
                Check(trainer.LastGradientNorm > 0, "LastGradientNorm after a step");
                float[] hidden = trainer.HiddenGradientNorms(0, 8);
                Check(hidden.Length == 8 && hidden.Any(v => v > 0), "HiddenGradientNorms");
                ThrowsStatus(RecurStatus.Shape, () => trainer.HiddenGradientNorms(0, 7), "HiddenGradientNorms with other steps");
                ThrowsArgument("name", () => trainer.GetGradient(0, "weight"), "GetGradient of a tensor the layer lacks");
            }
            using (Model model = TinyLstm())
            using (Trainer last = model.CreateTrainer("{\"targets\": \"last\", \"stateful\": true}")) {
                Check(last.TargetsLast, "TargetsLast for \"targets\": \"last\"");
                last.Step(new float[3 * 5 * 2], 3, 5, new float[3]);
                ThrowsStatus(RecurStatus.Shape, () => last.Step(new float[2 * 5 * 2], 2, 5, new float[2]), "a stateful trainer given another batch");
                last.ResetState();
                last.Step(new float[2 * 5 * 2], 2, 5, new float[2]);
                passed++;
            }
        }

        // ---- threads ----

        private static void TestThreads()
        {
            using (Model model = TinyLstm()) {
                const int batch = 6, steps = 40;
                float[] x = Ramp(batch * steps * 2, 1), expected = new float[batch * steps];
                using (State state = model.CreateState(batch))
                    state.Run(x, steps, expected);

                // Worker threads of the state: bit-identical.
                float[] y = new float[expected.Length];
                using (State state = model.CreateState(batch)) {
                    state.SetThreads(3);
                    state.Run(x, steps, y);
                }
                Same(y, expected, "SetThreads(3)");

                // One model, a state per thread (docs/threading.md): bit-identical.
                float[][] results = new float[4][];
                Thread[] threads = new Thread[4];
                for (int i = 0; i < threads.Length; i++) {
                    int id = i;
                    threads[i] = new Thread(() => {
                        float[] mine = new float[expected.Length];
                        using (State state = model.CreateState(batch))
                            for (int repeat = 0; repeat < 20; repeat++) {
                                state.Reset();
                                state.Run(x, steps, mine);
                            }
                        results[id] = mine;
                    });
                    threads[i].Start();
                }
                foreach (Thread thread in threads)
                    thread.Join();
                for (int i = 0; i < results.Length; i++)
                    Same(results[i] ?? new float[0], expected, "thread " + i + "'s outputs");

                // Each thread reads its own error message.
                string[] messages = new string[2];
                Thread[] failing = {
                    new Thread(() => { try { Model.FromJson("[1,"); } catch (RecurException e) { messages[0] = e.Message; } }),
                    new Thread(() => { try { Model.Load("/nonexistent/a.json"); } catch (RecurException e) { messages[1] = e.Message; } }),
                };
                foreach (Thread thread in failing) thread.Start();
                foreach (Thread thread in failing) thread.Join();
                Check(messages[1] != null && messages[1].Contains("/nonexistent/a.json") && messages[0] != null && !messages[0].Contains("nonexistent"),
                      "per-thread messages: '" + messages[0] + "', '" + messages[1] + "'");
            }
        }

        // ---- allocation ----

        // Step, Run (with and without lengths), their span and offset forms,
        // and a steady trainer step allocate no managed memory.
        private static void TestNoAllocation()
        {
            using (Model model = TinyLstm())
            using (State state = model.CreateState(4))
            using (Trainer trainer = model.Clone().CreateTrainer("{\"loss\": \"mse\"}")) {
                float[] x = Ramp(4 * 2, 1), y = new float[4];
                float[] xs = Ramp(4 * 16 * 2, 1), ys = new float[4 * 16], target = Ramp(4 * 16, 0.5f);
                int[] lengths = { 16, 3, 0, 9 }, trainLengths = { 16, 3, 1, 9 };
                Action[] calls = {
                    () => state.Step(x, y),
                    () => state.Step(x, 0, y, 0),
                    () => state.Step(new ReadOnlySpan<float>(x), new Span<float>(y)),
                    () => state.Run(xs, 16, ys),
                    () => state.Run(xs, 0, 16, ys, 0),
                    () => state.Run(new ReadOnlySpan<float>(xs), 16, new Span<float>(ys)),
                    () => state.Run(xs, 16, lengths, ys),
                    () => state.Run(new ReadOnlySpan<float>(xs), 16, new ReadOnlySpan<int>(lengths), new Span<float>(ys)),
                    () => trainer.Step(xs, 4, 16, target),
                    () => trainer.Step(xs, 4, 16, trainLengths, target),
                };
                string[] names = { "Step", "Step at offsets", "Step on spans", "Run", "Run at offsets", "Run on spans",
                                   "Run with lengths", "Run with lengths on spans", "Trainer.Step", "Trainer.Step with lengths" };
                for (int i = 0; i < calls.Length; i++) {
                    for (int warm = 0; warm < 3; warm++) // the JIT and the first trainer step allocate
                        calls[i]();
                    long before = GC.GetAllocatedBytesForCurrentThread();
                    for (int repeat = 0; repeat < 200; repeat++)
                        calls[i]();
                    long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
                    Check(bytes == 0, names[i] + " allocated " + bytes + " bytes in 200 calls");
                }
            }
        }
    }
}
