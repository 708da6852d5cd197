#!/usr/bin/env bash
# The API benchmarks over PostgreSQL: starts a throwaway server (scripts/postgres.sh) with
# fsync on, as production would run, and runs `cargo bench --bench api` against it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres.sh
start_throwaway_postgres durable
CONVERRA_BENCH_POSTGRES="$CONVERRA_TEST_POSTGRES" cargo bench --locked -p converra-server --bench api
