#!/usr/bin/env bash
# Runs the C# example (examples/csharp/Stream.cs) and checks what it prints:
# the tiny LSTM's six outputs (within 1e-5 of make_tiny_lstm.py's numpy ones,
# or of the copy below without python3 + numpy) and the two errors it provokes.
# Usage (from the project root, librecur.so on LD_LIBRARY_PATH):
#   bindings/csharp/tests/check_stream.sh mono build/csharp/Stream.exe
set -u
[ $# -ge 1 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }
expected="0.046518967 0.137708474 -0.070784575 -0.156580549 -0.172689709 -0.141226968"
if python3 -c 'import numpy' >/dev/null 2>&1; then
    expected=$(python3 examples/models/make_tiny_lstm.py --expected | tr '\n' ' ' | sed 's/ $//')
fi
. Tests/check.sh

out=$("$@" 2>&1)
status=$?
check $status "Stream exited with status $status; output:
$out"
got=$(printf '%s\n' "$out" | awk '$1 ~ /^[0-9]+$/ && NF == 4 { printf "%s ", $4 }' | sed 's/ $//')
awk -v a="$got" -v b="$expected" 'BEGIN {
    na = split(a, x, " "); nb = split(b, y, " "); if (na != nb) exit 1
    for (i = 1; i <= na; i++) { d = x[i] - y[i]; if (d < 0) d = -d; if (d > 1e-5) exit 1 }
}'
check $? "Stream outputs '$got', expected '$expected' (within 1e-5)"
printf '%s\n' "$out" | grep -q '^a 3-value input: x: x has 3 values, expected .* = 2$'
check $? "Stream does not report the size error as expected; output:
$out"
printf '%s\n' "$out" | grep -q '^a NaN input: Numeric (6): .*not a finite number'
check $? "Stream does not report the library's NaN error as expected; output:
$out"
echo "csharp stream example: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
