#!/usr/bin/env bash
# `make image`: builds the container image kubernaut-context-api:<workspace version> (the
# tag infra/k8s and the manifest/podman generators use) without pulling any base image:
#   1. the Containerfile's build stage, on the host: `cargo xtask build --release --target
#      x86_64-unknown-linux-musl` (static server binary + release site), laid out as the
#      image's root under target/image/dist/;
#   2. the Containerfile's final stage (FROM scratch, nothing to pull) by buildah, reading
#      that layout instead of the build stage.
# Then prints what the image holds and how it runs (user, entrypoint, ports).
# Installs what is missing first: the musl target (rustup), musl-tools (musl-gcc for the C
# in SQLite and ring) and buildah (apt), wasm-opt (npm). A first run compiles the release
# server and wasm (LTO): 1 500 s of CPU measured (about 13-15 min on an idle 2-core machine).
#   IMAGE_TAG=registry.example.com/kubernaut-context-api:0.1.0 scripts/image-build.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
TRIPLE=x86_64-unknown-linux-musl
VERSION=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)
TAG=${IMAGE_TAG:-kubernaut-context-api:$VERSION}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
OUT=target/image

scripts/ensure-tools.sh test
rustup target list --installed | grep -qx "$TRIPLE" || rustup target add "$TRIPLE"
need=()
command -v musl-gcc >/dev/null || need+=(musl-tools)
command -v buildah >/dev/null || need+=(buildah)
if [ ${#need[@]} -gt 0 ]; then
  echo "==> apt-get install ${need[*]}"
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

echo "==> build stage on the host: cargo xtask build --release --target $TRIPLE"
# cc-rs finds musl-gcc for the musl target; said explicitly for older cc versions.
CC_x86_64_unknown_linux_musl=musl-gcc cargo xtask build --release --target "$TRIPLE"
BIN=$TARGET_DIR/$TRIPLE/release/kubernaut-context
if ! file "$BIN" | grep -Eq 'statically linked|static-pie linked'; then
  echo "$BIN is not a static binary: $(file -b "$BIN")" >&2
  exit 1
fi

rm -rf "$OUT"
mkdir -p "$OUT/dist/app" "$OUT/dist/etc/ssl/certs" "$OUT/dist/data" "$OUT/dist/tmp"
cp "$BIN" "$OUT/dist/app/"
# The hashed asset names, beside the binary where Leptos reads them.
cp "$(dirname "$BIN")/hash.txt" "$OUT/dist/app/"
cp -R target/site "$OUT/dist/app/site"
cp /etc/ssl/certs/ca-certificates.crt "$OUT/dist/etc/ssl/certs/"
# The final stage, reading dist/ from the build context instead of the build stage.
awk '/^FROM scratch/{final=1} final' Containerfile | sed 's|COPY --from=build \(.*\)/dist/|COPY \1dist/|' \
  > "$OUT/Containerfile"
if grep -q -- '--from=' "$OUT/Containerfile"; then
  echo "Containerfile: the final stage copies from somewhere other than the build stage's /dist" >&2
  exit 1
fi

echo "==> buildah: final stage of Containerfile -> $TAG"
buildah bud --layers=false --pull=false -f "$OUT/Containerfile" -t "$TAG" "$OUT"

echo "==> $TAG"
buildah inspect --type image --format \
  'user={{.OCIv1.Config.User}} entrypoint={{.OCIv1.Config.Entrypoint}} cmd={{.OCIv1.Config.Cmd}} ports={{.OCIv1.Config.ExposedPorts}} workdir={{.OCIv1.Config.WorkingDir}}' \
  "$TAG"
buildah images --format '{{.Name}}:{{.Tag}} {{.Size}}' "$TAG"
