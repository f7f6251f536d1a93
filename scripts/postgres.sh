#!/usr/bin/env bash
# Makes sure a local PostgreSQL answers for the tests and prints its DSN.
# Uses BEACON_TEST_POSTGRES when it is already set; otherwise starts the local
# cluster if it is stopped, or installs PostgreSQL with apt-get if it is absent.
set -euo pipefail

log() { echo "postgres.sh: $*" >&2; }

if [ -n "${BEACON_TEST_POSTGRES:-}" ]; then
  echo "$BEACON_TEST_POSTGRES"
  exit 0
fi

host=127.0.0.1 port=5432
trust_dsn="postgres://postgres@$host:$port/postgres?sslmode=disable"
password_dsn="postgres://postgres:beacon@$host:$port/postgres?sslmode=disable"

answers() { command -v pg_isready >/dev/null && pg_isready -q -h "$host" -p "$port"; }
can_login() { PGCONNECT_TIMEOUT=5 psql "$1" -qtAc 'select 1' >/dev/null 2>&1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi
}

if ! command -v pg_ctlcluster >/dev/null; then
  log "PostgreSQL is not installed; installing it with apt-get"
  as_root apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql >&2
fi

if ! answers; then
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$version" ]; then
    log "no PostgreSQL cluster found under /etc/postgresql"
    exit 1
  fi
  log "starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
  for _ in $(seq 1 30); do answers && break; sleep 1; done
  answers || { log "PostgreSQL did not start"; exit 1; }
fi

if can_login "$trust_dsn"; then
  echo "$trust_dsn"
elif can_login "$password_dsn"; then
  echo "$password_dsn"
else
  # A fresh Debian install asks for a password over TCP: give the postgres
  # role one, through the local socket where it is trusted.
  log "setting a password for the postgres role"
  as_root runuser -u postgres -- psql -qc "ALTER USER postgres PASSWORD 'beacon'" >&2
  can_login "$password_dsn" || { log "cannot log in to PostgreSQL at $host:$port"; exit 1; }
  echo "$password_dsn"
fi
