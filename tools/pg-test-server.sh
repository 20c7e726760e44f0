#!/usr/bin/env bash
# Starts or stops a throwaway PostgreSQL for tests and the quick-start: a new
# cluster in DIR, listening only on a Unix socket in DIR (no TCP port), run
# as a non-root user (the `postgres` system user when invoked as root).
#
#   tools/pg-test-server.sh start DIR   # prints PGHOST=DIR and PGUSER=...
#   tools/pg-test-server.sh standby DIR PRIMARY_DIR   # a streaming replica
#   tools/pg-test-server.sh stop DIR
#
# The superuser is `dxadmin` with the password in DIR/password, and local
# connections need it (scram-sha-256), so clients exercise password files.
set -euo pipefail

cmd=${1:-}; dir=${2:-}
usage() { echo "usage: $0 start|stop DIR, or $0 standby DIR PRIMARY_DIR" >&2; exit 2; }
[ -n "$cmd" ] && [ -n "$dir" ] || usage

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bindir/initdb" ] || { echo "pg-test-server: PostgreSQL server binaries not found; run tools/install-deps.sh" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start_server() {
  as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c fsync=off" \
    start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
  echo "PGHOST=$dir"
  echo "PGUSER=dxadmin"
}

make_dir() {
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; chmod 0755 "$dir"; fi
}

case "$cmd" in
  standby)
    # A hot standby of the server in PRIMARY_DIR, streaming from it over
    # its socket (pg_basebackup -R writes the standby's primary_conninfo).
    primary=${3:-}
    [ -n "$primary" ] && [ -f "$primary/password" ] || usage
    make_dir
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      cp "$primary/password" "$dir/password"
      as_owner env PGPASSWORD="$(cat "$primary/password")" \
        "$bindir/pg_basebackup" -h "$primary" -U dxadmin -D "$dir/data" -R \
        --checkpoint=fast \
        -X stream >"$dir/basebackup.log" 2>&1 \
        || { cat "$dir/basebackup.log" >&2; exit 1; }
    fi
    start_server
    ;;
  start)
    make_dir
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      printf '%s' "$(head -c 18 /dev/urandom | base64 | tr -d '/+=')" > "$dir/password"
      chmod 0644 "$dir/password"
      as_owner "$bindir/initdb" -D "$dir/data" -U dxadmin \
        --pwfile="$dir/password" --auth-local=scram-sha-256 \
        --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
      chmod 0600 "$dir/password"
    fi
    start_server
    ;;
  stop)
    [ -f "$dir/data/postmaster.pid" ] || exit 0
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  *) usage ;;
esac
