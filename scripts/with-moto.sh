#!/usr/bin/env bash
# Runs CMD... against a throw-away local DynamoDB-compatible server (moto):
#   scripts/with-moto.sh cargo test -p kubernaut-context-store-dynamodb
# Starts `moto_server` on a free 127.0.0.1 port, waits until it answers, exports
#   KUBERNAUT_CONTEXT_DYNAMODB_ENDPOINT=http://127.0.0.1:<port>
#   AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
# runs CMD, stops the server (by its PID) and exits with CMD's exit code.
# The server is moto_server run through scripts/moto-serial.py, which serves one
# request at a time (moto's threaded server does not apply DynamoDB transactions
# atomically; see that file). MOTO_SERVER=<path to moto_server> runs that binary as is.
set -uo pipefail
if [ "$#" -eq 0 ]; then
  echo "usage: $0 CMD [ARGS...]" >&2
  exit 2
fi
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="$ROOT/.venv/tools/bin/python"
if [ -n "${MOTO_SERVER:-}" ]; then
  MOTO=("$MOTO_SERVER")
else
  if [ ! -x "$ROOT/.venv/tools/bin/moto_server" ] || [ ! -x "$PY" ]; then
    echo "with-moto: $ROOT/.venv/tools/bin/moto_server not found; run scripts/ensure-python.sh first" >&2
    exit 2
  fi
  MOTO=("$PY" "$ROOT/scripts/moto-serial.py")
fi
[ -x "$PY" ] || PY=python3

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

MOTO_PID=""
LOG="$(mktemp -t moto.XXXXXX.log)"
cleanup() {
  if [ -n "$MOTO_PID" ] && kill -0 "$MOTO_PID" 2>/dev/null; then
    kill "$MOTO_PID" 2>/dev/null
    wait "$MOTO_PID" 2>/dev/null
  fi
  rm -f "$LOG"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

started=""
for _try in 1 2 3; do
  PORT="$(free_port)"
  "${MOTO[@]}" -H 127.0.0.1 -p "$PORT" >"$LOG" 2>&1 &
  MOTO_PID=$!
  for _i in $(seq 1 300); do
    if ! kill -0 "$MOTO_PID" 2>/dev/null; then
      break
    fi
    if port_open "$PORT"; then
      started=1
      break
    fi
    sleep 0.1
  done
  [ -n "$started" ] && break
  echo "with-moto: moto_server did not start on port $PORT; retrying" >&2
  cat "$LOG" >&2
  kill "$MOTO_PID" 2>/dev/null
  wait "$MOTO_PID" 2>/dev/null
  MOTO_PID=""
done
if [ -z "$started" ]; then
  echo "with-moto: could not start moto_server" >&2
  exit 1
fi

export KUBERNAUT_CONTEXT_DYNAMODB_ENDPOINT="http://127.0.0.1:$PORT"
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
echo "with-moto: moto_server (pid $MOTO_PID) at $KUBERNAUT_CONTEXT_DYNAMODB_ENDPOINT" >&2
"$@"
rc=$?
exit "$rc"
