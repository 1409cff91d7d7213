"""Signed Web Hooks: an aiohttp server that turns Crisp's POSTs into events.

Crisp POSTs ``{"website_id", "event", "data", "timestamp"}`` to the hook URL with
``X-Crisp-Request-Timestamp`` and ``X-Crisp-Signature`` (lowercase hex HMAC-SHA256 over
``"[" + timestamp + ";" + body + "]"``). Each request is answered:

- 405 for a method other than POST (aiohttp's router says so);
- 413 when the body is over ``body_limit`` (``Content-Length`` is checked before a byte
  of the body is read; a chunked body is cut off at the limit);
- 403 when the signature is missing or wrong, checked over the raw bytes with a
  constant-time compare before anything is parsed, or when the timestamp is outside
  the replay window (``replay_window`` seconds; the header may be in seconds or in
  milliseconds, both are understood). Website hooks, which Crisp does not sign, are let
  in only with ``unsigned = true`` and a ``key`` query parameter equal to the
  configured key;
- 400 when the body is not JSON of the documented shape (or nests arrays and objects
  deeper than :data:`~crisp_plugin.transports.hook_json.MAX_DEPTH` levels), or the
  dispatcher finds the payload malformed for its event;
- 503 (with ``Retry-After``) when the dispatcher is full or the plugin is draining for
  shutdown, so Crisp delivers the event again later instead of it being lost; and, on
  a new connection, when ``max_connections`` are already open (then closed);
- 408 (then closed) when a request's head, or its body, is not all there within
  ``request_timeout`` seconds (see :mod:`~crisp_plugin.transports.hook_guard`);
- 200 otherwise, including events no handler wants.

A delivery whose ``X-Delivery-Attempt-Count`` is above 1 is fed as a redelivery, so
the dispatcher can drop an event it already took from the first attempt.

The body is read once, verified (the HMAC of :func:`crisp_plugin.signing.verify`),
parsed once with ``json.loads`` and handed to the dispatcher, which returns without
waiting for handlers: the answer is quick.

Plain hook POSTs (the deliveries Crisp makes) are served by the fast path of
:mod:`crisp_plugin.transports.hook_protocol` without aiohttp's request objects
(``fast_path=False`` turns it off); the answers are the same, from the same checks
(:meth:`WebhookServer.answer_hook`). Every other request on the port (health, metrics,
query strings, chunked bodies...) is aiohttp's.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import structlog
from aiohttp import web

from crisp_plugin.config import WebhookSettings
from crisp_plugin.errors import CrispError, EventError
from crisp_plugin.signing import HookKey
from crisp_plugin.transports.base import EventSink
from crisp_plugin.transports.hook_guard import ConnectionGuard, track_requests
from crisp_plugin.transports.hook_json import TooDeep, load_hook_json
from crisp_plugin.transports.hook_protocol import IDLE_SWEEP, Answer, HookProtocol, is_redelivery
from crisp_plugin.transports.hook_wire import (
    MAX_FIELD_SIZE,
    MAX_HEADERS,
    MAX_LINE_SIZE,
    HeadReader,
)

__all__ = ["WebhookServer", "timestamp_age"]

log = structlog.get_logger("crisp_plugin.webhooks")

_JSON = "application/json"
_OK: Answer = (200, b'{"ok":true}', ())
_RETRY = (("Retry-After", "5"),)

# A timestamp above this is in milliseconds (1e11 s is the year 5138).
_MS_THRESHOLD = 100_000_000_000


def timestamp_age(header: str, now: float | None = None) -> float | None:
    """Seconds between the ``X-Crisp-Request-Timestamp`` value and now.

    The unit is detected: values above 1e11 are milliseconds, others seconds. Returns
    ``None`` for a value that is not a number.
    """
    try:
        value = float(header)
    except (TypeError, ValueError):
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    if value > _MS_THRESHOLD:
        value /= 1000.0
    return (time.time() if now is None else now) - value


def _error(
    status: int, reason: str, message: str, headers: tuple[tuple[str, str], ...] = ()
) -> Answer:
    body = json.dumps({"error": reason, "message": message}).encode()
    return (status, body, headers)


def _too_large(limit: int) -> Answer:
    return _error(413, "too_large", f"body over the {limit} byte limit")


class WebhookServer:
    """The hook endpoint, plus ``/healthz`` and ``/metrics`` when given.

    ``extra_routes`` is called with the application before it starts, so the runner can
    mount health and metrics routes on the same port.
    """

    name = "webhooks"

    def __init__(
        self,
        sink: EventSink,
        *,
        host: str = "127.0.0.1",
        port: int = 8080,
        path: str = "/crisp/hooks",
        secret: str | None = None,
        body_limit: int = 1_048_576,
        replay_window: float = 0.0,
        unsigned: bool = False,
        key: str | None = None,
        extra_routes: Callable[[web.Application], None] | None = None,
        on_answer: Callable[[int], None] | None = None,
        fast_path: bool = True,
        request_timeout: float = 10.0,
        max_connections: int = 1000,
    ) -> None:
        self._sink = sink
        self.host = host
        self._port = port
        self.path = path if path.startswith("/") else "/" + path
        self._hook_key = HookKey(secret.encode("utf-8")) if secret else None
        self._body_limit = body_limit
        self._replay_window = replay_window
        self._unsigned = unsigned
        self._key = key or ""
        self._extra_routes = extra_routes
        self._on_answer = on_answer
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop answers wait on
        self._runner: web.AppRunner | None = None
        self._listener: asyncio.Server | None = None
        self.guard = ConnectionGuard(request_timeout, max_connections)
        self.fast_path = fast_path
        self._state = "stopped"
        self.accepting = True

    @classmethod
    def from_settings(
        cls, sink: EventSink, webhooks: WebhookSettings, **kwargs: Any
    ) -> WebhookServer:
        """Build from the ``[webhooks]`` settings section (``kwargs`` win over it)."""
        secret = webhooks.secret.get_secret_value() if webhooks.secret is not None else None
        key = webhooks.key.get_secret_value() if webhooks.key is not None else None
        options: dict[str, Any] = {
            "host": webhooks.host,
            "port": webhooks.port,
            "path": webhooks.path,
            "secret": secret,
            "body_limit": webhooks.body_limit,
            "replay_window": webhooks.replay_window,
            "unsigned": webhooks.unsigned,
            "key": key,
            "fast_path": webhooks.fast_path,
            "request_timeout": webhooks.request_timeout,
            "max_connections": webhooks.max_connections,
        }
        options.update(kwargs)
        return cls(sink, **options)

    def __repr__(self) -> str:
        return f"<WebhookServer {self.host}:{self._port}{self.path} state={self._state}>"

    @property
    def state(self) -> str:
        """``listening``, ``draining`` or ``stopped``."""
        if self._state == "listening" and not self.accepting:
            return "draining"
        return self._state

    @property
    def port(self) -> int:
        """The bound port (the real one when configured with port 0)."""
        return self._port

    @property
    def url(self) -> str:
        """The hook URL on the bound address (``0.0.0.0`` shown as ``127.0.0.1``)."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "", "::") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self._port}{self.path}"

    def make_app(self) -> web.Application:
        """The aiohttp application: the hook route and any extra routes."""
        app = web.Application(
            client_max_size=self._body_limit, middlewares=[track_requests(self.guard)]
        )
        app.router.add_post(self.path, self.handle)
        if self._extra_routes is not None:
            self._extra_routes(app)
        return app

    async def start(self) -> None:
        """Bind and start answering."""
        runner = web.AppRunner(
            self.make_app(),
            access_log=None,
            handle_signals=False,
            # aiohttp's defaults, pinned: the fast path takes only heads within them.
            max_line_size=MAX_LINE_SIZE,
            max_field_size=MAX_FIELD_SIZE,
            max_headers=MAX_HEADERS,
        )
        await runner.setup()
        server = runner.server
        assert server is not None
        request_line = f"POST {self.path} HTTP/1.1".encode("latin-1")
        reader = HeadReader(request_line, self._body_limit)
        guard, fast = self.guard, self.fast_path

        def factory() -> asyncio.Protocol:
            return HookProtocol(self, reader, server, guard, fast)

        loop = asyncio.get_running_loop()
        try:
            listener = await loop.create_server(factory, self.host, self._port, backlog=128)
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        self._listener = listener
        for sock in listener.sockets:
            address = sock.getsockname()
            if isinstance(address, tuple) and len(address) >= 2:
                self._port = int(address[1])
                break
        self.guard.start(IDLE_SWEEP)
        self.accepting = True
        self._state = "listening"
        log.info("webhooks listening", url=self.url)

    def mount(self) -> None:
        """Serve through :meth:`handle` mounted in someone else's application: no socket
        of its own, but answering (and ``listening`` for ``/healthz``) until paused."""
        self.accepting = True
        self._state = "listening"

    async def pause(self) -> None:
        """Stop taking events: from now on hooks are answered 503 (Crisp retries)."""
        if self.accepting and self._state == "listening":
            log.info("webhooks draining: new hooks get 503")
        self.accepting = False

    async def wait_failed(self) -> CrispError:
        """The hook server does not give up on its own: this waits until cancelled."""
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def stop(self) -> None:
        """Close the listening socket and open connections."""
        self.accepting = False
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        self.guard.stop()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        if listener is not None:
            await listener.wait_closed()
        if self._state != "stopped":
            self._state = "stopped"
            log.info("webhooks stopped")

    def _signature_ok(self, timestamp: str, body: bytes, signature: str) -> bool:
        """The check of :func:`crisp_plugin.signing.verify`, with the key prepared once
        (:class:`~crisp_plugin.signing.HookKey`): the HMAC of the same
        ``[timestamp;body]`` message, then a constant-time compare of the hex strings.
        """
        key = self._hook_key
        if key is None or not timestamp or not signature:
            return False
        if not signature.isascii():
            return False  # compare_digest refuses non-ASCII text: a forged header, 403
        try:
            message = b"[" + timestamp.encode("ascii") + b";" + body + b"]"
        except UnicodeEncodeError:
            return False
        expected = key.hexdigest(message)
        return hmac.compare_digest(expected, signature.strip().lower())

    def _stale(self, timestamp: str) -> str | None:
        """The reason a well-signed request may not pass (its timestamp is outside the
        replay window), or ``None``."""
        age = timestamp_age(timestamp)
        if age is None or abs(age) > self._replay_window:
            return "timestamp outside the replay window"
        return None

    def _unsigned_refusal(self, signature: str | None, key: str | None) -> str | None:
        """For a request without a valid signature: ``None`` when it may pass anyway
        (an unsigned website hook with the right ``?key=``), else the reason."""
        if signature is not None:
            return "bad signature"
        if self._unsigned and self._key:
            given = key or ""
            if hmac.compare_digest(given.encode("utf-8"), self._key.encode("utf-8")):
                return None
            return "missing signature and wrong key"
        return "missing signature"

    def _admit(
        self,
        signature: str | None,
        timestamp: str,
        key: str | None,
        body: bytes,
        peer: str | None,
    ) -> tuple[Answer | None, str, dict[str, Any]]:
        """Checks before the dispatcher: ``(refusal answer, "", {})`` or
        ``(None, event name, payload)``."""
        if signature is not None and self._signature_ok(timestamp, body, signature):
            refusal = self._stale(timestamp) if self._replay_window > 0 else None
        else:
            refusal = self._unsigned_refusal(signature, key)
        if refusal is not None:
            log.warning("hook refused", reason=refusal, peer=peer)
            return _error(403, "forbidden", refusal), "", {}
        if not self.accepting:
            return _error(503, "draining", "shutting down", _RETRY), "", {}
        try:
            doc = load_hook_json(body)
        except TooDeep as exc:
            return _error(400, "malformed", str(exc)), "", {}
        except ValueError:
            return _error(400, "malformed", "body is not JSON"), "", {}
        if not isinstance(doc, dict):
            return _error(400, "malformed", "body is not a JSON object"), "", {}
        name = doc.get("event")
        data = doc.get("data")
        if not isinstance(name, str) or not name:
            return _error(400, "malformed", "missing string field 'event'"), "", {}
        if not isinstance(data, dict):
            return _error(400, "malformed", "missing object field 'data'"), "", {}
        website_id = doc.get("website_id")
        if "website_id" not in data and isinstance(website_id, str):
            data["website_id"] = website_id
        return None, name, data

    @staticmethod
    def _fed(name: str, accepted: bool | EventError) -> Answer:
        if isinstance(accepted, EventError):
            log.warning("hook payload malformed", event_name=name, error=str(accepted))
            return _error(400, "malformed", str(accepted))
        if not accepted:
            return _error(
                503, "busy", "dispatcher full, draining, or its inbox unavailable", _RETRY
            )
        return _OK

    def _feed(
        self, name: str, data: dict[str, Any], redelivery: bool
    ) -> Answer | asyncio.Future[Answer]:
        """Hand the event to the sink: the answer now, or a future of it when the sink
        acknowledges later (a durable inbox once stored; ``ack = "handled"``)."""
        try:
            accepted = self._sink.feed(name, data, "webhook", redelivery)
        except EventError as exc:
            return self._fed(name, exc)
        if accepted is True:
            return _OK
        if isinstance(accepted, bool):
            return self._fed(name, accepted)
        loop = self._loop
        if loop is None or not loop.is_running():  # (get_running_loop: a getpid each time)
            loop = self._loop = asyncio.get_running_loop()
        answer: asyncio.Future[Answer] = loop.create_future()

        def settled(done: asyncio.Future[bool]) -> None:
            if answer.done():
                return
            ok = not done.cancelled() and done.exception() is None and done.result()
            answer.set_result(self._fed(name, bool(ok)))

        # (the dispatcher's is a future already: ensure_future only for other sinks)
        pending = (
            accepted if isinstance(accepted, asyncio.Future) else asyncio.ensure_future(accepted)
        )
        pending.add_done_callback(settled)
        return answer

    def answer_hook(
        self,
        signature: str | None,
        timestamp: str,
        body: bytes,
        peer: str | None,
        redelivery: bool = False,
    ) -> Answer | asyncio.Future[Answer]:
        """The fast path's whole job for one hook: checks, dispatch, the answer (or a
        future of it, when the event is acknowledged once stored or handled)."""
        refused, name, data = self._admit(signature, timestamp, None, body, peer)
        answer = refused if refused is not None else self._feed(name, data, redelivery)
        counted = self._on_answer
        if counted is not None:
            if answer is _OK:
                counted(200)
            elif isinstance(answer, tuple):
                counted(answer[0])
            else:
                answer.add_done_callback(lambda done: counted(done.result()[0]))
        return answer

    def _respond(self, answer: Answer) -> web.Response:
        status, body, headers = answer
        if self._on_answer is not None:
            self._on_answer(status)
        return web.Response(
            status=status, body=body, content_type=_JSON, headers=dict(headers) or None
        )

    async def handle(self, request: web.Request) -> web.Response:
        """The aiohttp handler of the hook route (mount it in an application of your
        own to serve hooks without this server's socket)."""
        length = request.content_length
        if length is not None and length > self._body_limit:
            return self._respond(_too_large(self._body_limit))
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return self._respond(_too_large(self._body_limit))
        connection = self.guard.served_by(request.protocol)
        if connection is not None:
            connection.body_read()
        answer = await self.receive(
            body, request.headers, key=request.query.get("key"), peer=request.remote
        )
        return self._respond(answer)

    async def receive(
        self,
        body: bytes,
        headers: Mapping[str, str],
        *,
        key: str | None = None,
        peer: str | None = None,
    ) -> Answer:
        """One hook from any web framework: the raw ``body`` and the request
        ``headers`` (``key``: the ``?key=`` of an unsigned website hook) checked,
        dispatched and answered as this server answers, ``(status, JSON body, extra
        headers)``. Enforcing ``body_limit`` before reading the body is the caller's."""
        if len(body) > self._body_limit:
            return _too_large(self._body_limit)
        refused, name, data = self._admit(
            headers.get("X-Crisp-Signature"),
            headers.get("X-Crisp-Request-Timestamp", ""),
            key,
            body,
            peer,
        )
        if refused is not None:
            return refused
        redelivery = is_redelivery(headers.get("X-Delivery-Attempt-Count"))
        answer = self._feed(name, data, redelivery)
        return answer if isinstance(answer, tuple) else await answer
