#!/usr/bin/env bash
# Installs what building and testing need, skipping whatever is already there, so it is safe
# to run again. Everything comes from the package registries (crates.io, npm, Debian):
# nothing downloads a prebuilt tool, and trunk is pinned so it never tries to.
#
# Usage: scripts/setup.sh            # all of it
#        source scripts/env.sh      # (done by the other scripts) PATH for the installed tools
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

TRUNK_VERSION=0.21.14
# Splits the dashboard's wasm by page (scripts/bundle-wasm.mjs); its runtime half,
# wasm_split_helpers, comes with Leptos.
WASM_SPLIT_VERSION=0.2.4
# The official Python SDK whose wire format the server must serve unchanged.
CONVERRA_SDK_VERSION=0.5.1
# wasm-bindgen-cli must be exactly the wasm-bindgen the dashboard links.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)

step() { printf '\n== %s\n' "$*"; }

# Each check below asks for the pinned version, so when one fails, whatever binary of that
# name is on the PATH (another version, or one cargo has no record of) is replaced: --force.

if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  step "Chromium and ChromeDriver (Debian)"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "Rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
  step "trunk $TRUNK_VERSION (about 11 minutes on 2 cores)"
  cargo install trunk --locked --force --version "$TRUNK_VERSION"
fi

if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  step "wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 4 minutes)"
  # Not --locked: its own lockfile pins a crate version the registry no longer serves.
  cargo install wasm-bindgen-cli --force --version "$WASM_BINDGEN_VERSION"
fi

if ! cargo install --list | grep -qx "wasm_split_cli_support v$WASM_SPLIT_VERSION:"; then
  step "wasm-split-cli $WASM_SPLIT_VERSION (about 5 minutes)"
  cargo install wasm_split_cli_support --locked --force --version "$WASM_SPLIT_VERSION" --features build-binary
fi

if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -d node_modules/playwright-core ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "npm packages: binaryen (wasm-opt 132), playwright-core, axe-core"
  npm ci --no-audit --no-fund
fi

if [ ! -x .venv-sdk/bin/python ] || ! .venv-sdk/bin/python -c "import converra, pytest" 2>/dev/null; then
  step "Python environment for the SDK compatibility test (converra $CONVERRA_SDK_VERSION from PyPI)"
  python3 -m venv .venv-sdk
  .venv-sdk/bin/pip install -q "converra==$CONVERRA_SDK_VERSION" "pytest>=8,<9"
fi

step "Crates (trunk builds offline)"
cargo fetch --locked -q

echo
echo "Setup complete."
