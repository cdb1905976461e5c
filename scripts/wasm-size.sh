#!/usr/bin/env bash
# Builds the release browser bundle (`cargo xtask build --release --frontend-only`: the wasm with the
# wasm-release profile) and prints the gzipped size of the wasm bundle, against the
# 300 KB budget (exit 1 when over). `make test` runs it after the site build; a warm
# build takes about a minute, a cold one several (fat LTO).
# Note: it replaces target/site/pkg with the release bundle (the debug server serves it
# just as well; `cargo xtask build` puts the debug bundle back).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PWD/node_modules/.bin:$PATH
budget=${WASM_BUDGET_KB:-300}
if [ "${1:-}" != "--no-build" ]; then
  cargo xtask build --release --frontend-only
fi
status=0
for f in target/site/pkg/*.wasm; do
  raw=$(stat -c %s "$f")
  gz=$(gzip -9 -c "$f" | wc -c)
  printf '%s: %d KB raw, %d KB gzipped = %d bytes (budget %d KB = %d bytes)\n' \
    "$f" $((raw / 1024)) $((gz / 1024)) "$gz" "$budget" $((budget * 1024))
  if [ "$gz" -gt $((budget * 1024)) ]; then
    echo "over budget by $((gz - budget * 1024)) bytes: keep new interactive parts small islands (docs/WEBAPP.md)" >&2
    status=1
  fi
done
exit $status
