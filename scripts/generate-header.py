#!/usr/bin/env python3
"""Generates include/recur.h from the Swift sources.

The Swift side is the single source of the C API:
  * every `@_cdecl("recur_...")` function in Sources/RecurCAPI/Exports+*.swift,
    with the `///` comment above it, becomes a prototype with that comment;
    the file's `// MARK: - Title` becomes the section heading;
  * every Swift enum marked `// c-enum: <c_type> <PREFIX> [case=NAME ...]`
    becomes a C enum (constants PREFIX + UPPER_SNAKE(case), unless renamed);
  * every Swift struct in Sources/RecurCAPI marked `// c-struct: <c_type>`
    becomes a C struct with the same fields in the same order, each field's
    `///` comment beside it (only types of the same size and alignment on
    both sides are in TYPES, so the layouts agree);
  * Sources/RecurCore/Version.swift gives the version macros.
Swift types map to C types through TYPES below; an unknown type is an error,
so the header can never silently lose a `const` or a handle type.

Usage: scripts/generate-header.py            write include/recur.h
       scripts/generate-header.py --stdout   print it (for the check)
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CAPI = ROOT / "Sources" / "RecurCAPI"
ENUM_SOURCES = [ROOT / "Sources" / "RecurCore" / "Errors.swift",
                ROOT / "Sources" / "RecurCore" / "Format" / "ModelWriter.swift",
                ROOT / "Sources" / "RecurCore" / "Model" / "Model.swift"]
VERSION_SOURCE = ROOT / "Sources" / "RecurCore" / "Version.swift"
SECTION_ORDER = ["Library", "Models", "Inference state", "Fine-tuning"]

# Swift spelling -> C spelling. Handle aliases are declared in Handles.swift.
TYPES = {
    "Void": "void",
    "Status": "recur_status",
    "TensorEncodingCode": "recur_tensor_encoding",
    "WeightStorageCode": "recur_weight_storage",
    "UInt": "size_t",
    "UInt32": "uint32_t",
    "Int32": "int32_t",
    "Float": "float",
    "UnsafeMutablePointer<UInt>?": "size_t *",
    "UnsafePointer<UInt>?": "const size_t *",
    "UnsafePointer<Float>?": "const float *",
    "UnsafeMutablePointer<Float>?": "float *",
    "UnsafePointer<Int32>?": "const int32_t *",
    "UnsafePointer<CChar>?": "const char *",
    "UnsafeMutablePointer<CChar>?": "char *",
    "UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?": "char **",
    "CInt": "int",
    "UnsafeMutablePointer<UnsafePointer<CChar>?>?": "const char **",
}
HANDLES = {"Model": "recur_model", "State": "recur_state", "Trainer": "recur_trainer"}
for swift_name, c_name in HANDLES.items():
    TYPES[f"{swift_name}Pointer?"] = f"{c_name} *"
    TYPES[f"Const{swift_name}Pointer?"] = f"const {c_name} *"
    TYPES[f"UnsafeMutablePointer<{swift_name}Pointer?>?"] = f"{c_name} **"
# Structs the header declares (`// c-struct:` in Sources/RecurCAPI).
TYPES["LayerInfoPointer?"] = "recur_layer_info *"


def c_type(swift, where):
    swift = swift.strip()
    if swift not in TYPES:
        sys.exit(f"generate-header: {where}: no C spelling for Swift type '{swift}' (add it to TYPES)")
    return TYPES[swift]


def declaration(c, name):
    """`const char *` + `path` -> `const char *path`."""
    return f"{c}{name}" if c.endswith("*") else f"{c} {name}"


def comment(lines, indent=""):
    if not lines:
        return ""
    if len(lines) == 1:
        return f"{indent}/* {lines[0]} */\n"
    body = "".join(f"{indent} * {line}".rstrip() + "\n" for line in lines[1:])
    return f"{indent}/* {lines[0]}\n{body}{indent} */\n"


def upper_snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name.strip("`")).upper()


def read_enums():
    enums = []
    for path in ENUM_SOURCES:
        lines = path.read_text().splitlines()
        for index, line in enumerate(lines):
            marker = re.match(r"\s*// c-enum: (\w+) (\w+)((?: \w+=\w+)*)\s*$", line)
            if not marker:
                continue
            c_name, prefix = marker.group(1), marker.group(2)
            renames = dict(pair.split("=") for pair in marker.group(3).split())
            doc = []
            back = index - 1
            while back >= 0 and lines[back].strip().startswith("///"):
                doc.insert(0, lines[back].strip()[3:].strip())
                back -= 1
            cases, pending = [], []
            for body_line in lines[index + 2:]:
                stripped = body_line.strip()
                if stripped.startswith("///"):
                    pending.append(stripped[3:].strip())
                    continue
                case = re.match(r"case (`?\w+`?) = (\d+)$", stripped)
                if case:
                    swift_case = case.group(1).strip("`")
                    constant = renames.get(swift_case, prefix + upper_snake(swift_case))
                    cases.append((constant, int(case.group(2)), " ".join(pending)))
                    pending = []
                elif stripped.startswith("}") or stripped.startswith("public var") or stripped.startswith("var"):
                    break
                else:
                    pending = []
            enums.append((c_name, doc, cases))
    return enums


def read_structs():
    """[(c_name, doc, [(c declaration, comment)])] for every `// c-struct:`."""
    structs = []
    for path in sorted(CAPI.glob("*.swift")):
        lines = path.read_text().splitlines()
        for index, line in enumerate(lines):
            marker = re.match(r"\s*// c-struct: (\w+)\s*$", line)
            if not marker:
                continue
            c_name = marker.group(1)
            doc = []
            back = index - 1
            while back >= 0 and lines[back].strip().startswith("///"):
                doc.insert(0, lines[back].strip()[3:].strip())
                back -= 1
            if not re.match(r"\s*public struct \w+ \{$", lines[index + 1]):
                sys.exit(f"generate-header: {path.name}: '// c-struct: {c_name}' must stand above 'public struct Name {{'")
            fields, pending = [], []
            for body_line in lines[index + 2:]:
                stripped = body_line.strip()
                if stripped.startswith("}"):
                    break
                if stripped.startswith("///"):
                    pending.append(stripped[3:].strip())
                    continue
                field = re.match(r"public var (\w+): (.+)$", stripped)
                if not field:
                    sys.exit(f"generate-header: {path.name}: {c_name}: cannot read the field '{stripped}'")
                fields.append((declaration(c_type(field.group(2), c_name), field.group(1)) + ";", " ".join(pending)))
                pending = []
            structs.append((c_name, doc, fields))
    return structs


def read_functions():
    sections = {}
    for path in sorted(CAPI.glob("Exports+*.swift")):
        text = path.read_text()
        title = re.search(r"// MARK: - (.+)", text)
        if not title:
            sys.exit(f"generate-header: {path.name} has no '// MARK: - Title' line")
        lines = text.splitlines()
        functions = []
        for index, line in enumerate(lines):
            cdecl = re.match(r'@_cdecl\("(\w+)"\)', line.strip())
            if not cdecl:
                continue
            name = cdecl.group(1)
            doc = []
            back = index - 1
            while back >= 0 and lines[back].strip().startswith("///"):
                doc.insert(0, lines[back].strip()[3:].strip())
                back -= 1
            if not doc:
                sys.exit(f"generate-header: {path.name}: {name} has no /// comment (owner, NULL, statuses)")
            signature = lines[index + 1].strip()
            match = re.match(r"public func (\w+)\((.*)\)\s*(?:->\s*(.+?))?\s*\{$", signature)
            if not match or match.group(1) != name:
                sys.exit(f"generate-header: {path.name}: cannot read the signature of {name}: {signature}")
            parameters = []
            if match.group(2).strip():
                for parameter in split_parameters(match.group(2)):
                    label = re.match(r"_ (\w+): (.+)$", parameter.strip())
                    if not label:
                        sys.exit(f"generate-header: {path.name}: {name}: parameter '{parameter}' must be '_ name: Type'")
                    parameters.append(declaration(c_type(label.group(2), name), label.group(1)))
            result = c_type(match.group(3) or "Void", name)
            prototype = f"{declaration(result, name)}({', '.join(parameters) or 'void'});"
            functions.append((doc, prototype))
        sections[title.group(1).strip()] = functions
    unknown = set(sections) - set(SECTION_ORDER)
    if unknown:
        sys.exit(f"generate-header: unknown sections {sorted(unknown)}; add them to SECTION_ORDER")
    return [(title, sections[title]) for title in SECTION_ORDER if title in sections]


def split_parameters(text):
    parts, depth, current = [], 0, ""
    for character in text:
        if character == "<":
            depth += 1
        elif character == ">":
            depth -= 1
        if character == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += character
    parts.append(current)
    return parts


def read_version():
    text = VERSION_SOURCE.read_text()
    return [int(re.search(rf"static let {part} = (\d+)", text).group(1)) for part in ("major", "minor", "patch")]


def generate():
    major, minor, patch = read_version()
    out = []
    out.append("""/* recur.h: the C API of Recur, an embeddable runtime for recurrent neural
 * networks (RNN, LSTM, GRU): load a JSON model, run it step by step or over
 * whole sequences for many independent streams.
 *
 * GENERATED by scripts/generate-header.py from the Swift sources
 * (Sources/RecurCAPI/Exports+*.swift): do not edit; edit the Swift comments.
 *
 * Conventions
 *  - The caller owns what a _create, _load_* or _clone call returns and
 *    releases it with the matching _free, which accepts NULL.
 *  - A call that can fail returns a recur_status (RECUR_OK = 0). Results
 *    come back through out-pointers (named out_*, last), which are left
 *    untouched on failure. recur_last_error() then says what and where.
 *  - Arrays are float32, row-major, batch first: a sequence batch is
 *    [batch][steps][features], one step is [batch][features].
 *  - Threads: a model may serve any number of threads at once, each with its
 *    own state; a state is used by one thread at a time; a state keeps its
 *    model alive (freeing the model first is safe).
 */
#ifndef RECUR_H
#define RECUR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
""")
    out.append(f"#define RECUR_VERSION_MAJOR {major}\n")
    out.append(f"#define RECUR_VERSION_MINOR {minor}\n")
    out.append(f"#define RECUR_VERSION_PATCH {patch}\n")
    out.append("/* MAJOR*10000 + MINOR*100 + PATCH */\n")
    out.append(f"#define RECUR_VERSION_NUMBER {major * 10000 + minor * 100 + patch}\n")
    out.append(f'#define RECUR_VERSION_STRING "{major}.{minor}.{patch}"\n\n')

    for c_name, doc, cases in read_enums():
        out.append(comment(doc))
        out.append(f"typedef enum {c_name} {{\n")
        width = max(len(f"{constant} = {value},") for constant, value, _ in cases)
        for position, (constant, value, text) in enumerate(cases):
            entry = f"{constant} = {value}" + ("," if position < len(cases) - 1 else "")
            out.append(f"    {entry.ljust(width)}" + (f" /* {text} */" if text else "") + "\n")
        out.append(f"}} {c_name};\n\n")

    out.append("/* Opaque handles. */\n")
    for c_name in HANDLES.values():
        out.append(f"typedef struct {c_name} {c_name};\n")

    for c_name, doc, fields in read_structs():
        out.append("\n" + comment(doc))
        out.append(f"typedef struct {c_name} {{\n")
        width = max(len(text) for text, _ in fields)
        for text, note in fields:
            out.append(f"    {text.ljust(width)}" + (f" /* {note} */" if note else "") + "\n")
        out.append(f"}} {c_name};\n")

    for title, functions in read_functions():
        out.append(f"\n/* ---- {title} {'-' * max(0, 68 - len(title))} */\n")
        for doc, prototype in functions:
            out.append("\n" + comment(doc) + prototype + "\n")

    out.append("""
#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* RECUR_H */
""")
    return "".join(out)


if __name__ == "__main__":
    header = generate()
    if "--stdout" in sys.argv[1:]:
        sys.stdout.write(header)
    else:
        (ROOT / "include" / "recur.h").write_text(header)
