#!/usr/bin/env bash
# Generated HolmesGPT toolsets against HolmesGPT 0.45.0 itself (tests/holmes/):
#   1. generates every toolset variant with `kubernaut-context toolset`;
#   2. starts `kubernaut-context serve` on a free 127.0.0.1 port with a temp data dir,
#      a token and --require-read-auth;
#   3. runs tests/holmes/test_toolsets.py with .venv/holmes/bin/python: loads each variant
#      with HolmesGPT's own loader (no error, no warning), checks prerequisites, seeds the
#      server and invokes the Context API tools through HolmesGPT's tool-call path;
#   4. runs tests/holmes/test_mcp.py: the `--transport mcp` file (mcp_servers, the
#      server's /mcp) and the `--transport http` file loaded by HolmesGPT, every MCP tool
#      called through HolmesGPT's MCP client, and `holmes ask` end to end with a scripted
#      OpenAI-compatible LLM that calls an MCP tool.
# Exits non-zero on any failure. Needs .venv/holmes (scripts/ensure-python.sh holmes).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=.venv/holmes/bin/python
if [ ! -x "$PY" ]; then
  echo "missing $PY: run scripts/ensure-python.sh holmes" >&2
  exit 1
fi
export LITELLM_LOCAL_MODEL_COST_MAP=True

# KN_SKIP_BUILD=1 uses the existing binary (e.g. while another crate is mid-edit).
if [ "${KN_SKIP_BUILD:-0}" != 1 ]; then
  scripts/build-server.sh
fi
BIN=target/debug/kubernaut-context

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kn-holmes.XXXXXX")
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
TOKEN="holmes-test-token-$(date +%s)-$$"
VARIANTS="$WORK/variants"
mkdir -p "$VARIANTS"

echo "==> generating with $BIN toolset / manifests"
gen() { local out=$1; shift; "$BIN" toolset "$@" --output "$VARIANTS/$out"; }
genm() { local out=$1; shift; "$BIN" manifests "$@" --output "$VARIANTS/$out"; }

# Loading variants (defaults of every switch).
gen toolset_default.yaml
gen toolset_builtin.yaml --builtin-toolsets
gen config_builtin.yaml --builtin-toolsets --config-snippet
gen toolset_minimal.yaml --no-kubernetes --no-prometheus
gen toolset_alertmanager.yaml --alertmanager-url http://127.0.0.1:9093 --prometheus-url http://127.0.0.1:9090
gen toolset_lambda_token.yaml --context-mode lambda --require-token \
  --health-url https://health.example.com --discover-url https://discover.example.com \
  --action-history-url https://history.example.com --patterns-url https://patterns.example.com
# Live variants: point at the test server (lambda mode: every function URL is the server).
gen toolset_live_combined.yaml --context-url "$BASE"
gen toolset_live_lambda.yaml --context-mode lambda --require-token \
  --health-url "$BASE" --discover-url "$BASE" --action-history-url "$BASE/" --patterns-url "$BASE"
gen toolset_live_builtin.yaml --builtin-toolsets --context-url "$BASE"
# MCP and http transports (their own checks, tests/holmes/test_mcp.py).
MCPV="$WORK/mcp"
mkdir -p "$MCPV"
"$BIN" toolset --transport mcp --require-token --no-kubernetes --no-prometheus \
  --context-url "$BASE" --output "$MCPV/mcp.yaml"
"$BIN" toolset --transport http --require-token --no-kubernetes --no-prometheus \
  --context-url "$BASE" --output "$MCPV/http.yaml"
# The toolset inside the manifests' ConfigMap, as HolmesGPT's server loads it.
genm manifests_default.yaml
genm manifests_builtin.yaml --builtin-toolsets --deploy-context-api --require-token

echo "==> starting $BIN serve on $BASE"
KUBERNAUT_CONTEXT_TOKENS="$TOKEN" "$BIN" serve --addr "127.0.0.1:$PORT" --store local \
  --data-dir "$WORK/data" --require-read-auth --site-root "$WORK/site" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  if curl -sf "$BASE/api/v1/context/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "server exited:" >&2; cat "$WORK/server.log" >&2; exit 1
  fi
  sleep 0.2
done
curl -sf "$BASE/api/v1/context/health" >/dev/null || { echo "server did not become healthy" >&2; cat "$WORK/server.log" >&2; exit 1; }

if "$BIN" toolset --help >/dev/null 2>&1; then
  echo "==> the HTTP and CLI doors give byte-identical output"
  same() {  # same NAME CLI-ARGS... -- GET-QUERY POST-JSON [POST-QUERY]
    local name=$1; shift
    local args=() q j pq
    while [ "$1" != "--" ]; do args+=("$1"); shift; done
    q=$2; j=$3; pq=${4:-}
    "$BIN" "${args[@]}" > "$WORK/cli.out"
    curl -sS --fail-with-body "$BASE/api/v1/generate/$name?$q" > "$WORK/get.out"
    curl -sS --fail-with-body -H 'Content-Type: application/json' -d "$j" \
      "$BASE/api/v1/generate/$name?$pq" > "$WORK/post.out"
    if cmp -s "$WORK/cli.out" "$WORK/get.out" && cmp -s "$WORK/cli.out" "$WORK/post.out"; then
      echo "ok   $name: ${args[*]}"
    else
      echo "FAIL $name: CLI, GET and POST differ for ${args[*]}" >&2
      diff "$WORK/cli.out" "$WORK/get.out" >&2 || true
      diff "$WORK/cli.out" "$WORK/post.out" >&2 || true
      exit 1
    fi
  }
  same toolset toolset -- "" '{}'
  same toolset toolset --context-url http://ctx.example.com:8091 --no-kubernetes -- \
    "context_url=http%3A%2F%2Fctx.example.com%3A8091&kubernetes=false" \
    '{"context_url":"http://ctx.example.com:8091","kubernetes":false}'
  same toolset toolset --builtin-toolsets --config-snippet -- "builtin_toolsets=true&part=config" '{"builtin_toolsets":true}' part=config
  same manifests manifests --namespace ops --deploy-context-api --require-token -- \
    "namespace=ops&deploy_context_api=true&require_token=true" \
    '{"namespace":"ops","deploy_context_api":true,"require_token":true}'
  same toolset toolset --transport mcp --require-token -- "transport=mcp&require_token=true" \
    '{"transport":"mcp","require_token":true}'
  same manifests manifests --transport http -- "transport=http" '{"transport":"http"}'
  same podman podman --question "it's \$(id)" -- "question=it%27s%20%24%28id%29" '{"question":"it'"'"'s $(id)"}'
fi

echo "==> HolmesGPT 0.45.0 checks"
set +e
KN_VARIANTS="$VARIANTS" KN_BASE_URL="$BASE" KN_TOKEN="$TOKEN" "$PY" tests/holmes/test_toolsets.py
rc=$?
if [ $rc -eq 0 ]; then
  echo "==> HolmesGPT 0.45.0 with the MCP and http transports"
  KN_MCP_FILE="$MCPV/mcp.yaml" KN_HTTP_FILE="$MCPV/http.yaml" KN_HTTP_BASE="$BASE" \
    KN_SEED_URL="$BASE" KN_TOKEN="$TOKEN" KN_LABEL=server KN_ASK=1 "$PY" tests/holmes/test_mcp.py
  rc=$?
fi
set -e
if [ $rc -ne 0 ]; then
  echo "---- server log (last 40 lines)" >&2
  tail -n 40 "$WORK/server.log" >&2
fi
exit $rc
