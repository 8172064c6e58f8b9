#!/usr/bin/env bash
# Installs Recur into a temporary PREFIX and uses it the way a user would:
#  - the files: lib/librecur.so.X.Y.Z (a real file, SONAME librecur.so.X),
#    symlinks librecur.so.X -> it and librecur.so -> librecur.so.X,
#    include/recur.h and include/recur.hpp, lib/pkgconfig/recur.pc;
#  - pkg-config: --modversion, --cflags, --libs;
#  - examples/c/minimal.c built with `cc ... $(pkg-config --cflags --libs recur)`
#    and examples/cpp/stream.cpp with c++, both run from the project root and
#    checked; both resolve librecur.so.X inside the PREFIX (not build/lib);
#  - the CMake snippet of docs/install.md (pkg_check_modules ... IMPORTED_TARGET),
#    when cmake is installed (otherwise says it was skipped);
#  - a staged install (DESTDIR=... PREFIX=/usr) and `make uninstall`.
# Usage (from the project root, after `make lib`): Tests/install/check.sh
# Environment: MAKE, CC, CXX.
set -u
cd "$(dirname "$0")/../.."
make=${MAKE:-make}
cc=${CC:-cc}
cxx=${CXX:-c++}
root=$PWD

CHECK_PRINT_OK=1
. "$(dirname "$0")/../check.sh"

version=$(sed -n 's/^#define RECUR_VERSION_STRING "\(.*\)"$/\1/p' include/recur.h)
major=${version%%.*}
tmp=$(mktemp -d /tmp/recur_install_XXXXXX)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
echo "installing Recur $version into $prefix"

if ! "$make" --no-print-directory -s install PREFIX="$prefix" > "$tmp/install.log" 2>&1; then
    cat "$tmp/install.log"
    check 1 "make install PREFIX=$prefix"
    echo "install: $passed passed, $failed failed"
    exit 1
fi
check 0 "make install PREFIX=$prefix"

lib=$prefix/lib
check "$([ -f "$lib/librecur.so.$version" ] && [ ! -L "$lib/librecur.so.$version" ]; echo $?)" \
    "lib/librecur.so.$version is a real file"
check "$([ "$(readlink "$lib/librecur.so.$major")" = "librecur.so.$version" ]; echo $?)" \
    "lib/librecur.so.$major -> librecur.so.$version"
check "$([ "$(readlink "$lib/librecur.so")" = "librecur.so.$major" ]; echo $?)" "lib/librecur.so -> librecur.so.$major"
soname=$(readelf -d "$lib/librecur.so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
check "$([ "$soname" = "librecur.so.$major" ]; echo $?)" "the installed library's SONAME ($soname) is librecur.so.$major"
check "$(cmp -s include/recur.h "$prefix/include/recur.h" && cmp -s bindings/cpp/recur.hpp "$prefix/include/recur.hpp"; echo $?)" \
    "include/recur.h and include/recur.hpp installed"
check "$([ -f "$lib/pkgconfig/recur.pc" ]; echo $?)" "lib/pkgconfig/recur.pc installed"
echo "--- recur.pc"; cat "$lib/pkgconfig/recur.pc"; echo "---"

export PKG_CONFIG_PATH=$lib/pkgconfig
check "$([ "$(pkg-config --modversion recur)" = "$version" ]; echo $?)" "pkg-config --modversion recur = $version"
cflags=$(echo $(pkg-config --cflags recur))  # word-split: pkg-config pads with spaces
libs=$(echo $(pkg-config --libs recur))
check "$([ "$cflags" = "-I$prefix/include" ] && [ "$libs" = "-L$lib -lrecur" ]; echo $?)" \
    "pkg-config --cflags --libs recur = $cflags $libs"
libdir=$(pkg-config --variable=libdir recur)

# A C program against the installed copy. (Sources before the libraries: with
# --as-needed, the default on some distributions, order matters.)
build=$tmp/build
mkdir -p "$build"
$cc -std=c99 -Wall -Wextra -Werror -pedantic examples/c/minimal.c $(pkg-config --cflags --libs recur) \
    -Wl,-rpath,"$libdir" -o "$build/minimal"
check $? "cc examples/c/minimal.c \$(pkg-config --cflags --libs recur)"
resolved=$(ldd "$build/minimal" 2>/dev/null | awk '/librecur/ { print $3 }')
check "$([ "$resolved" = "$lib/librecur.so.$major" ]; echo $?)" "minimal loads librecur.so.$major from the PREFIX ($resolved)"
out=$("$build/minimal" 2>&1)
sums=$(printf '%s\n' "$out" | sed -n 's/.*running sum = *//p' | tr '\n' ' ' | sed 's/ $//')
check "$([ "$sums" = "1.0 3.0 6.0 4.0 0.0 5.0" ]; echo $?)" "minimal prints the running sums 1 3 6 4 0 5 (got: $sums)"
# And with LD_LIBRARY_PATH instead of an rpath.
$cc -std=c99 examples/c/minimal.c $(pkg-config --cflags --libs recur) -o "$build/minimal_no_rpath"
out=$(LD_LIBRARY_PATH=$libdir "$build/minimal_no_rpath" 2>&1)
check "$([ "$(printf '%s\n' "$out" | grep -c 'running sum')" -eq 6 ]; echo $?)" "minimal without rpath runs with LD_LIBRARY_PATH"

# The C++ wrapper from the installed include directory.
$cxx -std=c++17 -Wall -Wextra -Werror -pedantic examples/cpp/stream.cpp $(pkg-config --cflags --libs recur) \
    -Wl,-rpath,"$libdir" -o "$build/stream"
check $? "c++ -std=c++17 examples/cpp/stream.cpp \$(pkg-config --cflags --libs recur) (installed recur.hpp)"
Tests/cpp/check_stream.sh "$build/stream" > "$tmp/stream.log" 2>&1
check $? "the installed C++ example: $(tail -1 "$tmp/stream.log")"

# CMake: the snippet of docs/install.md, verbatim.
if command -v cmake >/dev/null 2>&1; then
    project=$tmp/cmake
    mkdir -p "$project"
    awk '/^```cmake$/ { on = 1; next } /^```$/ { on = 0 } on' docs/install.md > "$project/CMakeLists.txt"
    sed -n 's/^add_executable([a-z_]* \(.*\))$/\1/p' "$project/CMakeLists.txt" | while read -r source; do
        cp "$root/examples/c/$source" "$project/$source"
    done
    if [ -s "$project/CMakeLists.txt" ] &&
        cmake -S "$project" -B "$project/build" -DCMAKE_BUILD_TYPE=Release > "$tmp/cmake.log" 2>&1 &&
        cmake --build "$project/build" >> "$tmp/cmake.log" 2>&1; then
        out=$(LD_LIBRARY_PATH=$libdir "$project/build/minimal" 2>&1)
        sums=$(printf '%s\n' "$out" | sed -n 's/.*running sum = *//p' | tr '\n' ' ' | sed 's/ $//')
        check "$([ "$sums" = "1.0 3.0 6.0 4.0 0.0 5.0" ]; echo $?)" \
            "CMake ($(cmake --version | head -1)): the docs/install.md snippet builds minimal.c; it runs (got: $sums)"
    else
        cat "$tmp/cmake.log"
        check 1 "CMake: the docs/install.md snippet configures and builds"
    fi
else
    echo "note: cmake is not installed: the CMake snippet of docs/install.md was NOT checked (apt-get install cmake)"
fi

# A staged install for packagers, then uninstall.
"$make" --no-print-directory -s install DESTDIR="$tmp/stage" PREFIX=/usr > "$tmp/stage.log" 2>&1
check "$([ -f "$tmp/stage/usr/lib/librecur.so.$version" ] && grep -qx 'prefix=/usr' "$tmp/stage/usr/lib/pkgconfig/recur.pc" &&
    grep -qx 'libdir=${prefix}/lib' "$tmp/stage/usr/lib/pkgconfig/recur.pc"; echo $?)" \
    "make install DESTDIR=stage PREFIX=/usr stages under DESTDIR; recur.pc says prefix=/usr"
"$make" --no-print-directory -s uninstall PREFIX="$prefix" > "$tmp/uninstall.log" 2>&1
left=$(find "$prefix" -type f -o -type l)
check "$([ -z "$left" ]; echo $?)" "make uninstall removes every installed file${left:+ (left: $left)}"

echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
