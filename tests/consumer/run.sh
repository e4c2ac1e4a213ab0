#!/usr/bin/env bash
# Installs the SDK from a build tree into a temporary prefix, then builds the C++ and C
# consumers against it twice (find_package CONFIG and pkg-config) and runs all four.
# Usage: tests/consumer/run.sh <build-dir> [sanitizers]   (DATAHUB_TEST_DATABASE must be set)
# sanitizers: the build's DATAHUB_SANITIZE (e.g. address,undefined); the consumers are then
# instrumented too, since an instrumented library needs the sanitizer runtime in the program.
set -euo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
san_flags=()
[[ -n "${2:-}" ]] && san_flags=("-fsanitize=$2")

cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(dirname "$(find "$prefix" -name 'libdatahub_connections.so' | head -n1)")
export DATAHUB_CONNECTIONS_KEYS="consumer:$(head -c 32 /dev/urandom | base64 -w0)"

for lang in cpp c; do
  cmake -S "$here/$lang" -B "$work/$lang-cmake" -DCMAKE_PREFIX_PATH="$prefix" \
        -DCMAKE_BUILD_RPATH="$libdir" -DCMAKE_CXX_FLAGS="${san_flags[*]}" \
        -DCMAKE_C_FLAGS="${san_flags[*]}" >/dev/null
  cmake --build "$work/$lang-cmake" >/dev/null
  "$work/$lang-cmake/consumer_$lang"
done

export PKG_CONFIG_PATH="$libdir/pkgconfig"
pkg-config --exact-version="$(pkg-config --modversion datahub-connections)" datahub-connections
c++ -std=c++17 "${san_flags[@]}" "$here/cpp/main.cpp" -o "$work/consumer_cpp_pc" \
    $(pkg-config --cflags --libs datahub-connections) -Wl,-rpath,"$libdir"
cc -std=c99 "${san_flags[@]}" "$here/c/main.c" -o "$work/consumer_c_pc" \
    $(pkg-config --cflags --libs datahub-connections) -Wl,-rpath,"$libdir"
"$work/consumer_cpp_pc"
"$work/consumer_c_pc"
echo "consumers built with find_package and pkg-config: all ran"
