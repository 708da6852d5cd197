#!/usr/bin/env bash
# Runs every test: formatting and lints, the server's and the types' tests (cargo test, the
# server's HTTP tests once over SQLite and once over a throwaway PostgreSQL),
# the official Python SDK against the server, the dashboard's browser tests
# (wasm-bindgen-test in headless Chromium), then the end-to-end tests (playwright-core
# driving Chromium through the built dashboard against the real server, over SQLite and
# again over PostgreSQL). Installs what is
# missing first. Each step prints its expected and its measured time.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/steps.sh
source scripts/postgres.sh
scripts/setup.sh tests
source scripts/env.sh

SERVER_BIN="$PWD/target/debug/converra-server"

run_step "Formatting" "seconds" "run 'cargo fmt --all' and commit the result" \
  cargo fmt --all -- --check
run_step "Lints: server and wire types (clippy)" "about 3 min the first time, seconds after" \
  "fix what clippy names above" \
  cargo clippy --locked --workspace --exclude converra-dashboard --all-targets -- -D warnings
run_step "Lints: dashboard (clippy, wasm32)" "about 3 min the first time, seconds after" \
  "fix what clippy names above" \
  cargo clippy --locked -p converra-dashboard --target wasm32-unknown-unknown --all-targets -- -D warnings

run_step "Server and wire types (cargo test)" "about 3 min the first time, 1 min after" \
  "the failing test is named above; rerun it alone with 'cargo test -p converra-server NAME'" \
  cargo test --locked --workspace --exclude converra-dashboard

# The same HTTP tests again, each over a database of its own on a throwaway PostgreSQL
# server (scripts/postgres.sh), which is stopped when this script exits.
postgres_tests() {
  start_throwaway_postgres
  cargo test --locked -p converra-server --test api
}
run_step "Server over PostgreSQL (cargo test)" "about 2 min" \
  "the failing test is named above; rerun it with 'source scripts/postgres.sh; start_throwaway_postgres; cargo test -p converra-server --test api NAME'" \
  postgres_tests

sdk_tests() {
  cargo build --locked -p converra-server
  # Over SQLite, then over the throwaway PostgreSQL the step above started.
  (unset CONVERRA_TEST_POSTGRES; CONVERRA_SERVER_BIN="$SERVER_BIN" .venv-sdk/bin/python -m pytest -q sdk-tests)
  CONVERRA_SERVER_BIN="$SERVER_BIN" .venv-sdk/bin/python -m pytest -q sdk-tests
}
run_step "The official Python SDK and OpenTelemetry clients against the server, over SQLite and PostgreSQL (pytest)" "under 2 min" \
  "the failing test is named above; rerun with '.venv-sdk/bin/python -m pytest -q sdk-tests -k NAME'" \
  sdk_tests

run_step "Dashboard components in headless Chromium (wasm-bindgen-test)" "about 3 min the first time, 1 min after" \
  "the failing test is named above; rerun with 'cargo test -p converra-dashboard --target wasm32-unknown-unknown NAME'" \
  cargo test --locked -p converra-dashboard --target wasm32-unknown-unknown

e2e() {
  trunk build --release
  CONVERRA_SERVER_BIN="$SERVER_BIN" CONVERRA_DIST="$PWD/dist" npm run --silent e2e
}
run_step "End to end (playwright-core + Chromium)" "about 6 min the first time" \
  "the failing test is named above; screenshots are in e2e/screenshots/" \
  e2e

# Every end-to-end test again, over the throwaway PostgreSQL started above.
e2e_postgres() {
  CONVERRA_E2E_POSTGRES="$CONVERRA_TEST_POSTGRES" CONVERRA_SERVER_BIN="$SERVER_BIN" \
    CONVERRA_DIST="$PWD/dist" npm run --silent e2e
}
run_step "End to end over PostgreSQL (playwright-core + Chromium)" "about 2 min" \
  "the failing test is named above; rerun with 'source scripts/postgres.sh; start_throwaway_postgres; CONVERRA_E2E_POSTGRES=\$CONVERRA_TEST_POSTGRES node --test e2e/NAME.test.mjs'" \
  e2e_postgres

steps_total "All tests"
