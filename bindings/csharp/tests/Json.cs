// Json.cs: a small JSON reader for the tests (the reference cases of
// Tests/testdata), so they need nothing beyond Mono's base libraries.
// Objects are JsonObject (a dictionary that also keeps its source text, to
// hand a case's model document to Model.FromJson as written); arrays are
// List<object>; numbers double; strings, true/false and null as in C#.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace RecurTests
{
    internal sealed class JsonObject : Dictionary<string, object>
    {
        public string Raw; // the object's text in the source document

        public JsonObject Object(string key) { return (JsonObject)this[key]; }
        public List<object> Array(string key) { return (List<object>)this[key]; }
        public int Int(string key) { return (int)(double)this[key]; }
        public string String(string key) { return (string)this[key]; }
        public bool Has(string key) { return ContainsKey(key) && this[key] != null; }

        public float[] Floats(string key) { return Json.Floats(this[key]); }
        public int[] Ints(string key)
        {
            List<object> values = Array(key);
            int[] result = new int[values.Count];
            for (int i = 0; i < result.Length; i++)
                result[i] = (int)(double)values[i];
            return result;
        }
    }

    internal sealed class Json
    {
        private readonly string text;
        private int at;

        private Json(string text) { this.text = text; }

        public static object Parse(string text)
        {
            Json reader = new Json(text);
            object value = reader.Value();
            reader.Space();
            if (reader.at != text.Length)
                throw reader.Error("text after the value");
            return value;
        }

        // A flat array of numbers as float32 (nested arrays are flattened).
        public static float[] Floats(object value)
        {
            List<float> result = new List<float>();
            Flatten(value, result);
            return result.ToArray();
        }

        private static void Flatten(object value, List<float> into)
        {
            List<object> list = value as List<object>;
            if (list == null) {
                into.Add((float)(double)value);
                return;
            }
            foreach (object item in list)
                Flatten(item, into);
        }

        private object Value()
        {
            Space();
            if (at >= text.Length)
                throw Error("unexpected end");
            char c = text[at];
            if (c == '{') return ObjectValue();
            if (c == '[') return ArrayValue();
            if (c == '"') return StringValue();
            if (Word("true")) return true;
            if (Word("false")) return false;
            if (Word("null")) return null;
            return Number();
        }

        private JsonObject ObjectValue()
        {
            int start = at++;
            JsonObject result = new JsonObject();
            Space();
            if (text[at] == '}') {
                at++;
            } else {
                while (true) {
                    Space();
                    string key = StringValue();
                    Space();
                    Expect(':');
                    result[key] = Value();
                    Space();
                    if (text[at] == ',') { at++; continue; }
                    Expect('}');
                    break;
                }
            }
            result.Raw = text.Substring(start, at - start);
            return result;
        }

        private List<object> ArrayValue()
        {
            at++;
            List<object> result = new List<object>();
            Space();
            if (text[at] == ']') { at++; return result; }
            while (true) {
                result.Add(Value());
                Space();
                if (text[at] == ',') { at++; continue; }
                Expect(']');
                return result;
            }
        }

        private string StringValue()
        {
            Expect('"');
            StringBuilder result = new StringBuilder();
            while (text[at] != '"') {
                char c = text[at++];
                if (c != '\\') { result.Append(c); continue; }
                char e = text[at++];
                switch (e) {
                    case 'n': result.Append('\n'); break;
                    case 't': result.Append('\t'); break;
                    case 'r': result.Append('\r'); break;
                    case 'b': result.Append('\b'); break;
                    case 'f': result.Append('\f'); break;
                    case 'u':
                        result.Append((char)int.Parse(text.Substring(at, 4), NumberStyles.HexNumber));
                        at += 4;
                        break;
                    default: result.Append(e); break; // \" \\ \/
                }
            }
            at++;
            return result.ToString();
        }

        private double Number()
        {
            int start = at;
            while (at < text.Length && "+-0123456789.eE".IndexOf(text[at]) >= 0)
                at++;
            if (start == at)
                throw Error("unexpected character");
            return double.Parse(text.Substring(start, at - start), NumberStyles.Float, CultureInfo.InvariantCulture);
        }

        private bool Word(string word)
        {
            if (string.CompareOrdinal(text, at, word, 0, word.Length) != 0)
                return false;
            at += word.Length;
            return true;
        }

        private void Space()
        {
            while (at < text.Length && char.IsWhiteSpace(text[at]))
                at++;
        }

        private void Expect(char c)
        {
            if (at >= text.Length || text[at] != c)
                throw Error("expected '" + c + "'");
            at++;
        }

        private FormatException Error(string what)
        {
            return new FormatException("JSON: " + what + " at offset " + at);
        }
    }
}
