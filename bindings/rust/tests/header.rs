//! src/sys.rs against include/recur.h: the hand-written declarations are
//! the one place a mistake would not be caught by the compiler, so this
//! reads the header and checks every function's signature, every constant
//! and the layout of recur_layer_info. $RECUR_HEADER names another header.

mod common;

use std::collections::BTreeMap;
use std::mem::{offset_of, size_of};

use recur::sys;

fn header() -> String {
    let path = match std::env::var_os("RECUR_HEADER") {
        Some(path) if !path.is_empty() => path.into(),
        _ => common::repository().join("include/recur.h"),
    };
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// A C type ("const recur_model *", "char **", "size_t") as src/sys.rs writes it.
fn rust_type(c_type: &str) -> String {
    let stars = c_type.matches('*').count();
    let words: Vec<&str> = c_type
        .split(|c: char| c == '*' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect();
    let is_const = words.first() == Some(&"const");
    let base = match *words.last().unwrap() {
        "char" => "c_char",
        "size_t" => "usize",
        "float" => "f32",
        "int32_t" => "i32",
        "uint32_t" => "u32",
        "int" => "c_int",
        "void" if stars == 0 => "()",
        other => other,
    };
    // `const` binds to the pointee: `const char **` is *mut *const c_char.
    let mut rust = base.to_string();
    for level in 0..stars {
        let pointer = if level == 0 && is_const { "*const " } else { "*mut " };
        rust = format!("{pointer}{rust}");
    }
    rust
}

/// name -> (parameter types, return type) of every function the header declares.
fn header_functions(header: &str) -> BTreeMap<String, (Vec<String>, String)> {
    let mut functions = BTreeMap::new();
    for line in header.lines() {
        let line = line.trim();
        if !line.ends_with(");") || line.starts_with("/*") {
            continue;
        }
        // The function's name is the identifier just before the first '('.
        let Some(paren) = line.find('(') else { continue };
        let open = line[..paren]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |at| at + 1);
        let name = &line[open..paren];
        if !name.starts_with("recur_") {
            continue;
        }
        let returns = rust_type(&line[..open]);
        let inside = &line[paren + 1..line.len() - 2];
        let parameters = if inside == "void" {
            Vec::new()
        } else {
            inside
                .split(',')
                .map(|parameter| {
                    // Drop the parameter's name: the identifier at the end.
                    let parameter = parameter.trim();
                    let cut = parameter
                        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .unwrap();
                    rust_type(&parameter[..=cut])
                })
                .collect()
        };
        functions.insert(name.to_string(), (parameters, returns));
    }
    functions
}

/// The same from src/sys.rs's extern block.
fn rust_functions() -> BTreeMap<String, (Vec<String>, String)> {
    let source = include_str!("../src/sys.rs");
    let mut functions = BTreeMap::new();
    for piece in source.split("pub fn ").skip(1) {
        let paren = piece.find('(').unwrap();
        let name = piece[..paren].to_string();
        let close = piece.find(')').unwrap();
        let parameters = piece[paren + 1..close]
            .split(',')
            .map(str::trim)
            .filter(|parameter| !parameter.is_empty())
            .map(|parameter| {
                parameter
                    .split_once(':')
                    .unwrap()
                    .1
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        let end = piece.find(';').unwrap();
        let returns = piece[close + 1..end]
            .trim()
            .trim_start_matches("->")
            .split_whitespace()
            .collect::<Vec<_>>();
        let returns = if returns.is_empty() {
            "()".to_string()
        } else {
            returns.join(" ")
        };
        functions.insert(name, (parameters, returns));
    }
    functions
}

#[test]
fn every_function_of_the_header_is_declared_with_its_signature() {
    let header = header_functions(&header());
    let rust = rust_functions();
    assert!(
        header.len() >= 50,
        "read only {} functions from the header",
        header.len()
    );
    for (name, signature) in &header {
        let declared = rust
            .get(name)
            .unwrap_or_else(|| panic!("src/sys.rs does not declare {name}"));
        assert_eq!(
            declared, signature,
            "{name}: src/sys.rs (left) differs from recur.h (right)"
        );
    }
    for name in rust.keys() {
        assert!(
            header.contains_key(name),
            "src/sys.rs declares {name}, which recur.h does not"
        );
    }
}

/// The integer after `name` in a `#define name N` or an enumerator `name = N,`.
fn header_number(header: &str, name: &str) -> i64 {
    for line in header.lines() {
        let words: Vec<&str> = line
            .split(|c: char| c.is_whitespace() || c == '=' || c == ',')
            .filter(|w| !w.is_empty())
            .collect();
        let at = match words.as_slice() {
            ["#define", n, ..] if *n == name => 2,
            [n, ..] if *n == name => 1,
            _ => continue,
        };
        return words[at].parse().unwrap_or_else(|_| panic!("{name}: {line}"));
    }
    panic!("recur.h has no {name}")
}

#[test]
fn constants_match_the_header() {
    let header = header();
    let constants: &[(&str, i64)] = &[
        ("RECUR_VERSION_MAJOR", sys::RECUR_VERSION_MAJOR as i64),
        ("RECUR_VERSION_MINOR", sys::RECUR_VERSION_MINOR as i64),
        ("RECUR_VERSION_PATCH", sys::RECUR_VERSION_PATCH as i64),
        ("RECUR_VERSION_NUMBER", sys::RECUR_VERSION_NUMBER as i64),
        ("RECUR_OK", sys::RECUR_OK as i64),
        ("RECUR_ERROR_INVALID_ARGUMENT", sys::RECUR_ERROR_INVALID_ARGUMENT as i64),
        ("RECUR_ERROR_PARSE", sys::RECUR_ERROR_PARSE as i64),
        ("RECUR_ERROR_MODEL", sys::RECUR_ERROR_MODEL as i64),
        ("RECUR_ERROR_IO", sys::RECUR_ERROR_IO as i64),
        ("RECUR_ERROR_SHAPE", sys::RECUR_ERROR_SHAPE as i64),
        ("RECUR_ERROR_NUMERIC", sys::RECUR_ERROR_NUMERIC as i64),
        ("RECUR_ERROR_OUT_OF_MEMORY", sys::RECUR_ERROR_OUT_OF_MEMORY as i64),
        ("RECUR_ERROR_INTERNAL", sys::RECUR_ERROR_INTERNAL as i64),
        ("RECUR_TENSORS_FLAT", sys::RECUR_TENSORS_FLAT as i64),
        ("RECUR_TENSORS_BASE64", sys::RECUR_TENSORS_BASE64 as i64),
        ("RECUR_TENSORS_AUTOMATIC", sys::RECUR_TENSORS_AUTOMATIC as i64),
        ("RECUR_WEIGHTS_FP32", sys::RECUR_WEIGHTS_FP32 as i64),
        ("RECUR_WEIGHTS_FP16", sys::RECUR_WEIGHTS_FP16 as i64),
        ("RECUR_WEIGHTS_INT8", sys::RECUR_WEIGHTS_INT8 as i64),
    ];
    for &(name, value) in constants {
        assert_eq!(header_number(&header, name), value, "{name}");
    }
    assert!(header.contains(&format!(
        "#define RECUR_VERSION_STRING \"{}\"",
        sys::RECUR_VERSION_STRING
    )));
    // Every enumerator of the header is mirrored (a new status needs a Status variant).
    let enumerators = header
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|word| word.starts_with("RECUR_") && !word.starts_with("RECUR_H") && !word.starts_with("RECUR_VERSION"))
        .count();
    assert_eq!(
        enumerators,
        constants.len() - 4,
        "recur.h has enumerators src/sys.rs lacks"
    );
}

#[test]
fn recur_layer_info_has_the_headers_fields_and_c_layout() {
    let header = header();
    let start = header
        .find("typedef struct recur_layer_info {")
        .expect("recur_layer_info in recur.h");
    let body = &header[start..header[start..].find("} recur_layer_info;").unwrap() + start];
    // (name, C size) of each field, in order, as the header declares them.
    let fields: Vec<(String, usize)> = body
        .lines()
        .skip(1)
        .filter_map(|line| line.split(';').next().filter(|_| line.contains(';')))
        .map(|declaration| {
            let declaration = declaration.trim();
            let name = declaration.rsplit([' ', '*']).next().unwrap().to_string();
            let size = if declaration.contains('*') || declaration.starts_with("size_t") {
                size_of::<usize>()
            } else if declaration.starts_with("int ") {
                size_of::<std::os::raw::c_int>()
            } else {
                panic!("a field type this test does not know: {declaration}")
            };
            (name, size)
        })
        .collect();
    let offsets = [
        ("struct_size", offset_of!(sys::recur_layer_info, struct_size)),
        ("type", offset_of!(sys::recur_layer_info, type_)),
        ("activation", offset_of!(sys::recur_layer_info, activation)),
        ("input_size", offset_of!(sys::recur_layer_info, input_size)),
        ("output_size", offset_of!(sys::recur_layer_info, output_size)),
        ("hidden_size", offset_of!(sys::recur_layer_info, hidden_size)),
        ("state_size", offset_of!(sys::recur_layer_info, state_size)),
        ("bidirectional", offset_of!(sys::recur_layer_info, bidirectional)),
        ("has_bias", offset_of!(sys::recur_layer_info, has_bias)),
        ("tensor_count", offset_of!(sys::recur_layer_info, tensor_count)),
    ];
    assert_eq!(fields.len(), offsets.len(), "recur.h's fields: {fields:?}");
    // C's layout: each field at the next multiple of its size (all are
    // scalars or pointers), the whole rounded up to the largest alignment.
    let mut offset: usize = 0;
    for ((name, size), (rust_name, rust_offset)) in fields.iter().zip(offsets) {
        offset = offset.next_multiple_of(*size);
        assert_eq!(name, rust_name);
        assert_eq!(rust_offset, offset, "offset of {name}");
        offset += size;
    }
    assert_eq!(
        size_of::<sys::recur_layer_info>(),
        offset.next_multiple_of(size_of::<usize>())
    );
}
