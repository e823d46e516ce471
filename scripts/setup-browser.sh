#!/usr/bin/env bash
# Install headless Chromium and ChromeDriver (Debian packages chromium, chromium-driver) for
# tests/test_browser.py, which opens the docs site and the report in a real browser.
#
# Idempotent: when both binaries are already there it exits at once, without apt-get.
# Needs root (or sudo) only when something is missing; fails loudly otherwise.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }

if have chromium && have chromedriver; then
    exit 0
fi

SUDO=""
if [[ "$(id -u)" != "0" ]]; then
    if have sudo; then
        SUDO="sudo"
    else
        echo "setup-browser.sh: chromium is missing and installing it needs root (or sudo)" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null

if ! have chromium || ! have chromedriver; then
    echo "setup-browser.sh: apt-get ran but chromium or chromedriver is still not on PATH" >&2
    exit 1
fi
echo "setup-browser.sh: $(chromium --version 2>/dev/null | head -1); $(chromedriver --version | head -1)"
