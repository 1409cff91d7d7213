"""Prometheus metrics for a running plugin, in a registry of its own.

Names (all prefixed ``crisp_``):

- ``events_received_total{event}`` (every event handed to the dispatcher, duplicates
  included), ``events_handled_total{event}``, ``events_failed_total{event}``, and
  ``events_{duplicates,echoes,ignored,rejected,malformed,timeouts}_total{event}``:
  read from the dispatcher's counters at scrape time;
- ``handler_duration_seconds{event}``: histogram of handler run time, fed by
  :meth:`Metrics.observe_handler`;
- ``rest_requests_total{method,status}``: REST calls by answer status (``error`` when
  no answer came), fed by :meth:`Metrics.observe_rest`;
- ``webhook_responses_total{status}``: answers of the hook endpoint;
- ``dispatch_in_flight``: events queued or running now;
- ``transport_up{transport}``: 1 when the transport is connected or listening.

Each runner owns one :class:`Metrics` (no global registry), so several plugins, or
tests, in one process do not collide. ``/metrics`` serves :meth:`Metrics.render`.

The ``observe_*`` methods run once per hook, handler run and REST call, in the event
loop's thread: they bump plain counters (a list index, a dict entry) without the
locks of prometheus_client's own metric objects, and the collector turns them into
prometheus_client metric families at scrape time.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

__all__ = ["CONTENT_TYPE", "Metrics", "counts_from_stats"]

CONTENT_TYPE = CONTENT_TYPE_LATEST

_UP_STATES = frozenset({"connected", "listening"})

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_BUCKET_LABELS = [repr(float(b)) for b in BUCKETS] + ["+Inf"]  # as prometheus_client
_MAX_LABELS = 256  # distinct event names / (method, status) pairs kept; then "other"

StatsFn = Callable[[], Mapping[str, Mapping[str, int]]]


_KINDS: dict[str, str] = {
    "received": "Events the transports handed to the dispatcher (duplicates included).",
    "handled": "Events whose matching handlers all finished without error.",
    "failed": "Events where a handler raised or timed out.",
    "timeouts": "Handler runs stopped by dispatch.handler_timeout.",
    "duplicates": "Events dropped as already seen (redelivery, RTM + hooks).",
    "echoes": "The plugin's own messages coming back, dropped.",
    "ignored": "Events no handler wanted.",
    "rejected": "Events refused because the dispatcher was full or draining.",
    "malformed": "Events whose payload did not fit the event's model.",
}


def counts_from_stats(stats: Any) -> dict[str, dict[str, int]]:
    """``{kind: {event: count}}`` from a dispatcher's stats (kinds: received, handled,
    failed, timeouts, duplicates, echoes, ignored, rejected, malformed).

    Understands a mapping of kinds to per-event counts, or per-event mappings of kinds
    (``{event: {"received": n, ...}}``), as attributes or keys.
    """
    out: dict[str, dict[str, int]] = {kind: {} for kind in _KINDS}
    if stats is None:
        return out
    for kind in out:
        table = stats.get(kind) if isinstance(stats, Mapping) else getattr(stats, kind, None)
        if isinstance(table, Mapping):
            for name, value in table.items():
                if isinstance(value, int | float):
                    out[kind][str(name)] = int(value)
    if any(out.values()) or not isinstance(stats, Mapping):
        return out
    for name, row in stats.items():
        if isinstance(row, Mapping):
            for kind in out:
                value = row.get(kind)
                if isinstance(value, int | float):
                    out[kind][str(name)] = int(value)
    return out


class _LiveCollector(Collector):
    """Values read from the running parts when Prometheus scrapes."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        m = self._metrics
        if m.stats_source is not None:
            counts = counts_from_stats(m.stats_source())
            for kind, help_text in _KINDS.items():
                family = CounterMetricFamily(f"crisp_events_{kind}", help_text, labels=["event"])
                for name, value in sorted(counts[kind].items()):
                    family.add_metric([name], value)
                yield family
        if m.in_flight_source is not None:
            yield GaugeMetricFamily(
                "crisp_dispatch_in_flight",
                "Events queued or being handled now.",
                value=m.in_flight_source(),
            )
        if m.transports_source is not None:
            up = GaugeMetricFamily(
                "crisp_transport_up",
                "1 when the transport is connected (RTM) or listening (web hooks).",
                labels=["transport"],
            )
            for name, state in sorted(m.transports_source().items()):
                up.add_metric([name], 1.0 if state in _UP_STATES else 0.0)
            yield up
        handlers = HistogramMetricFamily(
            "crisp_handler_duration_seconds",
            "Time a handler took, by event name.",
            labels=["event"],
        )
        for event, (per_bucket, seconds) in sorted(m._handler_runs.items()):
            cumulative = 0
            buckets: list[tuple[str, float]] = []
            for label, runs in zip(_BUCKET_LABELS, per_bucket, strict=True):
                cumulative += runs
                buckets.append((label, float(cumulative)))
            handlers.add_metric([event], buckets, seconds)
        yield handlers
        rest = CounterMetricFamily(
            "crisp_rest_requests",
            "REST calls to Crisp by method and answer status ('error': no answer).",
            labels=["method", "status"],
        )
        for (method, status), calls in sorted(m._rest_calls.items()):
            rest.add_metric([method, status], calls)
        yield rest
        hooks = CounterMetricFamily(
            "crisp_webhook_responses",
            "Answers of the web hook endpoint by HTTP status.",
            labels=["status"],
        )
        for code, answers in sorted(m._hook_answers.items()):
            hooks.add_metric([str(code)], answers)
        yield hooks


class Metrics:
    """The plugin's metrics; the runner wires its parts to it."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.stats_source: StatsFn | None = None
        self.in_flight_source: Callable[[], int] | None = None
        self.transports_source: Callable[[], Mapping[str, str]] | None = None
        # event name -> [count per bucket, the last one past the largest bound], sum
        self._handler_runs: dict[str, tuple[list[int], float]] = {}
        self._rest_calls: dict[tuple[str, str], int] = {}
        self._hook_answers: dict[int, int] = {}
        self.registry.register(_LiveCollector(self))

    def observe_handler(self, event: str, seconds: float, *_: Any, **__: Any) -> None:
        """Record one handler run (extra arguments, such as the outcome, are ignored)."""
        runs = self._handler_runs
        entry = runs.get(event)
        if entry is None:
            if len(runs) >= _MAX_LABELS:
                event = "other"
            entry = runs.setdefault(event, ([0] * len(_BUCKET_LABELS), 0.0))
        entry[0][bisect_left(BUCKETS, seconds)] += 1
        runs[event] = (entry[0], entry[1] + seconds)

    def observe_rest(self, method: str, status: int | str | None, *_: Any, **__: Any) -> None:
        """Record one REST call; ``status`` is ``None`` when no answer came."""
        key = (method.upper(), "error" if status is None else str(status))
        calls = self._rest_calls
        if key in calls:
            calls[key] += 1
        elif len(calls) < _MAX_LABELS:
            calls[key] = 1
        else:
            other = ("other", "other")
            calls[other] = calls.get(other, 0) + 1

    def observe_hook(self, status: int) -> None:
        """Record one answer of the hook endpoint (kept cheap: it is on the hot path)."""
        answers = self._hook_answers
        answers[status] = answers.get(status, 0) + 1

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
