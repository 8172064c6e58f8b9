#!/usr/bin/env bash
# Installs what the C# binding's tests need and a fresh machine may lack:
# Mono's C# compiler and runtime from Debian's packages (mono-mcs brings
# mcs and the base class libraries, mono-runtime brings mono). No NuGet.
# Used by .ci/run; `make test-csharp` names this script when mcs is missing.
set -euo pipefail
if command -v mcs >/dev/null && command -v mono >/dev/null; then
    exit 0
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "installing mono-mcs and mono-runtime (the C# binding's compiler and runtime)"
$sudo apt-get install -y --no-install-recommends mono-mcs mono-runtime >/dev/null 2>&1 || {
    $sudo apt-get update >/dev/null
    $sudo apt-get install -y --no-install-recommends mono-mcs mono-runtime >/dev/null
}
for tool in mcs mono; do
    command -v "$tool" >/dev/null || { echo "missing after the install: $tool" >&2; exit 1; }
done
