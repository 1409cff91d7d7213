"""``python -m crisp_plugin``: see ``crisp_plugin.cli``."""

from __future__ import annotations

from crisp_plugin.cli import run_main

if __name__ == "__main__":
    raise SystemExit(run_main())
