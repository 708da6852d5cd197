# Sourced by the scripts: a throwaway PostgreSQL server from Debian's `postgresql` package,
# for the tests and the benchmarks. `initdb` runs as the `postgres` user into a temporary
# folder, the server listens on a free loopback port, and it is stopped and its folder
# removed when the calling script exits.
#
#   start_throwaway_postgres [durable]   # sets CONVERRA_TEST_POSTGRES to its admin URL
#
# Without `durable` the server skips fsync: the tests kill the Converra server, never this
# one, and run faster. The benchmarks pass `durable`, to measure what production commits cost.

_pg_as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}

start_throwaway_postgres() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [ -z "$bin" ]; then
    echo "PostgreSQL is not installed: run scripts/setup.sh tests" >&2
    return 1
  fi
  CONVERRA_PG_DIR=$(mktemp -d /tmp/converra-pg.XXXXXX)
  chown postgres "$CONVERRA_PG_DIR" 2>/dev/null || sudo chown postgres "$CONVERRA_PG_DIR"
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  local fsync=off
  [ "${1:-}" = durable ] && fsync=on
  _pg_as_postgres "$bin/initdb" -D "$CONVERRA_PG_DIR/data" -U postgres -A trust \
    --no-sync -E UTF8 >"$CONVERRA_PG_DIR/initdb.log" 2>&1 || {
    cat "$CONVERRA_PG_DIR/initdb.log" >&2
    return 1
  }
  _pg_as_postgres "$bin/pg_ctl" -D "$CONVERRA_PG_DIR/data" -l "$CONVERRA_PG_DIR/server.log" -w \
    -o "-p $port -k $CONVERRA_PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=$fsync" \
    start >/dev/null || {
    cat "$CONVERRA_PG_DIR/server.log" >&2
    return 1
  }
  CONVERRA_PG_BIN=$bin
  trap stop_throwaway_postgres EXIT
  export CONVERRA_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/postgres"
  echo "PostgreSQL (throwaway, fsync=$fsync) at $CONVERRA_TEST_POSTGRES"
}

stop_throwaway_postgres() {
  [ -n "${CONVERRA_PG_DIR:-}" ] || return 0
  _pg_as_postgres "$CONVERRA_PG_BIN/pg_ctl" -D "$CONVERRA_PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$CONVERRA_PG_DIR"
  CONVERRA_PG_DIR=""
}
