#!/bin/sh
# Compiles the C header as an installed copy would be used: alone in an include directory,
# as strict C99 and as C++17. Usage: check_header.sh <cc> <cxx> <source include dir> <test.c>
set -eu
cc=$1 cxx=$2 include=$3 test=$4
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/include/datahub"
cp "$include/datahub/connections.h" "$dir/include/datahub/"
"$cc" -std=c99 -pedantic -Wall -Wextra -Werror -fsyntax-only -I"$dir/include" "$test"
"$cxx" -std=c++17 -pedantic -Wall -Wextra -Werror -fsyntax-only -x c++ -I"$dir/include" "$test"
echo "connections.h: C99 and C++17 clean"
