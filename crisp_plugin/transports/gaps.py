"""Gaps in the relay: when the plugin stopped hearing it, and for how long.

Crisp's relay keeps no backlog: whatever it pushes while the socket is down (a drop,
an outage, a restart of the plugin, another instance holding the relay) is never
heard. :class:`GapTracker` keeps the moment up to which the relay was heard and, each
time the socket is authenticated again, hands a :class:`Gap` to its listener (the
recovery of :mod:`crisp_plugin.backfill`, which asks the REST API what happened
meanwhile). The RTM transport drives it through :class:`RelayWatch`.

- While the socket is up, the relay is heard up to *now*.
- When it drops, it was heard up to the last packet received (an event or the relay's
  ping), or up to the drop itself when that came within a ping period of the last
  packet: a closed connection delivered everything sent before the close; only a
  connection gone silent is doubted back to its last word.
- Across runs, the mark is kept in a :class:`HeardMarks` store (the state store, or
  Redis beside the relay lease), saved every ``persist_every`` seconds while the
  socket is up and once more when it stops (no later than the start of a gap whose
  recovery has not finished). The first connect of a run is a gap from
  the stored mark (a ``restart``, or a ``takeover`` of the relay from another
  instance); with nothing stored there is nothing to recover.

Times are wall-clock milliseconds, as Crisp stamps messages. The tracker knows no REST
client and no dispatcher: it only measures and tells.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import structlog

from crisp_plugin.observer import Observer

__all__ = ["Gap", "GapCause", "GapListener", "GapTracker", "HeardMarks", "RelayWatch", "now_ms"]

log = structlog.get_logger("crisp_plugin.rtm")

GapCause = Literal["drop", "restart", "takeover"]


def now_ms() -> int:
    """Wall-clock milliseconds since the epoch."""
    return int(time.time() * 1000)


@dataclass(frozen=True, slots=True)
class Gap:
    """The relay was not heard from ``start_ms`` to ``end_ms`` (wall clock, ms)."""

    start_ms: int
    end_ms: int
    cause: GapCause

    @property
    def seconds(self) -> float:
        return max(0, self.end_ms - self.start_ms) / 1000


class GapListener(Protocol):
    """Told of each gap once the relay is heard again (synchronously, before the first
    event of the new socket is delivered: a recovery can hold live events back)."""

    def gap(self, gap: Gap) -> None: ...

    def unrecovered_since(self) -> int | None:
        """The start (ms) of the oldest gap not recovered yet, ``None`` when none: the
        mark kept for the next run goes no later than this."""
        ...

    async def stopped(self) -> None:
        """The transport stopped: stop what the gaps started (before the mark is saved)."""
        ...


class HeardMarks(Protocol):
    """Where the moment the relay was last heard survives a restart or a takeover."""

    async def load(self) -> int | None:
        """The stored mark (ms), ``None`` when nothing is stored."""
        ...

    async def save(self, heard_ms: int) -> None:
        """Store the mark (ms)."""
        ...


class RelayWatch(Protocol):
    """What the RTM transport tells about its socket."""

    async def starting(self) -> None:
        """The transport starts (read what an earlier run left)."""
        ...

    def up(self) -> None:
        """The socket is authenticated: events flow from now on."""
        ...

    def down(self, last_packet_ms: int | None, ping_interval: float | None) -> None:
        """The socket is gone; ``last_packet_ms``: when it last received anything,
        ``ping_interval``: the relay's ping period in seconds (both when known)."""
        ...

    async def stopped(self) -> None:
        """The transport stopped (keep the mark for the next run)."""
        ...


class GapTracker:
    """A :class:`RelayWatch` measuring gaps; see the module docstring."""

    def __init__(
        self,
        listener: GapListener | None = None,
        marks: HeardMarks | None = None,
        *,
        first: GapCause = "restart",
        persist_every: float | None = 1.0,
        observers: Sequence[Observer] = (),
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.listener = listener
        self._marks = marks
        self._first: GapCause = first
        self._persist_every = persist_every
        self._observers = tuple(observers)
        self._clock = clock
        self._heard: int | None = None  # heard up to this, while down
        self._cause: GapCause = first
        self._up = False
        self._saver: asyncio.Task[None] | None = None
        self.gaps: list[Gap] = []
        """Every gap seen in this run, oldest first (the last 100)."""

    def __repr__(self) -> str:
        return f"<GapTracker up={self._up} heard_until={self.heard_until()}>"

    @property
    def connected(self) -> bool:
        return self._up

    def heard_until(self) -> int | None:
        """Up to when the relay was heard (now while the socket is up)."""
        return self._clock() if self._up else self._heard

    def mark(self) -> int | None:
        """What to keep for the next run: :meth:`heard_until`, or earlier when a gap
        is not recovered yet (a stop or a crash mid-recovery recovers it again)."""
        heard = self.heard_until()
        pending = self.listener.unrecovered_since() if self.listener is not None else None
        if heard is None or pending is None:
            return heard
        return min(heard, pending)

    # -- RelayWatch ----------------------------------------------------------------

    async def starting(self) -> None:
        self._cause = self._first
        if self._marks is None or self._up:
            return
        try:
            stored = await self._marks.load()
        except Exception as exc:  # an unreadable mark: no recovery at this start
            log.warning("rtm: the last heard mark could not be read", error=str(exc))
            return
        if stored is not None and (self._heard is None or stored > self._heard):
            self._heard = stored

    def up(self) -> None:
        now = self._clock()
        heard, self._up = self._heard, True
        cause, self._cause = self._cause, "drop"
        if self._marks is not None and self._persist_every and self._saver is None:
            self._saver = asyncio.get_running_loop().create_task(
                self._keep_saving(self._persist_every), name="crisp-rtm-heard"
            )
        if heard is None:
            return  # the first connect with nothing stored: nothing was missed
        gap = Gap(min(heard, now), now, cause)
        self.gaps = [*self.gaps[-99:], gap]
        for observer in self._observers:
            try:
                observer.relay_gap(gap.seconds, gap.cause)
            except Exception:
                log.exception("observer failed on a relay gap")
        log.info(
            "rtm gap",
            cause=gap.cause,
            seconds=round(gap.seconds, 3),
            heard_until=gap.start_ms,
            back_at=gap.end_ms,
        )
        if self.listener is not None:
            self.listener.gap(gap)

    def down(self, last_packet_ms: int | None, ping_interval: float | None) -> None:
        if not self._up:
            return
        self._up = False
        now = self._clock()
        heard = now
        if last_packet_ms is not None and ping_interval:
            silent = (now - last_packet_ms) / 1000
            if silent > ping_interval * 1.25 + 1:
                heard = last_packet_ms  # gone silent: doubt it back to its last word
        self._heard = heard

    async def stopped(self) -> None:
        heard = self.heard_until()
        self._up = False
        self._heard = heard
        saver, self._saver = self._saver, None
        if saver is not None:
            saver.cancel()
            with contextlib.suppress(BaseException):
                await saver
        if self.listener is not None:
            try:
                await self.listener.stopped()
            except Exception:
                log.exception("rtm: the gap listener failed to stop")
        mark = self.mark()
        if mark is not None:
            await self._save(mark)

    # -- keeping the mark ------------------------------------------------------------

    async def _keep_saving(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            mark = self.mark()
            if mark is not None:
                await self._save(mark)

    async def _save(self, heard: int) -> None:
        if self._marks is None:
            return
        try:
            await self._marks.save(heard)
        except Exception as exc:  # logged; the next save tries again
            log.warning("rtm: the heard mark could not be saved", error=str(exc))
