#!/usr/bin/env bash
# Runs the Python examples and checks what they print and write
# (`make test-examples-python` calls it after building the library and run_model).
#
# Usage (from the project root): examples/python/run_tests.sh RUN_MODEL_BINARY OUTPUT_DIR
#   from_pytorch  with torch installed: trains, converts, compares (< 1e-5) in
#                 Python and through the C program RUN_MODEL_BINARY; checks the
#                 lines it prints and the JSON it saves. Without torch: checks
#                 that it says "skipped: torch not installed" and exits 0.
#   gradients     the full run into OUTPUT_DIR/gradients, then check_results.py
#                 (the files exist and the measured facts hold). Installs
#                 matplotlib with pip when it is missing.
# Environment: PYTHON (default python3).
set -u
python=${PYTHON:-python3}
runner=${1:?usage: $0 RUN_MODEL_BINARY OUTPUT_DIR}
out=${2:?usage: $0 RUN_MODEL_BINARY OUTPUT_DIR}
mkdir -p "$out"
export PYTHONPATH="$PWD/bindings/python${PYTHONPATH:+:$PYTHONPATH}"

CHECK_PRINT_OK=1
. "$(dirname "$0")/../../Tests/check.sh"

# -- from_pytorch ------------------------------------------------------------
log=$out/from_pytorch.log
started=$(date +%s)
"$python" examples/python/from_pytorch/from_pytorch.py --runner "$runner" --out "$out/from_pytorch" > "$log" 2>&1
status=$?
sed 's/^/    /' "$log"
check $status "from_pytorch.py exits with status 0 (got $status, $(($(date +%s) - started)) s)"
if "$python" -c "import torch" 2>/dev/null; then
    grep -q "^   Python: max abs diff Recur vs PyTorch = " "$log"
    check $? "from_pytorch: prints the Python comparison"
    grep -q "C vs Python binding: bit-identical" "$log"
    check $? "from_pytorch: the C program's outputs are bit-identical to the Python binding's"
    grep -q "^ok: PyTorch, the Python binding and C agree" "$log"
    check $? "from_pytorch: PyTorch, Python and C agree within 1e-5"
    "$python" -c "import json, sys; d = json.load(open(sys.argv[1])); assert d['format'] == 'recur' and len(d['layers']) == 3" \
        "$out/from_pytorch/sine_lstm.json"
    check $? "from_pytorch: saved a 3-layer Recur model (sine_lstm.json)"
else
    grep -q "^skipped: torch not installed" "$log"
    check $? "from_pytorch: torch is not installed and the example says it skipped"
fi

# -- gradients -----------------------------------------------------------------
if ! "$python" -c "import matplotlib" 2>/dev/null; then
    echo "installing matplotlib"
    "$python" -m pip install -q matplotlib || "$python" -m pip install -q --user matplotlib
fi
started=$(date +%s)
"$python" examples/python/gradients/gradients.py --out "$out/gradients"
status=$?
check $status "gradients.py exits with status 0 ($(($(date +%s) - started)) s)"
if [ $status -eq 0 ]; then
    "$python" examples/python/gradients/check_results.py "$out/gradients" | sed 's/^/    /'
    check "${PIPESTATUS[0]}" "gradients: the outputs exist and the measured facts hold (check_results.py)"
fi

echo "examples/python: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
