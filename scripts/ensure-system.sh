#!/usr/bin/env bash
# Debian packages the tests need (headless Chromium for Playwright, curl, python3-venv),
# idempotently: installs only what is missing.
set -euo pipefail
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v curl >/dev/null || need+=(curl)
# Debian's python3 has no venv/ensurepip without this package (pyenv/python.org builds do).
python3 -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv)
if [ ${#need[@]} -eq 0 ]; then echo "system packages: present"; exit 0; fi
echo "==> apt-get install ${need[*]}"
SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
