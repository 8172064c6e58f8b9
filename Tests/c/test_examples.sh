#!/usr/bin/env bash
# Runs the C examples and checks the numbers they print.
#
# Usage (from the project root):
#   Tests/c/test_examples.sh build/examples/demo [build/examples/minimal [build/examples/finetune]]
# (the finetune binary defaults to `finetune` beside the demo, when it is there)
#
# The running sum's values are exact. The tiny LSTM's outputs must agree with
# the ones examples/models/make_tiny_lstm.py computes in numpy, within 1e-5;
# without python3 + numpy the copy below is used (and, with them, the copy is
# checked against the script so that it cannot go stale).
set -u

demo=${1:?usage: $0 DEMO_BINARY [MINIMAL_BINARY]}
minimal=${2:-}
finetune=${3:-$(dirname "$demo")/finetune}

# Expected tiny_lstm outputs: `python3 examples/models/make_tiny_lstm.py --expected`.
tiny_lstm_expected_copy="0.046518967 0.137708474 -0.070784575 -0.156580549 -0.172689709 -0.141226968"
running_sum_expected="1.00 3.00 6.00 4.00 0.00 5.00 2.00"

. "$(dirname "$0")/../check.sh"

# All |a_i - b_i| <= tol, same count. Prints the first mismatch on failure.
close() { # close "A..." "B..." TOL
    awk -v a="$1" -v b="$2" -v tol="$3" 'BEGIN {
        na = split(a, x, " "); nb = split(b, y, " ")
        if (na != nb) { printf "  %d values, expected %d\n", na, nb; exit 1 }
        for (i = 1; i <= na; i++) {
            d = x[i] - y[i]; if (d < 0) d = -d
            if (d > tol) { printf "  value %d: %s, expected %s\n", i, x[i], y[i]; exit 1 }
        }
    }'
}

out=$("$demo" 2>&1)
status=$?
check $status "demo exited with status $status; output:
$out"

# Table rows of each section: "  step  x...  y", the last column is y.
section() { # section N: the lines of "== N." up to the next "== "
    printf '%s\n' "$out" | awk -v n="== $1." 'index($0, n) == 1 { on = 1; next } /^== / { on = 0 } on'
}
rows_y() { # the last column of the rows made only of numbers, the first a step number
    awk '$1 ~ /^[0-9]+$/ && NF >= 3 {
        for (i = 2; i <= NF; i++) if ($i !~ /^-?[0-9]+(\.[0-9]+)?$/) next
        printf "%s ", $NF
    }' | sed 's/ $//'
}

sum_y=$(section 1 | rows_y)
check "$([ "$sum_y" = "$running_sum_expected" ]; echo $?)" \
    "running sum outputs: got '$sum_y', expected '$running_sum_expected'"
check "$(section 1 | grep -q 'state after 6 steps: h = 5.00'; echo $?)" "running sum: state after 6 steps is not shown as 5.00"
check "$(section 1 | grep -q 'recur_state_reset(): h = 0.00'; echo $?)" "running sum: state after reset is not shown as 0.00"

expected=$tiny_lstm_expected_copy
if command -v python3 >/dev/null 2>&1 && python3 -c 'import numpy' >/dev/null 2>&1; then
    from_script=$(python3 examples/models/make_tiny_lstm.py --expected | tr '\n' ' ' | sed 's/ $//')
    msg=$(close "$tiny_lstm_expected_copy" "$from_script" 1e-9)
    check $? "the copy of the expected tiny_lstm outputs in $0 is stale; the script prints '$from_script'
$msg"
    expected=$from_script
else
    echo "note: python3 with numpy not found; using the copy of the expected tiny_lstm outputs"
fi
lstm_y=$(section 2 | rows_y)
msg=$(close "$lstm_y" "$expected" 1e-5)
check $? "tiny_lstm outputs: got '$lstm_y', expected '$expected' (within 1e-5)
$msg"
check "$(section 2 | grep -q 'the same outputs'; echo $?)" "tiny_lstm: recur_state_run does not give the step-by-step outputs"

if [ -n "$minimal" ]; then
    out_min=$("$minimal" 2>&1)
    status=$?
    check $status "minimal exited with status $status; output:
$out_min"
    min_y=$(printf '%s\n' "$out_min" | sed -n 's/.*running sum = *//p' | tr '\n' ' ' | sed 's/ $//')
    check "$([ "$min_y" = "1.0 3.0 6.0 4.0 0.0 5.0" ]; echo $?)" "minimal: got running sums '$min_y', expected '1.0 3.0 6.0 4.0 0.0 5.0'"
fi

# finetune trains a GRU from scratch until its loss drops by a factor of 20,
# saves it, reloads it and compares outputs; it exits nonzero on any failure.
if [ -x "$finetune" ]; then
    ft_out=$(mktemp /tmp/recur_test_finetune_XXXXXX)
    out_ft=$("$finetune" "$ft_out" 2>&1)
    status=$?
    check $status "finetune exited with status $status; output:
$out_ft"
    factor_line=$(printf '%s\n' "$out_ft" | grep 'loss dropped from .* (factor [0-9.]*)')
    check "$([ -n "$factor_line" ]; echo $?)" "finetune: no 'loss dropped from A to B (factor F)' line; output:
$out_ft"
    check "$(printf '%s\n' "$factor_line" | awk '{ f = $0; sub(/.*\(factor /, "", f); sub(/\).*/, "", f); exit !(f + 0 >= 20) }'; echo $?)" \
        "finetune: factor below 20: '$factor_line'"
    check "$(printf '%s\n' "$out_ft" | grep -q 'reloaded model gives the same outputs'; echo $?)" \
        "finetune: the reloaded model is not reported to give the same outputs"
    check "$([ -s "$ft_out" ]; echo $?)" "finetune: nothing saved to $ft_out"
    rm -f "$ft_out"
else
    echo "note: $finetune not built; the finetune example was not checked"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
