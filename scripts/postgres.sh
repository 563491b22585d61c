#!/usr/bin/env bash
# Makes sure PostgreSQL answers at DATABASE_URL: when nothing does, it starts
# the machine's local cluster and creates the payflow role and database.
set -euo pipefail

url="${DATABASE_URL:-postgres://payflow:payflow@127.0.0.1:5432/payflow?sslmode=disable}"

if pg_isready -d "$url" -t 2 >/dev/null 2>&1 && psql "$url" -Atc 'select 1' >/dev/null 2>&1; then
  exit 0
fi

if ! pg_isready -h 127.0.0.1 -p 5432 -t 2 >/dev/null 2>&1; then
  if ! command -v pg_lsclusters >/dev/null; then
    echo "PostgreSQL is not answering at DATABASE_URL and no local cluster tools were found" >&2
    exit 1
  fi
  read -r ver name _ < <(pg_lsclusters -h | head -1)
  if [ -z "${ver:-}" ]; then
    echo "no local PostgreSQL cluster found (pg_lsclusters is empty)" >&2
    exit 1
  fi
  echo "starting PostgreSQL cluster $ver/$name"
  # make test runs integration packages side by side, one of them a whole
  # production shape (Temporal's pools and two of each payflow process):
  # together they pass the default 100 connections.
  pg_ctlcluster -o "-c max_connections=${PAYFLOW_PG_MAX_CONNECTIONS:-400}" "$ver" "$name" start
  for _ in $(seq 1 30); do
    pg_isready -h 127.0.0.1 -p 5432 -t 1 >/dev/null 2>&1 && break
    sleep 1
  done
fi

as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -c "$*"; else sudo -u postgres "$@"; fi; }
as_pg "psql -qAt -c \"DO \\\$\\\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'payflow') THEN CREATE ROLE payflow LOGIN PASSWORD 'payflow' CREATEDB; END IF; END \\\$\\\$;\""
if [ "$(as_pg "psql -qAt -c \"SELECT 1 FROM pg_database WHERE datname = 'payflow'\"")" != 1 ]; then
  as_pg "createdb -O payflow payflow"
fi
psql "$url" -Atc 'select 1' >/dev/null
echo "PostgreSQL ready"
