#!/usr/bin/env bash
# Checks the wheel as a user gets it: a fresh venv, `pip install recur-*.whl numpy`, then
# from a directory outside the checkout, with the Swift toolchain hidden (an empty tmpfs
# over it in a private mount namespace, as Tests/standalone/check.sh; where that is not
# permitted, it says so and runs with the toolchain present):
#   - import recur loads the library bundled in the wheel (site-packages/recur/lib),
#     Model.load + run reproduces examples/models/tiny_lstm.json's outputs;
#   - python -m recur --version and the `recur` command print the version of
#     Sources/RecurCore/Version.swift; python -m recur info works;
#   - after `pip uninstall numpy`: import recur fails naming `pip install numpy`,
#     python -m recur prints one line and exits 1.
#
# Usage (from anywhere; `make test-wheel` builds the wheel first):
#   bindings/python/check_wheel.sh [WHEEL_DIR (default build/wheel)]
# Environment: PYTHON (python3), SWIFT_TOOLCHAIN (found from `swift`, else /opt/swift),
# PIP_ARGS (extra arguments for installing numpy, e.g. --find-links DIR).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
wheel_dir=$(cd "${1:-$root/build/wheel}" && pwd)
python=${PYTHON:-python3}

wheels=("$wheel_dir"/recur-*.whl)
if [ ! -f "${wheels[0]}" ] || [ "${#wheels[@]}" -ne 1 ]; then
    echo "check_wheel.sh: expected one recur-*.whl in $wheel_dir (run make wheel)" >&2
    exit 1
fi
wheel=${wheels[0]}
version=$(sed -n 's/.*static let \(major\|minor\|patch\) = \([0-9]*\).*/\2/p' "$root/Sources/RecurCore/Version.swift" | paste -sd.)
echo "wheel: $(basename "$wheel") ($(stat -c %s "$wheel") bytes); Version.swift says $version"
case $(basename "$wheel") in
    "recur-$version-py3-none-"*.whl) ;;
    *) echo "FAIL: the wheel's name does not carry version $version" >&2; exit 1 ;;
esac

work=$(mktemp -d /tmp/recur_wheel_XXXXXX)
trap 'rm -rf "$work"' EXIT
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q --disable-pip-version-check ${PIP_ARGS:-} "$wheel" numpy
cp "$root/examples/models/tiny_lstm.json" "$work/"
# The expected outputs, computed now by the checkout's package and library.
PYTHONPATH="$root/bindings/python" RECUR_LIBRARY="$root/build/lib/librecur.so" "$python" -c "
import numpy as np, recur
xs = np.random.default_rng(0).standard_normal((3, 7, 2)).astype(np.float32)
np.save('$work/xs.npy', xs)
np.save('$work/expected.npy', recur.Model.load('$work/tiny_lstm.json').state(3).run(xs))"

toolchain=${SWIFT_TOOLCHAIN:-}
if [ -z "$toolchain" ] && command -v swift >/dev/null 2>&1; then
    toolchain=$(dirname "$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")")
fi
toolchain=${toolchain:-/opt/swift}

cat > "$work/inner.sh" <<'INNER'
#!/usr/bin/env bash
# $1 work directory (holds venv/), $2 expected version, $3 toolchain, $4 hidden (yes/no)
set -u
work=$1 version=$2 toolchain=$3 hidden=$4
py=$work/venv/bin/python
fail=0
say() { if [ "$1" -eq 0 ]; then echo "  ok: $2"; else echo "  FAIL: $2"; fail=1; fi; }
cd "$work"
unset RECUR_LIBRARY PYTHONPATH
if [ "$hidden" = yes ]; then
    n=$(find "$toolchain" -mindepth 1 2>/dev/null | wc -l)
    say "$([ "$n" -eq 0 ]; echo $?)" "$toolchain is empty here ($n entries)"
fi
out=$("$py" - "$toolchain" 2>&1 <<'PY'
import pathlib, sys
import numpy as np
import recur
site = pathlib.Path(recur.__file__).parent
assert recur.library_path() == str(site / "lib" / "librecur.so"), recur.library_path()
model = recur.Model.load("tiny_lstm.json")
ys = model.state(3).run(np.load("xs.npy"))
assert np.array_equal(ys, np.load("expected.npy")), "outputs differ from the checkout's"
maps = pathlib.Path("/proc/self/maps").read_text()
assert sys.argv[1] not in maps, f"something under {sys.argv[1]} is mapped"
print(f"recur {recur.__version__} from {site}, library {recur.library_version()} ({recur.cpu_kernels()}); "
      f"tiny_lstm run over (3, 7, 2) equals the checkout's outputs")
PY
)
say $? "import recur, load and run a model: $out"
out=$("$py" -m recur --version 2>&1)
say "$([[ $out == "recur $version (library $version, $work/venv/"*"/site-packages/recur/lib/librecur.so)" ]]; echo $?)" "python -m recur --version: $out"
out=$("$work/venv/bin/recur" --version 2>&1)
say "$([[ $out == "recur $version "* ]]; echo $?)" "the recur command: $out"
out=$("$py" -m recur info tiny_lstm.json 2>&1)
say "$([[ $out == *"parameters:  133"* ]]; echo $?)" "python -m recur info tiny_lstm.json"
"$py" -m pip uninstall -q -y numpy >/dev/null 2>&1
out=$("$py" -c "import recur" 2>&1)
say "$([[ $out == *"ImportError: recur needs numpy"*"pip install numpy"* ]]; echo $?)" "without numpy, import recur: $(printf '%s\n' "$out" | tail -1)"
out=$("$py" -m recur --version 2>&1); status=$?
say "$([ $status -eq 1 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && [[ $out == *"pip install numpy"* ]]; echo $?)" "without numpy, python -m recur: exit $status, $out"
exit $fail
INNER
chmod +x "$work/inner.sh"

method=""
for attempt in "unshare -m --propagation private" "unshare -r -m --propagation private"; do
    if [ -d "$toolchain" ] && $attempt sh -c "mount -t tmpfs tmpfs '$toolchain'" >/dev/null 2>&1; then
        method=$attempt
        break
    fi
done
if [ -n "$method" ]; then
    echo "in $work, with $toolchain hidden ($method, an empty tmpfs over it):"
    $method bash -c "mount -t tmpfs tmpfs '$toolchain' && exec '$work/inner.sh' '$work' '$version' '$toolchain' yes"
else
    echo "in $work; NOTE: the toolchain $toolchain could not be hidden (unshare -m with a tmpfs mount is not"
    echo "permitted here), so this run shows the wheel works, not that it works without the toolchain:"
    "$work/inner.sh" "$work" "$version" "$toolchain" no
fi
status=$?
[ $status -eq 0 ] && echo "wheel check passed" || echo "wheel check FAILED"
exit $status
