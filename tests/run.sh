#!/usr/bin/env bash
# Builds the SDK and runs the whole test suite (C++, Python and Go tests are
# all registered in CTest) against a throwaway PostgreSQL.
#   tests/run.sh              RelWithDebInfo build in build/test
#   tests/run.sh --sanitize   ASan+UBSan build in build/asan: every report is fatal
#                             (-fno-sanitize-recover=all, halt_on_error), LeakSanitizer on;
#                             valgrind tests are not registered in such a build
#   tests/run.sh --tsan       ThreadSanitizer build in build/tsan: only the concurrency
#                             test (15 s), with tests/concurrency/tsan.supp
# Env: DATAHUB_CMAKE_ARGS (extra cmake configure args, word-split),
#      DATAHUB_TEST_DATABASE (use this database instead of starting one),
#      DATAHUB_CTEST_ARGS (extra ctest args, word-split, e.g. "-R store").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

mode=plain
build_dir=build/test
cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DDATAHUB_WERROR=ON)
for arg in "$@"; do
  case "$arg" in
    --sanitize)
      mode=asan
      build_dir=build/asan
      cmake_args+=("-DDATAHUB_SANITIZE=address,undefined") ;;
    --tsan)
      mode=tsan
      build_dir=build/tsan
      cmake_args+=("-DDATAHUB_SANITIZE=thread") ;;
    -h|--help)
      sed -n '2,12p' "$0"; exit 0 ;;
    *)
      echo "usage: $0 [--sanitize | --tsan]" >&2; exit 2 ;;
  esac
done
if [[ -n "${DATAHUB_CMAKE_ARGS:-}" ]]; then
  read -r -a extra <<<"$DATAHUB_CMAKE_ARGS"
  cmake_args+=("${extra[@]}")
fi
ctest_args=()
if [[ -n "${DATAHUB_CTEST_ARGS:-}" ]]; then
  read -r -a ctest_args <<<"$DATAHUB_CTEST_ARGS"
fi

source tests/lib/deps.sh
source tests/lib/throwaway-pg.sh

datahub_install_deps
cmake -S . -B "$build_dir" "${cmake_args[@]}"
if [[ "$mode" == tsan ]]; then
  # Only the library and the concurrency test: the rest of the suite is covered by the
  # plain and ASan runs, and TSan builds are slow.
  cmake --build "$build_dir" -j2 --target concurrency_test
  ctest_args+=(-R '^concurrency$')
else
  cmake --build "$build_dir" -j2
fi

datahub_start_throwaway_pg

# Sanitizer runtime options, for the instrumented test programs ctest starts (the server
# above is already running and is not instrumented). Tests that set their own (the Python
# and Go bindings, see tests/capi/CMakeLists.txt) override these.
case "$mode" in
  asan)
    export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=0}"
    export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
    export LSAN_OPTIONS="${LSAN_OPTIONS:-report_objects=0}" ;;
  tsan)
    : # TSAN_OPTIONS (halt_on_error, suppressions) come from tests/concurrency/CMakeLists.txt.
    ;;
esac

status=0
ctest --test-dir "$build_dir" --output-on-failure -j1 --timeout 600 "${ctest_args[@]}" || status=$?
exit "$status"
