#!/usr/bin/env bash
# Installs what building Recur needs and a fresh machine may lack: json-c's
# development files (Debian/Ubuntu: libjson-c-dev). The Swift toolchain,
# a C compiler and python3 are expected on the PATH.
set -euo pipefail
if pkg-config --exists json-c 2>/dev/null && [ -f /usr/include/json-c/json.h ]; then
    exit 0
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing libjson-c-dev (json-c's headers and libraries)"
$sudo apt-get install -y libjson-c-dev >/dev/null 2>&1 || {
    $sudo apt-get update >/dev/null
    $sudo apt-get install -y libjson-c-dev >/dev/null
}
for tool in swift python3; do
    command -v "$tool" >/dev/null || { echo "missing: $tool (needed to build Recur)" >&2; exit 1; }
done
