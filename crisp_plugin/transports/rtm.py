"""The RTM transport: Crisp's Socket.IO relay, as a python-socketio client.

One connection at a time, WebSocket only, the Socket.IO path taken from the relay
URL's own path (Crisp serves it at ``/``, not ``/socket.io``). After each connect the
transport emits ``authentication`` with the identifier, key, tier, the exact event
names the plugin handles (wildcards already expanded for the tier) and the optional
``rooms`` / ``inboxes`` filters, then waits for ``authenticated``:

- ``unauthorized`` (or ``authenticated: false``) is final: the transport stops, the
  error is kept in :attr:`RtmTransport.error` and :meth:`RtmTransport.wait_failed`
  returns it (the runner then exits 1). There is no reconnect storm on a wrong key.
- a lost connection is retried by this module (python-socketio's own reconnection is
  off, so every reconnect authenticates again): at once after a connection that held
  (the relay keeps no backlog), then exponential backoff from ``reconnect_delay`` to
  ``reconnect_max`` with jitter while attempts fail; after ``rediscover_after``
  failures in a row the next relay URL is tried (the ``rescue`` relay), and after
  both, the endpoints are discovered again.

Every other Socket.IO event is handed to the dispatcher as ``(name, payload, "rtm")``.
A :class:`~crisp_plugin.transports.gaps.RelayWatch` (``watch=``) is told when the
socket is up and when it went down (with the time of the last packet it received), so
the gaps in what the relay delivered can be measured and recovered.
``plugin:subscription:updated`` also triggers ``socket:bind`` (at most once per 2.5 s)
so a newly installed website starts flowing. :meth:`RtmTransport.update_events` adds
or removes names on the live socket with ``socket:bind:push`` / ``socket:bind:pop``.
python-socketio is created with ``handle_sigint=False``: signals belong to the runner.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp
import structlog

from crisp_plugin.errors import CrispError, EventError, RtmError, RtmUnauthorized
from crisp_plugin.transports.base import EventSink
from crisp_plugin.transports.gaps import RelayWatch, now_ms
from crisp_plugin.transports.hook_json import too_deep
from crisp_plugin.transports.sio_import import import_socketio

if TYPE_CHECKING:
    import engineio
    import socketio
else:
    socketio, engineio = import_socketio()

__all__ = ["BIND_INTERVAL", "RtmTransport", "split_relay_url"]

log = structlog.get_logger("crisp_plugin.rtm")

BIND_INTERVAL = 2.5
"""Seconds between two ``socket:bind`` emits, at least (the Node client's rule)."""

_CONTROL_EVENTS = frozenset({"authenticated", "unauthorized"})


def split_relay_url(url: str) -> tuple[str, str]:
    """``(base URL, Socket.IO path)`` for a relay URL; the path is the URL's own."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "ws", "wss") or not parts.netloc:
        raise RtmError(f"RTM relay URL is not http(s) or ws(s): {url!r}")
    base = f"{parts.scheme}://{parts.netloc}"
    if parts.query:
        base += "?" + parts.query
    return base, parts.path or "/"


class _RootPathEngineIO(engineio.AsyncClient):  # type: ignore[misc]
    """Engine.IO client asking for ``/?EIO=4...`` when the Socket.IO path is the root.

    python-engineio formats ``/{path}/``, which gives ``//`` for Crisp's relays (served
    at ``/``); socket.io-client, which Crisp's relays are built for, sends ``/``.

    It also notes when it last received a packet (an event, or the relay's ping): a
    connection that went silent was heard up to then.
    """

    last_packet_ms: int | None = None

    async def _receive_packet(self, pkt: Any) -> None:
        self.last_packet_ms = now_ms()
        await super()._receive_packet(pkt)

    def _get_engineio_url(self, url: str, engineio_path: str, transport: str) -> str:
        full: str = super()._get_engineio_url(url, engineio_path, transport)
        if not engineio_path.strip("/"):
            scheme, sep, rest = full.partition("://")
            full = scheme + sep + rest.replace("//?", "/?", 1)
        return full


class _RelayClient(socketio.AsyncClient):  # type: ignore[misc]
    """python-socketio's client with the root-path fix above."""

    def _engineio_client_class(self) -> type[engineio.AsyncClient]:
        return _RootPathEngineIO


class RtmTransport:
    """Receive events from Crisp's RTM relay and feed them to the dispatcher."""

    name = "rtm"

    def __init__(
        self,
        sink: EventSink,
        *,
        identifier: str,
        key: str,
        events: Callable[[], Sequence[str]],
        tier: str = "plugin",
        discover: Callable[[], Awaitable[list[str]]] | None = None,
        url: str | None = None,
        rooms: Sequence[str] = (),
        inboxes: Sequence[str] = (),
        auth_timeout: float = 10.0,
        reconnect_delay: float = 1.0,
        reconnect_max: float = 10.0,
        rediscover_after: int = 3,
        watch: RelayWatch | None = None,
    ) -> None:
        if url is None and discover is None:
            raise ValueError("RtmTransport needs a relay url or a discover() function")
        self._sink = sink
        self._identifier = identifier
        self._key = key
        self._events_fn = events
        self.tier = tier
        self._discover = discover
        self._override = url
        self._rooms = list(rooms)
        self._inboxes = list(inboxes)
        self._auth_timeout = auth_timeout
        self._reconnect_delay = max(0.05, reconnect_delay)
        self._reconnect_max = max(self._reconnect_delay, reconnect_max)
        self._rediscover_after = max(1, rediscover_after)
        self.watch = watch

        self._state = "stopped"
        self._events: list[str] = []
        self._sio: socketio.AsyncClient | None = None
        self._http: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._bind_task: asyncio.Task[None] | None = None
        self._last_bind = float("-inf")
        self._stopping = asyncio.Event()
        self._ready = asyncio.Event()
        self._failed = asyncio.Event()
        self._first: asyncio.Future[None] | None = None
        self.error: CrispError | None = None
        self.url: str | None = None
        self.auth_count = 0
        """How many times the relay accepted the authentication (1 + reconnects)."""
        self.dropped = 0
        """Events received while the dispatcher refused them (full or draining)."""
        self.received = 0
        """Events received from the relay (control events aside), since start."""
        self.sid: str | None = None
        """The Socket.IO session id of the live connection, as the relay knows it."""
        self.received_on_socket = 0
        """Events received on the live connection (``sid``)."""

    def __repr__(self) -> str:
        return f"<RtmTransport tier={self.tier} state={self._state} url={self.url}>"

    # -- public face ---------------------------------------------------------------

    @property
    def state(self) -> str:
        """``stopped``, ``discovering``, ``connecting``, ``authenticating``,
        ``connected``, ``reconnecting`` or ``failed``."""
        return self._state

    @property
    def events(self) -> list[str]:
        """The event names the live socket is subscribed to."""
        return list(self._events)

    async def start(self) -> None:
        """Connect and authenticate once; keep the connection in the background.

        Raises :class:`RtmUnauthorized` when the relay (or discovery) refuses the token.
        When the relay cannot be reached the error is logged and retries go on in the
        background: a Crisp outage at start-up does not stop the plugin.
        """
        if self._task is not None:
            return
        self._stopping.clear()
        self._failed.clear()
        self.error = None
        self._first = asyncio.get_running_loop().create_future()
        if self.watch is not None:
            await self.watch.starting()
        self._task = asyncio.create_task(self._run(), name="crisp-rtm")
        await asyncio.shield(self._first)

    async def stop(self) -> None:
        """Disconnect and stop reconnecting."""
        self._stopping.set()
        if self._bind_task is not None:
            self._bind_task.cancel()
            with contextlib.suppress(BaseException):
                await self._bind_task
            self._bind_task = None
        sio = self._sio
        if sio is not None:
            with contextlib.suppress(Exception):
                await sio.disconnect()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        if self._http is not None:
            await self._http.close()
            self._http = None
        if self.watch is not None and task is not None:
            await self.watch.stopped()
        self._ready.clear()
        if self._state != "failed":
            self._set_state("stopped")

    async def pause(self) -> None:
        """Stop taking events: the socket closes (the relay keeps no backlog)."""
        await self.stop()

    async def wait_ready(self) -> None:
        """Wait until the socket is connected and authenticated (wrap in a timeout)."""
        await self._ready.wait()

    async def wait_failed(self) -> CrispError:
        """Wait until the transport gives up for good; return why."""
        await self._failed.wait()
        assert self.error is not None
        return self.error

    async def update_events(self) -> tuple[list[str], list[str]]:
        """Re-read the plugin's events and push/pop the difference on the live socket.

        Returns ``(added, removed)``. With no live socket the new list is simply used at
        the next authentication.
        """
        new = self._wanted_events()
        old = set(self._events)
        added = [n for n in new if n not in old]
        removed = [n for n in self._events if n not in set(new)]
        self._events = new
        sio = self._sio
        if sio is not None and self._state == "connected":
            if added:
                await sio.emit("socket:bind:push", {"events": added})
            if removed:
                await sio.emit("socket:bind:pop", {"events": removed})
            if added or removed:
                log.info("rtm events updated", added=added, removed=removed)
        return added, removed

    # -- internals -----------------------------------------------------------------

    def _set_state(self, state: str, **info: Any) -> None:
        if state != self._state:
            self._state = state
            if state == "failed":  # fatal (a refused token): an error, with the reason
                log.error("rtm failed: not reconnecting", state=state, **info)
            else:
                log.info("rtm state", state=state, **info)

    def _wanted_events(self) -> list[str]:
        return list(dict.fromkeys(self._events_fn()))

    def _auth_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "username": self._identifier,
            "password": self._key,
            "tier": self.tier,
            "events": list(self._events),
        }
        if self._rooms:
            payload["rooms"] = list(self._rooms)
        if self._inboxes:
            payload["inboxes"] = list(self._inboxes)
        return payload

    def _resolve_first(self, exc: BaseException | None = None) -> None:
        first = self._first
        if first is not None and not first.done():
            if exc is None:
                first.set_result(None)
            else:
                first.set_exception(exc)

    def _fail(self, exc: CrispError) -> None:
        self.error = exc
        self._set_state("failed", reason=str(exc), error=type(exc).__name__)
        self._failed.set()
        self._resolve_first(exc)

    def _backoff(self, failures: int) -> float:
        base = min(self._reconnect_max, self._reconnect_delay * 2.0 ** max(0, failures - 1))
        return base * (0.5 + random.random() / 2)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _run(self) -> None:
        candidates: list[str] = []
        index = 0
        failures = 0
        while not self._stopping.is_set():
            try:
                if not candidates:
                    candidates = await self._candidates()
                    index = 0
                url = candidates[index % len(candidates)]
                began = time.monotonic()
                await self._session(url)
                # A connection that held is followed by an immediate reconnect (the relay
                # keeps no backlog: every second away is events missed); one that dropped
                # at once counts as a failure, so a flapping relay still gets backoff.
                failures = 0 if time.monotonic() - began >= self._reconnect_delay else 1
            except RtmUnauthorized as exc:
                self._fail(exc)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                log.warning(
                    "rtm connection failed", url=self.url, error=_describe(exc), failures=failures
                )
                self._resolve_first()
                if failures % self._rediscover_after == 0 and candidates:
                    index += 1
                    if index >= len(candidates):
                        candidates = []
            if self._stopping.is_set():
                break
            delay = self._backoff(failures) if failures else 0.0
            self._set_state("reconnecting", delay=round(delay, 2))
            if delay:
                await self._sleep(delay)

    async def _candidates(self) -> list[str]:
        if self._override:
            return [self._override]
        assert self._discover is not None
        self._set_state("discovering")
        urls = await self._discover()
        log.info("rtm endpoints discovered", urls=urls)
        return urls

    async def _session(self, url: str) -> None:
        """One connection: connect, authenticate, deliver events until it drops."""
        base, path = split_relay_url(url)
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession()
        sio = _RelayClient(
            reconnection=False,
            handle_sigint=False,
            logger=False,
            engineio_logger=False,
            http_session=self._http,
        )
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[bool] = loop.create_future()
        dropped = asyncio.Event()
        watched = False

        async def on_authenticated(*args: Any) -> None:
            nonlocal watched
            if answer.done():
                return
            accepted = args[0] is not False if args else True
            if accepted and self.watch is not None:
                # Before any event of this socket is delivered (handlers run in the
                # order their packets came): a recovery may hold them back.
                watched = True
                self.watch.up()
            answer.set_result(accepted)

        async def on_unauthorized(*args: Any) -> None:
            message = ""
            if args and isinstance(args[0], dict):
                message = str(args[0].get("message", ""))
            elif args:
                message = str(args[0])
            if not answer.done():
                answer.set_exception(RtmUnauthorized(_refused(self.tier, message)))

        async def on_disconnect(*args: Any) -> None:
            dropped.set()
            if not answer.done():
                answer.set_exception(RtmError("relay closed the connection before authenticating"))

        async def on_any(event: str, *args: Any) -> None:
            await self._deliver(event, args)

        sio.on("authenticated", on_authenticated)
        sio.on("unauthorized", on_unauthorized)
        sio.on("disconnect", on_disconnect)
        sio.on("*", on_any)

        self.url = url
        self._set_state("connecting", url=url)
        try:
            try:
                await asyncio.wait_for(
                    sio.connect(
                        base,
                        transports=["websocket"],
                        socketio_path=path,
                        wait_timeout=self._auth_timeout,
                    ),
                    self._auth_timeout + 1,
                )
            except TimeoutError as exc:
                raise RtmError(f"no answer from {url} in {self._auth_timeout:g} s") from exc
            self._sio = sio
            self._events = self._wanted_events()
            self._set_state("authenticating")
            await sio.emit("authentication", self._auth_payload())
            try:
                accepted = await asyncio.wait_for(asyncio.shield(answer), self._auth_timeout)
            except TimeoutError as exc:
                raise RtmError(
                    f"no authentication answer from the relay in {self._auth_timeout:g} s"
                ) from exc
            if not accepted:
                raise RtmUnauthorized(_refused(self.tier, "authenticated: false"))
            self.auth_count += 1
            self.sid = sio.get_sid("/")
            self.received_on_socket = 0
            self._set_state("connected", url=url, events=len(self._events))
            self._ready.set()
            self._resolve_first()
            stop_wait = asyncio.ensure_future(self._stopping.wait())
            drop_wait = asyncio.ensure_future(dropped.wait())
            try:
                await asyncio.wait({stop_wait, drop_wait}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stop_wait.cancel()
                drop_wait.cancel()
            if not self._stopping.is_set():
                log.warning("rtm connection lost", url=url)
        finally:
            if watched and self.watch is not None:
                eio = sio.eio
                if isinstance(eio, _RootPathEngineIO):
                    self.watch.down(eio.last_packet_ms, float(eio.ping_interval or 0) or None)
                else:
                    self.watch.down(None, None)
            self._ready.clear()
            self._sio = None
            self.sid = None
            if not answer.done():
                answer.cancel()
            elif not answer.cancelled():
                answer.exception()  # mark retrieved
            if sio.connected or sio.eio.state != "disconnected":
                with contextlib.suppress(Exception):
                    await sio.disconnect()

    async def _deliver(self, event: str, args: tuple[Any, ...]) -> None:
        if event in _CONTROL_EVENTS:
            return
        self.received += 1
        self.received_on_socket += 1
        payload = args[0] if args else {}
        if not isinstance(payload, dict):
            log.warning("rtm event without an object payload", event_name=event)
            return
        if too_deep(payload):  # as for hooks: nothing downstream meets a deep payload
            log.warning("rtm event nested too deep: dropped", event_name=event)
            return
        if event == "plugin:subscription:updated":
            self._schedule_bind()
        try:
            accepted = self._sink.feed(event, payload, "rtm")
        except EventError as exc:
            log.warning("rtm event malformed", event_name=event, error=str(exc))
            return
        except Exception:
            log.exception("rtm event could not be dispatched", event_name=event)
            return
        if isinstance(accepted, bool):
            if not accepted:
                self._refused(event)
            return

        # A durable inbox stores it first: the relay has nothing to acknowledge, but a
        # failure to store must be heard of.
        def stored(done: asyncio.Future[bool]) -> None:
            if done.cancelled() or done.exception() is not None or not done.result():
                self._refused(event)

        asyncio.ensure_future(accepted).add_done_callback(stored)

    def _refused(self, event: str) -> None:
        self.dropped += 1
        log.warning(
            "rtm event refused: dispatcher full, draining, or its inbox unavailable",
            event_name=event,
        )

    def _schedule_bind(self) -> None:
        if self._bind_task is not None and not self._bind_task.done():
            return  # a bind is already due; it covers this update too
        delay = max(0.0, self._last_bind + BIND_INTERVAL - time.monotonic())
        self._bind_task = asyncio.create_task(self._bind_later(delay), name="crisp-rtm-bind")

    async def _bind_later(self, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        sio = self._sio
        if sio is None or self._state != "connected":
            return
        self._last_bind = time.monotonic()
        try:
            await sio.emit("socket:bind", {})
        except Exception as exc:
            log.warning("rtm socket:bind failed", error=_describe(exc))
        else:
            log.info("rtm socket:bind sent")


def _refused(tier: str, message: str) -> str:
    text = f"the RTM relay refused the {tier} token (check crisp.identifier and crisp.key)"
    return f"{text}: {message}" if message else text


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
