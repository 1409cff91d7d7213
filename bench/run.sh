#!/usr/bin/env bash
# The benchmarks in one command, from a fresh clone: install the peers (the package and
# the pinned PyPI crisp-api through scripts/setup.sh, the pinned npm crisp-api with
# `npm ci`, wrk, redis-server and nginx from Debian's packages when missing), then run every workload and
# write bench/RESULTS.md. Options go to the harness: `bash bench/run.sh --quick`,
# `--only w1,w3`, `--rounds 5` (see `python -m bench --help`).
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
  -h|--help)
    if [ -x .venv/bin/python ]; then exec .venv/bin/python -m bench --help; fi
    sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
    exit 0 ;;
esac

bash scripts/setup.sh

if [ ! -d bench/node/node_modules/crisp-api ]; then
  echo "bench: installing the official Node client (npm ci)"
  (cd bench/node && npm ci --silent --no-audit --no-fund)
fi

if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "bench: installing wrk (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  else
    echo "bench: wrk is missing; install Debian's 'wrk' package (W1 needs it)" >&2
  fi
fi

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-benchmark >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "bench: installing redis-server and redis-tools (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >/dev/null
  else
    echo "bench: redis-server or redis-benchmark is missing; install Debian's 'redis-server' (W5 needs it)" >&2
  fi
fi

if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "bench: installing nginx (apt-get; W4f's fast server, never started as a service)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
  else
    echo "bench: nginx is missing; install Debian's 'nginx' package (W4f needs it)" >&2
  fi
fi

exec .venv/bin/python -m bench "$@"
