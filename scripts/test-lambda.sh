#!/usr/bin/env bash
# Integration test of every Lambda function (functions/src/bin/*), offline:
#   1. checks the functions' dependency tree has no Leptos/SQLite/rmcp; builds them (debug),
#   2. starts a local DynamoDB (moto, through scripts/with-moto.sh),
#   3. runs `cargo lambda watch --only-lambda-apis` (the local Lambda runtime API +
#      function-URL emulation) on a free 127.0.0.1 port and starts every function binary
#      against it (AWS_LAMBDA_RUNTIME_API=.../.rt/<function>, as Lambda runs a bootstrap;
#      no `cargo run` per function, so no waiting on the shared target dir's lock), serving
#      every function at /lambda-url/<function>/...,
#   4. runs functions/tests/lambda_suite.py: creates the table from infra/template.yaml,
#      calls every function with real requests (write, read back, filters, paging,
#      effectiveness, patterns, discover, health, 401/404/405 JSON) and replays every event
#      fixture (functions/fixtures/*.json: function URL, API Gateway v2 on a stage, REST
#      API v1 on a stage) with `cargo lambda invoke`,
#   5. stops the functions, cargo lambda watch and moto by PID (trap); exit code = the
#      suite's. KEEP_LOG=1 keeps the logs (one per function, JSON lines).
#   PROFILE=lambda-release scripts/test-lambda.sh   runs the suite against the functions
#      as `make lambda` builds them (size profile, panic = abort; x86_64 build of the same
#      code, target/lambda-release/) instead of the quick debug build (PROFILE=dev).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PROFILE=${PROFILE:-dev}
case "$PROFILE" in dev) FN_DIR=target/debug ;; *) FN_DIR=target/$PROFILE ;; esac
export PATH="$ROOT/.venv/tools/bin:$HOME/.cargo/bin:$PATH"
PY="$ROOT/.venv/tools/bin/python"

if [ -z "${_KCTX_TEST_LAMBDA_INNER:-}" ]; then
  [ -x .venv/tools/bin/cargo-lambda ] && [ -x .venv/tools/bin/moto_server ] || scripts/ensure-python.sh tools
  echo "==> the functions link no Leptos, no SQLite and no rmcp"
  lean=$(cargo tree -p kubernaut-context-functions -e normal,build --prefix none | grep -Ei 'leptos|rusqlite|sqlite|rmcp' || true)
  if [ -n "$lean" ]; then echo "FAIL: kubernaut-context-functions depends on:" >&2; echo "$lean" | sort -u >&2; exit 1; fi
  echo "==> building the functions ($PROFILE) and the combined server (debug)"
  cargo build --profile "$PROFILE" -p kubernaut-context-functions --bins
  scripts/build-server.sh
  export _KCTX_TEST_LAMBDA_INNER=1
  exec scripts/with-moto.sh "$0" "$@"
fi

# ---------------------------------------------------------------- inside with-moto
: "${KUBERNAUT_CONTEXT_DYNAMODB_ENDPOINT:?set by scripts/with-moto.sh}"
PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
BASE="http://127.0.0.1:$PORT"
LOGDIR=$(mktemp -d -t lambda-test.XXXXXX)
LOG="$LOGDIR/watch.log"
WATCH_PID=""
FN_PIDS=()
stop_group() {
  # Each process was started with setsid: stop it and its children by that group id.
  local pid=$1
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
}
cleanup() {
  for p in "${FN_PIDS[@]}"; do stop_group "$p"; done
  [ -n "$WATCH_PID" ] && stop_group "$WATCH_PID"
  if [ "${KEEP_LOG:-0}" = 1 ]; then echo "logs: $LOGDIR"; else rm -rf "$LOGDIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export TABLE="kctx-lambda-test-$$"
export TOKEN="test-token-$(date +%s)-0123456789"
# What every function reads (the same variables infra/template.yaml sets).
export KUBERNAUT_CONTEXT_DYNAMODB_TABLE="$TABLE"
export KUBERNAUT_CONTEXT_TOKENS="$TOKEN"
export KUBERNAUT_CONTEXT_CURSOR_KEY="lambda-test-cursor-key-$(date +%s%N)"
export KUBERNAUT_CONTEXT_URL_HEALTH="$BASE/lambda-url/health/"
export KUBERNAUT_CONTEXT_URL_DISCOVER="$BASE/lambda-url/discover/"
export KUBERNAUT_CONTEXT_URL_ACTION_HISTORY_READ="$BASE/lambda-url/action-history-read/"
export KUBERNAUT_CONTEXT_URL_ACTION_HISTORY_WRITE="$BASE/lambda-url/action-history-write/"
export KUBERNAUT_CONTEXT_URL_PATTERNS="$BASE/lambda-url/patterns/"

FUNCTIONS="health discover action-history-read action-history-write patterns mcp"
echo "==> cargo lambda watch --only-lambda-apis on $BASE (logs: $LOGDIR)"
setsid cargo lambda watch -p kubernaut-context-functions --only-lambda-apis \
  --invoke-address 127.0.0.1 --invoke-port "$PORT" >"$LOG" 2>&1 &
WATCH_PID=$!
ready=""
for _ in $(seq 1 600); do
  kill -0 "$WATCH_PID" 2>/dev/null || break
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then ready=1; break; fi
  sleep 0.1
done
if [ -z "$ready" ]; then
  echo "cargo lambda watch did not start:" >&2
  cat "$LOG" >&2
  exit 1
fi

echo "==> starting the functions ($FN_DIR): $FUNCTIONS"
for fn in $FUNCTIONS; do
  [ -x "$FN_DIR/$fn" ] || { echo "missing $FN_DIR/$fn" >&2; exit 1; }
  AWS_LAMBDA_FUNCTION_NAME="$fn" AWS_LAMBDA_FUNCTION_VERSION=1 AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128 \
    AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:$PORT/.rt/$fn" RUST_LOG=info \
    setsid "$FN_DIR/$fn" >"$LOGDIR/$fn.log" 2>&1 &
  FN_PIDS+=($!)
done
for fn in $FUNCTIONS; do
  ok=""
  for _ in $(seq 1 300); do
    if grep -q '"message":"ready"' "$LOGDIR/$fn.log" 2>/dev/null; then ok=1; break; fi
    sleep 0.1
  done
  if [ -z "$ok" ]; then
    echo "function $fn did not start:" >&2
    cat "$LOGDIR/$fn.log" >&2
    exit 1
  fi
done

# The combined server (web app + every endpoint) as one more Lambda function: the same
# binary as `serve`, switching to the runtime API because AWS_LAMBDA_RUNTIME_API is set.
# cargo lambda watch serves only the bins of the package it is given, so the server's
# package gets its own runtime API emulator.
WEB_PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
WEB_BASE="http://127.0.0.1:$WEB_PORT"
setsid cargo lambda watch -p kubernaut-context-server --only-lambda-apis \
  --invoke-address 127.0.0.1 --invoke-port "$WEB_PORT" >"$LOGDIR/watch-web.log" 2>&1 &
FN_PIDS+=($!)
for _ in $(seq 1 600); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$WEB_PORT") 2>/dev/null; then break; fi
  sleep 0.1
done
AWS_LAMBDA_FUNCTION_NAME=kubernaut-context AWS_LAMBDA_FUNCTION_VERSION=1 AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256 \
  AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:$WEB_PORT/.rt/kubernaut-context" KUBERNAUT_CONTEXT_STORE=dynamodb \
  LEPTOS_SITE_ROOT=target/site RUST_LOG=info \
  setsid target/debug/kubernaut-context serve >"$LOGDIR/web.log" 2>&1 &
FN_PIDS+=($!)

export LAMBDA_BASE="$BASE" LAMBDA_PORT="$PORT" CARGO_LAMBDA="$ROOT/.venv/tools/bin/cargo-lambda"
echo "==> suite"
set +e
"$PY" functions/tests/lambda_suite.py
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
  for f in "$LOGDIR"/*.log; do
    echo "---- $(basename "$f") (last 20 lines)" >&2
    tail -n 20 "$f" >&2
  done
fi
# HolmesGPT 0.45.0 against the mcp function: its loader, its MCP client, every tool
# (tests/holmes/test_mcp.py; seeded through the action-history-write function).
if [ -x "$ROOT/.venv/holmes/bin/python" ]; then
  echo "==> HolmesGPT 0.45.0 against the mcp function"
  MCPV="$LOGDIR/mcp.yaml"
  target/debug/kubernaut-context toolset --transport mcp --context-mode lambda --require-token \
    --mcp-url "$BASE/lambda-url/mcp/" --no-kubernetes --no-prometheus --output "$MCPV"
  if ! KN_MCP_FILE="$MCPV" KN_SEED_URL="$BASE/lambda-url/action-history-write" KN_TOKEN="$TOKEN" \
    KN_LABEL=lambda LITELLM_LOCAL_MODEL_COST_MAP=True "$ROOT/.venv/holmes/bin/python" tests/holmes/test_mcp.py; then
    rc=1
  fi
else
  echo "FAIL .venv/holmes missing (scripts/ensure-python.sh holmes): HolmesGPT not run against the mcp function" >&2
  rc=1
fi

# The web app as a Lambda: a server-rendered page, its assets and the API behind one URL.
web_check() { # NAME URL EXPECTED_STATUS GREP
  local out code
  out=$(curl -s -w '\n%{http_code}' --max-time 20 "$2") || true
  code=${out##*$'\n'}
  if [ "$code" = "$3" ] && grep -q -- "$4" <<<"$out"; then
    echo "ok   web $1 -> $code"
  else
    echo "FAIL web $1: status $code (want $3), body lacks '$4'" >&2
    rc=1
  fi
}
web_check "GET / (server-rendered page)" "$WEB_BASE/lambda-url/kubernaut-context/" 200 'Store health'
CSS_PATH=$(curl -s "$WEB_BASE/lambda-url/kubernaut-context/" | grep -o '/pkg/[^"]*\.css' | head -n1)
web_check "GET ${CSS_PATH:-<the page links no CSS>}" "$WEB_BASE/lambda-url/kubernaut-context$CSS_PATH" 200 'body'
# The wasm the page links must exist (a server built without LEPTOS_OUTPUT_NAME links
# `<name>_bg.wasm`, which neither xtask nor cargo-leptos writes: the page would never hydrate).
WASM_PATH=$(curl -s "$WEB_BASE/lambda-url/kubernaut-context/" | grep -o '/pkg/[^"]*\.wasm' | head -n1)
if [ -z "$WASM_PATH" ]; then
  echo "FAIL web: the page links no wasm" >&2; rc=1
else
  # Checked on disk, not through the emulator: the debug wasm is larger than a Lambda
  # response may be (6 MB); the release one (~0.7 MB) is well under it.
  if [ -f "target/site$WASM_PATH" ]; then
    echo "ok   web the page links $WASM_PATH, which the site has"
  else
    echo "FAIL web the page links $WASM_PATH, which target/site lacks" >&2; rc=1
  fi
fi
web_check "GET /api/v1/context/health" "$WEB_BASE/lambda-url/kubernaut-context/api/v1/context/health" 200 '"kind":"dynamodb"'
web_check "GET unknown API path (JSON 404)" "$WEB_BASE/lambda-url/kubernaut-context/api/v1/context/nope" 404 '"error"'
if [ "$rc" -ne 0 ]; then tail -n 20 "$LOGDIR/web.log" >&2; fi

# Every function logged JSON lines carrying the Lambda request id (span.requestId).
for fn in $FUNCTIONS; do
  if ! grep -q '"requestId":"' "$LOGDIR/$fn.log"; then
    echo "FAIL $fn: no JSON log line with the Lambda request id" >&2
    rc=1
  fi
done
exit "$rc"
