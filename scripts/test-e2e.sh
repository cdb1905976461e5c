#!/usr/bin/env bash
# Browser tests: runs the combined server (debug build from `cargo xtask build`) on a
# free 127.0.0.1 port with a fresh embedded store, then Playwright in Debian's Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib-server.sh
server_workspace
export KUBERNAUT_CONTEXT_TOKENS=${KUBERNAUT_CONTEXT_TOKENS:-e2e-token-0123456789}  # write token the specs seed data with
start_server "$tmp/data" "$port"
echo "server at $SERVER_URL"
cd end2end
BASE_URL=$SERVER_URL ../node_modules/.bin/playwright test "$@"
