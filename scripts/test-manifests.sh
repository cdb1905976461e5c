#!/usr/bin/env bash
# Generated Kubernetes manifests against the Kubernetes OpenAPI schemas: representative
# option sets are generated with `kubernaut-context manifests` and every document is
# validated with kubernetes-validate --strict (unknown fields are errors) for Kubernetes
# 1.33, the API version the generator's k8s-openapi types are built for (feature v1_33).
# Exits non-zero if any document fails. Needs .venv/tools (scripts/ensure-python.sh tools).
set -euo pipefail
cd "$(dirname "$0")/.."
KV=.venv/tools/bin/kubernetes-validate
K8S_VERSION=${K8S_VERSION:-1.33.0}
if [ ! -x "$KV" ]; then
  echo "missing $KV: run scripts/ensure-python.sh tools" >&2
  exit 1
fi

BIN=target/debug/kubernaut-context
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kn-manifests.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

scripts/build-server.sh
gen() { local out=$1; shift; "$BIN" manifests "$@" --output "$WORK/$out"; }

gen default.yaml
gen full.yaml --create-namespace --namespace kubernaut-system --name holmes \
  --deploy-context-api --require-token --openai-api-base http://llm.kubernaut-system.svc:8080/v1 \
  --model openai/gpt-oss-20b --holmes-image registry.example.com/holmes:0.45.0 \
  --context-api-image registry.example.com/kubernaut/context-api:0.1.0
gen builtin.yaml --builtin-toolsets --prometheus-url http://prometheus.monitoring.svc:9090
gen no-kubernetes.yaml --no-kubernetes --no-prometheus
gen lambda.yaml --context-mode lambda --health-url https://h.example.com \
  --discover-url https://d.example.com --action-history-url https://a.example.com \
  --patterns-url https://p.example.com --alertmanager-url http://alertmanager.monitoring.svc:9093
gen mcp.yaml --transport mcp --require-token --deploy-context-api
gen http.yaml --transport http --require-token

status=0
for f in "$WORK"/*.yaml; do
  docs=$(grep -c '^---$' "$f")
  echo "==> $(basename "$f"): $docs documents"
  if ! "$KV" --strict -k "$K8S_VERSION" "$f"; then
    status=1
  fi
  # kubernetes-validate prints one line per document; a count mismatch means a
  # document was skipped (e.g. an unknown kind).
  passed=$("$KV" --strict --no-warn -k "$K8S_VERSION" "$f" 2>&1 | grep -c "^INFO .* passed" || true)
  if [ "$passed" -ne "$docs" ]; then
    echo "FAIL: $passed of $docs documents passed in $(basename "$f")" >&2
    status=1
  fi
done
if [ $status -eq 0 ]; then
  echo "all manifests valid for Kubernetes $K8S_VERSION (strict)"
fi
exit $status
