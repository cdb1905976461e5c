"""The `mcp` and `http` transports against HolmesGPT 0.45.0's own code.

Run by scripts/test-holmes.sh (combined server) and scripts/test-lambda.sh (the `mcp`
function under `cargo lambda watch`) with .venv/holmes/bin/python. Environment:
  KN_MCP_FILE   a `toolset --transport mcp` file pointing at the server under test
  KN_HTTP_FILE  optional: a `toolset --transport http` file (same server)
  KN_TOKEN      a bearer token the server accepts (exported as KUBERNAUT_CONTEXT_TOKEN)
  KN_SEED_URL   base URL serving POST /api/v1/context/action-history (seeds 3 actions)
  KN_LABEL      a short name for this run (namespaces the seeded data)
  KN_ASK        1: also run `holmes ask` end to end with a scripted OpenAI-compatible LLM

Checks: HolmesGPT's loader (`holmes ask -t` path) loads the `mcp_servers` entry with no
warning, its prerequisites pass (enabled), it lists exactly our six tools, and each tool
called through HolmesGPT's MCP client returns the seeded data; an unknown action id is
an error result. The `http` variant loads enabled, reaches the read paths and refuses
others. With KN_ASK, `holmes ask` sends our tools and llm_instructions to the scripted
LLM, runs the MCP tool it asks for and hands the real result back.
Exits non-zero on any failure.
"""

import datetime
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))

from driverlib import Capture, free_port  # noqa: E402

from holmes.core.llm import DefaultLLM  # noqa: E402
from holmes.core.tool_calling_llm import ToolCallingLLM  # noqa: E402
from holmes.core.tools import StructuredToolResultStatus, ToolsetStatusEnum  # noqa: E402
from holmes.core.tools_utils.tool_executor import ToolExecutor  # noqa: E402
from holmes.core.toolset_manager import ToolsetManager  # noqa: E402
from holmes.plugins.toolsets import load_builtin_toolsets  # noqa: E402

FAILURES = []
LABEL = os.environ.get("KN_LABEL", "server")
TOKEN = os.environ["KN_TOKEN"]
SEED_URL = os.environ.get("KN_SEED_URL", "").rstrip("/")
STATUS_FILE = os.path.join(tempfile.mkdtemp(prefix="kn-mcp-"), "toolsets_status.json")
TOOLS = {
    "kubernaut_context_discover",
    "kubernaut_action_history",
    "kubernaut_action_get",
    "kubernaut_pattern_analysis",
    "kubernaut_context_health",
    "kubernaut_similar_remediations",
}


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + f"[{LABEL}] " + what, flush=True)
    if not cond:
        FAILURES.append(what)


BUILTIN_NAMES = [t.name for t in load_builtin_toolsets()]


def load(path):
    with Capture() as cap:
        toolsets = ToolsetManager(
            toolset_status_location=STATUS_FILE, custom_toolsets_from_cli=[path]
        )._load_toolsets_from_paths([path], BUILTIN_NAMES, check_conflict_default=True)
    return toolsets, cap.records


def seed():
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    ns, kind, name, alert = f"mcp-{LABEL}", "Deployment", "web", "KubePodCrashLooping"
    traces = []
    for i, (action, status) in enumerate(
        [("restart_pod", "completed"), ("restart_pod", "failed"), ("increase_resources", "completed")]
    ):
        traces.append({
            "action_id": f"mcp-{LABEL}-{i}",
            "action_timestamp": (now - datetime.timedelta(hours=3 - i)).isoformat().replace("+00:00", "Z"),
            "resource": {"namespace": ns, "kind": kind, "name": name},
            "alert": {"name": alert, "severity": "critical", "labels": {"team": "payments"}},
            "action_type": action,
            "execution_status": status,
        })
    req = urllib.request.Request(SEED_URL + "/api/v1/context/action-history", method="POST")
    req.add_header("Authorization", f"Bearer {TOKEN}")
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, data=json.dumps(traces).encode(), timeout=30) as r:
        check(r.status in (200, 201), f"seeded {len(traces)} actions (HTTP {r.status})")
    sig = hashlib.sha256(f"{alert}:{ns}:{kind}:{name}".encode()).hexdigest()
    return sig, ns


def executor(toolsets):
    llm = DefaultLLM("openai/gpt-4o-mini", api_key="unused", api_base="http://127.0.0.1:9/v1")
    return ToolCallingLLM(ToolExecutor(toolsets), max_steps=1, llm=llm, tool_results_dir=None)


def call(ai, tool, params):
    return ai._directly_invoke_tool_call(
        tool_name=tool, tool_params=dict(params), user_approved=True, tool_call_id=f"t-{tool}"
    )


def data_json(r):
    d = r.data
    if isinstance(d, (dict, list)):
        return d
    try:
        return json.loads(d)
    except Exception:
        return None


def check_mcp(path, sig, ns):
    toolsets, warnings = load(path)
    check(not warnings, f"mcp file loads without warnings {warnings}")
    ours = [t for t in toolsets if t.name == "kubernaut/context-api"]
    check(len(ours) == 1, "mcp_servers entry kubernaut/context-api loaded")
    if not ours:
        return
    ts = ours[0]
    ts.check_prerequisites(silent=True)
    check(ts.status == ToolsetStatusEnum.ENABLED, f"MCP toolset enabled [{ts.error}]")
    names = {t.name for t in ts.tools}
    check(names == TOOLS, f"lists exactly our tools: {sorted(names)}")
    check("kubernaut_similar_remediations" in (ts.llm_instructions or ""), "llm_instructions carried")
    ai = executor(toolsets)
    for tool, params, want in [
        ("kubernaut_context_health", {}, lambda d: d.get("status") == "healthy"),
        ("kubernaut_context_discover", {"alert_type": "KubePodCrashLooping"},
         lambda d: d.get("total_types", 0) > 0),
        ("kubernaut_action_history", {"namespace": ns, "limit": 2},
         lambda d: d.get("count") == 2 and d["actions"][0]["action_id"] == f"mcp-{LABEL}-2"),
        ("kubernaut_action_get", {"action_id": f"mcp-{LABEL}-1"},
         lambda d: d.get("execution_status") == "failed"),
        ("kubernaut_pattern_analysis", {"signature": sig, "window": "7d"},
         lambda d: d.get("occurrences") == 3),
        ("kubernaut_similar_remediations",
         {"alert_name": "KubePodCrashLooping", "namespace": ns, "kind": "Deployment", "name": "web",
          "labels": "team=payments"},
         lambda d: d["hits"][0]["signature"] == sig and d["hits"][0]["match"] == "same_signature"
         and d["hits"][0]["best_action"] is not None),
    ]:
        r = call(ai, tool, params)
        d = data_json(r)
        ok = r.status == StructuredToolResultStatus.SUCCESS and isinstance(d, dict)
        try:
            ok = ok and want(d)
        except Exception:
            ok = False
        check(ok, f"{tool} via HolmesGPT's MCP client returns the seeded data [{r.status} {r.error} {str(r.data)[:200]}]")
    r = call(ai, "kubernaut_action_get", {"action_id": "no-such-action"})
    check(r.status == StructuredToolResultStatus.ERROR and "no-such-action" in str(r.error or r.data),
          f"unknown action id is an error result [{r.status} {r.error}]")
    r = call(ai, "kubernaut_action_history", {"limit": 0})
    check(r.status == StructuredToolResultStatus.ERROR and "limit" in str(r.error or r.data),
          f"bad argument is an error naming it [{r.error}]")


def check_http(path, sig, ns, base):
    toolsets, warnings = load(path)
    check(not warnings, f"http file loads without warnings {warnings}")
    ours = [t for t in toolsets if t.name == "kubernaut/context-api"]
    check(len(ours) == 1, "http toolset loaded")
    if not ours:
        return
    ts = ours[0]
    ts.check_prerequisites(silent=True)
    check(ts.status == ToolsetStatusEnum.ENABLED, f"http toolset enabled [{ts.error}]")
    names = [t.name for t in ts.tools]
    check(names == ["kubernaut_context_api_request"], f"http tool {names}")
    ai = executor(toolsets)
    url = (f"{base}/api/v1/context/similar?alertName=KubePodCrashLooping&namespace={ns}"
           f"&kind=Deployment&name=web")
    r = call(ai, "kubernaut_context_api_request", {"url": url, "method": "GET"})
    check(r.status == StructuredToolResultStatus.SUCCESS and sig in str(r.data),
          f"http tool reads /similar [{r.status} {r.error}]")
    r = call(ai, "kubernaut_context_api_request", {"url": f"{base}/api/v1/generate/toolset", "method": "GET"})
    check(r.status == StructuredToolResultStatus.ERROR, f"http tool refuses paths outside /api/v1/context [{r.error}]")
    r = call(ai, "kubernaut_context_api_request",
             {"url": f"{base}/api/v1/context/action-history", "method": "POST", "body": "[]"})
    check(r.status == StructuredToolResultStatus.ERROR, f"http tool refuses POST [{r.error}]")


# ------------------------------------------------------------------ holmes ask

class ScriptedLLM(BaseHTTPRequestHandler):
    """OpenAI chat completions: first asks for kubernaut_pattern_analysis, then answers
    with what the tool returned."""

    requests = []
    sig = ""

    def log_message(self, *a):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        ScriptedLLM.requests.append(body)
        msgs = body.get("messages", [])
        tool_msgs = [m for m in msgs if m.get("role") == "tool"]
        if not tool_msgs:
            message = {"role": "assistant", "content": None, "tool_calls": [{
                "id": "call_kn_1", "type": "function",
                "function": {"name": "kubernaut_pattern_analysis",
                             "arguments": json.dumps({"signature": ScriptedLLM.sig, "window": "7d"})},
            }]}
            finish = "tool_calls"
        else:
            content = tool_msgs[-1].get("content")
            text = content if isinstance(content, str) else json.dumps(content)
            seen = '"occurrences":3' in text.replace(" ", "")
            message = {"role": "assistant",
                       "content": f"SCRIPTED-ANSWER occurrences_seen={seen}"}
            finish = "stop"
        out = json.dumps({
            "id": "chatcmpl-kn", "object": "chat.completion", "created": 0,
            "model": body.get("model", "gpt-4o-mini"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


def check_ask(path, sig):
    ScriptedLLM.sig = sig
    port = free_port()
    srv = ThreadingHTTPServer(("127.0.0.1", port), ScriptedLLM)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    holmes = os.path.join(os.path.dirname(sys.executable), "holmes")
    env = dict(os.environ, MODEL="openai/gpt-4o-mini", OPENAI_API_BASE=f"http://127.0.0.1:{port}/v1",
               OPENAI_API_KEY="scripted", KUBERNAUT_CONTEXT_TOKEN=TOKEN)
    home = tempfile.mkdtemp(prefix="kn-holmes-home-")
    env["HOME"] = home
    p = subprocess.run(
        [holmes, "ask", "Why does KubePodCrashLooping keep firing on web? Check Kubernaut's history.",
         "-t", path, "--no-interactive", "--max-steps", "5"],
        env=env, capture_output=True, text=True, timeout=300,
    )
    srv.shutdown()
    out = p.stdout + p.stderr
    check(p.returncode == 0, f"holmes ask exits 0 (rc {p.returncode})")
    reqs = ScriptedLLM.requests
    check(len(reqs) >= 2, f"the scripted LLM was called {len(reqs)} times")
    if reqs:
        tools = {t.get("function", {}).get("name") for t in reqs[0].get("tools", [])}
        check(TOOLS <= tools, f"holmes sent our MCP tools to the LLM ({len(tools)} tools)")
        system = json.dumps(reqs[0].get("messages", [])[:1])
        check("kubernaut_similar_remediations" in system, "our llm_instructions are in the system prompt")
    check("SCRIPTED-ANSWER occurrences_seen=True" in out,
          "holmes ran the MCP tool and the LLM got the real pattern analysis back")
    if FAILURES:
        print(out[-3000:])


def main():
    os.environ["KUBERNAUT_CONTEXT_TOKEN"] = TOKEN
    sig, ns = seed()
    check_mcp(os.environ["KN_MCP_FILE"], sig, ns)
    if os.environ.get("KN_HTTP_FILE"):
        check_http(os.environ["KN_HTTP_FILE"], sig, ns, os.environ["KN_HTTP_BASE"].rstrip("/"))
    if os.environ.get("KN_ASK") == "1":
        check_ask(os.environ["KN_MCP_FILE"], sig)
    print()
    if FAILURES:
        print(f"[{LABEL}] {len(FAILURES)} MCP check(s) failed:")
        for f in FAILURES:
            print("  - " + f)
        sys.exit(1)
    print(f"[{LABEL}] all MCP checks passed")


if __name__ == "__main__":
    main()
