#!/usr/bin/env bash
# Runs the C++ example (examples/cpp/stream.cpp) and checks what it prints:
# the tiny LSTM's six outputs (within 1e-5 of make_tiny_lstm.py's numpy ones,
# or of the copy below without python3 + numpy) and the size error it provokes.
# Usage (from the project root): Tests/cpp/check_stream.sh build/examples/cpp/stream
set -u
stream=${1:?usage: $0 STREAM_BINARY}
expected="0.046518967 0.137708474 -0.070784575 -0.156580549 -0.172689709 -0.141226968"
if python3 -c 'import numpy' >/dev/null 2>&1; then
    expected=$(python3 examples/models/make_tiny_lstm.py --expected | tr '\n' ' ' | sed 's/ $//')
fi
. "$(dirname "$0")/../check.sh"

out=$("$stream" 2>&1)
status=$?
check $status "stream exited with status $status; output:
$out"
got=$(printf '%s\n' "$out" | awk '$1 ~ /^[0-9]+$/ && NF == 4 { printf "%s ", $4 }' | sed 's/ $//')
awk -v a="$got" -v b="$expected" 'BEGIN {
    na = split(a, x, " "); nb = split(b, y, " "); if (na != nb) exit 1
    for (i = 1; i <= na; i++) { d = x[i] - y[i]; if (d < 0) d = -d; if (d > 1e-5) exit 1 }
}'
check $? "stream outputs '$got', expected '$expected' (within 1e-5)"
printf '%s\n' "$out" | grep -q 'State::step: x has 3 values, expected 2 .*(status 5: '
check $? "stream does not report the size error as expected; output:
$out"
echo "stream example: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
