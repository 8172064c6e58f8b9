#!/usr/bin/env bash
# Runs the application examples (agents, adapt, charrnn) and checks the numbers they print.
#
# Usage (from the project root; `make test-examples` builds and runs):
#   Tests/c/test_examples_apps.sh build/examples/agents build/examples/adapt build/examples/charrnn
#
# agents   both replays of the save-game are bit-identical (1 thread, and a
#          second state on 2 threads), the replays in other processes at other
#          kernel levels and thread counts give the same hash ("bit-identical
#          across CPUs"; skipped on a CPU without FMA), agents died and respawned after the
#          save-game, the LSTM steers like the rule it was trained on, and
#          the mean frame fits the 60 fps budget.
# adapt    the model trained on plant A fits it, online adaptation cuts the
#          error on the drifting plant B by at least 3x against a frozen copy,
#          and the model saved to a temporary path reloads bit-identical.
# charrnn  the whole-text loss goes down at every report and ends below
#          1.5 nats per character (ln 52 = 3.95 knowing nothing), and a
#          400-character sample is printed.
# Each example's own exit status is checked too (they check themselves).
set -u

agents=${1:?usage: $0 AGENTS ADAPT CHARRNN}
adapt=${2:?usage: $0 AGENTS ADAPT CHARRNN}
charrnn=${3:?usage: $0 AGENTS ADAPT CHARRNN}

. "$(dirname "$0")/../check.sh"
# The number after PREFIX on the first line that has it ("" if none).
number_after() { # number_after TEXT PREFIX
    printf '%s\n' "$1" | awk -v p="$2" '{ i = index($0, p); if (i) { s = substr($0, i + length(p));
        if (match(s, /-?[0-9]+(\.[0-9]+)?/)) { print substr(s, RSTART, RLENGTH); exit } } }'
}
# awk's verdict on a numeric condition of a and b: 0 when it holds.
holds() { # holds A B 'a < b'
    [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" "BEGIN { exit !($3) }"
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# ---- agents ------------------------------------------------------------------
t0=$(now)
out=$("$agents" 2>&1)
status=$?
t_agents=$(elapsed "$t0")
check $status "agents exited with status $status; output:
$out"
for pass in "replay 1 (same state, 1 thread): frames 240..599 bit-identical" \
            "replay 2 (new state, 2 threads): frames 240..599 bit-identical" \
            "save-game restored: trajectory identical bit for bit"; do
    check "$(printf '%s\n' "$out" | grep -qF "$pass"; echo $?)" "agents: no line '$pass'"
done
if printf '%s\n' "$out" | grep -qF "replays at other levels skipped"; then
    echo "agents: no FMA on this CPU: the replays at other levels are skipped"
else
    check "$(printf '%s\n' "$out" | grep -qF "bit-identical across CPUs"; echo $?)" \
        "agents: no line 'bit-identical across CPUs' (replays at other levels and thread counts)"
fi
deaths=$(number_after "$out" "after it, ")
check "$(holds "$deaths" 0 'a > 0'; echo $?)" "agents: no deaths after the save-game (got '$deaths'): the replay does not cover respawns"
budget=$(number_after "$out" "the mean frame uses ")
check "$(holds "$budget" 100 'a < b'; echo $?)" "agents: the mean frame uses '$budget'% of the 60 fps budget"
dev=$(number_after "$out" "it imitates by ")
check "$(holds "$dev" 0.05 'a < b'; echo $?)" "agents: the controller deviates from the steering rule by '$dev' (expected below 0.05)"
reached=$(number_after "$out" "by leaving the arena), ")
check "$(holds "$reached" 1000 'a >= b'; echo $?)" "agents: only '$reached' targets reached (expected at least 1000)"

# ---- adapt -------------------------------------------------------------------
saved=$(mktemp /tmp/recur_test_adapt_XXXXXX)
t0=$(now)
out=$("$adapt" "$saved" 2>&1)
status=$?
t_adapt=$(elapsed "$t0")
check $status "adapt exited with status $status; output:
$out"
mse_a=$(number_after "$out" "validation mse on plant A ")
check "$(holds "$mse_a" 0.01 'a < b'; echo $?)" "adapt: validation mse on plant A '$mse_a' (expected below 0.01)"
after_line=$(printf '%s\n' "$out" | grep 'after adaptation (last 5 s)')
after=$(number_after "$after_line" "mse ")
frozen=$(number_after "$after_line" "frozen copy ")
check "$(holds "$frozen" "$after" 'a >= 3 * b'; echo $?)" \
    "adapt: adapted mse '$after' is not 3x below the frozen copy's '$frozen': $after_line"
before=$(number_after "$out" "before adaptation (first second on plant B): mse ")
check "$(holds "$before" "$after" 'a >= 3 * b'; echo $?)" "adapt: mse before adaptation '$before', after '$after': not 3x lower"
check "$(holds "$after" 0.005 'a < b'; echo $?)" "adapt: adapted mse '$after' not near the noise floor 0.0025 (expected below 0.005)"
check "$(printf '%s\n' "$out" | grep -q 'the reloaded model gives the same outputs, bit for bit'; echo $?)" \
    "adapt: the reloaded model is not reported to give the same outputs"
check "$(grep -q '"format": "recur"' "$saved"; echo $?)" "adapt: $saved does not hold a saved model"
leftover=$(ls "$saved".tmp-* 2>/dev/null)
check "$([ -z "$leftover" ]; echo $?)" "adapt: the atomic save left a temporary file beside $saved: $leftover"
rm -f "$saved" "$saved".tmp-*

# ---- charrnn -----------------------------------------------------------------
t0=$(now)
out=$("$charrnn" 2>&1)
status=$?
t_charrnn=$(elapsed "$t0")
check $status "charrnn exited with status $status; output:
$out"
losses=$(printf '%s\n' "$out" | awk '/step   batch loss/ { on = 1; next } on && NF == 0 { exit }
    on && $1 ~ /^[0-9]+$/ { printf "%s ", $3 }')
check "$(awk -v l="$losses" 'BEGIN { n = split(l, v, " "); if (n < 5) exit 1
    for (i = 2; i <= n; i++) if (v[i] + 0 >= v[i - 1] + 0) exit 1 }'; echo $?)" \
    "charrnn: the whole-text loss does not go down at every report: '$losses'"
final=$(number_after "$out" "final loss ")
initial=$(printf '%s\n' "$out" | grep 'final loss' | sed 's/.*, from \([0-9.]*\);.*/\1/')
check "$(holds "$final" 1.5 'a < b'; echo $?)" "charrnn: final loss '$final' not below 1.5 nats per character"
check "$(holds "$initial" "$final" 'a > 3 * b'; echo $?)" "charrnn: final loss '$final' not below a third of the initial '$initial'"
sample=$(printf '%s\n' "$out" | awk '/^----$/ { n++; next } n == 1')
check "$([ "${#sample}" -ge 400 ]; echo $?)" "charrnn: the sample has ${#sample} characters, expected at least 400:
$sample"

echo "agents: ${t_agents} s, adapt: ${t_adapt} s, charrnn: ${t_charrnn} s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
