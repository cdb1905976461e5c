#!/usr/bin/env bash
# Brings the server binary (target/debug/kubernaut-context) and the web bundle in
# target/site up to date the way `make run` builds them: `cargo xtask build` (xtask/: the
# cargo commands, environment and site layout of `cargo leptos build`, without
# cargo-leptos; about a second when nothing changed).
# Every test script that runs the server calls this, so `make test` builds the server
# once, in one configuration: a plain `cargo build -p kubernaut-context-server` resolves
# other dependency features and flags and would compile every dependency a second time
# into the same target dir (minutes and gigabytes).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
echo "==> cargo xtask build (server binary + web bundle, debug)" >&2
cargo xtask build >&2
