"""The build backend of the `recur` Python package (PEP 517), standard library only.

pip runs it for `pip install ./bindings/python` and `make wheel` (pip wheel);
pyproject.toml names it (backend-path). It needs no download, so both work offline.

The wheel holds the package (recur/, recur/convert/) and the library from
the checkout, build/lib/librecur.so, as recur/lib/librecur.so: the place
recur/_library.py tries first after $RECUR_LIBRARY. Without that library the
build stops and says what to run; it never makes a package that cannot import.

Version: read from Sources/RecurCore/Version.swift (the project's one source)
and written into the wheel's recur/_version.py.

Platform tag: the package is pure Python over a ctypes-loaded library, so
the tag is py3-none-PLATFORM, where PLATFORM comes from the library itself
(see platform_tag): on Linux manylinux_2_N_ARCH, N being the newest glibc
symbol version the library needs, when it needs only the libraries that the
manylinux policy allows; otherwise linux_ARCH.

Editable installs (pip install -e) put bindings/python on sys.path through a
.pth file; the package then finds build/lib/librecur.so in the checkout.
An sdist is refused: the package cannot be built away from the checkout.

Run directly, it builds a wheel: python recur_build.py WHEEL_DIRECTORY
"""

import base64
import hashlib
import importlib.util
import os
import pathlib
import re
import struct
import sys
import sysconfig
import zipfile

NAME = "recur"
PACKAGE_DIR = pathlib.Path(__file__).resolve().parents[1]  # bindings/python
ROOT = PACKAGE_DIR.parents[1]                               # the project root
LIBRARY = ROOT / "build" / "lib" / "librecur.so"
LIBRARY_IN_WHEEL = "recur/lib/librecur.so"

SUMMARY = "Python binding of Recur, an embeddable RNN runtime (ctypes over librecur)"
REQUIRES_PYTHON = ">=3.9"
REQUIRES = ["numpy>=1.21"]
EXTRAS = {"test": ["pytest"], "torch": ["torch"], "keras": ["keras"]}
SCRIPTS = {"recur": "recur.cli:main"}


class BuildError(Exception):
    pass


# ---- PEP 517 / 660 hooks ------------------------------------------------------------------

def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _report_errors(lambda: _build(wheel_directory, editable=False))


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return _report_errors(lambda: _build(wheel_directory, editable=True))


def build_sdist(sdist_directory, config_settings=None):
    return _report_errors(lambda: _fail(
        "recur has no source distribution: the package is built from a checkout of the project, "
        "with its library. Run `make wheel` at the project root and install build/wheel/recur-*.whl."))


def _report_errors(build):
    """A BuildError is the message the user needs, not a traceback: print it and exit 1."""
    try:
        return build()
    except BuildError as error:
        print(f"\nrecur: {error}\n", file=sys.stderr)
        sys.exit(1)


def _fail(message):
    raise BuildError(message)


# ---- the wheel ----------------------------------------------------------------------------

def version():
    """Recur's version from Sources/RecurCore/Version.swift, read by recur/_version.py's own parser."""
    spec = importlib.util.spec_from_file_location("_recur_version_source", PACKAGE_DIR / "recur" / "_version.py")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ImportError as error:
        _fail(str(error))
    return module.read_swift_version()


def _build(wheel_directory, editable):
    number = version()
    if editable:
        tag = "py3-none-any"
        files = [(f"__editable__.{NAME}.pth", (str(PACKAGE_DIR) + "\n").encode())]
    else:
        if not LIBRARY.is_file():
            _fail(f"the library {LIBRARY} does not exist, and the package needs it inside.\n"
                  f"  Build it first, at the project root {ROOT}:\n"
                  f"      make lib && python3 -m pip install ./bindings/python\n"
                  f"  or build the wheel and install that:\n"
                  f"      make wheel && python3 -m pip install build/wheel/recur-*.whl")
        tag = "py3-none-" + platform_tag(LIBRARY)
        files = _package_files(number)
        files.append((LIBRARY_IN_WHEEL, LIBRARY.read_bytes()))
    dist_info = f"{NAME}-{number}.dist-info"
    files += [
        (f"{dist_info}/METADATA", _metadata(number).encode()),
        (f"{dist_info}/WHEEL", (f"Wheel-Version: 1.0\nGenerator: recur_build\n"
                                f"Root-Is-Purelib: {'true' if editable else 'false'}\nTag: {tag}\n").encode()),
        (f"{dist_info}/entry_points.txt",
         ("[console_scripts]\n" + "".join(f"{k} = {v}\n" for k, v in SCRIPTS.items())).encode()),
        (f"{dist_info}/top_level.txt", f"{NAME}\n".encode()),
    ]
    record = [f"{path},sha256={_digest(data)},{len(data)}" for path, data in files]
    record.append(f"{dist_info}/RECORD,,")
    files.append((f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode()))

    filename = f"{NAME}-{number}-{tag}.whl"
    os.makedirs(wheel_directory, exist_ok=True)
    target = pathlib.Path(wheel_directory) / filename
    temporary = target.with_name(filename + ".tmp")
    # Fixed timestamps: the same inputs give the same wheel (SOURCE_DATE_EPOCH may set another).
    stamp = _zip_time()
    with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files:
            info = zipfile.ZipInfo(path, stamp)
            info.external_attr = (0o755 if path == LIBRARY_IN_WHEEL else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    os.replace(temporary, target)
    return filename


def _package_files(number):
    """(path in the wheel, bytes) of recur/ and its subpackages, with the version written in."""
    files = []
    for path in sorted((PACKAGE_DIR / NAME).rglob("*.py")):
        relative = path.relative_to(PACKAGE_DIR).as_posix()
        data = path.read_bytes()
        if relative == f"{NAME}/_version.py":
            marker = b"__version__ = None  # written by the build"
            if data.count(marker) != 1:
                _fail(f"{path}: expected one line starting with {marker.decode()!r}")
            data = data.replace(marker, f"__version__ = {number!r}  # written by the build".encode())
        files.append((relative, data))
    return files


def _metadata(number):
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {NAME}",
        f"Version: {number}",
        f"Summary: {SUMMARY}",
        f"Requires-Python: {REQUIRES_PYTHON}",
    ]
    lines += [f"Requires-Dist: {requirement}" for requirement in REQUIRES]
    for extra, requirements in EXTRAS.items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f'Requires-Dist: {requirement}; extra == "{extra}"' for requirement in requirements]
    lines.append("Description-Content-Type: text/markdown")
    readme = (PACKAGE_DIR / "README.md").read_text(encoding="utf-8")
    return "\n".join(lines) + "\n\n" + readme


def _digest(data):
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _zip_time():
    import time
    seconds = max(int(os.environ.get("SOURCE_DATE_EPOCH", 315532800)), 315532800)  # >= 1980-01-01
    return time.gmtime(seconds)[:6]


# ---- the platform tag ---------------------------------------------------------------------

# Libraries a manylinux wheel may need from the system (PEP 600; auditwheel's policy).
MANYLINUX_LIBRARIES = {
    "libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1", "libgcc_s.so.1",
    "libstdc++.so.6", "libutil.so.1", "libcrypt.so.1", "libnsl.so.1",
    "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1", "ld-linux.so.2",
}
# The oldest manylinux_2_N whose reference distribution ships a libstdc++ with
# GLIBCXX_3.4.M, for M (auditwheel's policy: the GCC of CentOS 7 devtoolset,
# AlmaLinux 8 and 9, Ubuntu 22.04). Newer GLIBCXX versions: linux_ARCH.
GLIBCXX_MINIMUM_GLIBC = {19: 17, 25: 28, 29: 34, 30: 35}


def platform_tag(library):
    """manylinux_2_N_ARCH when the library's needs allow it, else linux_ARCH (other systems: theirs)."""
    native = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    if not sys.platform.startswith("linux"):
        return native
    try:
        needed, versions, machine = elf_needs(library)
    except (OSError, ValueError, struct.error) as error:
        print(f"recur_build: cannot read {library} ({error}); tagging the wheel {native}", file=sys.stderr)
        return native
    arch = {62: "x86_64", 183: "aarch64"}.get(machine)
    unusual = sorted(set(needed) - MANYLINUX_LIBRARIES)
    glibc = [_minor(v, "GLIBC_2.") for v in versions if v.startswith("GLIBC_2.")]
    glibcxx = [_minor(v, "GLIBCXX_3.4.") for v in versions if v.startswith("GLIBCXX_3.4.")]
    floor = max(glibc, default=17)
    for m in glibcxx:
        suitable = [n for k, n in GLIBCXX_MINIMUM_GLIBC.items() if k >= m]
        if not suitable:
            floor = None
            break
        floor = max(floor, min(suitable))
    if arch is None or unusual or floor is None:
        print(f"recur_build: {library} is not manylinux-compatible (machine {machine}, other libraries "
              f"{unusual}, GLIBCXX {max(glibcxx, default=None)}); tagging the wheel {native}", file=sys.stderr)
        return native
    return f"manylinux_2_{floor}_{arch}"


def _minor(version, prefix):
    text = version[len(prefix):].split(".")[0]
    return int(text) if text.isdigit() else 0


def elf_needs(path):
    """(NEEDED libraries, the symbol versions required from them, e_machine) of a 64-bit little-endian ELF."""
    data = pathlib.Path(path).read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError("not a 64-bit little-endian ELF file")
    machine, = struct.unpack_from("<H", data, 18)
    shoff, = struct.unpack_from("<Q", data, 40)
    shentsize, shnum = struct.unpack_from("<HH", data, 58)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + k * shentsize) for k in range(shnum)]

    def string(table, offset):
        start = sections[table][4] + offset
        return data[start:data.index(b"\0", start)].decode()

    needed, versions = [], set()
    for _name, kind, _flags, _addr, offset, size, link, _info, _align, _entsize in sections:
        if kind == 6:  # SHT_DYNAMIC: (d_tag, d_val); DT_NEEDED = 1
            for k in range(0, size, 16):
                tag, value = struct.unpack_from("<qQ", data, offset + k)
                if tag == 1:
                    needed.append(string(link, value))
        elif kind == 0x6ffffffe:  # SHT_GNU_verneed: Verneed entries, each with Vernaux entries
            entry = offset
            while True:
                _version, count, _file, aux, following = struct.unpack_from("<HHIII", data, entry)
                position = entry + aux
                for _ in range(count):
                    _hash, _vflags, _other, name, step = struct.unpack_from("<IHHII", data, position)
                    versions.add(string(link, name))
                    position += step
                if not following:
                    break
                entry += following
    return needed, versions, machine


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: recur_build.py WHEEL_DIRECTORY")
    print(pathlib.Path(sys.argv[1]) / build_wheel(sys.argv[1]))
