#!/usr/bin/env bash
# Brings up the whole system on http://127.0.0.1:8080: installs what is missing, builds the
# dashboard (release) and the server, creates the demo database on first run, and serves
# both, printing the URL and the demo API key. Ctrl-C stops it.
#
# Environment: CONVERRA_ADDR (default 127.0.0.1:8080), CONVERRA_DB (default data/converra.db).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh

ADDR="${CONVERRA_ADDR:-127.0.0.1:8080}"
DB="${CONVERRA_DB:-data/converra.db}"
KEY_FILE="$(dirname "$DB")/demo-api-key"

echo; echo "== Building the dashboard (trunk build --release)"
trunk build --release
echo; echo "== Building the server (release)"
cargo build --release --locked -p converra-server
SERVER=target/release/converra-server

if [ ! -f "$DB" ]; then
  echo; echo "== Creating the demo database $DB"
  mkdir -p "$(dirname "$DB")"
  "$SERVER" demo --db "$DB" | tail -n 1 > "$KEY_FILE"
  chmod 600 "$KEY_FILE"
fi
if [ ! -s "$KEY_FILE" ]; then
  # The database predates the key file: issue the demo account a fresh key.
  "$SERVER" keys create --db "$DB" --account "Acme Support (demo)" --plan pro | tail -n 1 > "$KEY_FILE"
  chmod 600 "$KEY_FILE"
fi

cat <<MSG

  Converra is running.
    Dashboard:     http://$ADDR/
    API:           http://$ADDR/api/v1
    Demo API key:  $(cat "$KEY_FILE")

MSG
exec "$SERVER" serve --db "$DB" --addr "$ADDR" --dist dist
