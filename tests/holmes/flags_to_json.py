"""Converts `kubernaut-context toolset` flags into the generator's JSON options.

Used by scripts/test-holmes.sh only while the CLI subcommands are not available: the
flags mirror the option names (`--context-url` -> `context_url`, `--no-kubernetes` ->
`kubernetes: false`), so the `generate` example of the core crate produces the same
bytes the CLI would.

Prints two lines: the kind (`toolset` or `config`) and the JSON options.
"""

import json
import sys

BOOLEAN = {"require_token", "builtin_toolsets", "create_namespace", "deploy_context_api"}
NEGATED = {"no_kubernetes": "kubernetes", "no_prometheus": "prometheus"}


def main(argv):
    kind = "toolset"
    opts = {}
    i = 0
    while i < len(argv):
        flag = argv[i]
        if not flag.startswith("--"):
            raise SystemExit(f"unexpected argument {flag!r}")
        name = flag[2:].replace("-", "_")
        if name == "config_snippet":
            kind = "config"
        elif name in NEGATED:
            opts[NEGATED[name]] = False
        elif name in BOOLEAN:
            opts[name] = True
        else:
            i += 1
            opts[name] = argv[i]
        i += 1
    print(kind)
    print(json.dumps(opts))


if __name__ == "__main__":
    main(sys.argv[1:])
