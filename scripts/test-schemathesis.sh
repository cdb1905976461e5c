#!/usr/bin/env bash
# Fuzzes the running API from its own OpenAPI document with schemathesis (all checks).
#
# Seeds the demo history into a temporary data directory, starts
# target/debug/kubernaut-context serve on 127.0.0.1 with a free port and a write token; waits for /health; runs `st` (installed by
# scripts/ensure-python.sh into .venv/tools) with a bounded budget; stops the server by
# PID. Exits non-zero when schemathesis reports a failure.
#
# Environment: ST_MAX_TIME (seconds of fuzzing, default 100), ST_MAX_EXAMPLES (per
# operation, default 60), ST_SEED (reproduce a run), ST_WORKERS (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

ST=$ROOT/.venv/tools/bin/st
BIN=$ROOT/target/debug/kubernaut-context
if [[ ! -x $ST ]]; then
  echo "schemathesis missing: run scripts/ensure-python.sh tools" >&2
  exit 2
fi
scripts/build-server.sh

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
DATA=$(mktemp -d "${TMPDIR:-/tmp}/kctx-st.XXXXXX")
TOKEN=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
BASE=http://127.0.0.1:$PORT
SERVER_PID=

cleanup() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$DATA"
}
trap cleanup EXIT INT TERM

# Real data first (the demo history), so list and analysis responses are full ones.
RUST_LOG=warn "$BIN" seed-demo --data-dir "$DATA" >"$DATA/seed.log" 2>&1 || {
  cat "$DATA/seed.log" >&2
  exit 1
}

echo "starting $BIN serve on $BASE (data in $DATA)" >&2
KUBERNAUT_CONTEXT_TOKENS=$TOKEN RUST_LOG=${RUST_LOG:-warn} \
  "$BIN" serve --addr "127.0.0.1:$PORT" --store local --data-dir "$DATA" \
  >"$DATA/server.log" 2>&1 &
SERVER_PID=$!

for i in $(seq 1 100); do
  if curl -fsS "$BASE/api/v1/context/health" >/dev/null 2>&1; then
    break
  fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "the server exited:" >&2
    cat "$DATA/server.log" >&2
    exit 1
  fi
  if [[ $i == 100 ]]; then
    echo "the server did not become healthy within 20 s" >&2
    cat "$DATA/server.log" >&2
    exit 1
  fi
  sleep 0.2
done

# One worker: with two, hypothesis' coverage phase calls ast.parse from two threads, and
# CPython 3.11 can fail that with "SystemError: AST constructor recursion depth mismatch"
# (an interpreter bug, reported by schemathesis as a runtime error of the run, not of the API).
args=(
  run "$BASE/api/v1/openapi.json"
  --url "$BASE"
  --checks all
  --header "Authorization: Bearer $TOKEN"
  --max-time "${ST_MAX_TIME:-100}"
  --max-examples "${ST_MAX_EXAMPLES:-60}"
  --workers "${ST_WORKERS:-1}"
  --request-timeout 10
)
if [[ -n ${ST_SEED:-} ]]; then
  args+=(--seed "$ST_SEED")
fi

status=0
timeout $(( ${ST_MAX_TIME:-100} + 120 )) "$ST" --config-file "$ROOT/scripts/schemathesis.toml" "${args[@]}" || status=$?
if [[ $status != 0 ]]; then
  echo "schemathesis failed (exit $status); server log:" >&2
  tail -n 50 "$DATA/server.log" >&2 || true
fi
exit "$status"
