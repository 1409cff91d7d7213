"""bench/results.json: every figure of a run, machine-readable, and the change between two.

``write_json`` writes the medians (and every round's value) per workload, contender and
figure, each non-reference contender's ratio, the targets, the commit, the machine and
the load; ``compare(old, new)`` lists, per figure present in both, the old and new
value and the change in percent, with "better" or "worse" by the figure's direction,
so a regression shows as a number::

    bash bench/run.sh --compare old-results.json     # run, then compare with an old run
    python -m bench.results_json OLD.json NEW.json   # compare two runs already written
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bench.model import Options, Workload, ratio
from bench.report import load_average, machine

FORMAT = 1
NOISE = 0.05  # a change under 5 % is "same": rounds on a shared machine move that much


def document(
    workloads: Iterable[Workload],
    opts: Options,
    targets: list[tuple[str, str, bool | None]],
    elapsed: float,
    load_before: str,
) -> dict[str, Any]:
    """The JSON document of one run."""
    figures: list[dict[str, Any]] = []
    for w in workloads:
        ref = w.reference
        for c in w.contenders:
            for m in w.metrics:
                values = w.samples.get(c.key, {}).get(m.key)
                if not values:
                    continue
                median = w.median(c.key, m.key)
                vs = (
                    None
                    if c.key == ref.key
                    else ratio(w.median(ref.key, m.key), median, m.higher_is_better)
                )
                figures.append(
                    {
                        "id": f"{w.key}/{c.key}/{m.key}",
                        "workload": w.title,
                        "contender": c.label,
                        "figure": m.label,
                        "higher_is_better": m.higher_is_better,
                        "median": median,
                        "rounds": values,
                        "ours_vs_this": vs,
                    }
                )
    return {
        "format": FORMAT,
        "measured": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "quick": opts.quick,
        "elapsed_s": round(elapsed, 1),
        "machine": dict(machine()),
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "errors": {f"{w.key}/{k}": v for w in workloads for k, v in w.errors.items()},
        "figures": figures,
        "targets": [{"target": t, "measured": m, "met": ok} for t, m, ok in targets],
    }


def write_json(path: Path, doc: dict[str, Any]) -> None:
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def load(path: Path) -> dict[str, Any]:
    """A results.json (``ValueError`` with the path when it is not one)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable results.json ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"{path}: not a results.json of format {FORMAT}")
    return doc


def compare(old: dict[str, Any], new: dict[str, Any]) -> list[list[str]]:
    """Rows: figure, old, new, change %, verdict; figures in only one run are listed too."""
    before = {f["id"]: f for f in old["figures"]}
    rows: list[list[str]] = []
    for f in new["figures"]:
        name = f"{f['workload']} / {f['contender']} / {f['figure']}"
        was = before.pop(f["id"], None)
        now = f["median"]
        if was is None or not was["median"] or now is None:
            rows.append([name, "-", _num(now), "", "new"])
            continue
        change = now / was["median"] - 1
        better = change > 0 if f["higher_is_better"] else change < 0
        verdict = "same" if abs(change) < NOISE else "better" if better else "WORSE"
        rows.append([name, _num(was["median"]), _num(now), f"{change * 100:+.1f}%", verdict])
    for f in before.values():
        rows.append([f"{f['workload']} / {f['contender']} / {f['figure']}",
                     _num(f["median"]), "-", "", "gone"])  # fmt: skip
    return rows


def render(rows: list[list[str]], old: dict[str, Any], new: dict[str, Any]) -> str:
    header = ["figure", "old", "new", "change", "verdict"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    commits = (old["machine"].get("crisp_plugin commit", "?"),
               new["machine"].get("crisp_plugin commit", "?"))  # fmt: skip
    lines = [f"old: {commits[0]} ({old['measured']}); new: {commits[1]} ({new['measured']})"]
    for r in [header, *rows]:
        lines.append("  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i])
                               for i, c in enumerate(r)))  # fmt: skip
    worse = sum(1 for r in rows if r[4] == "WORSE")
    lines.append(f"{worse} figure(s) worse by {NOISE:.0%} or more" if worse else
                 f"no figure worse by {NOISE:.0%} or more")  # fmt: skip
    return "\n".join(lines)


def _num(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m bench.results_json OLD.json NEW.json", file=sys.stderr)
        return 2
    try:
        old, new = load(Path(argv[0])), load(Path(argv[1]))
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(render(compare(old, new), old, new))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
