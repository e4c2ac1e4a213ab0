#!/bin/sh
# Every dynamic symbol the library defines must be part of its API: dhc_* (the C ABI) or
# datahub::... (the C++ API, with its typeinfo and vtables). Anything else (Botan, SOCI,
# RapidJSON, std:: instantiations) means visibility leaked. Also checks that every function
# declared in the C header is exported. Usage: check_exports.sh <lib.so> <connections.h>
set -eu
lib=$1 header=$2
# Type "A" entries are version nodes, not symbols.
symbols=$(nm -D --defined-only "$lib" | awk '$2 != "A" {print $3}' | grep -v '^$')
bad=$(printf '%s\n' "$symbols" | while read -r sym; do
  case "$sym" in
    dhc_*) continue ;;
  esac
  demangled=$(printf '%s\n' "$sym" | c++filt)
  # A function template's name comes after its return type: "datahub::X* std::f<...>(...)"
  # is std::f, which exports.map's datahub::* pattern lets through. Judge the name itself.
  name=${demangled%%[(<]*}
  case "$name" in
    *" "*) demangled=${name##* } ;;
  esac
  case "${demangled%%(*}" in  # a return type with template arguments: "datahub::B<int>* std::f"
    *"* std::"*|*"& std::"*|*"> std::"*) demangled=std:: ;;
  esac
  case "$demangled" in
    datahub::*|"typeinfo for datahub::"*|"typeinfo name for datahub::"*|"vtable for datahub::"*) ;;
    "VTT for datahub::"*|"guard variable for datahub::"*|*"thunk to datahub::"*) ;;
    *) printf '%s  (%s)\n' "$sym" "$demangled" ;;
  esac
done)
if [ -n "$bad" ]; then
  echo "symbols exported by $lib that are not dhc_* or datahub::" >&2
  printf '%s\n' "$bad" >&2
  exit 1
fi
declared=$(grep -o 'dhc_[a-z_]*(' "$header" | tr -d '(' | sort -u)
for fn in $declared; do
  printf '%s\n' "$symbols" | grep -qx "$fn" || { echo "$fn is declared but not exported" >&2; exit 1; }
done
echo "ok: $(printf '%s\n' "$declared" | wc -l) dhc_* functions exported; every other symbol is datahub::"
