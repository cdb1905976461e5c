"""Loads every generated toolset variant with HolmesGPT 0.45.0's own code and invokes
the Context API tools against a live `kubernaut-context serve`.

Run by scripts/test-holmes.sh with .venv/holmes/bin/python. Inputs (environment):
  KN_VARIANTS   directory with the generated files:
                  toolset_<variant>.yaml    `holmes ask -t` files
                  config_<variant>.yaml     config.yaml snippets (built-in toolsets)
                  manifests_<variant>.yaml  manifests (their ConfigMap's custom_toolset.yaml)
  KN_BASE_URL   base URL of the running server (variants named live_* point at it)
  KN_TOKEN      a bearer token the server accepts (writes and, with read auth, reads)

Checks, per variant:
  * loading through ToolsetManager._load_toolsets_from_paths (the `holmes ask -t` code
    path, with the built-in name-conflict check) raises nothing and logs no warning;
  * no toolset or tool name collides with a HolmesGPT built-in;
  * prerequisites: curl-based toolsets are enabled; kubectl-based ones are enabled
    exactly when kubectl is on PATH (reported honestly, never faked); the token
    prerequisite fails without KUBERNAUT_CONTEXT_TOKEN;
  * config snippets load as built-in overrides through ToolsetManager (config
    `toolsets:`), enabling kubernetes/core, kubernetes/logs and prometheus/metrics;
then seeds the server and calls the kubernaut_ tools through
ToolCallingLLM._directly_invoke_tool_call, asserting the seeded data comes back.
Exits non-zero on any failure.
"""

import datetime
import glob
import hashlib
import io
import json
import os
import shlex
import shutil
import sys
import tempfile
import urllib.request

import yaml

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))

from driverlib import Capture  # noqa: E402

from holmes.core.tool_calling_llm import ToolCallingLLM  # noqa: E402
from holmes.core.tools import StructuredToolResultStatus, ToolsetStatusEnum, ToolsetTag  # noqa: E402
from holmes.core.tools_utils.tool_executor import ToolExecutor  # noqa: E402
from holmes.core.toolset_manager import ToolsetManager  # noqa: E402
from holmes.core.llm import DefaultLLM  # noqa: E402
from holmes.plugins.toolsets import load_builtin_toolsets  # noqa: E402

FAILURES = []
VARIANTS = os.environ["KN_VARIANTS"]
BASE = os.environ["KN_BASE_URL"].rstrip("/")
TOKEN = os.environ["KN_TOKEN"]
STATUS_FILE = os.path.join(tempfile.mkdtemp(prefix="kn-holmes-"), "toolsets_status.json")


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILURES.append(what)


# Built-ins are loaded once, before any capture (their own import warns about kubeconfig).
BUILTINS = load_builtin_toolsets()
BUILTIN_NAMES = [t.name for t in BUILTINS]
BUILTIN_TOOLS = {tool.name for t in BUILTINS for tool in t.tools}
# Python toolsets without config list no tools yet; their tool names are documented.
BUILTIN_TOOLS |= {
    "execute_prometheus_instant_query", "execute_prometheus_range_query", "list_prometheus_rules",
    "get_metric_names", "get_label_values", "get_all_labels", "get_series", "get_metric_metadata",
    "fetch_pod_logs",
}


def manager(**kw):
    return ToolsetManager(toolset_status_location=STATUS_FILE, **kw)


def load_cli_file(path):
    """The `holmes ask -t FILE` path: ToolsetManager._load_toolsets_from_paths with the
    built-in conflict check."""
    with Capture(root_level=True) as cap:
        toolsets = manager(custom_toolsets_from_cli=[path])._load_toolsets_from_paths(
            [path], BUILTIN_NAMES, check_conflict_default=True
        )
    return toolsets, cap.records


def expected_tool_prefix(name):
    return name.startswith("kubernaut_") or name.startswith("hybrid_")


def check_prerequisites(variant, toolsets):
    have_kubectl = shutil.which("kubectl") is not None
    for ts in toolsets:
        ts.check_prerequisites(silent=True)
        uses_kubectl = any("kubectl" in (p.command if hasattr(p, "command") else "") for p in ts.prerequisites)
        if uses_kubectl:
            if have_kubectl:
                check(ts.status == ToolsetStatusEnum.ENABLED,
                      f"{variant}: {ts.name} enabled (kubectl found at {shutil.which('kubectl')}) [{ts.error}]")
            else:
                check(ts.status == ToolsetStatusEnum.FAILED and "kubectl" in (ts.error or ""),
                      f"{variant}: {ts.name} reports kubectl missing [{ts.error}]")
        else:
            check(ts.status == ToolsetStatusEnum.ENABLED,
                  f"{variant}: {ts.name} prerequisites pass [{ts.error}]")


def check_toolset_file(path):
    variant = os.path.basename(path)[len("toolset_"):-len(".yaml")]
    try:
        toolsets, warnings = load_cli_file(path)
    except Exception as e:  # noqa: BLE001
        check(False, f"{variant}: loads with HolmesGPT's -t loader ({e!r})")
        return []
    check(not warnings, f"{variant}: no warnings while loading {warnings}")
    check(len(toolsets) >= 1, f"{variant}: at least one toolset loaded")
    for ts in toolsets:
        check(ts.name.startswith("kubernaut/") and ts.name not in BUILTIN_NAMES,
              f"{variant}: toolset name {ts.name} is ours and not a built-in")
        check(ts.type is not None and ts.type.value == "custom", f"{variant}: {ts.name} is a custom toolset")
        for tool in ts.tools:
            check(expected_tool_prefix(tool.name) and tool.name not in BUILTIN_TOOLS,
                  f"{variant}: tool {tool.name} does not collide with a built-in")
            declared = set(tool.parameters)
            check("env" not in declared, f"{variant}: {tool.name} has no inferred 'env' parameter")
    check_prerequisites(variant, toolsets)
    return toolsets


def check_token_prerequisite(path):
    """The require-token variant: the env prerequisite really fails without the token."""
    toolsets, _ = load_cli_file(path)
    saved = os.environ.pop("KUBERNAUT_CONTEXT_TOKEN", None)
    try:
        ctx = [t for t in toolsets if t.name == "kubernaut/context-api"][0]
        ctx.check_prerequisites(silent=True)
        check(ctx.status == ToolsetStatusEnum.FAILED and "KUBERNAUT_CONTEXT_TOKEN" in (ctx.error or ""),
              f"token prerequisite fails without KUBERNAUT_CONTEXT_TOKEN [{ctx.error}]")
    finally:
        if saved is not None:
            os.environ["KUBERNAUT_CONTEXT_TOKEN"] = saved


def check_config_snippet(path):
    variant = os.path.basename(path)[len("config_"):-len(".yaml")]
    with open(path) as f:
        cfg = yaml.safe_load(f)
    custom = os.path.join(VARIANTS, f"toolset_{variant}.yaml")
    with Capture(root_level=True) as cap:
        tm = manager(toolsets=cfg["toolsets"], custom_toolsets=[custom])
        all_ts = tm._list_all_toolsets(check_prerequisites=False, toolset_tags=[ToolsetTag.CORE, ToolsetTag.CLI])
    check(not cap.records, f"config {variant}: no warnings {cap.records}")
    by_name = {t.name: t for t in all_ts}
    for name in ("kubernetes/core", "kubernetes/logs", "prometheus/metrics"):
        check(name in by_name and by_name[name].enabled, f"config {variant}: built-in {name} enabled")
    prom = by_name.get("prometheus/metrics")
    url = (prom.config or {}).get("prometheus_url") if prom and isinstance(prom.config, dict) else None
    check(url == cfg["toolsets"]["prometheus/metrics"]["config"]["prometheus_url"],
          f"config {variant}: prometheus_url reaches the built-in toolset ({url})")
    check("kubernaut/context-api" in by_name and by_name["kubernaut/context-api"].enabled,
          f"config {variant}: our Context API toolset loads beside the built-ins")


def check_manifests_configmap(path):
    """The ConfigMap's custom_toolset.yaml, as HolmesGPT's server loads it
    (CUSTOM_TOOLSET_LOCATION is one of its custom_toolsets files)."""
    variant = os.path.basename(path)[len("manifests_"):-len(".yaml")]
    with open(path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    cms = [d for d in docs if d.get("kind") == "ConfigMap"]
    check(len(cms) == 1, f"manifests {variant}: one ConfigMap")
    if not cms:
        return
    fd, tmp = tempfile.mkstemp(suffix=".yaml")
    with os.fdopen(fd, "w") as f:
        f.write(cms[0]["data"]["custom_toolset.yaml"])
    with Capture(root_level=True) as cap:
        tm = manager(custom_toolsets=[tmp])
        all_ts = tm._list_all_toolsets(check_prerequisites=False, toolset_tags=[ToolsetTag.CORE, ToolsetTag.CLUSTER])
    check(not cap.records, f"manifests {variant}: server-side load has no warnings {cap.records}")
    names = {t.name for t in all_ts if t.enabled}
    check("kubernaut/context-api" in names, f"manifests {variant}: Context API toolset enabled in server mode")
    os.unlink(tmp)


# ------------------------------------------------------------------ live invocation

def http(method, path, body=None, token=TOKEN):
    req = urllib.request.Request(BASE + path, method=method)
    req.add_header("Authorization", f"Bearer {token}")
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, data=data, timeout=10) as r:
        return r.status, json.loads(r.read() or b"null")


def seed():
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    ns, kind, name, alert = "holmes-test", "Deployment", "web", "KubePodCrashLooping"
    ids = []
    traces = []
    for i, (action, status) in enumerate(
        [("restart_pod", "completed"), ("restart_pod", "failed"), ("increase_resources", "completed")]
    ):
        aid = f"holmes-test-{i}"
        ids.append(aid)
        traces.append({
            "action_id": aid,
            "action_timestamp": (now - datetime.timedelta(hours=3 - i)).isoformat().replace("+00:00", "Z"),
            "resource": {"namespace": ns, "kind": kind, "name": name},
            "alert": {"name": alert, "severity": "critical"},
            "action_type": action,
            "execution_status": status,
        })
    status, _ = http("POST", "/api/v1/context/action-history", traces)
    check(status in (200, 201), f"seeded {len(traces)} traces (HTTP {status})")
    sig = hashlib.sha256(f"{alert}:{ns}:{kind}:{name}".encode()).hexdigest()
    return ids, sig, ns


def invoker(toolsets):
    for ts in toolsets:
        ts.check_prerequisites(silent=True)
    llm = DefaultLLM("openai/gpt-4o-mini", api_key="unused", api_base="http://127.0.0.1:9/v1")
    return ToolCallingLLM(ToolExecutor(toolsets), max_steps=1, llm=llm, tool_results_dir=None)


def call(ai, tool, params):
    result = ai._directly_invoke_tool_call(
        tool_name=tool, tool_params=dict(params), user_approved=True, tool_call_id=f"t-{tool}"
    )
    return result


def invoke_variant(path, ids, sig, ns):
    variant = os.path.basename(path)[len("toolset_"):-len(".yaml")]
    toolsets, _ = load_cli_file(path)
    ai = invoker(toolsets)

    r = call(ai, "kubernaut_context_health", {})
    check(r.status == StructuredToolResultStatus.SUCCESS, f"{variant}: health succeeds [{r.error}]")

    r = call(ai, "kubernaut_action_history", {"namespace": ns, "limit": 10, "kind": None})
    ok = r.status == StructuredToolResultStatus.SUCCESS
    data = json.loads(r.data) if ok else {}
    got = sorted(a.get("action_id") for a in data.get("actions", []))
    check(ok and got == sorted(ids), f"{variant}: action history returns the seeded ids {got} [{r.error}]")
    check(TOKEN not in (r.invocation or ""), f"{variant}: the token is not in the rendered command")

    r = call(ai, "kubernaut_action_history", {"namespace": "no-such-namespace"})
    data = json.loads(r.data) if r.status == StructuredToolResultStatus.SUCCESS else {}
    check(data.get("count") == 0, f"{variant}: a filter that matches nothing returns count 0 [{r.error}]")

    hostile = "web'; echo INJECTED; $(echo SUBST) `echo TICK` '"
    r = call(ai, "kubernaut_action_history", {"namespace": ns, "name": hostile})
    out = r.data or ""
    check("INJECTED\n" not in out + "\n" and "SUBST" not in out.replace("$(echo SUBST)", "")
          and "TICK" not in out.replace("`echo TICK`", ""),
          f"{variant}: hostile filter value is not executed [{r.status}]")
    check(shlex.quote(hostile) in (r.invocation or ""),
          f"{variant}: hostile filter value is passed as one shell-quoted word")

    r = call(ai, "kubernaut_action_get", {"action_id": ids[1]})
    ok = r.status == StructuredToolResultStatus.SUCCESS
    rec = json.loads(r.data) if ok else {}
    check(ok and rec.get("action_id") == ids[1], f"{variant}: one action by id [{r.error}]")

    r = call(ai, "kubernaut_action_get", {"action_id": "../../health"})
    check(r.status == StructuredToolResultStatus.ERROR and "action_id must be" in (r.data or ""),
          f"{variant}: a path-traversal action_id is refused before curl runs")

    r = call(ai, "kubernaut_pattern_analysis", {"signature": sig, "window": "7d"})
    ok = r.status == StructuredToolResultStatus.SUCCESS
    pa = json.loads(r.data) if ok else {}
    check(ok and pa.get("occurrences", 0) >= 3, f"{variant}: pattern analysis occurrences={pa.get('occurrences')} [{r.error}]")

    r = call(ai, "kubernaut_pattern_analysis", {"signature": "0" * 64})
    ok = r.status == StructuredToolResultStatus.SUCCESS
    pa = json.loads(r.data) if ok else {}
    check(ok and pa.get("occurrences") == 0, f"{variant}: unknown signature returns zero occurrences [{r.error}]")

    r = call(ai, "kubernaut_context_discover", {"namespace": ns, "alert_type": None})
    check(r.status == StructuredToolResultStatus.SUCCESS, f"{variant}: discover succeeds [{r.error}]")

    # Without the token, reads are refused (the server runs with --require-read-auth),
    # and the tool reports the failure instead of sending an empty header.
    saved = os.environ.pop("KUBERNAUT_CONTEXT_TOKEN")
    try:
        r = call(ai, "kubernaut_action_history", {"namespace": ns})
        check(r.status == StructuredToolResultStatus.ERROR and "unauthorized" in (r.data or ""),
              f"{variant}: without KUBERNAUT_CONTEXT_TOKEN the call fails as unauthorized")
    finally:
        os.environ["KUBERNAUT_CONTEXT_TOKEN"] = saved


RENDERING = [
    # (tool, params as an LLM sends them, the command HolmesGPT must render)
    ("hybrid_k8s_pod_logs",
     {"namespace": "default", "pod_name": "web-1", "previous": True, "tail_lines": None, "container": None},
     "kubectl logs --namespace=default --previous --tail=200 -- web-1"),
    ("hybrid_k8s_pod_logs",
     {"namespace": "default", "pod_name": "--server=http://evil", "tail_lines": 50, "since": "1h"},
     "kubectl logs --namespace=default --tail=50 --since=1h -- --server=http://evil"),
    ("hybrid_k8s_get_pods", {}, "kubectl get pods --all-namespaces -o wide"),
    ("hybrid_k8s_get_pods", {"namespace": None, "label_selector": "app=web"},
     "kubectl get pods --all-namespaces --selector=app=web -o wide"),
    ("hybrid_k8s_get_pods", {"namespace": "prod; rm -rf /"},
     "kubectl get pods --namespace='prod; rm -rf /' -o wide"),
    ("hybrid_k8s_get_events", {"namespace": "prod", "object_name": "web-1", "type": "Warning"},
     "kubectl get events --namespace=prod --field-selector=involvedObject.name=web-1,type=Warning --sort-by=.lastTimestamp"),
    ("hybrid_k8s_get_events", {"type": "Warning"},
     "kubectl get events --all-namespaces --field-selector=type=Warning --sort-by=.lastTimestamp"),
    ("hybrid_k8s_describe", {"kind": "pod", "name": "web-1", "namespace": None},
     "kubectl describe -- pod web-1"),
    ("hybrid_prometheus_query", {"query": 'up{job="a"}; $(id)', "time": None},
     "curl -sS --fail-with-body --max-time 30 -H 'Accept: application/json' -G "
     "'http://127.0.0.1:9090/api/v1/query' --data-urlencode query='up{job=\"a\"}; $(id)'"),
]


def check_rendering(path):
    """Commands as HolmesGPT renders them (strict-mode nulls, omitted and hostile
    values), through its own invocation path. kubectl gets an empty kubeconfig, so it
    fails fast without touching any cluster; only the rendered command is checked."""
    fd, empty = tempfile.mkstemp(prefix="kubeconfig-")
    os.close(fd)
    saved = os.environ.get("KUBECONFIG")
    os.environ["KUBECONFIG"] = empty
    try:
        toolsets, _ = load_cli_file(path)
        ai = invoker(toolsets)
        for tool, params, want in RENDERING:
            r = call(ai, tool, params)
            check(r.invocation == want, f"render {tool} {params} -> {r.invocation!r}")
    finally:
        if saved is None:
            os.environ.pop("KUBECONFIG", None)
        else:
            os.environ["KUBECONFIG"] = saved
        os.unlink(empty)


def main():
    os.environ["KUBERNAUT_CONTEXT_TOKEN"] = TOKEN
    files = sorted(glob.glob(os.path.join(VARIANTS, "toolset_*.yaml")))
    check(len(files) >= 5, f"{len(files)} toolset variants generated")
    for f in files:
        check_toolset_file(f)
    token_variants = [f for f in files if "token" in os.path.basename(f)]
    check(bool(token_variants), "a require-token variant exists")
    for f in token_variants:
        check_token_prerequisite(f)
    for f in sorted(glob.glob(os.path.join(VARIANTS, "config_*.yaml"))):
        check_config_snippet(f)
    for f in sorted(glob.glob(os.path.join(VARIANTS, "manifests_*.yaml"))):
        check_manifests_configmap(f)

    check_rendering(os.path.join(VARIANTS, "toolset_default.yaml"))

    ids, sig, ns = seed()
    live = [f for f in files if os.path.basename(f).startswith("toolset_live")]
    check(len(live) >= 2, f"{len(live)} live variants (combined and lambda)")
    for f in live:
        invoke_variant(f, ids, sig, ns)

    print()
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed:")
        for f in FAILURES:
            print("  - " + f)
        sys.exit(1)
    print("all HolmesGPT checks passed")


if __name__ == "__main__":
    main()
