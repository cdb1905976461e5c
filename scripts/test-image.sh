#!/usr/bin/env bash
# Checks the image `make image` built (run by it, after the build): its configuration
# (user, entrypoint, command, port, environment), its files (static binary, site, no
# shell, /data and /tmp writable by the user), and the binary it holds serving the web
# app and the API as the image's user, from the image's own files (buildah mount).
# A container is not started: in the sandbox this is developed in, crun cannot set the
# resource limits and cgroups a container needs (docs/DEPLOY.md "Container image").
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib-server.sh
VERSION=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)
TAG=${IMAGE_TAG:-kubernaut-context-api:$VERSION}
fail() { echo "FAIL $*" >&2; exit 1; }
ok() { echo "ok   $*"; }

cfg() { buildah inspect --type image --format "$1" "$TAG"; }
[ "$(cfg '{{.OCIv1.Config.User}}')" = "65532:65532" ] || fail "user: $(cfg '{{.OCIv1.Config.User}}')"
ok "user 65532:65532"
# (buildah's inspect templates have no `json`: lists print as [a b], maps as map[k:v].)
[ "$(cfg '{{.OCIv1.Config.Entrypoint}}')" = '[/app/kubernaut-context]' ] || fail "entrypoint: $(cfg '{{.OCIv1.Config.Entrypoint}}')"
[ "$(cfg '{{.OCIv1.Config.Cmd}}')" = '[serve]' ] || fail "cmd: $(cfg '{{.OCIv1.Config.Cmd}}')"
ok "entrypoint /app/kubernaut-context, command serve"
cfg '{{.OCIv1.Config.ExposedPorts}}' | grep -q '8091/tcp' || fail "ports: $(cfg '{{.OCIv1.Config.ExposedPorts}}')"
ok "port 8091/tcp"
envs=$(cfg '{{range .OCIv1.Config.Env}}{{.}}
{{end}}')
for kv in KUBERNAUT_CONTEXT_ADDR=0.0.0.0:8091 KUBERNAUT_CONTEXT_DATA_DIR=/data LEPTOS_SITE_ROOT=/app/site; do
  grep -qx "$kv" <<<"$envs" || fail "env lacks $kv: $envs"
done
envs=$(tr '\n' ' ' <<<"$envs")
ok "env $envs"

ctr=$(buildah from --pull=false "$TAG")
tmp=$(mktemp -d)
cleanup() { stop_server; buildah umount "$ctr" >/dev/null 2>&1 || true; buildah rm "$ctr" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
mnt=$(buildah mount "$ctr")
bin=$mnt/app/kubernaut-context
file "$bin" | grep -Eq 'statically linked|static-pie linked' || fail "not static: $(file -b "$bin")"
ok "static binary ($(du -h "$bin" | cut -f1))"
# hash.txt beside the binary names the site's content-hashed JS, wasm and CSS.
[ -s "$mnt/app/hash.txt" ] || fail "no /app/hash.txt beside the binary"
for ext in js wasm css; do
  h=$(sed -n "s/^$ext: *//p" "$mnt/app/hash.txt")
  [ -n "$h" ] && [ -s "$mnt/app/site/pkg/kubernaut-context.$h.$ext" ] || fail "site lacks the $ext that hash.txt names ($h)"
done
ok "site: $(cd "$mnt/app/site" && find . -type f | sort | tr '\n' ' ')"
for sh in bin/sh bin/bash usr/bin/sh; do [ ! -e "$mnt/$sh" ] || fail "the image has /$sh"; done
ok "no shell: $(cd "$mnt" && find . -mindepth 1 -maxdepth 1 | sort | tr '\n' ' ')"
for d in data tmp; do
  [ "$(stat -c %u:%g "$mnt/$d")" = 65532:65532 ] || fail "/$d owned by $(stat -c %u:%g "$mnt/$d")"
done
ok "/data and /tmp owned by 65532:65532"
"$bin" --version | grep -q "kubernaut-context $VERSION" || fail "--version: $("$bin" --version)"
ok "$("$bin" --version)"

# The image's /app (binary and site), run as the image's user with the store in a temp
# dir it owns. Copied out of the mount first: the container storage above the mount
# point is root-only, so the image's user could not reach it there.
cp -a "$mnt/app" "$tmp/app"
mkdir -p "$tmp/data"
chmod 755 "$tmp"
chown 65532:65532 "$tmp/data"
port=$(free_port)
setpriv --reuid 65532 --regid 65532 --clear-groups \
  env LEPTOS_SITE_ROOT="$tmp/app/site" KUBERNAUT_CONTEXT_ADDR="127.0.0.1:$port" \
  KUBERNAUT_CONTEXT_DATA_DIR="$tmp/data" "$tmp/app/kubernaut-context" serve >"$tmp/server.log" 2>&1 &
SERVER_PID=$!
wait_http "http://127.0.0.1:$port/" 30 || { cat "$tmp/server.log" >&2; fail "the image's binary did not serve"; }
curl -sf "http://127.0.0.1:$port/api/v1/context/health" | grep -q '"status":"healthy"' || fail "health"
page=$(curl -sf "http://127.0.0.1:$port/")
wasm=$(grep -o '/pkg/[^"]*\.wasm' <<<"$page" | head -n1)
[ -n "$wasm" ] || fail "the page links no wasm"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'accept-encoding: br' "http://127.0.0.1:$port$wasm")
[ "$code" = 200 ] || fail "GET $wasm -> $code"
cache=$(curl -s -o /dev/null -D - "http://127.0.0.1:$port$wasm" | tr -d '\r' | sed -n 's/^cache-control: *//Ip')
grep -q immutable <<<"$cache" || fail "GET $wasm: Cache-Control '$cache', expected immutable (hashed name)"
ok "the image's binary, as 65532, serves the page, $wasm and health"
head -c 200 "$tmp/server.log" | grep -q '^{' || fail "logs on a pipe are not JSON: $(head -n1 "$tmp/server.log")"
ok "JSON logs: $(head -n1 "$tmp/server.log")"
