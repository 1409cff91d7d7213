"""W4f REST against a fast server: the W4 contenders sending into nginx, which answers
every call at once (bench/fast_server.py), so sends/s and CPU per send are the
client's own. W4 (into the sandbox) stays as the reference of a real round trip.

Targets: at least 10x the PyPI client's sequential sends/s, and at most a third of the
Node client's CPU per send.
"""

from __future__ import annotations

from bench import rest_send
from bench.fast_server import nginx_path
from bench.model import Contender, Options, Workload, ratio
from bench.w4_rest import sized

__all__ = ["CALLS", "targets", "workload"]

# calls per run, as multiples of Options.rest_calls (5,000 full): a few seconds each
CALLS = {"ours": 8.0, "node": 4.0, "pypi-threads": 1.0, "pypi": 1.0}

LIMITS = (
    "nginx answers from one worker on the load core, without reading a file or "
    "checking the token; at the rates measured it is a fraction of its capacity, so "
    "each contender runs into its own cost: our client and the Node client into their "
    "event loop's core (32 in flight), the PyPI client into one connection set-up and "
    "round trip per call (sequential) or the GIL (threads). CPU us/send is the "
    "contender process's own CPU time (every thread) while timed, divided by the "
    "calls. nginx's answer carries one fixed fingerprint, so after the warm-up call our "
    "client stops adding its own (as it does against any server that does not keep "
    "them): the figure is that of a plain send, one POST each, as with every contender. "
    "Ours runs on uvloop (what `crisp-plugin run` starts) and sends through its own "
    "HTTP/1.1 client (a pool of kept-alive connections writing each request as one "
    "buffer): about 20 us of CPU per send, where aiohttp's client took about 80 "
    "(three fifths of it in aiohttp's request cycle). At that cost nginx's single "
    "worker on the other core becomes the limit of ours, so our sends/s here is a "
    "floor of what the client can do; its CPU per send is the figure to compare."
)


def workload(opts: Options) -> Workload:
    base = rest_send.workload(opts)
    contenders = [
        Contender(c.key, c.label, sized(c.key, CALLS, "nginx"), ours=c.ours)
        for c in base.contenders
    ]
    if nginx_path() is None:
        contenders = []  # said by the harness as an empty workload; run.sh installs nginx
    sizes = ", ".join(
        f"{c.key} {round(opts.rest_calls * CALLS.get(c.key, 1.0)):,}" for c in contenders
    )
    return Workload(
        key="w4f",
        title="W4f REST send-message, nginx as the server",
        metrics=base.metrics,
        contenders=contenders,
        limits=f"Calls per run: {sizes}. " + LIMITS,
        rounds=opts.noisy_rounds,
    )


def targets(w: Workload) -> list[tuple[str, str, bool | None]]:
    ours, pypi = w.median("ours", "per_s"), w.median("pypi", "per_s")
    r_pypi = ratio(ours, pypi, True)
    our_cpu, node_cpu = w.median("ours", "cpu_us"), w.median("node", "cpu_us")
    share = None if our_cpu is None or not node_cpu else our_cpu / node_cpu
    return [
        (
            "W4f: at least 10x the PyPI client's sequential sends/s",
            "n/a" if r_pypi is None else f"{r_pypi:.1f}x",
            None if r_pypi is None else r_pypi >= 10,
        ),
        (
            "W4f: at most a third of the Node client's CPU per send",
            "n/a" if share is None else f"{share:.2f} of it",
            None if share is None else share <= 1 / 3,
        ),
    ]
