"""Signed Web Hook delivery, as Crisp's hooks deliverer does it.

Each event becomes one POST per registered URL, body
``{"website_id", "event", "data", "timestamp"}`` as compact UTF-8 JSON, headers
``X-Crisp-Request-Timestamp`` (ms), ``X-Crisp-Signature`` (crisp_plugin.signing),
``X-Crisp-Hook-Origin``, ``X-Delivery-Attempt-Count``, ``X-Delivery-Attempt-Limit``
and the deliverer's user agent. A non-2xx answer, a timeout or a failed connection is
retried after the next delay of ``retry_delays`` until ``attempt_limit`` attempts were
made (by default one more than there are delays; past the last delay, the last one
repeats). Deliveries run in background workers (bounded queue), so a REST answer never
waits for a hook. Every delivery is recorded in ``log`` (URL, event, each attempt's
status, the final outcome).

A hook target is a URL, or a group (``HookGroup``): several instance URLs behind one
logical subscription, as a plugin runs several instances behind a load balancer. Each
event goes to one instance of the group, round-robin. A failed attempt is retried after
the same delays on the next healthy instance: first one this delivery has not tried,
never the one that just failed it while another is healthy. The attempt count goes on
across instances, as Crisp counts the attempts of one delivery to its one hook URL (it
cannot see the balancer). Only a 2xx answer delivers. An instance that could not be
connected to (refused: nothing listens there, its process died or is restarting) is
skipped for ``refused_pause`` seconds, then tried again; ``REFUSED_PAUSE`` says why one
second. Each attempt in the log names the URL it went to.

Order: the events of one conversation are delivered to a target one after the other,
in the order they happened; a later one waits while an earlier one is retried (a lane
per target and conversation). Crisp documents no order for its hooks; the sandbox keeps
this one so that what a plugin receives is in order even across retries, and a test can
tell whether the plugin kept it. Conversations do not wait for each other.

The retry budget: with the default delays (0.5, 2, 5 s) the fourth and last attempt
comes 7.5 s after the first, plus the time the attempts themselves took, so an event
sent while every receiver is down is still delivered if one of them is back within
7.5 s: a restart of a few seconds loses nothing. ``retry_window`` gives that figure for
the delays and limit in force.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from ..signing import compact_json, sign
from .store import JSON, now_ms

__all__ = [
    "DEFAULT_RETRY_DELAYS",
    "REFUSED_PAUSE",
    "USER_AGENT",
    "HookDeliverer",
    "HookGroup",
    "HookInstance",
]

USER_AGENT = "Crisp-HooksDeliver 1.0 (+https://crisp.chat)"

DEFAULT_RETRY_DELAYS = (0.5, 2.0, 5.0)
"""Seconds between attempts: the last attempt 7.5 s after the first."""

REFUSED_PAUSE = 1.0
"""Seconds an instance that refused a connection is left out of the rotation.

While it is skipped, new events and retries go straight to the other instances instead
of each paying a retry delay for the dead one. When the pause ends it gets one probing
attempt: if refused again, that event waits one retry delay and goes elsewhere (late,
not lost). One second keeps that cost to one event a second for as long as an instance
is down, and puts a restarted instance back in the rotation within a second of its
listening again: short beside a restart, which takes seconds. It is also shorter than
the later retry delays (2, 5 s), so when every instance is down at once the late
retries find the pauses over and spread round-robin again.
"""

_MAX_DELAY = 3600.0
_GROUP_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_MAX_ATTEMPTS = 100


def _seconds(value: Any, what: str, top: float) -> float:
    """A JSON number from 0 to ``top`` (not a bool, not NaN), else a ValueError."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} should be a number of seconds")
    number = float(value)
    if not math.isfinite(number) or not 0 <= number <= top:
        raise ValueError(f"{what} should be from 0 to {top:g} seconds")
    return number


@dataclass(eq=False)
class HookInstance:
    """One instance URL of a group, its health and what it answered."""

    url: str
    skipped_until: float = 0.0
    """``time.monotonic()`` until which it is left out of the rotation (it refused)."""
    attempts: int = 0
    delivered: int = 0
    failed: int = 0
    refused: int = 0
    last_status: int | str | None = None

    def up(self, now: float) -> bool:
        return now >= self.skipped_until

    def note(self, status: int | str, unreachable: bool, now: float, pause: float) -> None:
        """Count one attempt; skip the instance for ``pause`` s if it could not be reached."""
        self.attempts += 1
        self.last_status = status
        if isinstance(status, int) and 200 <= status < 300:
            self.delivered += 1
        else:
            self.failed += 1
        if unreachable:
            self.refused += 1
            self.skipped_until = now + pause
        elif isinstance(status, int):
            self.skipped_until = 0.0  # it answered: listening again

    def to_json(self, now: float) -> JSON:
        return {
            "url": self.url,
            "healthy": self.up(now),
            "skipped_for": round(max(0.0, self.skipped_until - now), 3),
            "attempts": self.attempts,
            "delivered": self.delivered,
            "failed": self.failed,
            "refused": self.refused,
            "last_status": self.last_status,
        }


class HookGroup:
    """Instance URLs behind one logical hook subscription, served round-robin."""

    def __init__(self, name: str, urls: Iterable[str] = ()) -> None:
        self.name = name
        self.instances: list[HookInstance] = []
        self._next = 0
        for url in urls:
            self.add(url)

    @property
    def urls(self) -> list[str]:
        return [i.url for i in self.instances]

    def instance(self, url: str) -> HookInstance | None:
        return next((i for i in self.instances if i.url == url), None)

    def add(self, url: str) -> bool:
        """An instance joins (at the end of the rotation); False if it is already in."""
        if self.instance(url) is not None:
            return False
        self.instances.append(HookInstance(url))
        return True

    def remove(self, url: str) -> bool:
        """An instance leaves; deliveries under way go on with the others."""
        found = self.instance(url)
        if found is None:
            return False
        index = self.instances.index(found)
        del self.instances[index]
        if index < self._next:
            self._next -= 1
        return True

    def pick(self, now: float, tried: Sequence[HookInstance] = ()) -> HookInstance | None:
        """The instance for a delivery's next attempt; ``tried``: the instances its
        attempts went to, the latest last. In turn from where the rotation stands: the
        first healthy instance this delivery has not tried; else the healthy one it tried
        longest ago (so not the one that just failed it, unless no other is healthy: a
        live instance beats a dead one); else, all being skipped, the one whose pause
        ends first. None if the group is empty."""
        n = len(self.instances)
        if n == 0:
            return None
        start = self._next % n
        order = self.instances[start:] + self.instances[:start]
        live = [i for i in order if i.up(now)]
        choice = next((i for i in live if i not in tried), None)
        if choice is None and live:
            choice = next(i for i in tried if i in live)
        if choice is None:
            last = tried[-1] if tried else None
            choice = min(order, key=lambda i: (i is last, i.skipped_until))
        self._next = self.instances.index(choice) + 1
        return choice

    def clear_counts(self) -> None:
        for i in self.instances:
            i.attempts = i.delivered = i.failed = i.refused = 0
            i.last_status = None

    def to_json(self, now: float | None = None) -> JSON:
        now = time.monotonic() if now is None else now
        return {"name": self.name, "instances": [i.to_json(now) for i in self.instances]}


@dataclass
class _Job:
    record: JSON
    url: str
    body: bytes
    attempt: int = 0
    group: HookGroup | None = None
    tried: list[HookInstance] = field(default_factory=list)
    """The group's instances this delivery went to, the latest last (each once)."""
    lane: tuple[str, Any, Any] = ("", None, None)
    """(target, website, session): deliveries of one lane go one after the other."""


class HookDeliverer:
    """Queue and workers that POST signed events to hook URLs."""

    def __init__(
        self,
        plugin_id: str,
        secret: str,
        *,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        attempt_limit: int | None = None,
        refused_pause: float = REFUSED_PAUSE,
        timeout: float = 5.0,
        workers: int = 8,
        queue_limit: int = 10_000,
        log_size: int = 5_000,
        duplicate: Callable[[], bool] = lambda: False,
    ) -> None:
        self.plugin_id = plugin_id
        self._secret = secret
        self.retry_delays: tuple[float, ...] = ()
        self.attempt_limit = 1
        self.refused_pause = REFUSED_PAUSE
        self.set_retries(retry_delays, attempt_limit, refused_pause)
        self.timeout = timeout
        self.urls: list[str] = []
        self.groups: dict[str, HookGroup] = {}
        self.log: deque[JSON] = deque(maxlen=log_size)
        self.dropped = 0
        self._duplicate = duplicate
        self._workers_n = workers
        self._queue: asyncio.Queue[_Job] = asyncio.Queue(maxsize=queue_limit)
        self._workers: list[asyncio.Task[None]] = []
        self._timers: set[asyncio.TimerHandle] = set()
        self._pending = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._session: aiohttp.ClientSession | None = None
        self._ids = itertools.count(1)
        self._lanes: dict[tuple[str, Any, Any], deque[_Job]] = {}

    def set_retries(
        self,
        delays: Sequence[float] | None = None,
        attempt_limit: int | None = None,
        refused_pause: float | None = None,
    ) -> None:
        """Change the retry budget, all of it or none of it (ValueError, nothing changed).

        ``delays`` alone also sets the limit to one attempt more than there are delays;
        ``attempt_limit`` alone keeps the delays (the last repeats past its end). Both
        apply to the attempts made from now on, those of deliveries under way included.
        ``refused_pause``: how long a group's instance that refused a connection is
        skipped, from its next refusal on.
        """
        new_delays = self.retry_delays
        if delays is not None:
            if isinstance(delays, str | bytes) or not isinstance(delays, Sequence):
                raise ValueError("retry delays should be a list of seconds")
            if len(delays) >= _MAX_ATTEMPTS:
                raise ValueError(f"retry delays should be fewer than {_MAX_ATTEMPTS}")
            new_delays = tuple(_seconds(d, "a retry delay", _MAX_DELAY) for d in delays)
        if attempt_limit is not None:
            if isinstance(attempt_limit, bool) or not isinstance(attempt_limit, int):
                raise ValueError("attempt_limit should be a whole number")
            if not 1 <= attempt_limit <= _MAX_ATTEMPTS:
                raise ValueError(f"attempt_limit should be from 1 to {_MAX_ATTEMPTS}")
            limit = attempt_limit
        elif delays is not None:
            limit = len(new_delays) + 1
        else:
            limit = self.attempt_limit
        if limit > 1 and not new_delays:
            raise ValueError("an attempt limit above 1 needs at least one retry delay")
        pause = self.refused_pause
        if refused_pause is not None:
            pause = _seconds(refused_pause, "refused_pause", _MAX_DELAY)
        self.retry_delays = new_delays
        self.attempt_limit = limit
        self.refused_pause = pause

    def retry_delay(self, attempt: int) -> float:
        """Seconds to wait after the failed attempt number ``attempt`` (from 1)."""
        return self.retry_delays[min(attempt, len(self.retry_delays)) - 1]

    @property
    def retry_window(self) -> float:
        """Seconds from the first attempt to the last (to the millisecond), not counting
        the attempts' own time: how long every receiver may be down without a loss."""
        return round(sum(self.retry_delay(k) for k in range(1, self.attempt_limit)), 3)

    def retries_json(self) -> JSON:
        return {
            "delays": list(self.retry_delays),
            "attempt_limit": self.attempt_limit,
            "window": self.retry_window,
            "refused_pause": self.refused_pause,
        }

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        self._workers = [asyncio.create_task(self._work()) for _ in range(self._workers_n)]

    async def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        for task in self._workers:
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []
        if self._session is not None:
            await self._session.close()
            self._session = None

    def add_url(self, url: str) -> None:
        if url not in self.urls:
            self.urls.append(url)

    def remove_url(self, url: str) -> bool:
        if url in self.urls:
            self.urls.remove(url)
            return True
        return False

    def add_group(self, urls: Iterable[str] = (), name: str | None = None) -> HookGroup:
        """A new group of instance URLs (a name is made up if none is given); ValueError
        if the name is taken or not 1 to 64 letters, digits, ``.``, ``_`` or ``-``."""
        if name is None:
            n = len(self.groups) + 1
            while f"group-{n}" in self.groups:
                n += 1
            name = f"group-{n}"
        if not isinstance(name, str) or not _GROUP_NAME.fullmatch(name):
            raise ValueError(
                "a group name should be 1 to 64 letters, digits, '.', '_' or '-' "
                "(starting with a letter or digit)"
            )
        if name in self.groups:
            raise ValueError(f"hook group {name} exists")
        group = HookGroup(name, urls)
        self.groups[name] = group
        return group

    def remove_group(self, name: str) -> bool:
        """Forget the group: no new event goes to it; deliveries under way finish."""
        return self.groups.pop(name, None) is not None

    def groups_json(self) -> list[JSON]:
        now = time.monotonic()
        return [g.to_json(now) for g in self.groups.values()]

    def clear_log(self) -> None:
        """Forget the delivery log and the instances' counts (not their health)."""
        self.log.clear()
        for group in self.groups.values():
            group.clear_counts()

    def enqueue(self, name: str, payload: JSON) -> None:
        """Schedule the event for every hook URL and group (twice each under
        ``duplicate_hooks``)."""
        if not self.urls and not self.groups:
            return
        body = compact_json(
            {
                "website_id": payload.get("website_id"),
                "event": name,
                "data": payload,
                "timestamp": payload.get("timestamp") or now_ms(),
            }
        )
        copies = 2 if self._duplicate() else 1
        text = body.decode("utf-8")
        targets: list[tuple[str, HookGroup | None]] = [(url, None) for url in self.urls]
        targets += [("", group) for group in self.groups.values()]
        for url, group in targets:
            target = url or f"group:{group.name if group is not None else ''}"
            for _ in range(copies):
                record: JSON = {
                    "id": next(self._ids),
                    "url": url or None,
                    "group": group.name if group is not None else None,
                    "event": name,
                    "website_id": payload.get("website_id"),
                    "session_id": payload.get("session_id"),
                    "status": "pending",
                    "attempts": [],
                    "body": text,
                }
                lane = (target, payload.get("website_id"), payload.get("session_id"))
                job = _Job(record, url, body, group=group, lane=lane)
                self.log.append(record)
                self._pending += 1
                self._idle.clear()
                waiting = self._lanes.get(lane)
                if waiting:
                    waiting.append(job)  # behind an earlier event of its conversation
                else:
                    self._lanes[lane] = deque((job,))
                    self._put(job)

    def _put(self, job: _Job) -> None:
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            self.dropped += 1
            job.record["status"] = "dropped"
            self._done(job)

    def _done(self, job: _Job) -> None:
        """The delivery is over (delivered, failed or dropped): the next of its lane."""
        lane = self._lanes.get(job.lane)
        if lane and lane[0] is job:
            lane.popleft()
            if lane:
                self._put(lane[0])
            else:
                del self._lanes[job.lane]
        self._pending -= 1
        if self._pending <= 0:
            self._pending = 0
            self._idle.set()

    @property
    def idle(self) -> bool:
        """True when no delivery is queued, in flight or waiting for a retry."""
        return self._idle.is_set()

    async def wait_idle(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until every delivery (retries included) has succeeded or given up."""
        await asyncio.wait_for(self._idle.wait(), timeout)

    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            try:
                await self._attempt(job)
            finally:
                self._queue.task_done()

    async def _attempt(self, job: _Job) -> None:
        job.attempt += 1
        url: str | None = job.url
        instance: HookInstance | None = None
        if job.group is not None:
            # Chosen before the first await, so the rotation follows the queue's order.
            instance = job.group.pick(time.monotonic(), job.tried)
            url = None
            if instance is not None:
                url = instance.url
                if instance in job.tried:
                    job.tried.remove(instance)
                job.tried.append(instance)
            job.record["url"] = url
        status: int | str
        unreachable = False
        if url is None:
            status = "error: no instance"  # every instance left: a balancer's 503
        else:
            status, unreachable = await self._post(job, url)
        if instance is not None:
            instance.note(status, unreachable, time.monotonic(), self.refused_pause)
        job.record["attempts"].append(
            {"attempt": job.attempt, "url": url, "status": status, "at": now_ms()}
        )
        if isinstance(status, int) and 200 <= status < 300:
            job.record["status"] = "delivered"
            self._done(job)
            return
        if job.attempt >= self.attempt_limit:
            job.record["status"] = "failed"
            self._done(job)
            return
        delay = self.retry_delay(job.attempt)
        timer: asyncio.TimerHandle | None = None

        def again() -> None:
            if timer is not None:
                self._timers.discard(timer)
            self._put(job)

        timer = asyncio.get_running_loop().call_later(delay, again)
        self._timers.add(timer)

    async def _post(self, job: _Job, url: str) -> tuple[int | str, bool]:
        """One signed POST: the status (or what went wrong) and whether the URL could
        not be connected to at all."""
        timestamp = str(now_ms())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "X-Crisp-Request-Timestamp": timestamp,
            "X-Crisp-Signature": sign(self._secret, timestamp, job.body),
            "X-Crisp-Hook-Origin": f"plugin/rtm {self.plugin_id} production",
            "X-Delivery-Attempt-Count": str(job.attempt),
            "X-Delivery-Attempt-Limit": str(self.attempt_limit),
        }
        assert self._session is not None
        try:
            async with self._session.post(url, data=job.body, headers=headers) as resp:
                await resp.read()
                return resp.status, False
        except TimeoutError:
            return "timeout", False
        except aiohttp.ClientConnectorError as exc:  # no connection was made
            refused = isinstance(exc.os_error, ConnectionRefusedError)
            return ("error: refused" if refused else f"error: {type(exc).__name__}"), True
        except Exception as exc:  # reset, closed early, bad URL: a failed attempt too
            return f"error: {type(exc).__name__}", False
