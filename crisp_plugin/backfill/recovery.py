"""``Recovery``: after a gap in the relay, the messages sent meanwhile, handled late.

Told of each gap by the :class:`~crisp_plugin.transports.gaps.GapTracker` (it is its
:class:`~crisp_plugin.transports.gaps.GapListener`), a recovery:

1. holds the new socket's conversation events back (:class:`RecoveryGate`), so nothing
   of a conversation is handled ahead of what it missed;
2. takes the window: from ``rtm.backfill.margin`` seconds before the relay was last
   heard (never further back than ``max_age``) to now;
3. for each website (``rtm.rooms`` when set, else every website that installed the
   plugin, as a Marketplace plugin keeps them or else listed over REST, plus those the
   relay was heard from), lists the conversations updated in the
   window (newest first, paged until one is older than the window), then reads each
   one's messages stamped after the window's start;
4. feeds every message to the dispatcher, oldest first per conversation, as
   ``message:send`` (the visitor's) or ``message:received`` (an operator's: only when a
   handler wants it), with the source ``"recovery"``: the dispatcher's dedupe (website,
   session, fingerprint) drops what the relay or a web hook already delivered, and the
   handlers see the rest once, with ``event.recovered`` true;
5. lets the conversation's held events follow, then the next.

Calls are bounded by ``max_calls_per_gap`` and ``max_calls_per_day``
(:class:`~crisp_plugin.backfill.budget.CallBudget`, the day's count kept in a
:class:`~crisp_plugin.backfill.marks.RecoveryLedger`); every call also counts in the
REST client's rate limit and daily quota. When a cap is hit, or a call fails, the
recovery stops there with a warning that names the websites and conversations it did
not get to. A gap that comes while a recovery runs widens the next one: they run one
after the other, never two at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog

from crisp_plugin.backfill.budget import BudgetSpent, CallBudget
from crisp_plugin.backfill.gate import RecoveryGate
from crisp_plugin.backfill.marks import RecoveryLedger, utc_day
from crisp_plugin.backfill.reader import ListedConversation, RestReader, WindowReader
from crisp_plugin.errors import (
    CrispError,
    EventError,
    NotAllowed,
    NotFound,
    NotSubscribed,
    RestrictedRouteTier,
    Unauthorized,
)
from crisp_plugin.events.base import RECOVERY_SOURCE
from crisp_plugin.observer import Observer
from crisp_plugin.settings_models import BackfillSettings
from crisp_plugin.transports.base import EventSink
from crisp_plugin.transports.gaps import Gap, now_ms

__all__ = ["RECOVERY_SOURCE", "Recovery", "RecoveryReport"]

log = structlog.get_logger("crisp_plugin.backfill")


_WEBSITES_FOR = 300.0  # seconds the list of installed websites is reused


@dataclass(slots=True)
class RecoveryReport:
    """What one recovery did."""

    start_ms: int
    end_ms: int
    cause: str
    calls: int = 0
    conversations: int = 0
    messages: int = 0
    """Messages fed to the dispatcher (its dedupe then drops those already seen)."""
    complete: bool = True
    missed: list[str] = field(default_factory=list)
    """``website`` or ``website/session`` not (fully) recovered."""
    error: str | None = None


class Recovery:
    """The :class:`~crisp_plugin.transports.gaps.GapListener` that recovers gaps."""

    def __init__(
        self,
        sink: EventSink,
        gate: RecoveryGate,
        rest: RestReader,
        settings: BackfillSettings,
        *,
        ledger: RecoveryLedger | None = None,
        wants: Callable[[str], bool] = lambda name: True,
        rooms: Sequence[str] = (),
        list_websites: bool = True,
        installed: Callable[[], Iterable[str]] | None = None,
        observers: Sequence[Observer] = (),
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._sink = sink
        self.gate = gate
        self._rest = rest
        self.settings = settings
        self._ledger = ledger
        self._wants = wants
        self._rooms = list(rooms)
        self._list_websites = list_websites
        self._installed = installed
        self._observers = tuple(observers)
        self._clock = clock
        self._pending: Gap | None = None
        self._unrecovered: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._websites: tuple[float, list[str]] | None = None
        self._day_spent: dict[str, int] = {}  # when no ledger is kept
        self.reports: list[RecoveryReport] = []
        """Every recovery of this run, oldest first (the last 100)."""
        self.off: str | None = None
        """Why recovery turned itself off (the token cannot list conversations)."""
        self._idle = asyncio.Event()
        self._idle.set()

    def __repr__(self) -> str:
        return f"<Recovery running={self.running} recoveries={len(self.reports)}>"

    @property
    def running(self) -> bool:
        return not self._idle.is_set()

    async def wait_idle(self) -> None:
        """Return once no recovery runs or waits."""
        await self._idle.wait()

    # -- GapListener -----------------------------------------------------------------

    def gap(self, gap: Gap) -> None:
        s = self.settings
        if not s.enabled or self.off is not None or gap.seconds < s.min_gap:
            return
        self.gate.hold()  # before the new socket's first event is fed
        pending = self._pending
        if pending is not None:  # one after the other: the next covers both
            gap = Gap(min(pending.start_ms, gap.start_ms), gap.end_ms, pending.cause)
        self._pending = gap
        if self._unrecovered is None or gap.start_ms < self._unrecovered:
            self._unrecovered = gap.start_ms
        self._idle.clear()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._run_pending(), name="crisp-rtm-recovery"
            )

    def unrecovered_since(self) -> int | None:
        return self._unrecovered

    async def stopped(self) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop a recovery in progress (what it held goes on to the dispatcher); the gap
        stays unrecovered (:meth:`unrecovered_since`), for the mark the next run reads."""
        task, self._task = self._task, None
        self._pending = None
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        self.gate.release_all()
        self._idle.set()

    # -- one recovery ----------------------------------------------------------------

    async def _run_pending(self) -> None:
        try:
            while self._pending is not None:
                gap, self._pending = self._pending, None
                try:
                    await self.recover(gap)
                except Exception:  # never leave live events held
                    log.exception("recovery failed")
                if self._pending is None:
                    self._unrecovered = None  # done, or cut short with a warning
                    self.gate.release_all()
        finally:
            if self._pending is None:
                self._idle.set()

    def window_start(self, gap: Gap) -> int:
        """Where a recovery of ``gap`` starts reading (ms)."""
        s = self.settings
        oldest = gap.end_ms - int(s.max_age * 1000)
        return max(oldest, gap.start_ms - int(s.margin * 1000))

    async def recover(self, gap: Gap) -> RecoveryReport:
        """Recover one gap now (the gate already holds); its report."""
        start = self.window_start(gap)
        report = RecoveryReport(start, gap.end_ms, gap.cause)
        if gap.start_ms - int(self.settings.margin * 1000) < start:
            report.complete = False
            report.missed.append(f"the {round((start - gap.start_ms) / 1000, 1)} s past max_age")
        day = utc_day(self._clock())
        budget = CallBudget(
            self.settings.max_calls_per_gap,
            self.settings.max_calls_per_day,
            await self._spent(day),
        )
        reader = WindowReader(self._rest, budget)
        started = time.monotonic()
        websites: list[str] = []
        current = 0
        try:
            websites = await self._websites_of(reader)
            self.gate.expect(websites)
            for current, website in enumerate(websites):  # noqa: B007 (read in except)
                try:
                    await self._website(reader, website, start, report)
                except (NotSubscribed, NotFound) as exc:  # uninstalled meanwhile: the next
                    report.complete = False
                    report.missed.append(f"{website} ({exc.reason})")
        except (NotAllowed, RestrictedRouteTier, Unauthorized) as exc:
            self.off = f"the token cannot list conversations ({exc.reason})"
            log.warning(
                "rtm.backfill turned off: the token cannot list conversations; "
                "gaps in the relay will be lost",
                reason=exc.reason,
            )
            report.complete, report.error = False, str(exc)
            report.missed.extend(websites[current:] if websites else ["every website"])
        except (BudgetSpent, CrispError, OSError) as exc:
            report.complete, report.error = False, str(exc)
            report.missed.extend(websites[current:] if websites else ["every website"])
        finally:
            report.calls = budget.spent
            await self._spend(day, budget.spent)
        self._finish(report, time.monotonic() - started)
        return report

    async def _website(
        self, reader: WindowReader, website: str, start: int, report: RecoveryReport
    ) -> None:
        listed = await reader.conversations(website, start)
        # a conversation written to while the list was read may have moved past its
        # pages; the relay told of it (its events wait in the gate): read it too
        named = {c.session_id for c in listed}
        listed.sort(key=lambda c: c.updated_at or 0)
        listed += [
            ListedConversation(website, s, None)
            for s in sorted(self.gate.held_sessions(website) - named)
        ]
        self.gate.narrow(website, [c.session_id for c in listed])
        for index, conversation in enumerate(listed):
            session = conversation.session_id
            try:
                messages = await reader.messages(website, session, start)
            except BaseException:
                # this website's other conversations; the caller names the website
                report.missed.extend(f"{website}/{c.session_id}" for c in listed[index:])
                raise
            report.conversations += 1
            for message in messages:
                report.messages += self._feed(website, session, dict(message))
            self.gate.release(website, session)

    def _feed(self, website: str, session: str, message: dict[str, Any]) -> int:
        name = "message:send" if message.get("from") == "user" else "message:received"
        if not self._wants(name):
            return 0
        message["website_id"], message["session_id"] = website, session
        try:
            accepted = self._sink.feed(name, message, RECOVERY_SOURCE)
        except EventError as exc:
            log.warning("recovery: a message does not fit its event", error=str(exc))
            return 0
        if isinstance(accepted, bool):
            if not accepted:
                log.warning("recovery: the dispatcher refused a message (full or draining)")
            return 1
        asyncio.ensure_future(accepted).add_done_callback(_stored)
        return 1

    async def _websites_of(self, reader: WindowReader) -> list[str]:
        if self._rooms:
            return list(self._rooms)
        found: list[str] = []
        if self._installed is not None:  # kept by the plugin already: no call
            found = list(self._installed())
        elif self._list_websites:
            cached = self._websites
            if cached is not None and time.monotonic() - cached[0] < _WEBSITES_FOR:
                found = cached[1]
            else:
                found = await reader.websites()
                self._websites = (time.monotonic(), found)
        return list(dict.fromkeys([*found, *sorted(self.gate.websites_seen)]))

    async def _spent(self, day: str) -> int:
        if self._ledger is None:
            return self._day_spent.get(day, 0)
        try:
            return await self._ledger.spent(day)
        except Exception as exc:  # unreadable: count from this run's own calls
            log.warning("recovery: the day's call count could not be read", error=str(exc))
            return self._day_spent.get(day, 0)

    async def _spend(self, day: str, calls: int) -> None:
        self._day_spent = {day: self._day_spent.get(day, 0) + calls}
        if self._ledger is None or not calls:
            return
        try:
            await self._ledger.spend(day, calls)
        except Exception as exc:
            log.warning("recovery: the day's call count could not be saved", error=str(exc))

    def _finish(self, report: RecoveryReport, seconds: float) -> None:
        self.reports = [*self.reports[-99:], report]
        for observer in self._observers:
            try:
                observer.recovery_finished(report.messages, report.calls, report.complete)
            except Exception:
                log.exception("observer failed on a recovery")
        fields: dict[str, Any] = {
            "cause": report.cause,
            "window_s": round((report.end_ms - report.start_ms) / 1000, 3),
            "conversations": report.conversations,
            "messages": report.messages,
            "calls": report.calls,
            "seconds": round(seconds, 3),
        }
        if report.complete:
            log.info("recovery done", **fields)
            return
        log.warning(
            "recovery cut short: some of the gap was not recovered",
            reason=report.error or "max_age",
            not_recovered=report.missed[:20],
            not_recovered_count=len(report.missed),
            **fields,
        )


def _stored(done: asyncio.Future[bool]) -> None:
    if done.cancelled() or done.exception() is not None or not done.result():
        log.warning("recovery: the inbox could not keep a recovered message")
