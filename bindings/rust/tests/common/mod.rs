//! What the tests share: a small JSON reader for the reference cases
//! (Tests/testdata/README.md), where they are, and the tolerance check.
//!
//! The crate has no dependencies, so no serde: this parser keeps each
//! number's text as written, so a model document can be written back
//! ([`Value::to_json`]) with every weight exactly as in the file.

#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// The number's text, as written.
    Number(String),
    String(String),
    Array(Vec<Value>),
    /// Keys in document order.
    Object(Vec<(String, Value)>),
}

impl Value {
    /// The member `key` of an object; panics naming it when absent.
    pub fn get(&self, key: &str) -> &Value {
        self.opt(key)
            .unwrap_or_else(|| panic!("no key {key:?} in the document"))
    }

    /// The member `key` of an object, if there is one.
    pub fn opt(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(members) => members.iter().find(|(name, _)| name == key).map(|(_, value)| value),
            _ => None,
        }
    }

    pub fn as_array(&self) -> &[Value] {
        match self {
            Value::Array(items) => items,
            other => panic!("not an array: {other:?}"),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Value::String(text) => text,
            other => panic!("not a string: {other:?}"),
        }
    }

    pub fn as_f64(&self) -> f64 {
        match self {
            Value::Number(text) => text.parse().unwrap_or_else(|_| panic!("bad number {text}")),
            other => panic!("not a number: {other:?}"),
        }
    }

    /// A number as f32, rounded once from its decimal text.
    pub fn as_f32(&self) -> f32 {
        match self {
            Value::Number(text) => text.parse().unwrap_or_else(|_| panic!("bad number {text}")),
            other => panic!("not a number: {other:?}"),
        }
    }

    pub fn as_usize(&self) -> usize {
        match self {
            Value::Number(text) => text.parse().unwrap_or_else(|_| panic!("not a count: {text}")),
            other => panic!("not a number: {other:?}"),
        }
    }

    pub fn f32s(&self) -> Vec<f32> {
        self.as_array().iter().map(Value::as_f32).collect()
    }

    pub fn f64s(&self) -> Vec<f64> {
        self.as_array().iter().map(Value::as_f64).collect()
    }

    pub fn usizes(&self) -> Vec<usize> {
        self.as_array().iter().map(Value::as_usize).collect()
    }

    pub fn i32s(&self) -> Vec<i32> {
        self.as_array()
            .iter()
            .map(|value| match value {
                Value::Number(text) => text.parse().unwrap_or_else(|_| panic!("not an int32: {text}")),
                other => panic!("not a number: {other:?}"),
            })
            .collect()
    }

    /// The value as JSON text (numbers exactly as they were read).
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
            Value::Number(text) => out.push_str(text),
            Value::String(text) => write_string(text, out),
            Value::Array(items) => {
                out.push('[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Value::Object(members) => {
                out.push('{');
                for (index, (key, value)) in members.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    write_string(key, out);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

fn write_string(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => write!(out, "\\u{:04x}", c as u32).unwrap(),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Parses a whole JSON document (RFC 8259); panics with the byte offset on bad input.
pub fn parse(text: &str) -> Value {
    let mut parser = Parser {
        bytes: text.as_bytes(),
        at: 0,
    };
    let value = parser.value();
    parser.space();
    assert_eq!(parser.at, parser.bytes.len(), "trailing text after the JSON value");
    value
}

struct Parser<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn space(&mut self) {
        while matches!(self.bytes.get(self.at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn fail(&self, what: &str) -> ! {
        panic!("JSON: {what} at byte {}", self.at)
    }

    fn expect(&mut self, byte: u8) {
        self.space();
        if self.bytes.get(self.at) != Some(&byte) {
            self.fail(&format!("expected '{}'", byte as char));
        }
        self.at += 1;
    }

    fn value(&mut self) -> Value {
        self.space();
        match self.bytes.get(self.at) {
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => Value::String(self.string()),
            Some(b't') => self.word("true", Value::Bool(true)),
            Some(b'f') => self.word("false", Value::Bool(false)),
            Some(b'n') => self.word("null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => self.fail("expected a value"),
        }
    }

    fn word(&mut self, word: &str, value: Value) -> Value {
        if !self.bytes[self.at..].starts_with(word.as_bytes()) {
            self.fail(&format!("expected {word}"));
        }
        self.at += word.len();
        value
    }

    fn number(&mut self) -> Value {
        let start = self.at;
        while matches!(
            self.bytes.get(self.at),
            Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
        ) {
            self.at += 1;
        }
        let text = std::str::from_utf8(&self.bytes[start..self.at]).unwrap();
        if text.parse::<f64>().is_err() {
            self.fail(&format!("bad number {text:?}"));
        }
        Value::Number(text.to_string())
    }

    fn string(&mut self) -> String {
        self.expect(b'"');
        let mut out = Vec::new();
        loop {
            let byte = *self
                .bytes
                .get(self.at)
                .unwrap_or_else(|| self.fail("unterminated string"));
            self.at += 1;
            match byte {
                b'"' => break,
                b'\\' => {
                    let escape = *self
                        .bytes
                        .get(self.at)
                        .unwrap_or_else(|| self.fail("unterminated escape"));
                    self.at += 1;
                    let c = match escape {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape(),
                        _ => self.fail("bad escape"),
                    };
                    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                }
                byte => out.push(byte),
            }
        }
        String::from_utf8(out).unwrap_or_else(|_| self.fail("string is not UTF-8"))
    }

    fn hex4(&mut self) -> u32 {
        let digits = self
            .bytes
            .get(self.at..self.at + 4)
            .unwrap_or_else(|| self.fail("short \\u escape"));
        self.at += 4;
        u32::from_str_radix(std::str::from_utf8(digits).unwrap(), 16).unwrap_or_else(|_| self.fail("bad \\u escape"))
    }

    fn unicode_escape(&mut self) -> char {
        let first = self.hex4();
        let code = if (0xD800..0xDC00).contains(&first) && self.bytes[self.at..].starts_with(b"\\u") {
            self.at += 2;
            let second = self.hex4();
            0x10000 + ((first - 0xD800) << 10) + (second.wrapping_sub(0xDC00) & 0x3FF)
        } else {
            first
        };
        char::from_u32(code).unwrap_or('\u{FFFD}')
    }

    fn array(&mut self) -> Value {
        self.expect(b'[');
        let mut items = Vec::new();
        self.space();
        if self.bytes.get(self.at) == Some(&b']') {
            self.at += 1;
            return Value::Array(items);
        }
        loop {
            items.push(self.value());
            self.space();
            match self.bytes.get(self.at) {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Value::Array(items);
                }
                _ => self.fail("expected ',' or ']'"),
            }
        }
    }

    fn object(&mut self) -> Value {
        self.expect(b'{');
        let mut members = Vec::new();
        self.space();
        if self.bytes.get(self.at) == Some(&b'}') {
            self.at += 1;
            return Value::Object(members);
        }
        loop {
            self.space();
            let key = self.string();
            self.expect(b':');
            members.push((key, self.value()));
            self.space();
            match self.bytes.get(self.at) {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Value::Object(members);
                }
                _ => self.fail("expected ',' or '}'"),
            }
        }
    }
}

/// The repository root (bindings/rust -> ../..).
pub fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The reference cases: $RECUR_TESTDATA, else the repository's Tests/testdata.
pub fn testdata() -> PathBuf {
    match std::env::var_os("RECUR_TESTDATA") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => repository().join("Tests/testdata"),
    }
}

/// A case file of the test data (e.g. "rnn_tanh.json", "sequences/gru_lengths_zero.json"), parsed.
pub fn case(name: &str) -> Value {
    let path = testdata().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    parse(&text)
}

/// The names of the top-level cases, or those of a subfolder ("sequences").
pub fn case_names(folder: &str) -> Vec<String> {
    let dir = testdata().join(folder);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".json"))
        .map(|name| {
            if folder.is_empty() {
                name
            } else {
                format!("{folder}/{name}")
            }
        })
        .collect();
    names.sort();
    names
}

/// Whether a case's model has a bidirectional layer.
pub fn bidirectional(case: &Value) -> bool {
    case.get("model").get("layers").as_array().iter().any(|layer| {
        layer
            .opt("direction")
            .map(|direction| direction.as_str() == "bidirectional")
            .unwrap_or(false)
    })
}

/// Whether the library loads bidirectional layers ("direction":
/// "bidirectional"). The library this crate was first written against
/// refuses the key, naming it; any other refusal is a failure.
pub fn library_has_bidirectional_layers() -> bool {
    let case = case("sequences/bilstm_nobias.json");
    match recur::Model::from_json(&case.get("model").to_json()) {
        Ok(_) => true,
        Err(error) if error.status == recur::Status::Model && error.message.contains("\"direction\"") => {
            eprintln!(
                "note: this library has no bidirectional layers ({}): their cases are skipped",
                error.message
            );
            false
        }
        Err(error) => panic!("sequences/bilstm_nobias.json: {error}"),
    }
}

/// The cases of a folder that this library can load: all of them, or
/// those without bidirectional layers when it has none.
pub fn loadable_case_names(folder: &str) -> Vec<String> {
    let bidirectional_too = library_has_bidirectional_layers();
    case_names(folder)
        .into_iter()
        .filter(|name| bidirectional_too || !bidirectional(&case(name)))
        .collect()
}

/// Panics unless every |got - want| <= abs + rel * |want| (the README's tolerances).
pub fn assert_close(got: &[f32], want: &[f64], abs: f64, rel: f64, what: &str) {
    assert_eq!(
        got.len(),
        want.len(),
        "{what}: {} values, expected {}",
        got.len(),
        want.len()
    );
    for (index, (&g, &w)) in got.iter().zip(want).enumerate() {
        let error = (g as f64 - w).abs();
        assert!(
            error <= abs + rel * w.abs(),
            "{what}[{index}]: {g} vs reference {w} (off by {error:e})"
        );
    }
}

/// The outputs, states and weights tolerance of Tests/testdata/README.md.
pub fn assert_values_close(got: &[f32], want: &[f64], what: &str) {
    assert_close(got, want, 5e-5, 5e-4, what);
}

/// The losses and gradient norms tolerance of Tests/testdata/README.md.
pub fn assert_loss_close(got: f32, want: f64, what: &str) {
    assert_close(&[got], &[want], 0.0, 1e-4, what);
}

/// Bit-for-bit equality of two float slices (NaN-safe, -0 vs 0 told apart).
pub fn same_bits(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}
