"""The declarations match include/recur.h; the version checks work; loading errors are clear."""

import ctypes
import os
import re
import subprocess
import sys

import pytest

import recur
from recur import _ffi, _library
from recur._version import HEADER_VERSION_NUMBER

from conftest import HEADER, ROOT


def normalize(c_type):
    c_type = re.sub(r"\s+", " ", c_type).strip()
    return re.sub(r"\s*(\*+)\s*", r" \1", c_type).strip()


def header_functions():
    """name -> (return type, [parameter types]) for every prototype in the header."""
    functions = {}
    for line in HEADER.read_text().splitlines():
        match = re.match(r"^([A-Za-z_][\w \*]*?)\b(recur_\w+)\((.*)\);$", line)
        if not match:
            continue
        result, name, parameters = match.groups()
        types = []
        if parameters.strip() != "void":
            for parameter in parameters.split(","):
                types.append(normalize(re.match(r"^(.*?)\w+$", parameter.strip()).group(1)))
        functions[name] = (normalize(result), types)
    return functions


def header_enum(type_name):
    text = HEADER.read_text()
    body = re.search(r"typedef enum %s \{(.*?)\} %s;" % (type_name, type_name), text, re.S).group(1)
    return {name: int(value) for name, value in re.findall(r"^\s*(RECUR_\w+) = (\d+)", body, re.M)}


def header_macro(name):
    return int(re.search(r"#define %s (\d+)" % name, HEADER.read_text()).group(1))


def test_every_header_function_is_declared_and_nothing_else():
    in_header = header_functions()
    assert len(in_header) >= 30, "the header parser found too few prototypes"
    assert sorted(set(in_header) - set(_ffi.FUNCTIONS)) == [], "declared in recur.h, missing in _ffi.FUNCTIONS"
    assert sorted(set(_ffi.FUNCTIONS) - set(in_header)) == [], "in _ffi.FUNCTIONS, not in recur.h"


@pytest.mark.parametrize("name", sorted(_ffi.FUNCTIONS))
def test_declaration_matches_the_header(name):
    result, parameters = header_functions()[name]
    declared_result, declared_parameters = _ffi.FUNCTIONS[name]
    assert len(declared_parameters) == len(parameters), f"{name}: arity"
    assert (declared_result, declared_parameters) == (result, parameters)
    function = getattr(_ffi.lib, name)
    assert function.restype is _ffi.C_TYPES[result]
    assert function.argtypes == [_ffi.C_TYPES[parameter] for parameter in parameters]


def test_status_values_match_the_header():
    expected = {name[len("RECUR_ERROR_"):] if name != "RECUR_OK" else "OK": value
                for name, value in header_enum("recur_status").items()}
    assert {member.name: member.value for member in recur.Status} == expected


def test_tensor_encoding_values_match_the_header():
    expected = {name[len("RECUR_TENSORS_"):]: value for name, value in header_enum("recur_tensor_encoding").items()}
    assert {member.name: member.value for member in recur.TensorEncoding} == expected


C_FIELD_TYPES = {"size_t": ctypes.c_size_t, "const char *": ctypes.c_char_p, "int": ctypes.c_int}


def test_layer_info_struct_matches_the_header():
    body = re.search(r"typedef struct recur_layer_info \{(.*?)\} recur_layer_info;", HEADER.read_text(), re.S).group(1)
    fields = [(normalize(c_type), name) for c_type, name in re.findall(r"^\s*([\w \*]+?)\s*(\w+);", body, re.M)]
    assert len(fields) >= 9
    declared = list(_ffi.recur_layer_info._fields_)
    assert declared == [(name, C_FIELD_TYPES[c_type]) for c_type, name in fields]


def test_every_status_has_its_exception_class():
    for status in recur.Status:
        if status != recur.Status.OK:
            error = recur.errors.error_for_status(status, "text")
            assert type(error) is not recur.RecurError and error.status == status


def test_expected_version_is_the_headers():
    assert HEADER_VERSION_NUMBER == header_macro("RECUR_VERSION_NUMBER")
    major, minor, patch = (header_macro(f"RECUR_VERSION_{part}") for part in ("MAJOR", "MINOR", "PATCH"))
    assert recur.__version__ == f"{major}.{minor}.{patch}"


def test_library_version():
    assert recur.library_version() == recur.__version__
    assert _ffi.lib.recur_version_number() // 100 == HEADER_VERSION_NUMBER // 100


def test_version_mismatch_is_an_import_error_naming_both_versions():
    class OtherLibrary:
        _name = "/somewhere/librecur.so"

        def recur_version_number(self):
            return 20300

        def recur_version_string(self):
            return b"2.3.0"

    with pytest.raises(ImportError) as caught:
        _ffi._check_version(OtherLibrary())
    message = str(caught.value)
    assert "2.3.0" in message and "0.1.0" in message and "/somewhere/librecur.so" in message


def test_missing_function_is_an_import_error():
    class Empty:
        _name = "libempty.so"

    with pytest.raises(ImportError, match="recur_version_number"):
        _ffi._declare(Empty())


def run_python(code, **environment):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "bindings" / "python"), **environment)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)


def test_recur_library_variable_wins_and_a_bad_one_is_named():
    result = run_python("import recur", RECUR_LIBRARY="/nonexistent/librecur.so")
    assert result.returncode != 0
    assert "ImportError" in result.stderr and "/nonexistent/librecur.so" in result.stderr
    assert "RECUR_LIBRARY" in result.stderr


def test_recur_library_variable_loads_that_file():
    library = str(ROOT / "build" / "lib" / _library.LIBRARY_FILE)
    result = run_python("import recur; print(recur.library_path())", RECUR_LIBRARY=library)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == library


def test_without_the_variable_the_places_are_tried_in_order(monkeypatch):
    monkeypatch.delenv("RECUR_LIBRARY", raising=False)
    places = [description for description, _ in _library.candidates()]
    assert places == ["bundled with the package", "built in the repository", "the dynamic loader's search path"]
    built = _library.candidates()[1][1]
    assert built == str(ROOT / "build" / "lib" / _library.LIBRARY_FILE)


def test_a_library_that_cannot_be_found_gives_every_place(monkeypatch, tmp_path):
    monkeypatch.delenv("RECUR_LIBRARY", raising=False)
    monkeypatch.setattr(_library, "_PACKAGE_DIR", tmp_path / "bindings" / "python" / "recur")
    monkeypatch.setattr(_library, "LIBRARY_FILE", "librecur-does-not-exist.so")
    with pytest.raises(ImportError) as caught:
        _library.load()
    message = str(caught.value)
    assert "bundled with the package" in message and "built in the repository" in message
    assert "dynamic loader" in message and "make lib" in message
    monkeypatch.setattr(_library, "_PACKAGE_DIR", tmp_path / "site-packages" / "recur")  # an installed copy
    assert "built in the repository" not in [place for place, _ in _library.candidates()]
