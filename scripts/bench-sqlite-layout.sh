#!/usr/bin/env bash
# Prints what the embedded store's layout costs on an imported history, with sqlite3:
#   - the build time of the three low-cardinality history indexes (kind, status,
#     action_type), and the covering ts index walk that would replace them;
#   - the insert time and size of the rows under 4, 8 and 16 KiB pages (fresh WAL files
#     holding only `traces` and its action_id key), then the covering ts index build.
# Usage: scripts/bench-sqlite-layout.sh DATA_DIR   (a store filled by
#        `kubernaut-context import --data-dir DATA_DIR synth.ndjson`; its indexes are
#        dropped and built again, its rows are not changed). Needs the sqlite3 CLI and
#        free disk of about three times the store's file. ROUNDS=2 repeats the page sizes.
set -euo pipefail
dir=${1:?usage: $0 DATA_DIR}
db="$dir/context.db"
[ -f "$db" ] || { echo "no $db: import a history first" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "sqlite3 is not installed (apt install sqlite3)" >&2; exit 2; }
rounds=${ROUNDS:-1}
work=$(mktemp -d "${TMPDIR:-/tmp}/layout.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "== low-cardinality history indexes (drop, then build; threads=2)"
for ix in kind status action_type; do
  t=$(printf '%s\n' "PRAGMA threads=2;" "PRAGMA cache_size=-262144;" \
      "DROP INDEX IF EXISTS traces_$ix;" ".timer on" \
      "CREATE INDEX traces_$ix ON traces ($ix, ts, action_id);" \
      | sqlite3 "$db" | grep '^Run Time' | tail -1)
  echo "traces_$ix: $t"
done
echo "== the covering ts index walked instead"
rare=$(sqlite3 "$db" "SELECT status FROM traces INDEXED BY traces_status GROUP BY status ORDER BY count(*) LIMIT 1;")
for q in "kind = 'NoSuchKind'" "status = '$rare'"; do
  t=$(printf '%s\n' ".timer on" \
      "SELECT count(*) FROM (SELECT body FROM traces INDEXED BY traces_ts WHERE $q ORDER BY ts DESC, action_id DESC LIMIT 50);" \
      | sqlite3 "$db" | grep '^Run Time')
  echo "page of 50, $q: $t"
done

echo "== rows under each page size (one transaction; then the covering ts index)"
for round in $(seq "$rounds"); do
  for ps in 4096 8192 16384; do
    f="$work/p$ps.db"
    rm -f "$f" "$f-wal" "$f-shm"
    out=$(printf '%s\n' "PRAGMA page_size=$ps;" "PRAGMA journal_mode=WAL;" \
      "PRAGMA synchronous=NORMAL;" "PRAGMA cache_size=-262144;" \
      "CREATE TABLE traces (id INTEGER PRIMARY KEY, action_id TEXT NOT NULL UNIQUE, ts INTEGER NOT NULL, namespace TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, alert_name TEXT NOT NULL, signature TEXT NOT NULL, workflow_id TEXT, action_type TEXT NOT NULL, status TEXT NOT NULL, body TEXT NOT NULL, eff REAL, replicas INTEGER);" \
      "ATTACH '$db' AS src;" ".timer on" \
      "INSERT INTO traces SELECT id, action_id, ts, namespace, kind, name, alert_name, signature, workflow_id, action_type, status, body, eff, replicas FROM src.traces ORDER BY id;" \
      ".timer off" "SELECT 'pages ' || page_count FROM pragma_page_count;" ".timer on" \
      "CREATE INDEX traces_ts ON traces (ts, action_id, action_type, status, eff, replicas, alert_name, namespace, kind, name, signature);" \
      | sqlite3 "$f" | grep -v '^wal$' | tr '\n' ' ')
    echo "round $round, page size $ps: $out"
    rm -f "$f" "$f-wal" "$f-shm"
  done
done
