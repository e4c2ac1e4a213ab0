#!/bin/sh
# Runs a command the way a newcomer runs the examples: DATAHUB_DATABASE and a
# DATAHUB_CONNECTIONS_KEYS holding one random 32-byte key made now.
set -eu
: "${DATAHUB_TEST_DATABASE:?DATAHUB_TEST_DATABASE is not set (a libpq conninfo of a scratch database)}"
DATAHUB_DATABASE=$DATAHUB_TEST_DATABASE
DATAHUB_CONNECTIONS_KEYS="example-$(date +%s):$(head -c 32 /dev/urandom | base64 -w0)"
export DATAHUB_DATABASE DATAHUB_CONNECTIONS_KEYS
exec "$@"
