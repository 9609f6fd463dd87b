#!/usr/bin/env bash
# PostgreSQL 15 + q3c for the benchmarks: a private cluster under DIR, on 127.0.0.1:PORT and a
# Unix socket in DIR/sock, with database `bench` and the q3c extension.
#   bench/pg/setup.sh start DIR PORT   installs postgresql-15 and postgresql-15-q3c when missing (as root),
#                                      initdb's DIR/data (as the postgres user), starts the server
#   bench/pg/setup.sh stop DIR
# Exits 2 when PostgreSQL cannot be installed.
set -euo pipefail
cmd=$1
dir=$(realpath -m "$2")
BIN=/usr/lib/postgresql/15/bin
root() { [ "$(id -u)" = 0 ]; }
as_pg() { if root; then runuser -u postgres -- "$@"; else "$@"; fi; }

case $cmd in
stop)
  [ -f "$dir/data/PG_VERSION" ] && as_pg $BIN/pg_ctl -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  ;;
start)
  port=$3
  if [ ! -x $BIN/postgres ] || [ ! -f /usr/share/postgresql/15/extension/q3c.control ]; then
    if ! root; then echo "PostgreSQL 15 with q3c is not installed and we are not root" >&2; exit 2; fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y postgresql-15 postgresql-15-q3c >/dev/null 2>&1 ||
      { apt-get update >/dev/null 2>&1 && apt-get install -y postgresql-15 postgresql-15-q3c >/dev/null 2>&1; } ||
      { echo "apt-get install postgresql-15 postgresql-15-q3c failed" >&2; exit 2; }
  fi
  mkdir -p "$dir/sock"
  if root; then chown -R postgres: "$dir"; fi
  [ -f "$dir/data/PG_VERSION" ] ||
    as_pg $BIN/initdb -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C >/dev/null
  if ! as_pg $BIN/pg_ctl -D "$dir/data" status >/dev/null 2>&1; then
    # wal_level=minimal: COPY into a table created in the same transaction writes no WAL. jit=off:
    # q3c's huge cost estimates make PostgreSQL JIT-compile small index queries (0.8 s each).
    as_pg $BIN/pg_ctl -D "$dir/data" -l "$dir/server.log" -w -o "-c port=$port -c listen_addresses=127.0.0.1 \
      -c unix_socket_directories=$dir/sock -c shared_buffers=1GB -c work_mem=64MB -c maintenance_work_mem=1GB \
      -c wal_level=minimal -c max_wal_senders=0 -c max_connections=200 -c jit=off" start >/dev/null
  fi
  q() { psql -h "$dir/sock" -p "$port" -U postgres -X -Atq "$@"; }
  [ "$(q -d postgres -c "SELECT 1 FROM pg_database WHERE datname = 'bench'")" = 1 ] || q -d postgres -c "CREATE DATABASE bench"
  q -d bench -c "CREATE EXTENSION IF NOT EXISTS q3c"
  ;;
*)
  echo "usage: $0 start DIR PORT | stop DIR" >&2
  exit 1
  ;;
esac
