"""Versions: this package's, and the C header's it was written against.

__version__ is Recur's version. Its one source is Sources/RecurCore/Version.swift
(RecurVersion.major, .minor, .patch), the same file that scripts/generate-header.py
copies into include/recur.h. A built package (`make wheel`, `pip install
./bindings/python`) has the number written into its copy of this file by the
build (bindings/python/build_backend/recur_build.py replaces the `None` below);
run from a checkout (PYTHONPATH=bindings/python), it is read from Version.swift.
This module imports nothing outside the standard library: the build loads it
by path to use read_swift_version.
"""

import pathlib
import re

__version__ = None  # written by the build; None in the source tree

# RECUR_VERSION_NUMBER (MAJOR*10000 + MINOR*100 + PATCH) of the include/recur.h
# that recur/_ffi.py declares: the API this binding was written against, not
# the package's version. On import, a library whose MAJOR.MINOR differs is
# refused. tests/test_ffi.py checks it against the header.
HEADER_VERSION_NUMBER = 100

# bindings/python/recur/_version.py -> the project root
SWIFT_VERSION_FILE = pathlib.Path(__file__).resolve().parents[3] / "Sources" / "RecurCore" / "Version.swift"


def read_swift_version(path=SWIFT_VERSION_FILE):
    """"MAJOR.MINOR.PATCH" from Version.swift's `static let major = N` (and minor, patch)."""
    text = pathlib.Path(path).read_text(encoding="utf-8")
    parts = []
    for part in ("major", "minor", "patch"):
        match = re.search(rf"static let {part} = (\d+)", text)
        if match is None:
            raise ValueError(f"{path}: no `static let {part} = N`")
        parts.append(match.group(1))
    return ".".join(parts)


if __version__ is None:
    try:
        __version__ = read_swift_version()
    except OSError:
        raise ImportError(f"recur: this copy of the package has no version: it was neither built "
                          f"(make wheel) nor run from a checkout ({SWIFT_VERSION_FILE} not found)") from None
