#!/usr/bin/env bash
# The example bot on the embedded sandbox: open the printed address and say "hello".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m crisp_plugin run plugin.toml "$@"
