#!/usr/bin/env bash
# The HTTP API while DynamoDB is down: scripts/dynamodb-outage-driver.py runs the combined
# server (debug build) with --store dynamodb against a local moto server on 127.0.0.1,
# stops moto, checks that health and every store-backed endpoint answer 503 JSON
# (store_unavailable) while store-less endpoints keep working, starts moto again on the
# same port and checks that the same server process recovers. About 10 s.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/tools/bin/moto_server ] || scripts/ensure-python.sh tools
scripts/build-server.sh
exec timeout 300 python3 scripts/dynamodb-outage-driver.py
