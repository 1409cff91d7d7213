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
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from ..signing import compact_json, sign
from .store import JSON, now_ms

__all__ = ["DEFAULT_RETRY_DELAYS", "USER_AGENT", "HookDeliverer"]

USER_AGENT = "Crisp-HooksDeliver 1.0 (+https://crisp.chat)"

DEFAULT_RETRY_DELAYS = (0.5, 2.0, 5.0)
"""Seconds between attempts: the last attempt 7.5 s after the first."""

_MAX_DELAY = 3600.0
_MAX_ATTEMPTS = 100


def _seconds(value: Any, what: str, top: float) -> float:
    """A JSON number from 0 to ``top`` (not a bool, not NaN), else a ValueError."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} should be a number of seconds")
    number = float(value)
    if not math.isfinite(number) or not 0 <= number <= top:
        raise ValueError(f"{what} should be from 0 to {top:g} seconds")
    return number


@dataclass
class _Job:
    record: JSON
    url: str
    body: bytes
    attempt: int = 0
    statuses: list[int | str] = field(default_factory=list)


class HookDeliverer:
    """Queue and workers that POST signed events to hook URLs."""

    def __init__(
        self,
        plugin_id: str,
        secret: str,
        *,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        attempt_limit: int | None = None,
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
        self.set_retries(retry_delays, attempt_limit)
        self.timeout = timeout
        self.urls: list[str] = []
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

    def set_retries(
        self, delays: Sequence[float] | None = None, attempt_limit: int | None = None
    ) -> None:
        """Change the retry budget, all of it or none of it (ValueError, nothing changed).

        ``delays`` alone also sets the limit to one attempt more than there are delays;
        ``attempt_limit`` alone keeps the delays (the last repeats past its end). Both
        apply to the attempts made from now on, those of deliveries under way included.
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
        self.retry_delays = new_delays
        self.attempt_limit = limit

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

    def enqueue(self, name: str, payload: JSON) -> None:
        """Schedule the event for every hook URL (twice each under ``duplicate_hooks``)."""
        if not self.urls:
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
        for url in self.urls:
            for _ in range(copies):
                record: JSON = {
                    "id": next(self._ids),
                    "url": url,
                    "event": name,
                    "website_id": payload.get("website_id"),
                    "session_id": payload.get("session_id"),
                    "status": "pending",
                    "attempts": [],
                    "body": body.decode("utf-8"),
                }
                self._put(_Job(record, url, body))

    def _put(self, job: _Job) -> None:
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            self.dropped += 1
            job.record["status"] = "dropped"
            self.log.append(job.record)
            return
        if job.attempt == 0:
            self.log.append(job.record)
        self._pending += 1
        self._idle.clear()

    def _done(self) -> None:
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
        status: int | str
        assert self._session is not None
        try:
            async with self._session.post(job.url, data=job.body, headers=headers) as resp:
                await resp.read()
                status = resp.status
        except TimeoutError:
            status = "timeout"
        except Exception as exc:  # refused, reset, bad URL: all count as a failed attempt
            status = f"error: {type(exc).__name__}"
        job.record["attempts"].append({"attempt": job.attempt, "status": status, "at": now_ms()})
        if isinstance(status, int) and 200 <= status < 300:
            job.record["status"] = "delivered"
            self._done()
            return
        if job.attempt >= self.attempt_limit:
            job.record["status"] = "failed"
            self._done()
            return
        delay = self.retry_delay(job.attempt)
        loop = asyncio.get_running_loop()
        timer: asyncio.TimerHandle | None = None

        def again() -> None:
            if timer is not None:
                self._timers.discard(timer)
            try:
                self._queue.put_nowait(job)
            except asyncio.QueueFull:
                self.dropped += 1
                job.record["status"] = "dropped"
                self._done()

        timer = loop.call_later(delay, again)
        self._timers.add(timer)
