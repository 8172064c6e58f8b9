#!/usr/bin/env bash
# Runs the Python binding's tests. Usage (from anywhere): bindings/python/run_tests.sh [pytest arguments]
#
# Installs numpy and pytest when they are missing (torch and keras are optional:
# see install_test_extras.sh), then runs pytest on bindings/python/tests with the
# package from the source tree and the library from build/lib (or $RECUR_LIBRARY).
# The reference cases are read from Tests/testdata (or $RECUR_TESTDATA).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
python=${PYTHON:-python3}

missing=""
for module in numpy pytest; do
    "$python" -c "import $module" 2>/dev/null || missing="$missing $module"
done
if [ -n "$missing" ]; then
    echo "installing$missing"
    "$python" -m pip install -q $missing || "$python" -m pip install -q --user $missing
fi

library=${RECUR_LIBRARY:-$root/build/lib/librecur.so}
if [ ! -f "$library" ]; then
    echo "run_tests.sh: $library not found; run 'make lib' first" >&2
    exit 1
fi

cd "$root"
PYTHONPATH="$root/bindings/python${PYTHONPATH:+:$PYTHONPATH}" RECUR_LIBRARY="$library" \
    exec "$python" -m pytest -q bindings/python/tests "$@"
