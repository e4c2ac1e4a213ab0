#!/usr/bin/env bash
# Builds and runs the quickstart example against a throwaway PostgreSQL
# (or the database in DATAHUB_TEST_DATABASE) with a freshly made demo key.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

source tests/lib/deps.sh
source tests/lib/throwaway-pg.sh

datahub_install_deps
cmake -S . -B build/quickstart -DCMAKE_BUILD_TYPE=Release
cmake --build build/quickstart -j2 --target quickstart

datahub_start_throwaway_pg

export DATAHUB_DATABASE="$DATAHUB_TEST_DATABASE"
# Demo only: a random key that dies with this run. Real keys come from a secret store.
DATAHUB_CONNECTIONS_KEYS="demo-2026-11:$(head -c32 /dev/urandom | base64)"
export DATAHUB_CONNECTIONS_KEYS

status=0
build/quickstart/examples/quickstart || status=$?
exit "$status"
