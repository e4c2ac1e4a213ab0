#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan, fatal) in build/fuzz and runs each
# for a while. No database is needed.
#   tests/fuzz/run.sh [-t SECONDS] [TARGET...]     default: 60 s each, every target
# Env: DATAHUB_FUZZ_SECONDS (default for -t), DATAHUB_FUZZ_PARALLEL (targets at once, default 2),
#      CLANG_VERSION (default 14), DATAHUB_FUZZ_BUILD_DIR (default build/fuzz).
# A crash leaves its input in build/fuzz/artifacts/<target>/ and fails the run; copy it to
# tests/fuzz/regressions/<target>/ once fixed (ctest replays that directory).
# New coverage found goes to build/fuzz/work/<target>/ (not to the repository); to grow a
# seed corpus, minimize it first: fuzz_<t> -merge=1 tests/fuzz/corpus/<t> build/fuzz/work/<t>
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

seconds=${DATAHUB_FUZZ_SECONDS:-60}
targets=()
while (($#)); do
  case "$1" in
    -t) seconds=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    -*) echo "usage: $0 [-t SECONDS] [TARGET...]" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
all_targets=(envelope details tags capi_store_config capi_connection capi_patch capi_query)
((${#targets[@]})) || targets=("${all_targets[@]}")

source tests/lib/deps.sh
datahub_install_deps

v=${CLANG_VERSION:-14}
build=${DATAHUB_FUZZ_BUILD_DIR:-build/fuzz}
# Every UBSan finding is fatal (-fno-sanitize-recover=all, from the top-level CMakeLists)
# except pointer-overflow, which tests/fuzz/CMakeLists.txt keeps recoverable only so that
# ubsan.supp can silence RapidJSON's one; halt_on_error=1 makes any other report fatal.
CC=clang-$v CXX=clang++-$v cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DDATAHUB_FUZZ=ON -DDATAHUB_SANITIZE=address,undefined \
  -DDATAHUB_WERROR=ON >/dev/null
cmake --build "$build" --target "${targets[@]/#/fuzz_}" -j2

# Symbolized stacks: Debian's llvm-14 has only the versioned name unless "llvm" is installed.
if [[ -z "${ASAN_SYMBOLIZER_PATH:-}" && -x /usr/bin/llvm-symbolizer-$v ]]; then
  export ASAN_SYMBOLIZER_PATH=/usr/bin/llvm-symbolizer-$v
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:suppressions=$PWD/tests/fuzz/ubsan.supp}
# One target per core: DATAHUB_FUZZ_PARALLEL targets run at once (default 2), each for the
# full time, so CI's 7 x 60 s take about 4 minutes of wall time on 2 cores.
fuzz_one() {
  local t=$1 work=$build/work/$1 artifacts=$build/artifacts/$1 log=$build/$1.log rc=0
  mkdir -p "$work" "$artifacts"
  local seeds=(tests/fuzz/corpus/"$t")
  [[ -d tests/fuzz/regressions/$t ]] && seeds+=(tests/fuzz/regressions/"$t")
  "$build/tests/fuzz/fuzz_$t" "$work" "${seeds[@]}" -dict=tests/fuzz/json.dict \
    -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1 || rc=$?
  echo "$rc" >"$build/$t.rc"
}
parallel=${DATAHUB_FUZZ_PARALLEL:-2}
for t in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= parallel)); do wait -n || true; done
  echo "fuzz: $t for ${seconds}s (log: $build/$t.log)"
  rm -f "$build/$t.rc"
  fuzz_one "$t" &
done
wait

status=0
summary=()
for t in "${targets[@]}"; do
  rc=$(cat "$build/$t.rc" 2>/dev/null || echo 99)
  # libFuzzer's final line: "#N DONE cov: C ft: F corp: ... exec/s: E ..."
  stats=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$build/$t.log" | tail -n 1 || true)
  if [[ "$rc" != 0 ]]; then
    status=1
    summary+=("$t: CRASH (exit $rc), input in $build/artifacts/$t/, log $build/$t.log")
    grep -E 'ERROR|FUZZ_CHECK|runtime error|SUMMARY|Test unit written|unexpected' "$build/$t.log" \
      | head -n 20 >&2 || true
  else
    summary+=("$t: ok ${stats#*DONE}")
  fi
done
printf 'fuzz: %s\n' "${summary[@]}"
exit "$status"
