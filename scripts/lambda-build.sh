#!/usr/bin/env bash
# `make lambda`: builds every Lambda function (functions/src/bin/*) for AWS Lambda
# (provided.al2023, arm64 / Graviton) with cargo-lambda + zig, in the `lambda-release`
# profile (Cargo.toml: opt-level "z", fat LTO, 1 codegen unit, panic = abort, stripped),
# and prints each bootstrap's size. Output: target/lambda/<function>/bootstrap — the code
# directories infra/template.yaml deploys (docs/DEPLOY.md).
#   ARCH=x86-64 scripts/lambda-build.sh    build for x86_64 instead
#   scripts/lambda-build.sh --web          also the web app function: the combined server
#       binary (`kubernaut-context`, release profile) as target/lambda/kubernaut-context/bootstrap
#       with the web app's assets next to it in target/lambda/kubernaut-context/site/ and
#       their hashed names in target/lambda/kubernaut-context/hash.txt
#       (from `cargo xtask build --release --frontend-only`)
#   PROFILE=release scripts/lambda-build.sh   the functions in another cargo profile
#   MAX_BYTES=5000000 (default)               fail when a function's bootstrap is larger
#       (issue #15: every bootstrap <= 5 MB; the web app function is not checked)
set -euo pipefail
cd "$(dirname "$0")/.."
ARCH=${ARCH:-arm64}
PROFILE=${PROFILE:-lambda-release}
MAX_BYTES=${MAX_BYTES:-5000000}
WEB=0
for a in "$@"; do
  case "$a" in
    --web) WEB=1 ;;
    *) echo "usage: $0 [--web]" >&2; exit 2 ;;
  esac
done
case "$ARCH" in
  arm64) TRIPLE=aarch64-unknown-linux-gnu ;;
  x86-64) TRIPLE=x86_64-unknown-linux-gnu ;;
  *) echo "ARCH must be arm64 or x86-64" >&2; exit 2 ;;
esac

# cargo-lambda and zig (the ziglang wheel) live in the tools venv; cargo-zigbuild finds
# zig as `python3 -m ziglang` with the venv first on PATH.
[ -x .venv/tools/bin/cargo-lambda ] || scripts/ensure-python.sh tools
export PATH="$PWD/.venv/tools/bin:$HOME/.cargo/bin:$PATH"
rustup target list --installed | grep -qx "$TRIPLE" || rustup target add "$TRIPLE"

FUNCTIONS=$(sed -n 's/^name = "\(.*\)"$/\1/p' functions/Cargo.toml | grep -v '^kubernaut-context-functions$' | grep -v '^context_functions$')
echo "==> cargo lambda build --profile $PROFILE --$ARCH ($(echo $FUNCTIONS | wc -w) functions)"
BIN_ARGS=()
for f in $FUNCTIONS; do BIN_ARGS+=(--bin "$f"); done
# Only the functions package: the store's `aws-config` feature stays off (functions/Cargo.toml).
cargo lambda build --profile "$PROFILE" "--$ARCH" -p kubernaut-context-functions "${BIN_ARGS[@]}" \
  --lambda-dir target/lambda

BUILT="$FUNCTIONS"
if [ "$WEB" = 1 ]; then
  echo "==> web app: cargo xtask build --release --frontend-only (site assets), then the server binary for $ARCH"
  cargo xtask build --release --frontend-only
  cargo lambda build --release "--$ARCH" -p kubernaut-context-server --bin kubernaut-context \
    --lambda-dir target/lambda
  rm -rf target/lambda/kubernaut-context/site
  cp -R target/site target/lambda/kubernaut-context/site
  # The assets' hashed names, beside the bootstrap where Leptos reads them.
  cp target/release/hash.txt target/lambda/kubernaut-context/hash.txt
  BUILT="$BUILT kubernaut-context"
fi

printf '\n%-24s %12s %10s\n' function "bytes" "MiB"
too_big=""
for f in $BUILT; do
  b=target/lambda/$f/bootstrap
  [ -f "$b" ] || { echo "missing $b" >&2; exit 1; }
  s=$(stat -c %s "$b")
  printf '%-24s %12d %10.2f\n' "$f" "$s" "$(echo "$s / 1048576" | bc -l)"
  if [ "$f" != kubernaut-context ] && [ "$s" -gt "$MAX_BYTES" ]; then too_big="$too_big $f($s)"; fi
  file "$b" | grep -q "$( [ "$ARCH" = arm64 ] && echo aarch64 || echo x86-64)" \
    || { echo "$b is not a $ARCH binary: $(file -b "$b")" >&2; exit 1; }
done
if [ "$WEB" = 1 ]; then
  echo "web app assets: target/lambda/kubernaut-context/site ($(du -sh target/lambda/kubernaut-context/site | cut -f1))"
fi
if [ -n "$too_big" ]; then
  echo "FAIL bootstraps larger than MAX_BYTES=$MAX_BYTES:$too_big" >&2
  exit 1
fi
