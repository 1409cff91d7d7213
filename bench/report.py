"""The table of figures and ratios, the machine description, and bench/RESULTS.md."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from collections.abc import Iterable
from pathlib import Path

from bench.model import Options, Workload, ratio
from bench.procs import NODE_DIR, ROOT


def _run(argv: list[str], cwd: Path = ROOT) -> str:
    try:
        out = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "?"
    return out.stdout.strip() or "?"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _ram_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "?"


def _pkg_version(name: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _node_pkg_version() -> str:
    import json

    try:
        meta = json.loads((NODE_DIR / "node_modules/crisp-api/package.json").read_text())
    except (OSError, ValueError):
        return "not installed"
    return str(meta.get("version", "?"))


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine skews figures."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def machine() -> list[tuple[str, str]]:
    """What the figures were measured on, as (label, value) pairs."""
    commit = _run(["git", "rev-parse", "--short=12", "HEAD"])
    dirty = _run(["git", "status", "--porcelain", "--untracked-files=no", "--", "crisp_plugin"])
    if dirty not in ("?", ""):
        commit += " (with uncommitted changes in crisp_plugin/)"
    return [
        ("CPU", f"{_cpu_model()}, {os.cpu_count()} logical cores"),
        ("RAM", _ram_gib()),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", platform.python_version()),
        ("Node", _run(["node", "--version"])),
        ("wrk", _run(["sh", "-c", "wrk --version 2>&1 | head -n 1"]) or "?"),
        ("crisp_plugin commit", commit),
        ("npm crisp-api", _node_pkg_version()),
        ("PyPI crisp-api", _pkg_version("crisp-api")),
        ("aiohttp", _pkg_version("aiohttp")),
        ("python-socketio", _pkg_version("python-socketio")),
    ]


def _num(value: float | None, digits: int) -> str:
    if value is None:
        return "n/a"
    if digits == 0:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def rows(workloads: Iterable[Workload]) -> list[list[str]]:
    """Table rows: workload, contender, figure, median, min-max of rounds, ours vs it."""
    out: list[list[str]] = []
    for w in workloads:
        ref = w.reference
        for c in w.contenders:
            if c.key in w.errors and c.key not in w.samples:
                out.append([w.title, c.label, "failed", w.errors[c.key][:60], "", ""])
                continue
            for m in w.metrics:
                values = w.samples.get(c.key, {}).get(m.key)
                if not values:
                    continue
                med = w.median(c.key, m.key)
                spread = f"{_num(min(values), m.digits)}..{_num(max(values), m.digits)}"
                if c.ours or c.key == ref.key:
                    rel = "ours" if c.ours else "reference"
                else:
                    r = ratio(w.median(ref.key, m.key), med, m.higher_is_better)
                    rel = "n/a" if r is None else f"{r:.2f}x"
                out.append([w.title, c.label, m.label, _num(med, m.digits), spread, rel])
    return out


HEADER = ["workload", "contender", "figure", "median", "rounds min..max", "ours vs this"]


def table(workloads: Iterable[Workload]) -> str:
    """A Markdown table, aligned so it also reads well in a terminal."""
    body = rows(workloads)
    widths = [max(len(r[i]) for r in [HEADER, *body]) for i in range(len(HEADER))]
    right = {3, 4, 5}

    def line(cells: list[str]) -> str:
        padded = [
            c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(cells)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(
        "-" * (w + 1) + ":" if i in right else "-" * (w + 2) for i, w in enumerate(widths)
    )
    return "\n".join([line(HEADER), rule + "|", *(line(r) for r in body)])


def write_results(
    path: Path,
    workloads: list[Workload],
    opts: Options,
    targets: list[tuple[str, str, bool | None]],
    elapsed: float,
    load_before: str = "?",
) -> None:
    """bench/RESULTS.md: machine, commit, table, targets, and what limits each figure."""
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmark results",
        "",
        f"Measured {now} by `bash bench/run.sh{' --quick' if opts.quick else ''}` "
        f"({', '.join(f'{w.key} {w.rounds or opts.rounds}' for w in workloads)} rounds; "
        f"contenders alternating, medians shown; the whole run took {elapsed:.0f} s).",
        "",
        "## Machine",
        "",
        *(f"- {label}: {value}" for label, value in machine()),
        f"- load average (1, 5, 15 min) before the run: {load_before}; after: {load_average()}",
        "",
        "## Figures",
        "",
        '"ours vs this" is how many times better ours is than that contender on that',
        "figure (above 1: ours is better; for latency, CPU and memory, lower is better).",
        '"CPU us" figures are the user + system time of the contender\'s process (all its',
        "threads, from /proc) per request, event or reply: the machine's other load",
        "disturbs them far less than the rates. Contenders run on core 1, the load side",
        "(wrk, or the sandbox playing the visitors) on core 0.",
        "",
        table(workloads),
        "",
        "Each run also measures the CPU that other processes used meanwhile (the machine's "
        "busy time minus the harness's and its children's); a run during which they used "
        "0.3 cores or more is re-run once and the less disturbed of the two is kept. "
        + (
            "Runs kept although disturbed: "
            + ", ".join(f"{w.key} {w.disturbed}" for w in workloads if w.disturbed)
            + "."
            if any(w.disturbed for w in workloads)
            else "No run was kept disturbed."
        ),
        "",
        "## Targets",
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
        *(
            f"| {t} | {m} | {'met' if ok else 'MISSED' if ok is False else 'not measured'} |"
            for t, m, ok in targets
        ),
        "",
        "## What limits each figure",
        "",
        *(f"- **{w.title}**: {w.limits}" for w in workloads if w.limits),
        "",
    ]
    errors = [(w.title, c, e) for w in workloads for c, e in w.errors.items()]
    if errors:
        lines += ["## Failures during the run", ""]
        lines += [f"- {title} / {c}: {e}" for title, c, e in errors]
        lines.append("")
    path.write_text("\n".join(lines))
