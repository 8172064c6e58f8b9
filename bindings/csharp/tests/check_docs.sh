#!/usr/bin/env bash
# Compiles and runs every ```csharp block of a guide (docs/csharp.md), each a
# whole program, from the project root, so the guide cannot rot. The general
# docs checker (Tests/docs/check_docs.py) has no C# compiler: the guide marks
# these blocks <!-- skip: ... --> for it and points here.
# Usage (from the project root, librecur.so on LD_LIBRARY_PATH):
#   bindings/csharp/tests/check_docs.sh docs/csharp.md build/csharp MCS MONO
# The programs are built beside build/csharp/Recur.dll, which they reference.
set -u
doc=${1:?usage: $0 DOC.md BUILD_DIR MCS MONO}
dir=${2:?}
mcs=${3:?}
mono=${4:?}
. Tests/check.sh

mkdir -p "$dir/docs"
rm -f "$dir"/docs/block*.cs
# Block N (in document order) goes to block-N.cs; the line it starts on is kept for messages.
awk -v out="$dir/docs" '
    /^```csharp/ { n++; file = sprintf("%s/block-%d.cs", out, n); printf "// %s:%d\n", FILENAME, NR > file; inside = 1; next }
    inside && /^```/ { inside = 0; close(file); next }
    inside { print > file }
' "$doc"

count=0
for source in "$dir"/docs/block-*.cs; do
    [ -e "$source" ] || break
    count=$((count + 1))
    where=$(head -1 "$source" | sed 's|^// ||')
    exe="$dir/doc-$(basename "$source" .cs).exe"
    if ! out=$("$mcs" -unsafe -warnaserror+ -r:"$dir/Recur.dll" -out:"$exe" "$source" 2>&1); then
        check 1 "$where: does not compile:
$out"
        continue
    fi
    out=$("$mono" --debug "$exe" 2>&1)
    check $? "$where: exited with an error:
$out"
done
[ "$count" -gt 0 ] || check 1 "no csharp blocks in $doc"
echo "csharp docs ($count blocks): $passed passed, $failed failed"
[ "$failed" -eq 0 ]
