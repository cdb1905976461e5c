#!/usr/bin/env bash
# Installs the build tools the project needs, idempotently (skips what is present).
#   scripts/ensure-tools.sh         `make run`: the Rust toolchain of rust-toolchain.toml and
#                                   its wasm32 target (rustup). Nothing else: the web app is
#                                   built by `cargo xtask build` (xtask/, plain cargo).
#   scripts/ensure-tools.sh test    `make test`: also wasm-opt (npm binaryen@132, release
#                                   builds) and Playwright, into ./node_modules
#   scripts/ensure-tools.sh watch   `make watch`: also cargo-leptos 0.3.11 (built with a
#                                   >= 1.96 toolchain, release LTO off: 26-34 min once on
#                                   2 cores) and wasm-bindgen-cli at exactly the wasm-bindgen
#                                   version in Cargo.lock
# cargo-leptos would otherwise download wasm-bindgen/wasm-opt/sass from GitHub, which is
# not reachable from our machines; with these on PATH it downloads nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
what=${1:-run}
case "$what" in run|test|watch) ;; *) echo "usage: $0 [run|test|watch]" >&2; exit 2 ;; esac

CARGO_LEPTOS_VERSION=0.3.11
LEPTOS_TOOLCHAIN=1.96

command -v rustup >/dev/null || { echo "rustup is required: https://rustup.rs" >&2; exit 1; }

step "Rust toolchain (rust-toolchain.toml) and wasm32 target"
rustup show active-toolchain >/dev/null 2>&1 || rustup toolchain install "$(sed -n 's/^channel = "\(.*\)"/\1/p' rust-toolchain.toml)" --profile minimal
rustup target list --installed | grep -q '^wasm32-unknown-unknown$' || rustup target add wasm32-unknown-unknown

[ "$what" = run ] && exit 0

if [ -x node_modules/.bin/wasm-opt ] && [ -d node_modules/@playwright/test ] && node_modules/.bin/wasm-opt --version | grep -q "version 132"; then
  echo "npm tools (binaryen 132, @playwright/test): present"
else
  step "npm tools: binaryen 132 (wasm-opt), @playwright/test"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
fi

[ "$what" = test ] && exit 0

if command -v cargo-leptos >/dev/null && cargo-leptos --version 2>/dev/null | grep -q " $CARGO_LEPTOS_VERSION\$"; then
  echo "cargo-leptos $CARGO_LEPTOS_VERSION: present"
else
  step "cargo-leptos $CARGO_LEPTOS_VERSION (one-time, 26-34 min on 2 cores)"
  rustup toolchain list | grep -q "^$LEPTOS_TOOLCHAIN" || rustup toolchain install "$LEPTOS_TOOLCHAIN" --profile minimal
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo "+$LEPTOS_TOOLCHAIN" install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
fi

WB_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock)
if command -v wasm-bindgen >/dev/null && [ "$(wasm-bindgen --version | awk '{print $2}')" = "$WB_VERSION" ]; then
  echo "wasm-bindgen-cli $WB_VERSION: present"
else
  step "wasm-bindgen-cli $WB_VERSION"
  cargo install wasm-bindgen-cli --version "=$WB_VERSION" --force
fi
