#!/usr/bin/env bash
# The PostgreSQL peer of `make bench` (scripts/bench.sh part 6; alone: scripts/bench-peer.sh).
# Figures, not pass/fail: docs/PERFORMANCE.md, "Peers: PostgreSQL".
#
# The same production-shaped history (context_core::synth, ending now) in a local
# PostgreSQL, loaded with COPY into Kubernaut's schema, and in a fresh embedded store,
# imported as `kubernaut-context import` does; then the same pattern analyses asked of
# both, interleaved request by request: our analysis in process, Kubernaut's four
# detect_* procedures + get_action_effectiveness, and the simple indexed SQL GROUP BY
# (bench/peer/). The driver is bench/peer/driver (its own Cargo workspace).
#
# Installs PostgreSQL from apt if missing; runs its own cluster in a temporary directory,
# on 127.0.0.1 and a free port (as the `postgres` OS user when run as root), and removes
# it at the end. Nothing else is contacted.
#
# Environment:
#   BENCH_QUICK=1              100 000 traces instead of 1 000 000, fewer requests
#   BENCH_PEER_TRACES=N        history size
#   KUBERNAUT_MIGRATIONS_DIR   a directory with Kubernaut's 001_initial_schema.sql,
#                              002_fix_partitioning.sql and 003_stored_procedures.sql
#                              (jordigilh/kubernaut, commit e95c592a, migrations/): loaded
#                              instead of bench/peer/schema.sql + kubernaut-procedures.sql
#                              (our restatement of them)
#   BENCH_PEER_TIMEOUT_S       statement_timeout of each procedure call (default 60)
#   BENCH_PEER_PROC_BUDGET_S   procedure time per (signatures, window) row before the row's
#                              remaining requests skip the procedures (default 120; quick 30)
#   BENCH_PEER_HOT, BENCH_PEER_HOT_ROUNDS, BENCH_PEER_SAMPLE
#                              hottest signatures, rounds over them, uniform sample size
#   BENCH_PEER_KEEP=1          keep the temporary directory (data files, stores, PG log)
#   BENCH_BIN                  the server binary whose `import` is also timed, when it
#                              exists (default target/release/kubernaut-context)
#   BENCH_NO_BUILD=1           use the driver already built
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
  TRACES=${BENCH_PEER_TRACES:-100000}
  HOT=${BENCH_PEER_HOT:-5}; HOT_ROUNDS=${BENCH_PEER_HOT_ROUNDS:-4}; SAMPLE=${BENCH_PEER_SAMPLE:-60}
  BUDGET=${BENCH_PEER_PROC_BUDGET_S:-30}
else
  TRACES=${BENCH_PEER_TRACES:-1000000}
  HOT=${BENCH_PEER_HOT:-10}; HOT_ROUNDS=${BENCH_PEER_HOT_ROUNDS:-10}; SAMPLE=${BENCH_PEER_SAMPLE:-200}
  BUDGET=${BENCH_PEER_PROC_BUDGET_S:-120}
fi
TIMEOUT=${BENCH_PEER_TIMEOUT_S:-60}

SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1; }
if [ -z "$(pg_bin)" ] || [ ! -x "$(pg_bin)/initdb" ]; then
  echo "installing PostgreSQL (apt)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
fi
PGBIN=$(pg_bin)
# Debian's package may create and start a default cluster; this script never uses it.

DRIVER=$CARGO_TARGET_DIR/release/peer_bench
if [ "${BENCH_NO_BUILD:-0}" != 1 ] || [ ! -x "$DRIVER" ]; then
  echo "building (release): bench/peer/driver"
  cargo build --release -q --manifest-path bench/peer/driver/Cargo.toml
fi

TMP=$(mktemp -d -t kctx-peer.XXXXXX)
chmod 711 "$TMP"
PGDATA=$TMP/pg
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
if [ "$(id -u)" = 0 ]; then
  # initdb refuses root: the cluster belongs to the postgres OS user (the package makes it).
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/sh postgres
  install -d -o postgres -m 700 "$PGDATA" "$TMP/sock" "$TMP/log"
  as_pg() { runuser -u postgres -- "$@"; }
else
  install -d -m 700 "$PGDATA" "$TMP/sock" "$TMP/log"
  as_pg() { "$@"; }
fi
stop_pg() {
  if [ -f "$PGDATA/postmaster.pid" ]; then
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null 2>&1 || true
  fi
  if [ "${BENCH_PEER_KEEP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap stop_pg EXIT

as_pg "$PGBIN/initdb" -D "$PGDATA" -U peer --auth=trust -E UTF8 --locale=C >"$TMP/initdb.log" 2>&1 ||
  { cat "$TMP/initdb.log"; exit 1; }
# Settings: PostgreSQL's defaults (fsync and synchronous_commit on, JIT on) except memory
# sized for this machine and WAL room for a bulk load.
as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -w -l "$TMP/log/postgresql.log" start -o "\
  -c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$TMP/sock \
  -c shared_buffers=2GB -c effective_cache_size=16GB -c work_mem=16MB \
  -c maintenance_work_mem=1GB -c max_wal_size=8GB -c checkpoint_timeout=30min" >/dev/null
export PGOPTIONS="-c client_min_messages=warning"
PSQL=("$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U peer)
"${PSQL[@]}" -d postgres -c "CREATE DATABASE peer" -c "CREATE ROLE slm_user NOLOGIN"

if [ -n "${KUBERNAUT_MIGRATIONS_DIR:-}" ]; then
  LABEL="Kubernaut's migrations 001-003 from $KUBERNAUT_MIGRATIONS_DIR"
  for f in 001_initial_schema.sql 002_fix_partitioning.sql 003_stored_procedures.sql; do
    [ -f "$KUBERNAUT_MIGRATIONS_DIR/$f" ] || { echo "missing $KUBERNAUT_MIGRATIONS_DIR/$f"; exit 1; }
    "${PSQL[@]}" -d peer -f "$KUBERNAUT_MIGRATIONS_DIR/$f" >/dev/null
  done
else
  LABEL="restated: bench/peer/schema.sql + kubernaut-procedures.sql"
  "${PSQL[@]}" -d peer -f bench/peer/schema.sql -f bench/peer/kubernaut-procedures.sql >/dev/null
fi

CLI=()
BIN=${BENCH_BIN:-$ROOT/target/release/kubernaut-context}
[ -x "$BIN" ] && CLI=(--cli "$BIN")

echo "machine: $(nproc) cpus ($(grep -m1 '^model name' /proc/cpuinfo | sed 's/.*: //')), $(free -g | awk '/^Mem:/ {print $2}') GiB RAM; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "peer:    PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT; procedures: $LABEL"
"$DRIVER" --dir "$TMP/work" --pg "host=127.0.0.1 port=$PORT user=peer dbname=peer" \
  --traces "$TRACES" --procedures "$LABEL" --timeout-s "$TIMEOUT" --proc-budget-s "$BUDGET" \
  --hot "$HOT" --hot-rounds "$HOT_ROUNDS" --sample "$SAMPLE" "${CLI[@]}"
