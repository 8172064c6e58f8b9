#!/usr/bin/env bash
# Proves that the release librecur.so is self-contained:
#  (a) readelf: NEEDED lists only system libraries (libc, libm, libstdc++,
#      libgcc_s, ld-linux), SONAME is librecur.so.MAJOR (MAJOR from
#      include/recur.h); the dynamic symbols it exports (global or weak,
#      defined) are exactly the recur_* functions declared in include/recur.h;
#      no Swift runtime or json-c symbol is left undefined (both are inside);
#  (b) C programs (the examples, checked by Tests/c/test_examples.sh, and
#      test_api over the reference cases) and Python (bindings/python: import
#      recur, run a reference case) work with the Swift toolchain hidden: a
#      private mount namespace (unshare -m) with an empty tmpfs over the
#      toolchain directory. If namespaces or mounts are not permitted, it falls
#      back to checking that ldd resolves nothing under the toolchain, and
#      says so.
#
# Usage (from the project root; `make test-standalone` builds what it needs):
#   Tests/standalone/check.sh [LIB [TESTDATA]]
# Environment: SWIFT_TOOLCHAIN (default: found from `swift` on the PATH, else /opt/swift);
# RECUR_STANDALONE_FALLBACK=1 skips unshare (to exercise the fallback).
set -u
cd "$(dirname "$0")/../.."
lib=${1:-build/lib/librecur.so}
testdata=${2:-Tests/testdata}
python=${PYTHON:-python3}

CHECK_PRINT_OK=1
. "$(dirname "$0")/../check.sh"

# ---- (a) the library's dynamic section and symbols ---------------------------------
major=$(sed -n 's/^#define RECUR_VERSION_MAJOR \([0-9]*\)$/\1/p' include/recur.h)
dynamic=$(readelf -d "$lib")
needed=$(printf '%s\n' "$dynamic" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
soname=$(printf '%s\n' "$dynamic" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
echo "NEEDED: $(echo $needed)"
echo "SONAME: $soname"
unexpected=$(printf '%s\n' "$needed" | grep -Ev '^(libc\.so\.6|libm\.so\.6|libstdc\+\+\.so\.6|libgcc_s\.so\.1|ld-linux-x86-64\.so\.2|ld-linux-aarch64\.so\.1|libpthread\.so\.0|libdl\.so\.2)$')
check "$([ -z "$unexpected" ] && [ -n "$needed" ]; echo $?)" "NEEDED lists only system libraries${unexpected:+ (also: $(echo $unexpected))}"
check "$([ "$soname" = "librecur.so.$major" ]; echo $?)" "SONAME is librecur.so.$major (the header's RECUR_VERSION_MAJOR)"
check "$([ "$(readlink build/lib/librecur.so.$major 2>/dev/null)" = librecur.so ]; echo $?)" \
    "build/lib/librecur.so.$major is a symlink to librecur.so"

# Exported = defined dynamic symbols with global or weak binding. (nm -D
# --defined-only also lists some LOCAL entries of .dynsym, lowercase t/d:
# they cannot be bound from outside and are not exports.) The version script
# names no version node, so there are no version-definition symbols either.
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[A-Z]$/ { print $3 }' | sort -u)
not_api=$(printf '%s\n' "$exported" | grep -v '^recur_[a-z0-9_]*$')
declared=$(grep -oE '\brecur_[a-z0-9_]+\(' include/recur.h | tr -d '(' | sort -u)
locals=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[a-z]$/' | wc -l)
check "$([ -z "$not_api" ]; echo $?)" "exports only recur_* ($(printf '%s\n' "$exported" | wc -l) symbols; $locals local .dynsym entries, not exported)${not_api:+; also: $(echo $not_api | head -c 400)}"
check "$([ "$exported" = "$declared" ]; echo $?)" "the exports are exactly the functions declared in include/recur.h"
# Symbol versions: a version script without a node name leaves only the BASE
# definition (the file's own name, librecur.so.MAJOR); the exports carry no
# version (nm would print recur_x@@NODE, which the recur_* check above refuses).
definitions=$(readelf -V "$lib" | awk '/Version definition section/ { on = 1; next } /^$|Version needs section/ { on = 0 } on && /Rev:/')
non_base=$(printf '%s\n' "$definitions" | grep -v 'Flags: BASE' | grep -c 'Rev:' || true)
check "$([ "$non_base" -eq 0 ]; echo $?)" "no symbol version nodes: only the BASE definition ($(printf '%s\n' "$definitions" | sed -n 's/.*Name: //p' | head -1)), recur_* unversioned"
undefined=$(nm -D --undefined-only "$lib" | awk '{ print $NF }' | grep -E '^(\$s|_?swift_|json_|_Z.*[Ss]wift)' | head -5)
check "$([ -z "$undefined" ]; echo $?)" "no Swift runtime or json-c symbol left undefined (both linked in)${undefined:+: $(echo $undefined)}"

# ---- (b) run C and Python with the toolchain hidden ----------------------------------
toolchain=${SWIFT_TOOLCHAIN:-}
if [ -z "$toolchain" ] && command -v swift >/dev/null 2>&1; then
    # /opt/swift/usr/bin/swift -> /opt/swift
    toolchain=$(dirname "$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")")
fi
toolchain=${toolchain:-/opt/swift}
echo "Swift toolchain: $toolchain"
check "$([ -d "$toolchain" ]; echo $?)" "the toolchain directory exists ($toolchain)"

# The Python binding needs numpy (as bindings/python/run_tests.sh, install it when missing).
if ! "$python" -c 'import numpy' >/dev/null 2>&1; then
    echo "installing numpy for the Python check"
    "$python" -m pip install -q numpy || "$python" -m pip install -q --user numpy
fi

# What runs inside: the programs, with the toolchain's absence checked first.
inner=$(mktemp /tmp/recur_standalone_XXXXXX.sh)
trap 'rm -f "$inner"' EXIT
cat > "$inner" <<'INNER'
#!/usr/bin/env bash
# $1 toolchain, $2 library, $3 testdata, $4 python, $5 method
set -u
toolchain=$1 lib=$2 testdata=$3 python=$4 method=$5
fail=0
say() { if [ "$1" -eq 0 ]; then echo "  ok: $2"; else echo "  FAIL: $2"; fail=1; fi; }
if [ "$method" = namespace ]; then
    n=$(find "$toolchain" -mindepth 1 2>/dev/null | wc -l)
    say "$([ "$n" -eq 0 ]; echo $?)" "$toolchain is empty here ($n entries)"
    say "$(! command -v swift >/dev/null 2>&1 || ! swift --version >/dev/null 2>&1; echo $?)" "no working swift here"
fi
for program in build/examples/demo build/tests/test_api "$lib"; do
    hits=$(ldd "$program" 2>&1 | grep -E "not found|$toolchain" || true)
    say "$([ -z "$hits" ]; echo $?)" "ldd $program: every library found, none under $toolchain${hits:+: $hits}"
done
out=$(Tests/c/test_examples.sh build/examples/demo build/examples/minimal build/examples/finetune 2>&1)
say $? "C examples (demo, minimal, finetune) give their expected numbers: $(printf '%s\n' "$out" | tail -1)"
out=$(build/tests/test_api "$testdata" 2>&1)
say $? "C: test_api over the reference cases: $(printf '%s\n' "$out" | tail -1)"
out=$(PYTHONPATH=bindings/python RECUR_LIBRARY="$PWD/$lib" "$python" - "$testdata" "$toolchain" 2>&1 <<'PY'
import json, pathlib, sys
import numpy as np
import recur
testdata, toolchain = pathlib.Path(sys.argv[1]), sys.argv[2]
case = json.loads((testdata / "lstm_stack_softmax.json").read_text())
model = recur.Model.from_dict(case["model"])
b, t = case["batch"], case["steps"]
xs = np.asarray(case["input"], np.float32).reshape(b, t, model.input_size)
ys = np.asarray(case["output"], np.float32).reshape(b, t, model.output_size)
got = model.state(b).run(xs)
error = float(np.max(np.abs(got - ys) - (5e-5 + 5e-4 * np.abs(ys))))
maps = pathlib.Path("/proc/self/maps").read_text()
mapped = sorted({line.split()[-1] for line in maps.splitlines() if "librecur" in line})
assert error <= 0, f"outputs differ from the reference case (excess {error})"
assert toolchain not in maps, f"something under {toolchain} is mapped"
print(f"python {sys.version.split()[0]}, recur {recur.__version__}, library {recur.library_version()} from {mapped}: "
      f"lstm_stack_softmax reproduced; nothing under {toolchain} mapped")
PY
)
say $? "Python: import recur, run a reference case: $(printf '%s\n' "$out" | tail -1)"
exit $fail
INNER
chmod +x "$inner"

method=""
[ "${RECUR_STANDALONE_FALLBACK:-}" = 1 ] && echo "RECUR_STANDALONE_FALLBACK=1: not trying unshare"
[ "${RECUR_STANDALONE_FALLBACK:-}" = 1 ] || for attempt in "unshare -m --propagation private" "unshare -r -m --propagation private"; do
    if $attempt sh -c "mount -t tmpfs tmpfs '$toolchain'" >/dev/null 2>&1; then
        method=$attempt
        break
    fi
done
if [ -n "$method" ]; then
    echo "method: $method, with an empty tmpfs mounted over $toolchain (the toolchain is not reachable)"
    $method bash -c "mount -t tmpfs tmpfs '$toolchain' && exec '$inner' '$toolchain' '$lib' '$testdata' '$python' namespace"
    check $? "C and Python run against $lib with $toolchain hidden ($method)"
else
    echo "method: FALLBACK. unshare -m (and unshare -r -m) with a tmpfs mount is not permitted here, so the"
    echo "        toolchain could not be hidden; checking instead that ldd resolves nothing under $toolchain"
    echo "        and that the programs run (a weaker proof: a dlopen at run time would not show in ldd)"
    "$inner" "$toolchain" "$lib" "$testdata" "$python" fallback
    check $? "C and Python run against $lib; ldd shows nothing under $toolchain (fallback, toolchain present)"
fi

echo "standalone: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
