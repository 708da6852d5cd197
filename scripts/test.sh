#!/usr/bin/env bash
# Runs every test: formatting and lints, the server's and the types' tests (cargo test),
# the dashboard's browser tests (wasm-bindgen-test in headless Chromium), then the
# end-to-end tests (playwright-core driving Chromium through the built dashboard against
# the real server). Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh

step() { printf '\n== %s\n' "$*"; }

step "Formatting and lints"
cargo fmt --all -- --check
cargo clippy --locked --workspace --exclude converra-dashboard --all-targets -- -D warnings
cargo clippy --locked -p converra-dashboard --target wasm32-unknown-unknown --all-targets -- -D warnings

step "Server and wire types (cargo test)"
cargo test --locked --workspace --exclude converra-dashboard

step "The official Python SDK against the server (pytest)"
cargo build --locked -p converra-server
CONVERRA_SERVER_BIN="$PWD/target/debug/converra-server" .venv-sdk/bin/python -m pytest -q sdk-tests

step "Dashboard components in headless Chromium (wasm-bindgen-test)"
cargo test --locked -p converra-dashboard --target wasm32-unknown-unknown

step "End to end (playwright-core + Chromium)"
trunk build --release
CONVERRA_SERVER_BIN="$PWD/target/debug/converra-server" CONVERRA_DIST="$PWD/dist" npm run --silent e2e
