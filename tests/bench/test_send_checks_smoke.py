"""``python -m bench.send_checks`` runs at a tiny scale and reports its figures.

Asserted only what must hold whatever the machine: no extra call when nothing fails,
and with answers lost after the store, checked sends lose and double nothing while
unchecked ones report errors for messages that were stored.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_tiny_run_prints_calls_per_100_sends() -> None:
    argv = [sys.executable, "-m", "bench.send_checks", "--sends", "100"]
    argv += ["--conversations", "10", "--only", "none,after"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    report = {(r["mix"], r["verify_sends"]): r for r in json.loads(out.stdout)}
    assert report[("none", True)]["extra_calls_per_100_sends"] == 0
    assert report[("none", True)]["calls"] == report[("none", False)]["calls"] == 100
    checked, unchecked = report[("after", True)], report[("after", False)]
    assert checked["lost"] == checked["doubled"] == checked["raised"] == 0
    assert checked["checks_per_100_sends"] > 0 and checked["posts"] == 100
    assert unchecked["raised"] > 0 and unchecked["stored_behind_an_error"] == unchecked["raised"]
