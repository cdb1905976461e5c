#!/usr/bin/env bash
# Durability under SIGKILL (embedded store): scripts/durability-driver.py runs the combined
# server (target/debug/kubernaut-context serve) on a free 127.0.0.1 port with a temporary
# data directory, lets 16 concurrent writers POST traces (single and batches, a few
# shared signatures, effectiveness PUTs), SIGKILLs the server 3 times mid-run and
# restarts it on the same data directory, then checks that every trace answered 2xx is
# present and intact, that interrupted requests are all-or-nothing, that nothing
# half-written is stored, and that every signature aggregate (GET /patterns/{sig}
# lifetime) equals a recomputation from its traces (GET /action-history?signature=).
# Bounded: about 16 s of writing, under a minute in all. Exits non-zero on any violation.
#
# Environment: WRITERS (16), KILLS (3), DURATION (24, seconds of the write phase budget),
# SEED (reproduce a run), KEEP_DATA=1 (keep the data dir of a failed run),
# SELFTEST_LOSE_ONE=1 (deletes one acknowledged trace before the last restart: must fail).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build-server.sh
exec timeout 170 python3 scripts/durability-driver.py
