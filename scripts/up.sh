#!/usr/bin/env bash
# Brings up the whole system on http://127.0.0.1:8080: builds the server (release), creates
# the demo database on first run, starts serving and prints the URL and the demo API key,
# then installs the dashboard's build tools if missing and builds the dashboard (release).
# Until that first build is done the dashboard's pages say it is still being built and
# reload themselves; the API answers from the start. Ctrl-C stops it.
#
# Environment: CONVERRA_ADDR (default 127.0.0.1:8080), CONVERRA_DB (default data/converra.db).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
source scripts/steps.sh

ADDR="${CONVERRA_ADDR:-127.0.0.1:8080}"
DB="${CONVERRA_DB:-data/converra.db}"
KEY_FILE="$(dirname "$DB")/demo-api-key"
SERVER=target/release/converra-server

scripts/setup.sh server
run_step "Server (cargo build --release)" "about 3 min on 2 cores the first time, seconds after" \
  "the compiler's message above names the problem; 'cargo build --release -p converra-server' repeats it" \
  cargo build --release --locked -p converra-server

seed_demo() {
  mkdir -p "$(dirname "$DB")"
  "$SERVER" demo --db "$DB" | tail -n 1 > "$KEY_FILE"
  chmod 600 "$KEY_FILE"
}
new_demo_key() {
  "$SERVER" keys create --db "$DB" --account "Acme Support (demo)" --plan pro | tail -n 1 > "$KEY_FILE"
  chmod 600 "$KEY_FILE"
}
if [ ! -f "$DB" ]; then
  run_step "Demo database $DB" "under 30 s" \
    "delete $DB and run scripts/up.sh again; the server's message above says what failed" \
    seed_demo
fi
if [ ! -s "$KEY_FILE" ]; then
  # The database predates the key file: issue the demo account a fresh key.
  run_step "Demo API key" "a second" "delete $DB to start from a fresh demo" new_demo_key
fi

"$SERVER" serve --db "$DB" --addr "$ADDR" --dist dist &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null' EXIT
trap 'exit 130' INT TERM

wait_for_server() {
  for _ in $(seq 1 100); do
    kill -0 "$server_pid" 2>/dev/null || return 1
    curl -s -o /dev/null "http://$ADDR/api/v1/openapi.json" && return 0
    sleep 0.1
  done
  return 1
}
run_step "Server start on $ADDR" "a second" \
  "is $ADDR already taken? Set CONVERRA_ADDR to another address" wait_for_server

if [ -f dist/index.html ]; then
  dashboard_note="rebuilding now; a reload picks up the new build"
else
  dashboard_note="being built now, about 10 min the first time: the page says so and reloads itself"
fi
cat <<MSG

  Converra is running.
    Dashboard:     http://$ADDR/   ($dashboard_note)
    API:           http://$ADDR/api/v1
    Demo API key:  $(cat "$KEY_FILE")

MSG
steps_total "To the URL and key"

scripts/setup.sh dashboard
run_step "Dashboard (trunk build --release)" "about 4 min the first time, under 1 min after" \
  "the message above names the problem; 'trunk build --release' repeats it" \
  trunk build --release
steps_total "To the dashboard"
echo
echo "  The dashboard is ready: http://$ADDR/   (Ctrl-C stops the server)"
wait "$server_pid"
