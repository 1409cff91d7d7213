#!/usr/bin/env bash
# The whole test suite from a fresh clone: set-up, lint, types, then every test; then
# every test again with each runtime dependency at its floor in pyproject.toml.
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

# .venv-floors: the package and its dev tools, with every runtime dependency pinned
# to the floor pyproject.toml claims (scripts/floors.py writes the constraints). Built
# again from scratch only when pyproject.toml or scripts/floors.py changed.
floors=.venv-floors
stamp=$floors/.crisp_plugin_installed
want=$(cat pyproject.toml scripts/floors.py | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: creating $floors (runtime dependencies at their floors)"
  rm -rf "$floors"
  "${PYTHON:-python3}" -m venv "$floors"
  "$floors/bin/python" -m pip install -q --upgrade pip
  .venv/bin/python scripts/floors.py > "$floors/floors.txt"
  "$floors/bin/python" -m pip install -q --constraint "$floors/floors.txt" -e '.[dev]'
  echo "$want" > "$stamp"
fi
echo "== pytest at the dependency floors ($(paste -sd' ' "$floors/floors.txt"))"
"$floors/bin/python" -m pytest -q -p no:cacheprovider "$@"
