#!/usr/bin/env bash
# `make lambda`: builds every Lambda function (functions/src/bin/*) for AWS Lambda
# (provided.al2023, arm64 / Graviton) with cargo-lambda + zig, and prints each
# bootstrap's size. Output: target/lambda/<function>/bootstrap (what `cargo lambda
# deploy` and docs/DEPLOY.md use).
#   ARCH=x86-64 scripts/lambda-build.sh    build for x86_64 instead
set -euo pipefail
cd "$(dirname "$0")/.."
ARCH=${ARCH:-arm64}
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
echo "==> cargo lambda build --release --$ARCH ($(echo $FUNCTIONS | wc -w) functions)"
BIN_ARGS=()
for f in $FUNCTIONS; do BIN_ARGS+=(--bin "$f"); done
cargo lambda build --release "--$ARCH" -p kubernaut-context-functions "${BIN_ARGS[@]}" \
  --lambda-dir target/lambda

printf '\n%-24s %12s %10s\n' function "bytes" "MiB"
for f in $FUNCTIONS; do
  b=target/lambda/$f/bootstrap
  [ -f "$b" ] || { echo "missing $b" >&2; exit 1; }
  s=$(stat -c %s "$b")
  printf '%-24s %12d %10.2f\n' "$f" "$s" "$(echo "$s / 1048576" | bc -l)"
  file "$b" | grep -q "$( [ "$ARCH" = arm64 ] && echo aarch64 || echo x86-64)" \
    || { echo "$b is not a $ARCH binary: $(file -b "$b")" >&2; exit 1; }
done
