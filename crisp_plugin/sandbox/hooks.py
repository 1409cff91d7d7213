"""Signed Web Hook delivery, as Crisp's hooks deliverer does it.

Each event becomes one POST per registered URL, body
``{"website_id", "event", "data", "timestamp"}`` as compact UTF-8 JSON, headers
``X-Crisp-Request-Timestamp`` (ms), ``X-Crisp-Signature`` (crisp_plugin.signing),
``X-Crisp-Hook-Origin``, ``X-Delivery-Attempt-Count``, ``X-Delivery-Attempt-Limit``
and the deliverer's user agent. A non-2xx answer or a timeout is retried after the
next delay of ``retry_delays`` until the attempt limit. Deliveries run in background
workers (bounded queue), so a REST answer never waits for a hook. Every delivery is
recorded in ``log`` (URL, event, each attempt's status, the final outcome).
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp

from ..signing import compact_json, sign
from .store import JSON, now_ms

__all__ = ["USER_AGENT", "HookDeliverer"]

USER_AGENT = "Crisp-HooksDeliver 1.0 (+https://crisp.chat)"


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
        retry_delays: tuple[float, ...] = (0.5, 2.0, 5.0),
        timeout: float = 5.0,
        workers: int = 8,
        queue_limit: int = 10_000,
        log_size: int = 5_000,
        duplicate: Callable[[], bool] = lambda: False,
    ) -> None:
        self.plugin_id = plugin_id
        self._secret = secret
        self.retry_delays = tuple(retry_delays)
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

    @property
    def attempt_limit(self) -> int:
        return len(self.retry_delays) + 1

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
        delay = self.retry_delays[job.attempt - 1]
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
