"""The benchmark harness runs end to end in --quick mode and prints a table with figures.

One tiny workload (W4, our REST client only: no wrk, no Node needed) against a real
sandbox process; no timing is asserted, only that a user gets a table row with a number
and a results file.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_run_prints_a_table_row_with_a_number(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--only",
            "w4",
            "--contenders",
            "ours",
            "--results",
            str(results),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    row = re.search(r"^\| W4 [^|]*\| ours[^|]*\| sends/s \|\s*([\d,]+) \|", out.stdout, re.M)
    assert row is not None, out.stdout
    assert int(row.group(1).replace(",", "")) > 0
    text = results.read_text()
    assert "## Machine" in text and "sends/s" in text
