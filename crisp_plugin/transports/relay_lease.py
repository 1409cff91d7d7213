"""One relay holder among N instances: the RTM transport on a Redis lease.

With ``inbox.backend = "redis"`` every instance runs one of these instead of a bare
:class:`~crisp_plugin.transports.rtm.RtmTransport`. The instance that takes the lease
(``<prefix>:lease:relay``, with a fencing token) opens the relay socket; the others stand
by (state ``standby``) and try again every third of the TTL, so when the holder dies
(or is cut off from Redis) one of them holds the relay within ``lease_ttl`` plus a
period. A holder that cannot renew stops acting on relay events once its own clock says
the TTL ran out (``feed`` refuses them: they are fenced off), then closes the socket;
a pause (the start of a stop) lets the lease go at once, so a deploy hands the relay over
without waiting for the TTL.

The events of the holder go to the shared inbox, deduplicated there: during a handover
both sockets may hear an event, it is handled once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import structlog

from crisp_plugin.errors import CrispError
from crisp_plugin.transports.base import EventSink

if TYPE_CHECKING:
    from crisp_plugin.inbox.leases import Lease
    from crisp_plugin.transports.rtm import RtmTransport

__all__ = ["LeasedRelay"]

log = structlog.get_logger("crisp_plugin.rtm")


class LeasedRelay:
    """An event sink for the RTM transport it builds, and the transport the runner sees:
    the socket is open only while this instance holds the relay lease."""

    name = "rtm"

    def __init__(
        self,
        sink: EventSink,
        lease: Lease,
        build: Callable[[EventSink], RtmTransport],
    ) -> None:
        self._sink = sink
        self.lease = lease
        self.rtm = build(self)
        self._token: int | None = None
        self._renewed = 0.0
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._failed: asyncio.Future[CrispError] | None = None
        self.fenced = 0
        self._fence_told = False
        """Relay events refused because the lease ran out before the socket closed."""
        self.takeovers = 0
        """How many times this instance took the relay."""

    def __repr__(self) -> str:
        return f"<LeasedRelay holder={self.holds()} rtm={self.rtm.state}>"

    # -- the transport face -----------------------------------------------------------

    @property
    def state(self) -> str:
        """The socket's state while holding, else ``standby``."""
        return self.rtm.state if self._token is not None else "standby"

    def holds(self) -> bool:
        """True while the lease is ours and not past its TTL by this process's clock."""
        return self._token is not None and time.monotonic() - self._renewed < self.lease.ttl

    async def start(self) -> None:
        """Take the lease when it is free (and open the socket: a refused token raises
        here, as without a lease), then keep it, or wait for it, in the background."""
        self._stopping.clear()
        self._failed = asyncio.get_running_loop().create_future()
        await self._try_take()
        self._task = asyncio.create_task(self._loop(), name="crisp-relay-lease")

    async def pause(self) -> None:
        """Close the socket and let the lease go: a standby takes the relay at once."""
        await self._halt()

    async def stop(self) -> None:
        await self._halt()

    async def wait_failed(self) -> CrispError:
        """Return when the relay refused this plugin for good (a refused token)."""
        waiters: list[Awaitable[CrispError]] = [self.rtm.wait_failed()]
        if self._failed is not None:
            waiters.append(self._failed)
        tasks = [asyncio.ensure_future(w) for w in waiters]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                if task is not self._failed:
                    task.cancel()
        return next(iter(done)).result()

    async def update_events(self) -> tuple[list[str], list[str]]:
        return await self.rtm.update_events()

    # -- the sink face ----------------------------------------------------------------

    def feed(
        self, name: str, payload: dict[str, Any], source: str, redelivery: bool = False
    ) -> bool | Awaitable[bool]:
        if not self.holds():
            self.fenced += 1
            if not self._fence_told:
                self._fence_told = True
                log.warning(
                    "relay events fenced off: this instance no longer holds the relay",
                    event_name=name,
                )
            return False  # no longer the holder: the one that is hears it
        return self._sink.feed(name, payload, source, redelivery)

    # -- keeping the lease ------------------------------------------------------------

    async def _loop(self) -> None:
        period = self.lease.ttl / 3
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), period)
            if self._stopping.is_set():
                return
            try:
                if self._token is None:
                    await self._try_take()
                else:
                    await self._renew()
            except CrispError as exc:  # the socket refused for good
                if self._failed is not None and not self._failed.done():
                    self._failed.set_result(exc)
                return
            except Exception as exc:
                log.warning("relay lease: Redis did not answer", error=str(exc))
                if self._token is not None and not self.holds():
                    await self._lose("its TTL ran out while Redis did not answer")

    async def _try_take(self) -> None:
        asked = time.monotonic()
        try:
            token = await self.lease.take()
        except Exception as exc:
            log.warning("relay lease: could not ask Redis", error=str(exc))
            return
        if token is None:
            if self._task is None:
                log.info("relay held by another instance: standing by")
            return
        self._token, self._renewed = token, asked
        self._fence_told = False
        self.takeovers += 1
        log.info("relay lease taken: opening the relay socket", token=token)
        try:
            await self.rtm.start()
        except BaseException:
            await self._release()
            raise

    async def _renew(self) -> None:
        token = self._token
        assert token is not None
        asked = time.monotonic()
        if await self.lease.renew(token):
            self._renewed = asked
        else:
            await self._lose("another instance holds it now")

    async def _lose(self, why: str) -> None:
        log.warning("relay lease lost: closing the relay socket", reason=why)
        self._token = None
        await self.rtm.stop()

    async def _release(self) -> None:
        token, self._token = self._token, None
        if token is not None:
            with contextlib.suppress(Exception):  # a lost Redis: it runs out on its own
                await self.lease.release(token)

    async def _halt(self) -> None:
        self._stopping.set()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        await self.rtm.stop()
        await self._release()
