#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster on a free loopback port.
#
#   bash scripts/with-postgres.sh cargo test -p localfirst-server
#
# Installs PostgreSQL 15 from Debian's packages when it is missing, creates a
# cluster in a temporary directory owned by the `postgres` system user (postgres
# refuses to run as root), starts it on 127.0.0.1 only, exports
# LOCALFIRST_TEST_DATABASE_URL for the command, and always stops and deletes the
# cluster afterwards. The command's exit code is the script's exit code.
set -euo pipefail

pg_bin=""
for dir in /usr/lib/postgresql/*/bin; do
  [ -x "$dir/initdb" ] && pg_bin="$dir"
done
if [ -z "$pg_bin" ]; then
  echo "with-postgres: installing PostgreSQL from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq postgresql >/dev/null
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && pg_bin="$dir"
  done
fi
[ -n "$pg_bin" ] || { echo "with-postgres: no initdb found" >&2; exit 1; }

run_as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin postgres
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
work="$(mktemp -d /tmp/localfirst-pg.XXXXXX)"
chmod 0755 "$work"
[ "$(id -u)" -eq 0 ] && chown postgres: "$work"
data="$work/data"

cleanup() {
  run_as_postgres "$pg_bin/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

run_as_postgres "$pg_bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 >"$work/initdb.log" 2>&1 ||
  { cat "$work/initdb.log" >&2; exit 1; }
run_as_postgres "$pg_bin/pg_ctl" -D "$data" -l "$work/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $work -c max_connections=200 -c fsync=off" start >/dev/null ||
  { cat "$work/server.log" >&2; exit 1; }
run_as_postgres "$pg_bin/createdb" -h 127.0.0.1 -p "$port" -U postgres localfirst_test

export LOCALFIRST_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/localfirst_test"
echo "with-postgres: PostgreSQL on 127.0.0.1:$port (cluster in $work)" >&2
set +e
"$@"
status=$?
set -e
exit "$status"
