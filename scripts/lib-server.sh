# Helpers for test scripts that run the combined server on 127.0.0.1 (source this file).
# free_port: prints a free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
# wait_http URL [SECONDS]: waits until URL answers (any HTTP status).
wait_http() {
  local url=$1 secs=${2:-60} i
  for ((i = 0; i < secs * 10; i++)); do
    if curl -s -o /dev/null "$url"; then return 0; fi
    sleep 0.1
  done
  echo "timed out waiting for $url" >&2
  return 1
}
# start_server DATA_DIR PORT [extra args...]: starts `kubernaut-context serve` ($SERVER_BIN,
# default ${CARGO_TARGET_DIR:-target}/debug/kubernaut-context) in the background, logging to
# DATA_DIR.server.log; sets SERVER_PID and SERVER_URL, waits until it answers.
start_server() {
  local dir=$1 port=$2; shift 2
  LEPTOS_SITE_ROOT=${LEPTOS_SITE_ROOT:-target/site} \
    "${SERVER_BIN:-${CARGO_TARGET_DIR:-target}/debug/kubernaut-context}" serve --addr "127.0.0.1:$port" --data-dir "$dir" "$@" \
    >"$dir.server.log" 2>&1 &
  SERVER_PID=$!
  SERVER_URL="http://127.0.0.1:$port"
  if ! wait_http "$SERVER_URL/" 60; then cat "$dir.server.log" >&2; return 1; fi
}
stop_server() {
  if [ -n "${SERVER_PID:-}" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=; fi
}
# server_workspace: builds the server (scripts/build-server.sh), makes a temporary
# directory $tmp, removed (and the server stopped) on exit, and picks a free $port.
server_workspace() {
  scripts/build-server.sh
  tmp=$(mktemp -d)
  trap 'stop_server; rm -rf "$tmp"' EXIT
  port=$(free_port)
}
