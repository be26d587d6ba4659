#!/usr/bin/env bash
# Start a throwaway PostgreSQL on localhost for the field-log tests, installing it from Debian's
# packages when missing. Prints the URL to stdout as `export LEAFSCOUT_TEST_PG_URL=...`; everything
# else goes to stderr. Usage:  eval "$(tests/ci/setup_postgres.sh)"
# Stop it with:  tests/ci/setup_postgres.sh stop
set -euo pipefail

PORT="${LEAFSCOUT_TEST_PG_PORT:-54329}"
DATA="${LEAFSCOUT_TEST_PG_DIR:-/tmp/leafscout-test-pg}"
log() { echo "setup_postgres: $*" >&2; }

find_bin() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
    done
    return 1
}

as_pg() {  # PostgreSQL refuses to run as root; use the postgres account when we are root
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ "${1:-}" = stop ]; then
    BIN="$(find_bin)" && as_pg "$BIN/pg_ctl" -D "$DATA/data" -m fast stop >&2 || true
    rm -rf "$DATA"
    exit 0
fi

if ! BIN="$(find_bin)"; then
    if [ "$(id -u)" != 0 ]; then log "PostgreSQL is not installed and we are not root to apt-get it"; exit 1; fi
    log "installing PostgreSQL from Debian packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >&2
    BIN="$(find_bin)"
fi

if [ -f "$DATA/data/postmaster.pid" ] && as_pg "$BIN/pg_ctl" -D "$DATA/data" status >/dev/null 2>&1; then
    log "already running in $DATA"
else
    rm -rf "$DATA"
    mkdir -p "$DATA"
    [ "$(id -u)" = 0 ] && chown postgres: "$DATA"
    as_pg "$BIN/initdb" -D "$DATA/data" -U leafscout -A trust -E UTF8 >"$DATA/initdb.log" 2>&1 \
        || { cat "$DATA/initdb.log" >&2; exit 1; }
    # Only localhost, a private socket dir, and no fsync: it is a throwaway test server.
    as_pg "$BIN/pg_ctl" -D "$DATA/data" -l "$DATA/server.log" -w -t 60 \
        -o "-p $PORT -c listen_addresses=127.0.0.1 -k $DATA -c fsync=off -c max_connections=200" start >&2 \
        || { cat "$DATA/server.log" >&2; exit 1; }
fi

URL="postgresql+psycopg://leafscout@127.0.0.1:$PORT/postgres"
log "PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') listening on 127.0.0.1:$PORT (data in $DATA)"
echo "export LEAFSCOUT_TEST_PG_URL=$URL"
