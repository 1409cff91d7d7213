"""The benchmark harness runs end to end in --quick mode and prints a table with figures.

One tiny workload (W4, our REST client only: no wrk, no Node needed) against a real
sandbox process; no timing is asserted, only that a user gets a table row with a number
and a results file.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def quick_w4(*extra: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "w4", "--contenders", "ours",
         *extra],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_quick_run_prints_a_table_row_with_a_number(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    out = quick_w4("--results", str(results))
    assert out.returncode == 0, out.stdout + out.stderr
    row = re.search(r"^\| W4 [^|]*\| ours[^|]*\| sends/s\s*\|\s*([\d,]+) \|", out.stdout, re.M)
    assert row is not None, out.stdout
    assert int(row.group(1).replace(",", "")) > 0
    text = results.read_text()
    assert "## Machine" in text and "sends/s" in text

    # Beside it, results.json: every figure, the commit, the machine, the load.
    doc = json.loads((tmp_path / "RESULTS.json").read_text())
    (sends,) = [f for f in doc["figures"] if f["id"] == "w4/ours/per_s"]
    assert f"{sends['median']:,.0f}" == row.group(1)
    assert doc["machine"]["crisp_plugin commit"] and doc["load_average_before"]

    # A second run compared with the first: the change of that figure, as a number.
    again = quick_w4("--compare", str(tmp_path / "RESULTS.json"))
    assert again.returncode == 0, again.stdout + again.stderr
    figure = r"^W4 [^\n]* / ours[^/]* / sends/s\s+[\d,]+\s+[\d,]+\s+[+-][\d.]+%"
    change = re.search(figure, again.stdout, re.M)
    assert change is not None, again.stdout
    wrong = quick_w4("--compare", str(tmp_path / "RESULTS.md"))  # not a results.json
    assert wrong.returncode == 2 and "not a readable results.json" in wrong.stdout
