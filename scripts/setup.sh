#!/usr/bin/env bash
# Sets up everything the demo and the tests need on a fresh machine, then stays quiet
# on later runs: a virtual environment with the package and its dev tools, the official
# Node clients for the conformance tests, Redis for the Redis tests, and Chromium for the
# chat-page browser test.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
fi

# Reinstall only when pyproject.toml changed since the last install.
stamp=.venv/.crisp_plugin_installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing crisp_plugin and its dev tools"
  .venv/bin/python -m pip install -q -e '.[dev]'
  echo "$want" > "$stamp"
fi

if [ "${1:-}" = "--with-test-deps" ]; then
  # The official npm clients, each generation pinned by its lockfile, for
  # tests/conformance: node/ (crisp-api 11, Engine.IO v4), node_eio3/ (crisp-api 5,
  # node-crisp-api 4, socket.io-client 2: Engine.IO v3).
  for dir in tests/conformance/node tests/conformance/node_eio3; do
    if [ -f "$dir/package-lock.json" ] && [ ! -d "$dir/node_modules" ]; then
      echo "setup: installing the official Node clients in $dir (npm ci)"
      (cd "$dir" && npm ci --silent --no-audit --no-fund)
    fi
  done
  # Debian's Redis for tests/redis and the redis state backend's share of the state
  # tests: each test starts its own redis-server on a free loopback port.
  if ! command -v redis-server >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
      echo "setup: installing redis-server (apt-get)"
      DEBIAN_FRONTEND=noninteractive apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
    else
      echo "setup: redis-server is missing; install Debian's 'redis-server' package (the Redis tests need it)" >&2
    fi
  fi
  # Debian's Chromium for the browser test of the chat page.
  if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
      echo "setup: installing chromium (apt-get)"
      DEBIAN_FRONTEND=noninteractive apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
      echo "setup: chromium is missing; install Debian's 'chromium' package (the browser test needs it)" >&2
    fi
  fi
fi
