#!/usr/bin/env bash
# Benchmark (not a test) of the Lambda functions:
#   - stripped bootstrap size per function: the arm64 bootstraps of `make lambda`
#     (target/lambda/<function>/bootstrap, profile lambda-release; built if missing,
#     SKIP_ARM64=1 skips them);
#   - cold start of all six functions: time from process start to the first answered
#     request under a local Lambda Runtime API emulator (functions/bench/cold_start.py):
#     median / min / max of RUNS fresh processes of the x86_64 build of the same code and
#     profile (`cargo build --profile lambda-release`, target/lambda-release/) — the arm64
#     bootstrap cannot run on this x86_64 machine — for a request answered without the
#     store (404) and for a real request of each function against a local DynamoDB (moto):
#     health, discover, a history page, a pattern list, and a POST of a new valid trace.
# Prints the machine (nproc, lscpu, load) and date; writes bench-results/lambda.json.
#   RUNS=9 scripts/lambda-bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-9}
PROFILE=${PROFILE:-lambda-release}
[ "$RUNS" -ge 5 ] || { echo "RUNS must be at least 5" >&2; exit 2; }
export PATH="$ROOT/.venv/tools/bin:$HOME/.cargo/bin:$PATH"
[ -x .venv/tools/bin/moto_server ] || scripts/ensure-python.sh tools

FUNCTIONS="health discover action-history-read action-history-write patterns mcp"
if [ "${SKIP_ARM64:-0}" != 1 ]; then
  missing=""
  for f in $FUNCTIONS; do [ -f "target/lambda/$f/bootstrap" ] || missing=1; done
  [ -z "$missing" ] || scripts/lambda-build.sh
fi

echo "==> $PROFILE build for this machine (x86_64 cold-start binaries; functions package only)"
cargo build --profile "$PROFILE" -p kubernaut-context-functions --bins

mkdir -p bench-results
echo
echo "==> machine"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "nproc: $(nproc)"
lscpu | head -n 15
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

echo
echo "==> bootstrap sizes (arm64, target/lambda/<function>/bootstrap as built by make lambda)"
printf '%-24s %12s %8s\n' function bytes MiB
for f in $FUNCTIONS; do
  b=target/lambda/$f/bootstrap
  if [ -f "$b" ]; then
    s=$(stat -c %s "$b"); printf '%-24s %12d %8.2f  %s\n' "$f" "$s" "$(echo "$s/1048576" | bc -l)" "$(file -b "$b" | cut -d, -f1-2)"
  else
    printf '%-24s %12s\n' "$f" "(not built)"
  fi
done

echo
echo "==> cold starts: x86_64 $PROFILE binaries (the arm64 bootstraps cannot run on this"
echo "    $(uname -m) machine), $RUNS fresh processes per function and request kind"
scripts/with-moto.sh sh -c '"$0" functions/bench/cold_start.py --bin-dir "target/$2" --runs "$1" --endpoint "$KUBERNAUT_CONTEXT_DYNAMODB_ENDPOINT" --json bench-results/lambda.json' \
  "$ROOT/.venv/tools/bin/python" "$RUNS" "$PROFILE"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
