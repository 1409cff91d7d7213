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
- 400 when the body is not JSON of the documented shape, or the dispatcher finds the
  payload malformed for its event;
- 503 (with ``Retry-After``) when the dispatcher is full or the plugin is draining for
  shutdown, so Crisp delivers the event again later instead of it being lost;
- 200 otherwise, including events no handler wants.

The body is read once, verified (the HMAC of :func:`crisp_plugin.signing.verify`),
parsed once with ``json.loads`` and handed to the dispatcher, which returns without
waiting for handlers: the answer is quick.
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import structlog
from aiohttp import web

from crisp_plugin.config import WebhookSettings
from crisp_plugin.errors import EventError
from crisp_plugin.transports.base import EventSink

__all__ = ["WebhookServer", "timestamp_age"]

log = structlog.get_logger("crisp_plugin.webhooks")

_JSON = "application/json"
_OK = b'{"ok":true}'

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


def _error(status: int, reason: str, message: str, **headers: str) -> web.Response:
    body = json.dumps({"error": reason, "message": message}).encode()
    return web.Response(status=status, body=body, content_type=_JSON, headers=headers or None)


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
    ) -> None:
        self._sink = sink
        self.host = host
        self._port = port
        self.path = path if path.startswith("/") else "/" + path
        self._secret_bytes = (secret or "").encode("utf-8")
        self._body_limit = body_limit
        self._replay_window = replay_window
        self._unsigned = unsigned
        self._key = key or ""
        self._extra_routes = extra_routes
        self._on_answer = on_answer
        self._runner: web.AppRunner | None = None
        self._state = "stopped"
        self.accepting = True

    @classmethod
    def from_settings(
        cls, sink: EventSink, webhooks: WebhookSettings, **kwargs: Any
    ) -> WebhookServer:
        """Build from the ``[webhooks]`` settings section."""
        secret = webhooks.secret.get_secret_value() if webhooks.secret is not None else None
        key = webhooks.key.get_secret_value() if webhooks.key is not None else None
        return cls(
            sink,
            host=webhooks.host,
            port=webhooks.port,
            path=webhooks.path,
            secret=secret,
            body_limit=webhooks.body_limit,
            replay_window=webhooks.replay_window,
            unsigned=webhooks.unsigned,
            key=key,
            **kwargs,
        )

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
        app = web.Application(client_max_size=self._body_limit)
        app.router.add_post(self.path, self._handle)
        if self._extra_routes is not None:
            self._extra_routes(app)
        return app

    async def start(self) -> None:
        """Bind and start answering."""
        runner = web.AppRunner(self.make_app(), access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        for address in runner.addresses:
            if isinstance(address, tuple) and len(address) >= 2:
                self._port = int(address[1])
                break
        self.accepting = True
        self._state = "listening"
        log.info("webhooks listening", url=self.url)

    def begin_drain(self) -> None:
        """Stop taking events: from now on hooks are answered 503 (Crisp retries)."""
        self.accepting = False
        log.info("webhooks draining: new hooks get 503")

    async def stop(self) -> None:
        """Close the listening socket and open connections."""
        self.accepting = False
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        if self._state != "stopped":
            self._state = "stopped"
            log.info("webhooks stopped")

    def _answer(self, response: web.Response) -> web.Response:
        if self._on_answer is not None:
            self._on_answer(response.status)
        return response

    def _signature_ok(self, timestamp: str, body: bytes, signature: str) -> bool:
        """The check of :func:`crisp_plugin.signing.verify`, with the key bytes kept.

        One-shot ``hmac.digest`` (OpenSSL) over the same ``[timestamp;body]`` message,
        then a constant-time compare of the hex strings.
        """
        if not self._secret_bytes or not timestamp or not signature:
            return False
        try:
            message = b"[" + timestamp.encode("ascii") + b";" + body + b"]"
        except UnicodeEncodeError:
            return False
        expected = hmac.digest(self._secret_bytes, message, "sha256").hex()
        return hmac.compare_digest(expected, signature.strip().lower())

    def _authorised(self, request: web.Request, body: bytes) -> str | None:
        """``None`` when the request may pass, else the reason it may not."""
        headers = request.headers
        signature = headers.get("X-Crisp-Signature")
        if signature is not None:
            timestamp = headers.get("X-Crisp-Request-Timestamp", "")
            if not self._signature_ok(timestamp, body, signature):
                return "bad signature"
            if self._replay_window > 0:
                age = timestamp_age(timestamp)
                if age is None or abs(age) > self._replay_window:
                    return "timestamp outside the replay window"
            return None
        if self._unsigned and self._key:
            given = request.query.get("key", "")
            if hmac.compare_digest(given.encode("utf-8"), self._key.encode("utf-8")):
                return None
            return "missing signature and wrong key"
        return "missing signature"

    async def _handle(self, request: web.Request) -> web.Response:
        length = request.content_length
        if length is not None and length > self._body_limit:
            return self._answer(
                _error(413, "too_large", f"body over the {self._body_limit} byte limit")
            )
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return self._answer(
                _error(413, "too_large", f"body over the {self._body_limit} byte limit")
            )
        refusal = self._authorised(request, body)
        if refusal is not None:
            log.warning("hook refused", reason=refusal, peer=request.remote)
            return self._answer(_error(403, "forbidden", refusal))
        if not self.accepting:
            return self._answer(_error(503, "draining", "shutting down", **{"Retry-After": "5"}))
        try:
            doc = json.loads(body)
        except ValueError:
            return self._answer(_error(400, "malformed", "body is not JSON"))
        if not isinstance(doc, dict):
            return self._answer(_error(400, "malformed", "body is not a JSON object"))
        name = doc.get("event")
        data = doc.get("data")
        if not isinstance(name, str) or not name:
            return self._answer(_error(400, "malformed", "missing string field 'event'"))
        if not isinstance(data, dict):
            return self._answer(_error(400, "malformed", "missing object field 'data'"))
        website_id = doc.get("website_id")
        if "website_id" not in data and isinstance(website_id, str):
            data["website_id"] = website_id
        try:
            accepted = await self._sink.feed(name, data, "webhook")
        except EventError as exc:
            log.warning("hook payload malformed", event_name=name, error=str(exc))
            return self._answer(_error(400, "malformed", str(exc)))
        if not accepted:
            return self._answer(
                _error(503, "busy", "dispatcher full or draining", **{"Retry-After": "5"})
            )
        return self._answer(web.Response(body=_OK, content_type=_JSON))
