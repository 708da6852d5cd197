#!/usr/bin/env bash
# Installs what building and testing need, skipping whatever is already there, so it is safe
# to run again. Everything comes from the package registries (crates.io, npm, Debian):
# nothing downloads a prebuilt tool, and trunk is pinned so it never tries to.
#
# Usage: scripts/setup.sh [GROUP...]   # the groups named, or all of them:
#          server      nothing beyond cargo: the crates, fetched so builds run offline
#          dashboard   the wasm target, trunk, wasm-bindgen-cli, wasm-split-cli, wasm-opt
#          tests       the above, plus Chromium, ChromeDriver, the e2e driver and the
#                      Python environment with the official SDK
#        source scripts/env.sh        # (done by the other scripts) PATH for the installed tools
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
source scripts/steps.sh

TRUNK_VERSION=0.21.14
# Splits the dashboard's wasm by page (scripts/bundle-wasm.mjs); its runtime half,
# wasm_split_helpers, comes with Leptos.
WASM_SPLIT_VERSION=0.2.4
# The official Python SDK whose wire format the server must serve unchanged.
CONVERRA_SDK_VERSION=0.5.1
# The OpenTelemetry clients the ingest tests export with (sdk-tests/test_otel.py), pinned so
# a release of any of them cannot change what the tests send.
OTEL_TEST_PACKAGES=(
  "opentelemetry-api==1.45.2"
  "opentelemetry-sdk==1.45.2"
  "opentelemetry-exporter-otlp-proto-http==1.45.2"
  "opentelemetry-instrumentation==0.66b2"
  "opentelemetry-semantic-conventions==0.66b2"
  "opentelemetry-instrumentation-openai-v2==2.4b0"
  "opentelemetry-util-genai==1.1b0"  # 1.2b0 on dropped the module openai-v2 2.4b0 imports
  "opentelemetry-instrumentation-openai==0.62.4"
  "openinference-instrumentation-openai==0.1.66"
  "openai==3.63.0"
)
# Property-based testing of the API against its OpenAPI document (sdk-tests/test_openapi_contract.py).
CONTRACT_TEST_PACKAGES=("schemathesis==4.32.5")
# wasm-bindgen-cli must be exactly the wasm-bindgen the dashboard links.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)

if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi

# The three cargo-installed tools are build tools: compiling them fast matters more than
# their own speed (trunk at opt-level 1 without LTO builds in 5 minutes instead of 11 and
# builds the same dashboard). They share one target directory, so a dependency they have
# in common at the same version is compiled once.
install_tool() {
  CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_LTO=off \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=256 CARGO_PROFILE_RELEASE_DEBUG=0 \
    CARGO_TARGET_DIR="${CONVERRA_TOOLS_TARGET:-$HOME/.cache/converra-tools-target}" \
    cargo install --force "$@"
}

debian_packages() {
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@"
}

setup_browser() {
  if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    run_step "Chromium and ChromeDriver (Debian)" "1-2 min" \
      "check that apt-get can reach Debian's package mirror, then run scripts/setup.sh again" \
      debian_packages chromium chromium-driver
  fi
}

# The server's tests also run against PostgreSQL: scripts/postgres.sh starts a throwaway
# server from these binaries (initdb as the `postgres` user the package creates).
setup_postgres() {
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    run_step "PostgreSQL (Debian)" "under 1 min" \
      "check that apt-get can reach Debian's package mirror, then run scripts/setup.sh again" \
      debian_packages postgresql
  fi
}

# Each check below asks for the pinned version, so when one fails, whatever binary of that
# name is on the PATH (another version, or one cargo has no record of) is replaced: --force.

setup_dashboard() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    run_step "Rust target wasm32-unknown-unknown" "under 1 min" \
      "run 'rustup target add wasm32-unknown-unknown' by hand to see rustup's error" \
      rustup target add wasm32-unknown-unknown
  fi

  if [ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
    run_step "trunk $TRUNK_VERSION" "about 4 min on 2 cores" \
      "check that crates.io is reachable; the build log above names the crate that failed" \
      install_tool trunk --locked --version "$TRUNK_VERSION"
  fi

  if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
    # Not --locked: its own lockfile pins a crate version the registry no longer serves.
    run_step "wasm-bindgen-cli $WASM_BINDGEN_VERSION" "about 1.5 min" \
      "check that crates.io is reachable; the build log above names the crate that failed" \
      install_tool wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
  fi

  if ! cargo install --list | grep -qx "wasm_split_cli_support v$WASM_SPLIT_VERSION:"; then
    run_step "wasm-split-cli $WASM_SPLIT_VERSION" "under 1 min" \
      "check that crates.io is reachable; the build log above names the crate that failed" \
      install_tool wasm_split_cli_support --locked --version "$WASM_SPLIT_VERSION" --features build-binary
  fi

  if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -d node_modules/playwright-core ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    run_step "npm packages: binaryen (wasm-opt 132), playwright-core, axe-core" "under 1 min" \
      "check that the npm registry is reachable, delete node_modules and run scripts/setup.sh again" \
      npm ci --no-audit --no-fund --loglevel=error
  fi
}

make_sdk_venv() {
  python3 -m venv .venv-sdk
  .venv-sdk/bin/pip install -q "converra==$CONVERRA_SDK_VERSION" "pytest>=8,<9" "${OTEL_TEST_PACKAGES[@]}" "${CONTRACT_TEST_PACKAGES[@]}"
}
# Every pin installed at its version (a venv made before a pin changed is brought up to date).
sdk_venv_current() {
  [ -x .venv-sdk/bin/python ] || return 1
  local installed pin
  installed=$(.venv-sdk/bin/pip freeze 2>/dev/null) || return 1
  for pin in "converra==$CONVERRA_SDK_VERSION" "${OTEL_TEST_PACKAGES[@]}" "${CONTRACT_TEST_PACKAGES[@]}"; do
    grep -qixF "$pin" <<<"$installed" || return 1
  done
  .venv-sdk/bin/python -c "import pytest" 2>/dev/null
}
setup_sdk_tests() {
  if ! sdk_venv_current; then
    run_step "Python environment for the SDK and OpenTelemetry tests (converra $CONVERRA_SDK_VERSION, the pinned OpenTelemetry clients and schemathesis from PyPI)" "under 2 min" \
      "check that PyPI is reachable, delete .venv-sdk and run scripts/setup.sh again" \
      make_sdk_venv
  fi
}

setup_crates() {
  run_step "Crates (so trunk and cargo build offline)" "under 1 min, seconds when cached" \
    "check that crates.io is reachable and Cargo.lock is committed unchanged" \
    cargo fetch --locked -q
}

groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(tests)
for group in "${groups[@]}"; do
  case "$group" in
    server) setup_crates ;;
    dashboard) setup_crates; setup_dashboard ;;
    tests) setup_crates; setup_dashboard; setup_browser; setup_postgres; setup_sdk_tests ;;
    *) echo "scripts/setup.sh: unknown group '$group' (server, dashboard or tests)" >&2; exit 2 ;;
  esac
done
steps_total "Setup"
