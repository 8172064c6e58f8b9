"""Finding and loading librecur.

Places tried, in order:
  1. the file named by the RECUR_LIBRARY environment variable (if it is set,
     nothing else is tried: an explicit choice is never silently ignored);
  2. a copy bundled in the package: recur/lib/librecur.so;
  3. the library built in this repository: build/lib/librecur.so, found from
     the package source (bindings/python/recur -> ../../../build/lib; only
     when the package runs from a checkout);
  4. the dynamic loader's own search (LD_LIBRARY_PATH, system directories).
"""

import ctypes
import os
import pathlib
import sys

ENVIRONMENT_VARIABLE = "RECUR_LIBRARY"

if sys.platform == "darwin":
    LIBRARY_FILE = "librecur.dylib"
elif sys.platform == "win32":
    LIBRARY_FILE = "recur.dll"
else:
    LIBRARY_FILE = "librecur.so"

_PACKAGE_DIR = pathlib.Path(__file__).resolve().parent


def candidates():
    """(description, path or name) pairs, in the order they are tried."""
    explicit = os.environ.get(ENVIRONMENT_VARIABLE)
    if explicit:
        return [(f"${ENVIRONMENT_VARIABLE}", explicit)]
    places = [("bundled with the package", str(_PACKAGE_DIR / "lib" / LIBRARY_FILE))]
    if _PACKAGE_DIR.parent.name == "python" and _PACKAGE_DIR.parents[1].name == "bindings":
        places.append(("built in the repository", str(_PACKAGE_DIR.parents[2] / "build" / "lib" / LIBRARY_FILE)))
    places.append(("the dynamic loader's search path", LIBRARY_FILE))
    return places


def load():
    """Loads the first library that exists; raises ImportError naming every place tried."""
    failures = []
    for description, location in candidates():
        is_path = os.sep in location
        if is_path and not os.path.exists(location):
            failures.append(f"  {description}: {location} (no such file)")
            continue
        try:
            return ctypes.CDLL(location)
        except OSError as error:
            failures.append(f"  {description}: {location} ({error})")
    raise ImportError(
        "recur: cannot load the Recur library. Looked in:\n" + "\n".join(failures) +
        f"\nBuild it with `make lib` or set {ENVIRONMENT_VARIABLE} to the path of {LIBRARY_FILE}.")
