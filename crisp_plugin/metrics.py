"""Prometheus metrics for a running plugin, in a registry of its own.

Names (all prefixed ``crisp_``):

- ``events_received_total{event}`` (every event handed to the dispatcher, duplicates
  included), ``events_handled_total{event}``, ``events_failed_total{event}``, and
  ``events_{duplicates,echoes,ignored,rejected,malformed,timeouts}_total{event}``:
  read from the dispatcher's counters at scrape time;
- ``handler_duration_seconds{event}``: histogram of handler run time, fed by
  :meth:`Metrics.handler_ran` (the metrics are an :class:`~crisp_plugin.observer.Observer`);
- ``rest_requests_total{method,status}``: REST calls by answer status (``error`` when
  no answer came), fed by :meth:`Metrics.rest_answered`;
- ``webhook_responses_total{status}``: answers of the hook endpoint;
- ``dispatch_in_flight``: events queued or running now;
- ``inbox_depth`` and ``inbox_oldest_age_seconds``: what the inbox keeps, not done;
- ``inbox_partitions_owned`` and ``relay_holder`` (``inbox.backend = "redis"``): this
  instance's share of the shared inbox, and 1 when it holds the relay socket;
- ``transport_up{transport}``: 1 when the transport is connected or listening;
- ``rtm_gaps_total{cause}`` and ``rtm_gap_seconds_total{cause}``: gaps in the relay
  (drop, restart, takeover) and their length; ``rtm_recovered_messages_total``,
  ``rtm_recovery_calls_total`` and ``rtm_recoveries_total{outcome}`` (complete, cut):
  what recovery after a gap brought back and spent (:mod:`crisp_plugin.backfill`).

Each runner owns one :class:`Metrics` (no global registry), so several plugins, or
tests, in one process do not collide. ``/metrics`` serves :meth:`Metrics.render`.

The observer methods run once per hook, handler run and REST call, in the event
loop's thread: they bump plain counters (a list index, a dict entry) without the
locks of prometheus_client's own metric objects, and the collector turns them into
prometheus_client metric families at scrape time.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Mapping
from typing import Protocol

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from crisp_plugin.observer import Observer

__all__ = ["CONTENT_TYPE", "Metrics", "MetricsSource"]

CONTENT_TYPE = CONTENT_TYPE_LATEST

_UP_STATES = frozenset({"connected", "listening"})

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_BUCKET_LABELS = [repr(float(b)) for b in BUCKETS] + ["+Inf"]  # as prometheus_client
_MAX_LABELS = 256  # distinct event names / (method, status) pairs kept; then "other"

_KINDS: dict[str, str] = {
    "received": "Events the transports handed to the dispatcher (duplicates included).",
    "handled": "Events whose matching handlers all finished without error.",
    "failed": "Events where a handler raised or timed out.",
    "timeouts": "Handler runs stopped by dispatch.handler_timeout.",
    "duplicates": "Events dropped as already seen (redelivery, RTM + hooks).",
    "echoes": "The plugin's own messages coming back, dropped.",
    "ignored": "Events no handler wanted.",
    "dropped": "Events an outer middleware did not pass on.",
    "redelivered": "Deliveries that said they repeat an earlier one (hook attempt 2+).",
    "fenced": "Events not run here: their partition moved to another instance.",
    "rejected": "Events refused because the dispatcher was full or draining.",
    "malformed": "Events whose payload did not fit the event's model.",
}


class _Runs:
    """The handler runs of one event name: how many per duration bucket, and the total
    seconds (updated in place: this is on every handler run)."""

    __slots__ = ("per_bucket", "seconds")

    def __init__(self) -> None:
        self.per_bucket = [0] * len(_BUCKET_LABELS)
        self.seconds = 0.0


class MetricsSource(Protocol):
    """What the metrics read from a running plugin at scrape time (the runner)."""

    def stats_snapshot(self) -> Mapping[str, Mapping[str, int]]:
        """``{kind: {event name: count}}`` of the dispatcher's counters."""
        ...

    def in_flight(self) -> int:
        """Events queued or being handled now."""
        ...

    def transport_states(self) -> Mapping[str, str]:
        """``{transport name: state}``."""
        ...

    def inbox_state(self) -> tuple[int, float]:
        """``(events kept and not done, seconds the oldest has waited)``."""
        ...

    def lease_state(self) -> tuple[int | None, bool | None]:
        """``(partitions of the shared inbox owned here, whether this instance holds the
        relay)``; ``None`` for what is not leased."""
        ...


class _LiveCollector(Collector):
    """Values read from the running parts when Prometheus scrapes."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        m = self._metrics
        source = m.source
        if source is not None:
            counts = source.stats_snapshot()
            for kind, help_text in _KINDS.items():
                family = CounterMetricFamily(f"crisp_events_{kind}", help_text, labels=["event"])
                for name, value in sorted(counts.get(kind, {}).items()):
                    family.add_metric([name], value)
                yield family
            yield GaugeMetricFamily(
                "crisp_dispatch_in_flight",
                "Events queued or being handled now.",
                value=source.in_flight(),
            )
            up = GaugeMetricFamily(
                "crisp_transport_up",
                "1 when the transport is connected (RTM) or listening (web hooks).",
                labels=["transport"],
            )
            for name, state in sorted(source.transport_states().items()):
                up.add_metric([name], 1.0 if state in _UP_STATES else 0.0)
            yield up
            depth, age = source.inbox_state()
            yield GaugeMetricFamily(
                "crisp_inbox_depth", "Events kept by the inbox, not done yet.", value=depth
            )
            yield GaugeMetricFamily(
                "crisp_inbox_oldest_age_seconds",
                "How long the oldest event not done has waited.",
                value=age,
            )
            partitions, holder = source.lease_state()
            if partitions is not None:
                yield GaugeMetricFamily(
                    "crisp_inbox_partitions_owned",
                    "Partitions of the shared inbox this instance reads.",
                    value=partitions,
                )
            if holder is not None:
                yield GaugeMetricFamily(
                    "crisp_relay_holder",
                    "1 when this instance holds the relay socket (the others stand by).",
                    value=1.0 if holder else 0.0,
                )
        handlers = HistogramMetricFamily(
            "crisp_handler_duration_seconds",
            "Time a handler took, by event name.",
            labels=["event"],
        )
        for event, entry in sorted(m._handler_runs.items()):
            cumulative = 0
            buckets: list[tuple[str, float]] = []
            for label, runs in zip(_BUCKET_LABELS, entry.per_bucket, strict=True):
                cumulative += runs
                buckets.append((label, float(cumulative)))
            handlers.add_metric([event], buckets, entry.seconds)
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
        yield from _gap_families(m)


def _gap_families(m: Metrics) -> Iterator[Metric]:
    gaps = CounterMetricFamily(
        "crisp_rtm_gaps", "Gaps in the relay, by cause (drop, restart, takeover).", labels=["cause"]
    )
    seconds = CounterMetricFamily(
        "crisp_rtm_gap_seconds", "Seconds without the relay, by cause.", labels=["cause"]
    )
    for cause, (count, total) in sorted(m._gaps.items()):
        gaps.add_metric([cause], count)
        seconds.add_metric([cause], total)
    yield gaps
    yield seconds
    outcomes = CounterMetricFamily(
        "crisp_rtm_recoveries", "Recoveries after a gap, by outcome.", labels=["outcome"]
    )
    for outcome, count in sorted(m._recoveries.items()):
        outcomes.add_metric([outcome], count)
    yield outcomes
    yield CounterMetricFamily(
        "crisp_rtm_recovered_messages",
        "Missed messages recovery fed to the dispatcher (duplicates then dropped).",
        value=m.recovered_messages,
    )
    yield CounterMetricFamily(
        "crisp_rtm_recovery_calls", "REST calls spent recovering gaps.", value=m.recovery_calls
    )


class Metrics(Observer):
    """The plugin's metrics: an observer of handler runs, REST calls and hook answers,
    and a reader of the ``source``'s counters at scrape time."""

    def __init__(
        self, source: MetricsSource | None = None, registry: CollectorRegistry | None = None
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.source = source
        # event name -> [count per bucket, the last one past the largest bound], sum
        self._handler_runs: dict[str, _Runs] = {}
        self._rest_calls: dict[tuple[str, str], int] = {}
        self._hook_answers: dict[int, int] = {}
        self._gaps: dict[str, tuple[int, float]] = {}
        self._recoveries: dict[str, int] = {}
        self.recovered_messages = 0
        self.recovery_calls = 0
        self.registry.register(_LiveCollector(self))

    def handler_ran(self, event: str, handler: str, seconds: float, outcome: str) -> None:
        """Record one handler run."""
        runs = self._handler_runs
        entry = runs.get(event)
        if entry is None:
            if len(runs) >= _MAX_LABELS:
                event = "other"
            entry = runs.get(event)
            if entry is None:
                entry = runs[event] = _Runs()
        entry.per_bucket[bisect_left(BUCKETS, seconds)] += 1
        entry.seconds += seconds

    def rest_answered(self, method: str, status: int | None, seconds: float) -> None:
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

    def hook_answered(self, status: int) -> None:
        """Record one answer of the hook endpoint (kept cheap: it is on the hot path)."""
        answers = self._hook_answers
        answers[status] = answers.get(status, 0) + 1

    def relay_gap(self, seconds: float, cause: str) -> None:
        count, total = self._gaps.get(cause, (0, 0.0))
        self._gaps[cause] = (count + 1, total + seconds)

    def recovery_finished(self, messages: int, calls: int, complete: bool) -> None:
        outcome = "complete" if complete else "cut"
        self._recoveries[outcome] = self._recoveries.get(outcome, 0) + 1
        self.recovered_messages += messages
        self.recovery_calls += calls

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
