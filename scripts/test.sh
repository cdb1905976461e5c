#!/usr/bin/env bash
# `make test`: installs what the tests need, then runs every suite. Prints each phase's
# time; exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
T0=$(date +%s)
# A run from a fresh clone fills about 10 GB (target/ and .venv/; README.md has the last
# measurement): say so up front rather than fail later with "No space left".
free_gb=$(( $(df -Pk . | awk 'NR==2 {print $4}') / 1024 / 1024 ))
echo "disk: ${free_gb} GB free here; a first run needs about 10 GB"
if [ "$free_gb" -lt 10 ]; then
  echo "WARNING: less than 10 GB free: the build may fail with 'No space left on device'" >&2
fi
declare -a SUMMARY=()
phase() {
  local name=$1; shift
  local t=$(date +%s)
  printf '\n\033[1m==== %s\033[0m\n' "$name"
  "$@"
  local d=$(( $(date +%s) - t ))
  SUMMARY+=("$(printf '%-40s %5ss' "$name" "$d")")
  printf '==== %s: done in %ss\n' "$name" "$d"
}

phase "setup: build tools"          scripts/ensure-tools.sh test
phase "setup: system packages"      scripts/ensure-system.sh
phase "setup: python venvs"         scripts/ensure-python.sh
# One cargo test run for the whole workspace (shared target dir, one feature set), with a
# local DynamoDB-compatible server (moto) up so the DynamoDB adapter's suite runs too.
# It compiles with the RUSTFLAGS `cargo xtask build` gives debug builds (as cargo-leptos
# does), so the build phase below reuses these dependency builds instead of compiling
# them again. xtask is tested on its own, as `cargo xtask` builds it: features and flags
# of its dependencies then match that build too.
DEBUG_RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }--cfg erase_components"
phase "rust: unit + integration (+ DynamoDB on moto)" \
  env RUSTFLAGS="$DEBUG_RUSTFLAGS" scripts/with-moto.sh cargo test --workspace --exclude xtask --no-fail-fast
phase "rust: xtask (the site build)"  cargo test -p xtask --no-fail-fast
# The style and lint rules every change keeps (`make lint`): rustfmt, and clippy with
# warnings as errors on every crate and target.
phase "lint: rustfmt + clippy -D warnings" make --no-print-directory lint
# Server binary and wasm built together right before the browser runs them: a server
# and wasm from different builds do not hydrate. Then the site is checked against the
# leptos metadata (the file names and places cargo-leptos would use) and the built
# server is asked for the page and every file it links.
phase "build: server + wasm (cargo xtask build)" scripts/build-server.sh
phase "build: site layout + linked names (cargo xtask verify)" cargo xtask verify
# The browser bundle's budget: release wasm (wasm-opt -Oz) at most 300 KB gzipped
# (scripts/wasm-size.sh; it leaves the release bundle in target/site/pkg, and the next
# phase's `cargo xtask build` puts the debug one back).
phase "build: wasm size budget (release, <= 300 KB gzipped)" scripts/wasm-size.sh
phase "browser: Playwright end-to-end"    scripts/test-e2e.sh
phase "web: page links across restarts"   scripts/test-page-links.sh
phase "api: schemathesis over OpenAPI"     scripts/test-schemathesis.sh
phase "durability: SIGKILL mid-ingest"     scripts/test-durability.sh
phase "faults: DynamoDB outage -> 503, recovery" scripts/test-dynamodb-outage.sh
phase "generators: HolmesGPT 0.45 loader + tool calls" scripts/test-holmes.sh
phase "generators: kubernetes-validate manifests" scripts/test-manifests.sh
phase "infra: cfn-lint, checkov, kubernetes-validate" scripts/test-infra.sh
phase "lambda: functions via cargo lambda watch" scripts/test-lambda.sh

printf '\n==== phase times\n'
printf '%s\n' "${SUMMARY[@]}"
printf 'total: %ss\n' "$(( $(date +%s) - T0 ))"
printf 'disk: target/ %s, .venv/ %s\n' "$(du -sh target 2>/dev/null | cut -f1)" "$(du -sh .venv 2>/dev/null | cut -f1)"
