#!/usr/bin/env bash
# Prints what the embedded store's layout costs on an imported history, with sqlite3:
#   - the build time of the three low-cardinality history indexes (kind, status,
#     action_type; a store of schema 6 has no kind and status indexes: schema 5's are
#     built, timed and dropped), and the covering ts index walk that replaces them (each
#     query twice: right after the builds, then with its pages cached);
#   - the build time of the covering name index under the sorter's settings (temporary
#     files in memory or on disk, page cache, helper threads: stores/local/src/schema.rs,
#     INDEX_BUILD_CACHE_KIB);
#   - the insert time and page count of the rows under 4, 8 and 16 KiB pages (fresh WAL
#     files holding only `traces` and its action_id key), then the covering ts index build.
#   - the roll-up of the newest day's day rows from its hour rows (stores/local/src/
#     writes.rs, roll_up_days: a pass over the bucket table), in a transaction rolled back.
# Table and index definitions are read from the store itself (stores/local/src/schema.rs).
# Usage: scripts/bench-sqlite-layout.sh DATA_DIR   (a store filled by
#        `kubernaut-context import --data-dir DATA_DIR synth.ndjson`; its indexes are
#        dropped and built again, its rows are not changed). Needs the sqlite3 CLI and free
#        disk of about the store's file. ROUNDS=2 repeats the page sizes.
set -euo pipefail
dir=${1:?usage: $0 DATA_DIR}
db="$dir/context.db"
[ -f "$db" ] || { echo "no $db: import a history first" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "sqlite3 is not installed (apt install sqlite3)" >&2; exit 2; }
rounds=${ROUNDS:-1}
work=$(mktemp -d "${TMPDIR:-/tmp}/layout.XXXXXX")
trap 'rm -rf "$work"' EXIT
definition() { sqlite3 "$db" "SELECT sql FROM sqlite_master WHERE name = '$1';"; }
timed() { grep '^Run Time' | sed 's/Run Time: //' | paste -sd' '; }

echo "== low-cardinality history indexes (drop, then build; threads=2)"
for col in kind status action_type; do
  ix=traces_$col
  sql=$(definition "$ix")
  if [ -n "$sql" ]; then
    t=$(printf '%s\n' "PRAGMA threads=2;" "PRAGMA cache_size=-262144;" "DROP INDEX $ix;" \
        ".timer on" "$sql;" | sqlite3 "$db" | timed)
  else
    # Schema 6 has no kind and status indexes: build the one schema 5 had, then drop it.
    t=$(printf '%s\n' "PRAGMA threads=2;" "PRAGMA cache_size=-262144;" ".timer on" \
        "CREATE INDEX $ix ON traces ($col, ts, action_id);" ".timer off" "DROP INDEX $ix;" \
        | sqlite3 "$db" | timed)
  fi
  echo "$ix: $t"
done

echo "== the covering name index under the sorter's settings (drop, then build)"
name_index=$(definition traces_name)
for setting in "MEMORY 262144 2" "MEMORY 4096 2" "FILE 4096 0" "FILE 262144 2" "FILE 4096 2"; do
  set -- $setting
  t=$(printf '%s\n' "PRAGMA temp_store=$1;" "PRAGMA cache_size=-$2;" "PRAGMA threads=$3;" \
      "DROP INDEX traces_name;" ".timer on" "$name_index;" | sqlite3 "$db" | grep -v '^[0-9]*$' | timed)
  echo "temp_store=$1 cache=$2 KiB threads=$3: $t"
done

echo "== a page of 50 walking the covering ts index instead (first, again)"
rare=$(sqlite3 "$db" "SELECT status FROM traces GROUP BY status ORDER BY count(*) LIMIT 1;")
for q in "kind = 'NoSuchKind'" "status = '$rare'"; do
  page="SELECT count(*) FROM (SELECT body FROM traces INDEXED BY traces_ts WHERE $q
        ORDER BY ts DESC, action_id DESC LIMIT 50);"
  echo "$q: $(printf '%s\n' ".timer on" "$page" "$page" | sqlite3 "$db" | timed)"
done

echo "== rows under each page size (one transaction; then the covering ts index)"
table=$(definition traces)
ts_index=$(definition traces_ts)
for round in $(seq "$rounds"); do
  for ps in 4096 8192 16384; do
    f="$work/p$ps.db"
    out=$(printf '%s\n' "PRAGMA page_size=$ps;" "PRAGMA journal_mode=WAL;" \
      "PRAGMA synchronous=NORMAL;" "PRAGMA cache_size=-262144;" "$table;" \
      "ATTACH '$db' AS src;" ".timer on" \
      "INSERT INTO main.traces SELECT * FROM src.traces ORDER BY id;" ".timer off" \
      "SELECT 'pages ' || page_count FROM pragma_page_count;" ".timer on" "$ts_index;" \
      | sqlite3 "$f" | grep -v '^wal$' | sed 's/Run Time: //' | paste -sd' ')
    echo "round $round, page size $ps: insert, pages, ts index: $out"
    rm -f "$f" "$f-wal" "$f-shm"
  done
done

echo "== rolling the newest day up from its hours (roll_up_days; rolled back)"
day=86400000000
to=$(sqlite3 "$db" "SELECT MAX(start) - MAX(start) % $day + $day FROM buckets WHERE span = 0;")
from=$((to - day))
printf '%s\n' "BEGIN;" ".timer on" \
  "DELETE FROM buckets WHERE span = 1 AND start >= $from AND start < $to;" \
  "INSERT INTO buckets (signature, span, start, action_type, traces, completed, failed,
     rolled_back, eff_sum, eff_n)
   SELECT signature, 1, start - start % $day AS d, action_type, SUM(traces), SUM(completed),
     SUM(failed), SUM(rolled_back), SUM(eff_sum), SUM(eff_n)
   FROM buckets WHERE span = 0 AND start >= $from AND start < $to
   GROUP BY signature, d, action_type;" \
  ".timer off" "SELECT 'bucket rows ' || COUNT(*) FROM buckets;" "ROLLBACK;" \
  | sqlite3 "$db" | sed 's/Run Time: //' | paste -sd' ' | sed 's/^/delete, insert: /'
