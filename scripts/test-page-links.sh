#!/usr/bin/env bash
# The web app's page links are signed with the API's cursor key: a "next page" link of the
# history keeps working after a restart (and on another replica) with the same
# KUBERNAUT_CONTEXT_CURSOR_KEY, and is refused as expired under another key.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib-server.sh
server_workspace
token=page-links-token-0123456789
export KUBERNAUT_CONTEXT_TOKENS=$token
start_server "$tmp/data" "$port" --cursor-key key-one-0123456789
# 60 traces of one namespace: three pages of 25.
python3 - "$SERVER_URL" "$token" <<'PY'
import json, sys, urllib.request, datetime
url, token = sys.argv[1], sys.argv[2]
now = datetime.datetime.now(datetime.timezone.utc)
traces = [{
    "action_id": f"links-{i:03}",
    "action_timestamp": (now - datetime.timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "resource": {"namespace": "links", "kind": "Deployment", "name": "web"},
    "alert": {"name": "KubePodCrashLooping", "severity": "warning"},
    "action_type": "restart_pod", "execution_status": "completed",
} for i in range(60)]
req = urllib.request.Request(url + "/api/v1/context/action-history", data=json.dumps(traces).encode(),
    headers={"Content-Type": "application/json", "Authorization": "Bearer " + token}, method="POST")
assert urllib.request.urlopen(req).status == 200
PY
next=$(curl -fsS "$SERVER_URL/history?namespace=links" | grep -o 'href="[^"]*cursor=[^"]*" rel="next"' | head -1 | sed 's/^href="//; s/" rel="next"$//; s/&amp;/\&/g')
[ -n "$next" ] || { echo "FAIL: no next-page link on the first page" >&2; exit 1; }
fetch() { curl -fsS "$SERVER_URL$next"; }
check_page2() {
  local page; page=$(fetch)
  if grep -q 'links-02[5-9]\|links-03' <<<"$page" && ! grep -qi 'expired' <<<"$page"; then return 0; fi
  echo "FAIL: $1: page 2 not shown" >&2; grep -io '[^>]*expired[^<]*' <<<"$page" >&2 || true; return 1
}
check_page2 "same process"
stop_server
start_server "$tmp/data" "$port" --cursor-key key-one-0123456789
check_page2 "after a restart with the same key"
stop_server
start_server "$tmp/data" "$port" --cursor-key key-two-0123456789
if fetch | grep -qi 'expired'; then
  echo "another key: the link is refused as expired (as it must be)"
else
  echo "FAIL: a link signed with another key was accepted" >&2; exit 1
fi
echo "page links: 3 passed, 0 failed"
