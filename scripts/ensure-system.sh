#!/usr/bin/env bash
# Debian packages the tests need (headless Chromium for Playwright), idempotently.
set -euo pipefail
need=()
command -v chromium >/dev/null || need+=(chromium)
if [ ${#need[@]} -eq 0 ]; then echo "system packages: present"; exit 0; fi
echo "==> apt-get install ${need[*]}"
SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
