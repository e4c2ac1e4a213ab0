#!/usr/bin/env bash
# Benchmarks the SDK against raw libpq, COPY and pgbench (issue 6); see docs/benchmarks.md.
#   tests/bench.sh                 full run: 1M rows (about 10-20 min on 2 cores)
#   tests/bench.sh --quick         100k rows, shorter runs (under 3 min once built)
#   tests/bench.sh --out FILE      where to write the JSON (default: bench-results.json at the repo root)
# Other arguments go to datahub_bench (--rows N, --only crypto,get,tags,rss,pool,bulk,rotate).
# Builds Release in build/bench, starts a throwaway PostgreSQL (unless DATAHUB_TEST_DATABASE
# names one: its database_connections table is TRUNCATEd), turns statement logging off,
# keeps PostgreSQL's default durability (fsync, synchronous_commit on) and prints the settings.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

out="$root/bench-results.json"
args=()
while (($#)); do
  case "$1" in
    --out) out=$(realpath -m "$2"); shift 2 ;;
    --out=*) out=$(realpath -m "${1#--out=}"); shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done

source tests/lib/deps.sh
source tests/lib/throwaway-pg.sh

datahub_install_deps
build_dir=build/bench
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DDATAHUB_BUILD_EXAMPLES=ON >/dev/null
cmake --build "$build_dir" --target datahub_bench -j2

datahub_start_throwaway_pg
bindir=${DATAHUB_TEST_PG_BINDIR:-/usr/lib/postgresql/15/bin}
psql_bin="$bindir/psql"; [[ -x "$psql_bin" ]] || psql_bin=psql
pgbench_bin="$bindir/pgbench"; [[ -x "$pgbench_bin" ]] || pgbench_bin=pgbench

# The throwaway server logs every statement for the other tests; that is not production.
if ! "$psql_bin" "$DATAHUB_TEST_DATABASE" -qAt -v ON_ERROR_STOP=1 \
     -c "ALTER SYSTEM SET log_statement = 'none'" -c "SELECT pg_reload_conf()" >/dev/null; then
  echo "bench: could not turn log_statement off; figures will include statement logging" >&2
fi
sleep 0.5   # let the reload reach the postmaster

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),"\
     "$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM"
echo "database: $DATAHUB_TEST_DATABASE"
"$build_dir/tests/bench/datahub_bench" --out "$out" --pgbench "$pgbench_bin" "${args[@]}"
