#!/usr/bin/env bash
# The whole test suite from a fresh clone: set-up, lint, types, then every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --with-test-deps

echo "== ruff"
.venv/bin/ruff check crisp_plugin tests examples bench scripts
.venv/bin/ruff format --check crisp_plugin tests examples bench scripts
echo "== mypy --strict"
.venv/bin/mypy crisp_plugin
echo "== pytest"
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
