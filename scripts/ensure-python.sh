#!/usr/bin/env bash
# Creates the Python virtual environments the tests use, idempotently.
#   .venv/tools   moto[server] (local DynamoDB), kubernetes-validate, cfn-lint, schemathesis, cargo-lambda
#   .venv/holmes  holmesgpt==0.45.0 (its own toolset loader validates our generated toolsets)
#   .venv/checkov checkov (IaC security scan; kept apart: it pins many packages)
#   .venv/uv      uv, which installs the three above
# Each venv is (re)built only when its requirements stamp differs from what is wanted.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

UV_VERSION=0.13.9

# uv (from PyPI) installs the venvs: it resolves and downloads in parallel, several
# times faster than pip for holmesgpt's and checkov's dependency trees.
ensure_uv() {
  local dir=.venv/uv
  if [ -x "$dir/bin/uv" ] && [ "$(cat "$dir/.stamp" 2>/dev/null)" = "uv==$UV_VERSION" ]; then
    return
  fi
  rm -rf "$dir"
  "$PY" -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check "uv==$UV_VERSION"
  echo "uv==$UV_VERSION" > "$dir/.stamp"
}

ensure_venv() {
  local name=$1; shift
  local dir=".venv/$name" want="$*"
  if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$want" ]; then
    echo "venv $name: up to date"
    return
  fi
  echo "venv $name: installing $want"
  ensure_uv
  rm -rf "$dir"
  .venv/uv/bin/uv venv --quiet --python "$PY" "$dir"
  # shellcheck disable=SC2086
  .venv/uv/bin/uv pip install --quiet --python "$dir/bin/python" $want
  echo "$want" > "$dir/.stamp"
}

want_all=${1:-all}
case "$want_all" in
  all|tools)  ensure_venv tools "moto[server]==5.2.5 kubernetes-validate==1.37.0 cfn-lint==1.58.0 schemathesis==4.32.5 hypothesis==6.170.27 cargo-lambda==1.9.2" ;;&
  all|holmes) ensure_venv holmes "holmesgpt==0.45.0" ;;&
  all|checkov) ensure_venv checkov "checkov==3.3.30" ;;
esac
