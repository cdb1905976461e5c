#!/usr/bin/env bash
# The DynamoDB adapter's tests against a local moto server (see scripts/with-moto.sh).
# Extra arguments go to `cargo test` (e.g. a test name filter).
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/with-moto.sh cargo test -p kubernaut-context-store-dynamodb "$@"
