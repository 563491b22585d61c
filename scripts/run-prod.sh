#!/usr/bin/env bash
# make run-prod: builds payflow and, from this module (pinned by go.mod, so
# the build cache is shared with the embedded server the tests compile), the
# Temporal server v1.32.0 and its SQL schema tool; then runs the production
# shape in the foreground (payflow prod). Ctrl-C stops everything.
# With --build-only it stops after building (make soak-prod, CI).
set -euo pipefail
cd "$(dirname "$0")/.."
GO="${GO:-go}"
mkdir -p bin
$GO build -o bin/payflow ./cmd/payflow
$GO build -o bin/temporal-server go.temporal.io/server/cmd/server
$GO build -o bin/temporal-sql-tool go.temporal.io/server/cmd/tools/sql
if [ "${1:-}" = "--build-only" ]; then
  exit 0
fi
# The schema files of the server module go.mod pins, from the module cache.
PAYFLOW_TEMPORAL_SCHEMA="$($GO list -m -f '{{.Dir}}' go.temporal.io/server)/schema/postgresql/v12"
export PAYFLOW_TEMPORAL_SCHEMA
exec bin/payflow prod "$@"
