#!/usr/bin/env bash
# Static checks of infra/ (offline, no AWS, no cluster):
#   1. cfn-lint         infra/template.yaml (SAM)               no errors or warnings
#      + the template's table matches docs/DYNAMODB.md, and its functions are exactly the
#        bins of functions/ plus the web app, deployed from scripts/lambda-build.sh's output
#   2. checkov          infra/template.yaml (cloudformation)    no failed checks
#                       infra/k8s (kubernetes)                  no failed checks
#      (justified skips live next to the resource: Metadata.checkov.skip in the template,
#       checkov.io/skipN annotations in the manifests)
#   3. kubernetes-validate --strict against Kubernetes $K8S_VERSION, every manifest
# Each tool is first run on a deliberately broken copy that it must reject, so a tool
# that silently checks nothing cannot make this script pass.
# Needs the venvs of scripts/ensure-python.sh (tools, checkov). Exits non-zero on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
K8S_VERSION=${K8S_VERSION:-1.33.0}
CFN_LINT=.venv/tools/bin/cfn-lint
KVALIDATE=.venv/tools/bin/kubernetes-validate
CHECKOV=.venv/checkov/bin/checkov
for t in "$CFN_LINT" "$KVALIDATE" "$CHECKOV"; do
  [ -x "$t" ] || { echo "missing $t: run scripts/ensure-python.sh" >&2; exit 1; }
done
# Checkov: no platform calls (offline machines), no colour.
export BC_SKIP_MAPPING=TRUE ANSI_COLORS_DISABLED=1 LOG_LEVEL=ERROR
checkov() { "$CHECKOV" --skip-download --compact --quiet "$@"; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0
step() { printf '\n==> %s\n' "$*"; }
ok() { printf '    ok: %s\n' "$*"; }
bad() { printf '    FAILED: %s\n' "$*" >&2; fail=1; }

K8S_FILES=$(find infra/k8s -name '*.yaml' | sort)

# ---------------------------------------------------------------- canaries
step "canaries: each tool must reject a broken input"
sed 's/^      PointInTimeRecoverySpecification:$/      BogusProperty: 1\n      PointInTimeRecoverySpecification:/' \
  infra/template.yaml > "$TMP/bad-cfn.yaml"
if "$CFN_LINT" "$TMP/bad-cfn.yaml" > "$TMP/out" 2>&1; then bad "cfn-lint accepted an unknown property"; else ok "cfn-lint rejects an unknown property"; fi
sed 's/PointInTimeRecoveryEnabled: true/PointInTimeRecoveryEnabled: false/' infra/template.yaml > "$TMP/bad-checkov.yaml"
if checkov -f "$TMP/bad-checkov.yaml" --framework cloudformation > "$TMP/out" 2>&1; then
  bad "checkov accepted a table without point-in-time recovery"
else ok "checkov rejects a table without point-in-time recovery"; fi
sed 's/readOnlyRootFilesystem: true/readOnlyRootFilesystem: true\n            bogusField: 1/' infra/k8s/deployment.yaml > "$TMP/bad-k8s.yaml"
if "$KVALIDATE" --strict --quiet -k "$K8S_VERSION" "$TMP/bad-k8s.yaml" > "$TMP/out" 2>&1; then
  bad "kubernetes-validate accepted an unknown field"
else ok "kubernetes-validate rejects an unknown field"; fi

# ---------------------------------------------------------------- the real checks
step "cfn-lint infra/template.yaml"
if "$CFN_LINT" infra/template.yaml; then ok "cfn-lint: clean"; else bad "cfn-lint"; fi

step "template table matches docs/DYNAMODB.md (keys and indexes)"
if [ -f docs/DYNAMODB.md ]; then
  if .venv/tools/bin/python - <<'PY'
import re, sys, yaml
class L(yaml.SafeLoader): pass
L.add_multi_constructor("!", lambda l, s, n: None)
t = yaml.load(open("infra/template.yaml"), Loader=L)["Resources"]["ContextTable"]["Properties"]
have = {g["IndexName"]: tuple(k["AttributeName"] for k in g["KeySchema"]) for g in t["GlobalSecondaryIndexes"]}
doc = open("docs/DYNAMODB.md").read()
sec = doc.split("### Global secondary indexes", 1)[1].split("\n## ", 1)[0]
want = {m[0]: (m[1], m[2]) for m in re.findall(r"^\| `(\w+)` \| `(\w+)` \| `(\w+)` \|", sec, re.M)}
keys = tuple(k["AttributeName"] for k in t["KeySchema"])
errs = []
if not want: errs.append("no indexes found in docs/DYNAMODB.md")
if keys != ("pk", "sk"): errs.append(f"table keys {keys} != (pk, sk)")
if have != want: errs.append(f"template GSIs {have} != documented {want}")
# infra/dynamodb-table.json (aws dynamodb create-table input, docs/DEPLOY.md) = the template
import json
j = json.load(open("infra/dynamodb-table.json"))
for k in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes"):
    if j[k] != t[k]: errs.append(f"infra/dynamodb-table.json {k} differs from infra/template.yaml")
print("\n".join(errs) or f"{len(have)} GSIs match (template, docs, dynamodb-table.json)")
sys.exit(1 if errs else 0)
PY
  then ok "table design matches"; else bad "table design differs from docs/DYNAMODB.md"; fi

step "template functions match the function binaries and make lambda's output"
if .venv/tools/bin/python - <<'PY'
import re, sys, yaml
class L(yaml.SafeLoader): pass
L.add_multi_constructor("!", lambda l, s, n: None)
res = yaml.load(open("infra/template.yaml"), Loader=L)["Resources"]
bins = re.findall(r'^\[\[bin\]\]\s*\nname = "([^"]+)"', open("functions/Cargo.toml").read(), re.M)
errs = []
code = {}
for name, r in res.items():
    if r.get("Type") != "AWS::Serverless::Function":
        continue
    uri = r["Properties"].get("CodeUri", "")
    if not (r.get("Metadata") or {}).get("SkipBuild"):
        errs.append(f"{name}: no Metadata.SkipBuild (SAM would build it with the release profile)")
    m = re.fullmatch(r"\.\./target/lambda/([a-z0-9-]+)", uri)
    if not m:
        errs.append(f"{name}: CodeUri {uri!r} is not ../target/lambda/<function>")
    else:
        code[m.group(1)] = name
for b in bins + ["kubernaut-context"]:
    if b not in code:
        errs.append(f"no function deploys target/lambda/{b} (scripts/lambda-build.sh output)")
for c in code:
    if c not in bins + ["kubernaut-context"]:
        errs.append(f"{code[c]}: target/lambda/{c} is built by nothing")
print("\n".join(errs) or f"{len(code)} functions: {', '.join(sorted(code))}")
sys.exit(1 if errs else 0)
PY
  then ok "functions match"; else bad "template functions differ from functions/src/bin + web app"; fi
fi

step "checkov (cloudformation) infra/template.yaml"
if checkov -f infra/template.yaml --framework cloudformation; then ok "checkov cloudformation: no failed checks"; else bad "checkov cloudformation"; fi

step "checkov (kubernetes) infra/k8s"
if checkov -d infra/k8s --framework kubernetes; then ok "checkov kubernetes: no failed checks"; else bad "checkov kubernetes"; fi

step "kubernetes-validate --strict (Kubernetes $K8S_VERSION)"
# shellcheck disable=SC2086
if "$KVALIDATE" --strict -k "$K8S_VERSION" $K8S_FILES; then ok "manifests valid"; else bad "kubernetes-validate"; fi

if [ "$fail" -ne 0 ]; then
  printf '\ntest-infra: FAILED\n' >&2
  exit 1
fi
printf '\ntest-infra: all checks passed\n'
