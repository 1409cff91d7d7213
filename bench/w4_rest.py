"""W4 REST: N send-message calls. The workload is bench/rest_send.py's (its owner runs
it standalone too); the harness only sizes each contender's N so each run lasts a few
seconds: a fixed N short enough for the sequential PyPI client is over in a few
hundred ms for the fast contenders, and one hiccup of a shared machine then halves
their figure."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from bench import rest_send
from bench.model import Options, Workload
from bench.rest_send import targets

__all__ = ["CALLS", "sized", "targets", "workload"]

# calls per run for each contender, as multiples of Options.rest_calls (5,000 full)
CALLS = {"ours": 4.0, "node": 1.6, "pypi-threads": 0.8, "pypi": 0.6}


LIMITS = (
    "Each call is a full round trip into the sandbox, whose own ceiling is the row "
    "above (send-message calls per CPU-second). Measured beside the runs: our client "
    "at about 10k sends/s keeps its core about 80% busy and the sandbox about 90%, "
    "so ours runs into the sandbox; the Node client at about 2.4k sends/s keeps its "
    "own core about 90% busy while the sandbox is a quarter busy, so the Node figure "
    "is the client's own cost. The PyPI client opens a new TCP "
    "connection for every call (requests without a Session) and waits for each, so "
    "it is bound by one round trip at a time; its thread pool is bound by the GIL."
)


def sized(
    key: str, calls: Mapping[str, float] = CALLS, server: rest_send.Server = "sandbox"
) -> Any:
    """A contender's run with its own number of calls (``calls``: multiples of
    ``Options.rest_calls``) against ``server``."""

    async def run(opts: Options) -> dict[str, float]:
        n = max(50, round(opts.rest_calls * calls.get(key, 1.0)))
        return await rest_send.measure(key, n, server=server)

    return run


def workload(opts: Options) -> Workload:
    w = rest_send.workload(opts)
    w.contenders = [dataclasses.replace(c, run=sized(c.key)) for c in w.contenders]
    sizes = ", ".join(
        f"{c.key} {round(opts.rest_calls * CALLS.get(c.key, 1.0)):,}" for c in w.contenders
    )
    w.limits = f"Calls per run: {sizes}. " + LIMITS
    w.rounds = opts.noisy_rounds
    return w
