#!/usr/bin/env bash
# Checks include/recur.h against its sources and the built library:
#  1. the committed header equals a fresh generation from the Swift sources;
#  2. it compiles warning-free as C99 (gcc -pedantic), with clang, and as C++17;
#  3. the library's exported recur_* symbols are exactly the declared functions.
# Usage: scripts/check-header.sh build/lib/librecur.so
set -euo pipefail
cd "$(dirname "$0")/.."
lib=${1:-build/lib/librecur.so}
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 scripts/generate-header.py --stdout > "$tmp/recur.h"
if ! diff -u include/recur.h "$tmp/recur.h"; then
    echo "FAIL: include/recur.h differs from a fresh generation (run: make header)"; fail=1
else
    echo "ok: include/recur.h is up to date"
fi

printf '#include "recur.h"\nint main(void) { return recur_version_number() == RECUR_VERSION_NUMBER ? 0 : 1; }\n' > "$tmp/use.c"
cp "$tmp/use.c" "$tmp/use.cpp"
gcc -std=c99 -Wall -Wextra -Werror -pedantic -Iinclude -c "$tmp/use.c" -o "$tmp/gcc.o" && echo "ok: gcc -std=c99 -pedantic" || fail=1
clang -std=c99 -Wall -Wextra -Werror -pedantic -Iinclude -c "$tmp/use.c" -o "$tmp/clang.o" && echo "ok: clang -std=c99 -pedantic" || fail=1
g++ -std=c++17 -Wall -Wextra -Werror -pedantic -Iinclude -c "$tmp/use.cpp" -o "$tmp/gxx.o" && echo "ok: g++ -std=c++17" || fail=1

grep -oE '\brecur_[a-z0-9_]+\(' include/recur.h | tr -d '(' | sort -u > "$tmp/declared"
nm -D --defined-only "$lib" | awk '{print $3}' | grep '^recur_' | sort -u > "$tmp/exported"
if ! diff -u "$tmp/declared" "$tmp/exported"; then
    echo "FAIL: declared functions (-) and exported symbols (+) of $lib differ"; fail=1
else
    echo "ok: $(wc -l < "$tmp/exported") functions declared and exported"
fi
exit $fail
