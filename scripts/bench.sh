#!/usr/bin/env bash
# `make bench`: performance figures (not pass/fail). Everything runs on this machine
# against 127.0.0.1 only, every load bounded in time (wrk -d) and count (ingest quotas).
#
#   1. pattern analysis latency (p50/p90/p99) at 10k, 100k and 1M traces in the embedded
#      store, and store ingest traces/s (stores/local/examples/pattern_bench.rs), by a
#      new process and again by one that first analysed every signature (a running
#      server: no first touches of the mapped file while measuring); then the
#      store's own ingest rate with 8 concurrent writers of 100-trace batches, no HTTP
#      (stores/local/examples/ingest_bench.rs: time-ordered, random ids, shuffled);
#   1c. a production-shaped history (core's synth example: random ids, Zipf-skewed
#      signatures, 30 days) through `kubernaut-context import` (traces/s, bulk loading),
#      then the overview on it (stores/local/examples/overview_bench.rs), against the
#      window counts of every signature it read before;
#   2. the combined release server (target/release/kubernaut-context, embedded store):
#      a. batched HTTP ingest (POST batches of 100 over BENCH_INGEST_CONNS=8 connections,
#         scripts/bench-ingest.py), traces/s by wall clock: time-ordered timestamps (live
#         ingest) and shuffled ones (a backfill, the worst case)
#      b. 64 connections for BENCH_SECONDS each: health, a 50-row filtered history page,
#         pattern analysis, and a mixed workload (80% reads / 20% single-trace writes):
#         requests/s, p50/p99/p99.9, errors, peak RSS (VmHWM, reset before each run);
#   3. `kubernaut-context import FILE` of an NDJSON file (shuffled, then time-ordered
#      timestamps), traces/s;
#   3b. batched HTTP ingest into fresh stores, one server each: 8 and 16 connections,
#      100 000 and 200 000 time-ordered traces (quick: 50 000), traces/s and the
#      CPU per trace of the store writer thread and of the whole server (from /proc).
#
# Environment:
#   BENCH_QUICK=1     10 s per load run, 10k/100k traces for pattern analysis, smaller ingest
#   BENCH_SECONDS     seconds per load run (default 30, quick 10)
#   BENCH_SIZES       pattern_bench sizes (default 10000,100000,1000000; quick 10000,100000)
#   BENCH_OUT         also write the report to this file (default target/bench/report.txt)
#   BENCH_FRESH_SIZES store sizes of part 3b (default "100000 200000", quick 50000)
#   BENCH_OVERVIEW_TRACES history size of part 1c (default 1000000, quick 100000)
#   BENCH_PARTS       all (default), pattern (1.), server (2. and 3.), dynamodb (4.), lambda (5.),
#                     peer (6.: the PostgreSQL peer, scripts/bench-peer.sh and its variables)
#                     mcp (7.: POST /mcp tools/call vs the plain endpoint) or ingest (3b. alone)
#   BENCH_MCP_TRACES  history size of part 7 (default 100000, quick 20000)
#   BENCH_NO_BUILD=1  use the binaries already in target/release
#   BENCH_BIN=PATH    the server binary to measure (default target/release/kubernaut-context;
#                     e.g. an older build, to compare two in the same minutes)
# Tools: wrk (apt, installed here if missing). Builds the release server and the
# pattern_bench example (slow once). Results on a shared machine are pessimistic.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$HOME/.cargo/bin:$PATH"

QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
  SECS=${BENCH_SECONDS:-10}
  SIZES=${BENCH_SIZES:-10000,100000}
  HTTP_TRACES=${BENCH_HTTP_TRACES:-50000}
  IMPORT_TRACES=${BENCH_IMPORT_TRACES:-50000}
else
  SECS=${BENCH_SECONDS:-30}
  SIZES=${BENCH_SIZES:-10000,100000,1000000}
  HTTP_TRACES=${BENCH_HTTP_TRACES:-200000}
  IMPORT_TRACES=${BENCH_IMPORT_TRACES:-200000}
fi
CONNS=64
OUT=${BENCH_OUT:-target/bench/report.txt}
mkdir -p "$(dirname "$OUT")"
exec > >(tee "$OUT") 2>&1

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# ------------------------------------------------------------------ tools and builds
if ! command -v wrk >/dev/null; then
  step "installing wrk (apt)"
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >/dev/null
fi
part() { [ "${BENCH_PARTS:-all}" = all ] || [ "${BENCH_PARTS:-all}" = "$1" ]; }
if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
  if part server || part pattern || part ingest; then
    step "building (release): server"
    cargo build --release -q -p kubernaut-context-server
  fi
  if part mcp; then
    step "building (release): mcp_bench_server"
    cargo build --release -q -p kubernaut-context-api --example mcp_bench_server
  fi
  if part pattern; then
    step "building (release): pattern_bench, ingest_bench, overview_bench, synth"
    cargo build --release -q -p kubernaut-context-store-local --example pattern_bench \
      --example ingest_bench --example overview_bench
    cargo build --release -q -p kubernaut-context-core --example synth
  fi
fi
BIN=${BENCH_BIN:-$ROOT/target/release/kubernaut-context}
PB=$ROOT/target/release/examples/pattern_bench
IB=$ROOT/target/release/examples/ingest_bench
OB=$ROOT/target/release/examples/overview_bench
SYNTH=$ROOT/target/release/examples/synth

step "machine"
echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "commit:  $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "server:  $BIN"
echo "cpus:    $(nproc) ($(lscpu | sed -n 's/^Model name: *//p' | head -n1))"
echo "memory:  $(free -g | awk '/^Mem:/ {print $2 " GiB total, " $7 " GiB available"}')"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min; other processes share the machine)"
echo "mode:    $([ "$QUICK" = 1 ] && echo quick || echo full), $SECS s per load run, $CONNS connections"

TMP=$(mktemp -d -t kctx-bench.XXXXXX)
SERVER_PID=
. scripts/lib-server.sh
SERVER_BIN=$BIN
MB_PID=
cleanup() {
  stop_server
  if [ -n "$MB_PID" ]; then kill "$MB_PID" 2>/dev/null || true; wait "$MB_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

# ------------------------------------------------------------------ 1. pattern analysis
if part pattern; then
  step "1. pattern analysis vs. history size (embedded store, in process)"
  "$PB" --sizes "$SIZES" --signatures 2000 --queries 4000 --batch 1000 --dir "$TMP/pattern-store"
  # The same store from a second process that first analyses every signature once: a
  # server that has been running (its mapped pages touched), without first-touch faults.
  "$PB" --sizes "${SIZES##*,}" --signatures 2000 --queries 4000 --warm 2000 --dir "$TMP/pattern-store"
  rm -rf "$TMP/pattern-store"
  step "1b. store ingest in process: 8 writers x batches of 100 ($HTTP_TRACES / 2 traces each run)"
  for args in "--order time --ids seq" "--order time --ids random" "--order shuffled --ids seq"; do
    # shellcheck disable=SC2086
    "$IB" --traces "$((HTTP_TRACES / 2))" --tasks 8 --batch 100 $args --dir "$TMP/ingest-store"
    rm -rf "$TMP/ingest-store"
  done
  OV_TRACES=${BENCH_OVERVIEW_TRACES:-$([ "$QUICK" = 1 ] && echo 100000 || echo 1000000)}
  step "1c. import and overview on a production-shaped history ($OV_TRACES traces, core's synth example)"
  "$SYNTH" --traces "$OV_TRACES" --seed 14 >"$TMP/synth.ndjson"
  t0=$(date +%s.%N)
  "$BIN" import --data-dir "$TMP/ov-store" "$TMP/synth.ndjson" 2>/dev/null
  t1=$(date +%s.%N)
  python3 -c "import sys; n, a, b = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]); print(f'import: {n} traces in {b - a:.1f} s = {n / (b - a):,.0f} traces/s'.replace(',', ' '))" "$OV_TRACES" "$t0" "$t1"
  rm -f "$TMP/synth.ndjson"
  "$OB" --dir "$TMP/ov-store" --rounds 200 2>/dev/null
  rm -rf "$TMP/ov-store"
fi

# ------------------------------------------------------------------ 4. DynamoDB
if part dynamodb; then
  step "4. DynamoDB requests and capacity per endpoint (moto on 127.0.0.1; the adapter's counters)"
  scripts/with-moto.sh cargo run -q -p kubernaut-context-store-dynamodb --example dynamo_bench -- \
    --traces "${BENCH_DYNAMO_TRACES:-600}" --repeat 5
fi

# ------------------------------------------------------------------ 5. Lambda
if part lambda; then
  step "5. Lambda functions: bootstrap size and cold start (scripts/lambda-bench.sh)"
  scripts/lambda-bench.sh
fi
# ------------------------------------------------------------------ 6. PostgreSQL peer
if part peer; then
  step "6. the PostgreSQL peer: Kubernaut's procedures and the simple indexed SQL vs ours (scripts/bench-peer.sh)"
  BENCH_BIN=$BIN scripts/bench-peer.sh
fi
# ------------------------------------------------------------------ 7. MCP
if part mcp; then
  step "7. MCP vs plain HTTP: pattern analysis of the busiest signature (release router, embedded store)"
  MCP_TRACES=${BENCH_MCP_TRACES:-$([ "$QUICK" = 1 ] && echo 20000 || echo 100000)}
  "$ROOT/target/release/examples/mcp_bench_server" --port "$(free_port)" --traces "$MCP_TRACES" \
    --dir "$TMP/mcp-store" >"$TMP/mcp.out" 2>&1 &
  MB_PID=$!
  for _ in $(seq 1 600); do grep -qs '^ready ' "$TMP/mcp.out" && break; sleep 0.5; done
  read -r _ MB_SIG MB_PORT MB_OCC <"$TMP/mcp.out"
  echo "history: $MCP_TRACES traces; signature ${MB_SIG:0:12}... has $MB_OCC traces in the 30-day window"
  python3 scripts/bench-mcp.py "http://127.0.0.1:$MB_PORT" "$MB_SIG" "$SECS" 4
  kill "$MB_PID" 2>/dev/null || true; wait "$MB_PID" 2>/dev/null || true; MB_PID=
fi
# ------------------------------------------------------------------ 3b. ingest, fresh stores
# fresh_ingest: part 3b (also alone: BENCH_PARTS=ingest).
fresh_ingest() {
  if [ "$QUICK" = 1 ]; then FRESH_SIZES=${BENCH_FRESH_SIZES:-50000}; else FRESH_SIZES=${BENCH_FRESH_SIZES:-100000 200000}; fi
  step "3b. HTTP ingest into fresh stores (one server each): 8 and 16 connections x $FRESH_SIZES time-ordered traces"
  # writer_cpu PID: CPU ticks (user + system) of the server's store-writer thread so far.
  writer_cpu() {
    local t
    for t in /proc/"$1"/task/*; do
      if [ "$(cat "$t/comm")" = store-writer ]; then awk '{print $14 + $15}' "$t/stat"; return; fi
    done
    echo 0
  }
  # server_cpu PID: CPU ticks (user + system) of the whole server process so far.
  server_cpu() { awk '{print $14 + $15}' /proc/"$1"/stat; }
  for n in $FRESH_SIZES; do
    for c in 8 16; do
      rm -rf "$TMP/fresh-data"
      KUBERNAUT_CONTEXT_TOKENS=$TOKEN RUST_LOG=warn start_server "$TMP/fresh-data" "$(free_port)" --store local
      cpu0=$(writer_cpu "$SERVER_PID"); all0=$(server_cpu "$SERVER_PID")
      res=$(python3 scripts/bench-ingest.py "$SERVER_URL" "$TOKEN" "$n" "$c" "fresh-$RANDOM" time | sed -n 's/^RESULT //p')
      cpu1=$(writer_cpu "$SERVER_PID"); all1=$(server_cpu "$SERVER_PID")
      stop_server
      [ -n "$res" ] || { cat "$TMP/fresh-data.server.log"; echo "ingest run printed no result"; exit 1; }
      python3 -c '
import json, sys
r = json.loads(sys.argv[1]); n, c = int(sys.argv[2]), int(sys.argv[3])
tick = 1e6 / float(sys.argv[6]) / n
us = (float(sys.argv[5]) - float(sys.argv[4])) * tick
all_us = (float(sys.argv[8]) - float(sys.argv[7])) * tick
print("%7d traces, %2d connections: %6.0f traces/s; per batch p50 %.1f ms, p99 %.1f ms; errors %d; CPU per trace: writer %.0f us, server %.0f us"
      % (n, c, r["traces_per_s"], r["p50_ms"], r["p99_ms"], r["errors"], us, all_us))
' "$res" "$n" "$c" "$cpu0" "$cpu1" "$(getconf CLK_TCK)" "$all0" "$all1"
    done
  done
  rm -rf "$TMP/fresh-data"
}
if [ "${BENCH_PARTS:-all}" = ingest ]; then
  TOKEN=$(python3 -c 'import secrets; print(secrets.token_hex(20))')
  fresh_ingest
  exit 0
fi
part server || exit 0

# ------------------------------------------------------------------ 2. the server
TOKEN=$(python3 -c 'import secrets; print(secrets.token_hex(20))')
KUBERNAUT_CONTEXT_TOKENS=$TOKEN RUST_LOG=warn start_server "$TMP/server-data" "$(free_port)" --store local
URL=$SERVER_URL

reset_peak() { echo 5 > "/proc/$SERVER_PID/clear_refs" 2>/dev/null || true; }
peak_rss() { awk '/^VmHWM/ {printf "%.0f MiB", $2/1024}' "/proc/$SERVER_PID/status"; }

declare -a ROWS=()
# run_wrk LABEL MODE PATHS_FILE [extra wrk args]: one bounded wrk run; adds a table row.
run_wrk() {
  local label=$1 mode=$2 paths=$3; shift 3
  reset_peak
  local out
  out=$(WRK_MODE=$mode WRK_PATHS=$paths WRK_TOKEN=$TOKEN WRK_PREFIX="$mode$RANDOM" \
    wrk -t2 -c"$CONNS" -d"${SECS}s" --timeout 10s -s scripts/bench-wrk.lua "$@" "$URL" 2>&1)
  local res
  res=$(echo "$out" | sed -n 's/^RESULT //p')
  if [ -z "$res" ]; then echo "$out"; return 1; fi
  ROWS+=("$(python3 -c '
import json, sys
r = json.loads(sys.argv[2])
errs = r["non2xx"] + r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["timeouts"]
print("%-34s %9.0f %8.2f %8.2f %9.2f %8.1f %7d %9s" % (sys.argv[1], r["rps"], r["p50_ms"], r["p99_ms"], r["p999_ms"], r["max_ms"], errs, sys.argv[3]))
' "$label" "$res" "$(peak_rss)")")
  echo "${ROWS[-1]}"
}

INGEST_CONNS=${BENCH_INGEST_CONNS:-8}
# ingest ORDER N: one bench-ingest.py run, printed as one line.
ingest() {
  local order=$1 n=$2 res
  reset_peak
  res=$(python3 scripts/bench-ingest.py "$URL" "$TOKEN" "$n" "$INGEST_CONNS" "ing-$order-$RANDOM" "$order" | sed -n 's/^RESULT //p')
  [ -n "$res" ] || { echo "ingest run printed no result"; return 1; }
  python3 -c '
import json, sys
r = json.loads(sys.argv[1])
print("%-9s %d batches (%d traces) in %.1f s: %.0f traces/s; per batch p50 %.1f ms, p99 %.1f ms; errors %d; server peak RSS %s"
      % (r["order"], r["batches"], r["traces"], r["seconds"], r["traces_per_s"], r["p50_ms"], r["p99_ms"], r["errors"], sys.argv[2]))
' "$res" "$(peak_rss)"
}
step "2a. batched HTTP ingest: POST batches of 100, $INGEST_CONNS connections (time-ordered: $HTTP_TRACES traces; shuffled timestamps: $((HTTP_TRACES / 4)))"
ingest time "$HTTP_TRACES"
ingest shuffled "$((HTTP_TRACES / 4))"
STORED=$(curl -fs "$URL/api/v1/context/discover" | python3 -c 'import json,sys; print(next(t["record_count"] for t in json.load(sys.stdin)["available_types"] if t["name"]=="action-history"))')
echo "store now holds $STORED traces"

# Paths for the read runs, from what is stored.
python3 - "$URL" "$TMP" <<'PY'
import json, sys, urllib.request
url, tmp = sys.argv[1], sys.argv[2]
get = lambda p: json.load(urllib.request.urlopen(url + p))
with open(f"{tmp}/health.paths", "w") as f:
    f.write("/api/v1/context/health\n")
with open(f"{tmp}/history.paths", "w") as f:
    for i in range(50):
        f.write(f"/api/v1/context/action-history?namespace=ns-{i:02d}&status=completed&limit=50\n")
sigs = [s["signature"] for s in get("/api/v1/context/patterns?limit=200&window=365d")["signatures"]]
with open(f"{tmp}/patterns.paths", "w") as f:
    for s in sigs:
        f.write(f"/api/v1/context/patterns/{s}?window=30d\n")
ids = [a["action_id"] for a in get("/api/v1/context/action-history?limit=200")["actions"]]
with open(f"{tmp}/mixed.paths", "w") as f:
    for i in range(200):
        f.write(f"/api/v1/context/action-history?namespace=ns-{i % 50:02d}&limit=50\n")
        f.write(f"/api/v1/context/action-history/{ids[i % len(ids)]}\n")
        f.write(f"/api/v1/context/patterns/{sigs[i % len(sigs)]}?window=30d\n")
        f.write(f"/api/v1/context/action-history?signature={sigs[i % len(sigs)]}&limit=50\n")
print(f"read paths: 50 history filters, {len(sigs)} signatures, {len(ids)} trace ids")
PY

step "2b. load: $CONNS connections, ${SECS} s each (wrk -t2)"
printf '%-34s %9s %8s %8s %9s %8s %7s %9s\n' run "req/s" "p50 ms" "p99 ms" "p99.9 ms" "max ms" errors "peak RSS"
run_wrk "health" get "$TMP/health.paths"
run_wrk "history page (50 rows, 2 filters)" get "$TMP/history.paths"
run_wrk "pattern analysis (30d window)" get "$TMP/patterns.paths"
run_wrk "mixed 80% read / 20% write" mixed "$TMP/mixed.paths"
stop_server

# ------------------------------------------------------------------ 3. import
step "3. kubernaut-context import FILE ($IMPORT_TRACES traces, NDJSON; shuffled, then time-ordered timestamps)"
for order in shuffled time; do
python3 scripts/bench-ingest.py --ndjson "$TMP/import.ndjson" "$IMPORT_TRACES" imp "$order"
rm -rf "$TMP/import-data"
start=$(date +%s.%N)
/usr/bin/time -f "%M" -o "$TMP/import.rss" "$BIN" import "$TMP/import.ndjson" --store local --data-dir "$TMP/import-data" 2>&1 | tail -n 3
end=$(date +%s.%N)
python3 -c "
secs = $end - $start
print(f'import ($order): {$IMPORT_TRACES} traces in {secs:.1f} s: {$IMPORT_TRACES / secs:.0f} traces/s; peak RSS {int(open(\"$TMP/import.rss\").read().split()[-1]) / 1024:.0f} MiB')
"
done

# ------------------------------------------------------------------ 3b. ingest, fresh stores
fresh_ingest

step "summary (also in $OUT)"
printf '%-34s %9s %8s %8s %9s %8s %7s %9s\n' run "req/s" "p50 ms" "p99 ms" "p99.9 ms" "max ms" errors "peak RSS"
printf '%s\n' "${ROWS[@]}"
echo "targets (issue #3): pattern analysis p99 <= 2 ms at 1M traces; >= 20000 req/s for a 50-row history page on 2 cores; batched ingest >= 20000 traces/s"
