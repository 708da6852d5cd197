#!/usr/bin/env bash
# Prints the dashboard's figures: first-load transfer, time to the 50-row conversations
# table, and the longest task of a 1,000-message transcript (scripts/bench-dashboard.mjs).
# Builds the release dashboard and the server first; the server serves the demo data.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
trunk build --release
cargo build --locked --release -p converra-server
CONVERRA_SERVER_BIN="$PWD/target/release/converra-server" CONVERRA_DIST="$PWD/dist" node scripts/bench-dashboard.mjs
