"""``python -m bench.rtm_gap`` runs end to end on one short gap and reports its figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_short_gap_run_prints_the_calls_it_spent() -> None:
    argv = [sys.executable, "-m", "bench.rtm_gap", "--gaps", "0.3", "--conversations", "3"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    [row] = json.loads(out.stdout)["gaps"]
    assert row["each_answered_once"] and row["complete"]
    assert row["gap_s"] >= 0.3 and row["calls"] > 0 and row["read_back"] > 0
    assert row["calls_per_gap_second"] == round(row["calls"] / row["gap_s"], 1)
