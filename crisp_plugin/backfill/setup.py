"""How the runner puts gap tracking and recovery together (``[rtm.backfill]``).

:func:`build_backfill` gives a :class:`Backfill`: the
:class:`~crisp_plugin.transports.gaps.GapTracker` the RTM transport reports to (its
``watch``), the :class:`~crisp_plugin.backfill.gate.RecoveryGate` the transport feeds
(the sink in front of the dispatcher) and the :class:`~crisp_plugin.backfill.recovery.Recovery`
it tells of each gap. Where the mark "relay heard up to" lives:

- with a relay lease (``inbox.backend = "redis"``): on Redis beside the lease, written
  by the holder only; a takeover recovers from the previous holder's last save;
- else in the state store (``[state] backend``): SQLite keeps it across a restart;
  memory keeps nothing past the process, so recovery then covers drops within one run.

:func:`backfill_line` is what ``python -m crisp_plugin check`` says about it, and
:func:`probe_backfill` whether the token can read what a recovery reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

from crisp_plugin.backfill.gate import RecoveryGate
from crisp_plugin.backfill.marks import LeaseMarks, StoreMarks
from crisp_plugin.backfill.reader import RestReader
from crisp_plugin.backfill.recovery import Recovery
from crisp_plugin.errors import NotAllowed, NotSubscribed, RestrictedRouteTier, Unauthorized
from crisp_plugin.observer import Observer
from crisp_plugin.rest.core import quote_segment
from crisp_plugin.settings_models import Config
from crisp_plugin.state.base import StateStore
from crisp_plugin.state.memory import MemoryState
from crisp_plugin.transports.base import EventSink
from crisp_plugin.transports.gaps import GapTracker, HeardMarks

if TYPE_CHECKING:
    from crisp_plugin.backfill.marks import RecoveryLedger
    from crisp_plugin.inbox.leases import Lease
    from crisp_plugin.redis_client import RedisLink

__all__ = ["Backfill", "backfill_line", "build_backfill", "probe_backfill"]

log = structlog.get_logger("crisp_plugin.backfill")


@dataclass(frozen=True, slots=True)
class Backfill:
    """The three parts of gap recovery, for the runner to wire and close."""

    tracker: GapTracker
    gate: RecoveryGate
    recovery: Recovery

    async def close(self) -> None:
        await self.recovery.close()


def build_backfill(
    settings: Config,
    sink: EventSink,
    rest: RestReader,
    state: StateStore,
    *,
    wants: Callable[[str], bool],
    lease: Lease | None = None,
    link: RedisLink | None = None,
    installed: Callable[[], Iterable[str]] | None = None,
    observers: Sequence[Observer] = (),
) -> Backfill:
    """Gap tracking (always: gaps are measured and logged) and recovery (when
    ``rtm.backfill.enabled``) in front of ``sink`` (the dispatcher). ``installed``
    gives the websites that installed the plugin when the plugin keeps them (a
    Marketplace plugin): recovery then lists none over REST."""
    s = settings.rtm.backfill
    marks: HeardMarks
    ledger: RecoveryLedger
    if lease is not None and link is not None:
        lease_marks = LeaseMarks(link, lease, mark_ttl=max(s.max_age, 3600.0))
        marks, ledger = lease_marks, lease_marks
    else:
        store_marks = StoreMarks(state, mark_ttl=max(s.max_age, 3600.0))
        marks, ledger = store_marks, store_marks
        if s.enabled and isinstance(state, MemoryState):
            log.info(
                "rtm.backfill: the memory state store keeps no mark past this process; "
                "a restart recovers nothing (state.backend = sqlite or redis does)"
            )
    gate = RecoveryGate(sink, limit=settings.dispatch.queue_limit)
    recovery = Recovery(
        sink,
        gate,
        rest,
        s,
        ledger=ledger,
        wants=wants,
        rooms=settings.rtm.rooms,
        list_websites=settings.crisp.tier == "plugin",
        installed=installed,
        observers=observers,
    )
    tracker = GapTracker(
        recovery,
        marks,
        first="takeover" if lease is not None else "restart",
        observers=observers,
    )
    return Backfill(tracker, gate, recovery)


def backfill_line(settings: Config) -> str:
    """One line: whether recovery after a relay gap is on, and over what."""
    s = settings.rtm.backfill
    if settings.events.transport == "webhooks":
        return "rtm backfill: off (no relay: events.transport = webhooks)"
    if not s.enabled:
        return "rtm backfill: off (rtm.backfill.enabled = false): gaps in the relay are lost"
    rooms = settings.rtm.rooms
    tier = settings.crisp.tier
    if not rooms and tier != "plugin":
        where = f"the websites heard from ({tier} tier: no list of installed websites)"
    else:
        where = f"rtm.rooms ({len(rooms)})" if rooms else "every installed website"
    if settings.inbox.backend == "redis":
        keep = "the mark on Redis (takeovers too)"
    elif settings.state.backend == "memory":
        keep = "no mark across restarts (state.backend = memory)"
    else:
        keep = f"the mark in the {settings.state.backend} state store (restarts too)"
    return (
        f"rtm backfill: on, {where}, {keep}; up to {s.max_age:g} s back, "
        f"{s.max_calls_per_gap} calls a gap, {s.max_calls_per_day} a day"
    )


async def probe_backfill(settings: Config, rest: RestReader) -> str | None:
    """Whether the token can list what a recovery lists (at most two calls): ``None``
    when it can (or when recovery is off, or there is no website to try), else the
    line ``check`` prints."""
    if settings.events.transport == "webhooks" or not settings.rtm.backfill.enabled:
        return None
    website: str | None = settings.rtm.rooms[0] if settings.rtm.rooms else None
    try:
        if website is None and settings.crisp.tier == "plugin":
            sites = await rest.request("GET", "/v1/plugin/connect/websites/all/1")
            if isinstance(sites, list) and sites and isinstance(sites[0], dict):
                found = sites[0].get("website_id")
                website = found if isinstance(found, str) else None
        if website is None:
            return None
        path = f"/v1/website/{quote_segment(website)}/conversations/1"
        await rest.request("GET", path, query={"order_date_updated": 1, "per_page": 20})
    except (NotAllowed, RestrictedRouteTier, Unauthorized, NotSubscribed) as exc:
        return (
            f"rtm backfill: off at run time: the token cannot list conversations "
            f"({exc.reason}); gaps in the relay will be lost"
        )
    return None
