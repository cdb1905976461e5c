#!/usr/bin/env bash
# Creates the Python virtual environments the tests use, idempotently.
#   .venv/tools   moto[server] (local DynamoDB), kubernetes-validate, cfn-lint, schemathesis, cargo-lambda
#   .venv/holmes  holmesgpt==0.45.0 (its own toolset loader validates our generated toolsets)
#   .venv/checkov checkov (IaC security scan; kept apart: it pins many packages)
# Each venv is (re)built only when its requirements stamp differs from what is wanted.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

ensure_venv() {
  local name=$1; shift
  local dir=".venv/$name" want="$*"
  if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$want" ]; then
    echo "venv $name: up to date"
    return
  fi
  echo "venv $name: installing $want"
  rm -rf "$dir"
  "$PY" -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check --upgrade pip
  # shellcheck disable=SC2086
  "$dir/bin/pip" install --quiet --disable-pip-version-check $want
  echo "$want" > "$dir/.stamp"
}

want_all=${1:-all}
case "$want_all" in
  all|tools)  ensure_venv tools "moto[server]==5.2.5 kubernetes-validate==1.37.0 cfn-lint==1.58.0 schemathesis==4.32.5 cargo-lambda==1.9.2" ;;&
  all|holmes) ensure_venv holmes "holmesgpt==0.45.0" ;;&
  all|checkov) ensure_venv checkov "checkov==3.3.30" ;;
esac
