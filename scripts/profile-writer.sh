#!/usr/bin/env bash
# Where the embedded store's writer thread spends its time under HTTP ingest.
#
# usage: scripts/profile-writer.sh BIN [SECONDS]
#
# Starts BIN (a release build with line tables, e.g. built with
# CARGO_PROFILE_RELEASE_STRIP=false CARGO_PROFILE_RELEASE_DEBUG=line-tables-only) on a
# fresh data directory on 127.0.0.1, sends it 200 000 time-ordered traces over 8
# connections (scripts/bench-ingest.py, as part 3b of make bench), records the writer
# thread with `perf record --call-graph dwarf` for SECONDS (default 8) from the fifth
# second on, and prints the share of its samples under each part of a write: the commit
# (SQLite writing the dirtied pages to the WAL, and their checksums), the trace rows and
# their indexes, the aggregates and the buckets. Needs `perf` (Debian: linux-perf) and
# permission to profile (perf_event_paranoid <= 1, or root). PROFILE_REPORT=PATH keeps
# the whole `perf report`. PROFILE_IMPORT=FILE profiles the writer during
# `BIN import FILE` into a fresh data directory instead (from its fifth second on, while it
# stores: a bulk load of a large file). Figures in docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib-server.sh

BIN=${1:?usage: scripts/profile-writer.sh BIN [SECONDS]}
SECS=${2:-8}
command -v perf >/dev/null || { echo "perf is missing (Debian: apt-get install linux-perf)" >&2; exit 2; }

TMP=$(mktemp -d)
trap 'stop_server; rm -rf "$TMP"' EXIT
if [ -n "${PROFILE_IMPORT:-}" ]; then
  RUST_LOG=warn "$BIN" import --data-dir "$TMP/data" "$PROFILE_IMPORT" >"$TMP/ingest.txt" 2>&1 &
  WORK=$!
  PID=$WORK
else
  TOKEN=$(python3 -c 'import secrets; print(secrets.token_hex(20))')
  KUBERNAUT_CONTEXT_TOKENS=$TOKEN RUST_LOG=warn SERVER_BIN=$BIN start_server "$TMP/data" "$(free_port)" --store local
  python3 scripts/bench-ingest.py "$SERVER_URL" "$TOKEN" 200000 8 "prof-$RANDOM" time >"$TMP/ingest.txt" &
  WORK=$!
  PID=$SERVER_PID
fi
sleep 5
TID=
for t in /proc/"$PID"/task/*; do
  if [ "$(cat "$t/comm")" = store-writer ]; then TID=$(basename "$t"); fi
done
[ -n "$TID" ] || { echo "no store-writer thread in $PID" >&2; exit 1; }
perf record -q -F 299 --call-graph dwarf,32768 -t "$TID" -o "$TMP/perf.data" -- sleep "$SECS" 2>/dev/null
wait "$WORK"
if [ -n "${PROFILE_IMPORT:-}" ]; then
  grep -E "bulk load:|line\(s\)" "$TMP/ingest.txt" || true
else
  sed -n 's/^RESULT //p' "$TMP/ingest.txt"
fi

perf report -i "$TMP/perf.data" --children --sort sym --stdio 2>/dev/null >"$TMP/report.txt"
if [ -n "${PROFILE_REPORT:-}" ]; then cp "$TMP/report.txt" "$PROFILE_REPORT"; fi
python3 - "$TMP/report.txt" <<'EOF'
import re, sys
# Children share (%) of the first report line naming each symbol.
share = {}
for line in open(sys.argv[1]):
    m = re.match(r"\s+([\d.]+)%\s+[\d.]+%\s+\[\.\]\s+(.*)", line)
    if m:
        name = m.group(2).strip()
        share.setdefault(name, float(m.group(1)))

def find(*needles):
    hits = [v for k, v in share.items() if all(n in k for n in needles)]
    return max(hits) if hits else 0.0

rows = [
    ("the whole group commit (run_group)", find("run_group")),
    ("  storing the writes (put_batch)", find("writes", "put_batch")),
    ("    aggregates (AggCache::save)", find("AggCache", "save")),
    # apply_buckets since the bulk load's deferral (bump_buckets is inlined into it).
    ("    hour and day buckets (apply_buckets)", max(find("apply_buckets"), find("bump_buckets"))),
    ("  the commit (sqlite3VdbeHalt)", find("sqlite3VdbeHalt")),
    ("    WAL frames written (walFrames)", find("pagerWalFrames")),
    ("      their checksums (walChecksumBytes)", find("walChecksumBytes")),
    ("      pwrite of the frames (unixWrite)", find("unixWrite")),
]
print("share of the writer thread's samples (children included):")
for label, v in rows:
    print(f"  {label:<42} {v:5.1f}%")
EOF
