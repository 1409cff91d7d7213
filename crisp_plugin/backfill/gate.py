"""``RecoveryGate``: the relay's events wait while a recovery brings back older ones.

After a gap, the messages recovered over REST are older than what the new socket
pushes; handled after them, a conversation would see its messages out of order. The
gate sits between the RTM transport and the dispatcher (an
:class:`~crisp_plugin.transports.base.EventSink` on both sides) and, during a recovery,
holds the live events of the conversations the recovery may still feed:

1. :meth:`hold`: the gap is known, nothing is listed yet: every conversation's events
   wait (events of no conversation pass).
2. :meth:`expect`: the websites to recover are known: the others' events pass.
3. :meth:`narrow`: a website's conversations updated in the window are listed: the
   others of that website pass (a conversation not listed had nothing in the window).
4. :meth:`release`: a conversation's recovered messages are fed: what waited for it
   follows them, in arrival order, and its new events pass.
5. :meth:`release_all`: the recovery is over (done, cut short or failed).

At most ``limit`` events wait: past that they are all let through with a warning
(order across the gap may then not hold for the conversations still waiting). The
gate also notes the websites it sees events of (recovery's list for a token that
cannot list its installations).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import structlog

from crisp_plugin.errors import EventError
from crisp_plugin.transports.base import EventSink

__all__ = ["RecoveryGate"]

log = structlog.get_logger("crisp_plugin.backfill")

_Held = tuple[str, dict[str, Any], str, bool]
_SEEN_MAX = 10_000


class RecoveryGate:
    """An event sink holding live conversation events during a recovery."""

    def __init__(self, sink: EventSink, *, limit: int = 10_000) -> None:
        self._sink = sink
        self.limit = max(1, limit)
        self._holding = False
        # None: every conversation waits; else website -> None (all of it waits) or the
        # sessions that still wait.
        self._sites: dict[str, set[str] | None] | None = None
        self._held: dict[tuple[str, str], list[_Held]] = {}
        self._count = 0
        self.websites_seen: set[str] = set()
        """Websites whose events came through (at most 10,000)."""
        self.held = 0
        """Events held back since start."""
        self.refused = 0
        """Held events the dispatcher refused when they were let through."""
        self.overflows = 0
        """Times the gate let everything through because ``limit`` events waited."""

    def __repr__(self) -> str:
        return f"<RecoveryGate holding={self._holding} waiting={self._count}>"

    @property
    def holding(self) -> bool:
        return self._holding

    @property
    def waiting(self) -> int:
        """Events held now."""
        return self._count

    # -- the sink face ----------------------------------------------------------------

    def feed(
        self, name: str, payload: dict[str, Any], source: str, redelivery: bool = False
    ) -> bool | Awaitable[bool]:
        website = payload.get("website_id")
        if isinstance(website, str):
            seen = self.websites_seen
            if website not in seen and len(seen) < _SEEN_MAX:
                seen.add(website)
            if self._holding:
                session = payload.get("session_id")
                if isinstance(session, str) and self._waits(website, session):
                    self._held.setdefault((website, session), []).append(
                        (name, payload, source, redelivery)
                    )
                    self._count += 1
                    self.held += 1
                    if self._count > self.limit:
                        self.overflows += 1
                        log.warning(
                            "recovery: too many live events waiting; letting them through "
                            "(order across the gap may not hold for these conversations)",
                            waiting=self._count,
                            conversations=len(self._held),
                        )
                        self.release_all()
                    return True
        return self._sink.feed(name, payload, source, redelivery)

    def _waits(self, website: str, session: str) -> bool:
        sites = self._sites
        if sites is None:
            return True
        if website not in sites:
            return False
        sessions = sites[website]
        return sessions is None or session in sessions

    def held_sessions(self, website: str) -> set[str]:
        """The conversations of ``website`` with live events waiting now."""
        return {s for w, s in self._held if w == website}

    # -- the recovery face ------------------------------------------------------------

    def hold(self) -> None:
        """A gap: hold every conversation's events (again, if a recovery runs)."""
        self._holding = True
        self._sites = None

    def expect(self, websites: Iterable[str]) -> None:
        """Only these websites' conversations keep waiting."""
        if not self._holding:
            return
        sites: dict[str, set[str] | None] = {w: None for w in websites}
        self._sites = sites
        self._flush(lambda w, s: w not in sites)

    def narrow(self, website: str, sessions: Iterable[str]) -> None:
        """Of ``website``, only these conversations keep waiting."""
        sites = self._sites
        if not self._holding or sites is None or website not in sites:
            return
        keep = set(sessions)
        sites[website] = keep
        self._flush(lambda w, s: w == website and s not in keep)

    def release(self, website: str, session: str) -> None:
        """The conversation's recovered messages are fed: let its events follow."""
        sites = self._sites
        if not self._holding or sites is None:
            return  # a newer gap holds everything until its own listing
        sessions = sites.get(website)
        if sessions is None:
            return
        sessions.discard(session)
        self._flush(lambda w, s: w == website and s == session)

    def release_all(self) -> None:
        """The recovery is over: everything waiting goes on, nothing waits any more."""
        self._holding = False
        self._sites = None
        self._flush(lambda w, s: True)

    def _flush(self, which: Callable[[str, str], bool]) -> None:
        for key in [k for k in self._held if which(*k)]:
            events = self._held.pop(key)
            self._count -= len(events)
            for name, payload, source, redelivery in events:
                self._pass(name, payload, source, redelivery)

    def _pass(self, name: str, payload: dict[str, Any], source: str, redelivery: bool) -> None:
        try:
            accepted = self._sink.feed(name, payload, source, redelivery)
        except EventError as exc:
            log.warning("rtm event malformed", event_name=name, error=str(exc))
            return
        except Exception:
            log.exception("rtm event could not be dispatched", event_name=name)
            return
        if isinstance(accepted, bool):
            if not accepted:
                self._refused(name)
            return

        def stored(done: asyncio.Future[bool]) -> None:
            if done.cancelled() or done.exception() is not None or not done.result():
                self._refused(name)

        asyncio.ensure_future(accepted).add_done_callback(stored)

    def _refused(self, name: str) -> None:
        self.refused += 1
        log.warning(
            "rtm event refused after waiting for a recovery: dispatcher full or draining",
            event_name=name,
        )
