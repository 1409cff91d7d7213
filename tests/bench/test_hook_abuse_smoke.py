"""``python -m bench.hook_abuse`` runs end to end at a tiny scale and reports figures.

No figure is asserted but the ones that say the server held: nothing unsigned fed,
no 5xx, every slowloris connection closed, the good hooks answered 200.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_tiny_abuse_run_prints_its_figures() -> None:
    argv = [sys.executable, "-m", "bench.hook_abuse", "--requests", "150", "--slow", "3"]
    argv += ["--slow-every", "0.5", "--request-timeout", "3", "--max-connections", "40"]
    argv += ["--concurrency", "20"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout[out.stdout.index("{") :])
    assert report["pieces_1mib_64b"]["status"] == 200
    assert report["pieces_1mib_64b"]["server_reads"] > 100
    abuse = report["abuse"]
    assert abuse["requests"] == 150
    assert not [s for s in abuse["answers_by_status"] if int(s) >= 500]
    assert abuse["slowloris_closed"] == 3
    assert abuse["good_hooks"] > 0 and abuse["good_hooks_not_200"] == 0
    assert abuse["connections_left_hanging"] == 0
    assert report["cap"]["answered_503"] > 0 and report["cap"]["good_hook_after"] == [200]
    assert report["fed"] > 0 and report["fed_unsigned"] == 0
    assert report["server_cpu_s"] > 0 and report["server_peak_rss_mb"] > 0
