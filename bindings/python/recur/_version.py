"""Versions: this package's, and the C header's it was written against."""

__version__ = "0.1.0"

# RECUR_VERSION_NUMBER (MAJOR*10000 + MINOR*100 + PATCH) of the include/recur.h
# that recur/_ffi.py declares. tests/test_ffi.py checks it against the header.
HEADER_VERSION_NUMBER = 100
