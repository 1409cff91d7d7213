"""The HTTP core of the REST client: one pool, the envelope, errors, retries, limits.

``RestCore.request(method, path, body=..., query=...)`` sends one Crisp REST v1 call
and returns the envelope's ``data``. It is the hot path: headers are rendered once,
the connections are kept alive (:mod:`crisp_plugin.rest.http11`, a lean HTTP/1.1
client), JSON goes through the stdlib, and no pydantic model is built here (the typed
short forms do that on top).

Wire rules (PROTOCOL.md): Basic auth, ``X-Crisp-Tier``, a User-Agent naming this library,
path segments URL-encoded (``call`` quotes each one with ``safe=""``), query values
that are objects or lists sent as JSON text, booleans as ``1`` / ``0``.

Errors become typed exceptions from :mod:`crisp_plugin.errors` carrying status, reason,
message, method and path; the token key never appears in reprs, logs or messages.

Before each attempt the quota counts it (``await quota.take()``, which may refuse
with ``QuotaExceeded``: nothing is sent) and the limiter paces it (``await
limiter.acquire()``): in-process by default (``daily_quota=``, ``rate_limit=``), or any
``RequestQuota`` / ``RequestLimiter`` given as ``quota=`` / ``limiter=`` (the Redis
ones of :mod:`crisp_plugin.rest.redis_limits` count for every instance together).

Observers (:class:`crisp_plugin.observer.Observer`, given as ``observers=`` or with
``add_observer``) hear of every HTTP attempt, retries included (``rest_answered(method,
status, seconds)``, ``status`` ``None`` when no answer came), and of every message sent
(``message_sent``: the dispatcher drops its echo).
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import quote

import structlog

from crisp_plugin.api_url import normalize_api_url
from crisp_plugin.errors import (
    APIError,
    ConfigError,
    RateLimited,
    RequestTimeout,
    ServerError,
    TransportError,
    error_for,
)
from crisp_plugin.log import register_credentials
from crisp_plugin.observer import Observer
from crisp_plugin.rest.http11 import (
    Answer,
    ConnectFailed,
    ConnectTimeout,
    Http11Pool,
    HttpError,
    PoolClosed,
    TlsFailed,
)
from crisp_plugin.rest.limits import DailyQuota, RequestLimiter, RequestQuota, TokenBucket
from crisp_plugin.rest.retry import IDEMPOTENT_METHODS, RetryPolicy, parse_retry_after
from crisp_plugin.version import __version__

__all__ = ["Body", "Query", "RestCore", "Tier"]

Tier = Literal["plugin", "website", "user"]
Body = Mapping[str, Any] | list[Any] | None
Query = Mapping[str, Any]

_log = structlog.get_logger("crisp_plugin.rest")
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_loads = json.loads
_HEAD_REASONS = {401: "unauthorized", 403: "not_allowed", 404: "not_found", 429: "rate_limited"}
_SAFE_SEGMENT = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~")


def quote_segment(value: object) -> str:
    """One path segment, percent-encoded (slashes included: people ids can be e-mails)."""
    text = value if isinstance(value, str) else str(value)
    if text and _SAFE_SEGMENT.issuperset(text):
        return text
    if not text:
        raise ValueError("a path segment cannot be empty")
    return quote(text, safe="")


def encode_query(query: Query) -> str:
    """Query string: objects/lists as JSON, booleans as 1/0, None values left out."""
    parts: list[str] = []
    for key, value in query.items():
        if value is None:
            continue
        if isinstance(value, bool):
            text = "1" if value else "0"
        elif isinstance(value, Mapping | list | tuple):
            text = _dumps(value)
        else:
            text = str(value)
        parts.append(f"{quote(str(key), safe='')}={quote(text, safe='')}")
    return "&".join(parts)


def _user_agent() -> str:
    return f"crisp-plugin/{__version__} (python)"


class RestCore:
    """Session, headers, envelope, retries and limits shared by every route method."""

    def __init__(
        self,
        identifier: str,
        key: str,
        *,
        tier: Tier = "plugin",
        api_url: str = "https://api.crisp.chat",
        timeout: float = 10.0,
        max_retries: int = 3,
        retry: RetryPolicy | None = None,
        rate_limit: float | None = None,
        burst: int | None = None,
        daily_quota: int | None = None,
        quota_warn_ratio: float = 0.8,
        allow_insecure_http: bool = False,
        pool_size: int = 100,
        observers: Sequence[Observer] = (),
        quota: RequestQuota | None = None,
        limiter: RequestLimiter | None = None,
    ) -> None:
        if not identifier or not key:
            raise ConfigError(["crisp.identifier and crisp.key are both required"])
        if tier not in ("plugin", "website", "user"):
            raise ConfigError([f"crisp.tier must be plugin, website or user, not {tier!r}"])
        try:
            api_url = normalize_api_url(api_url, allow_insecure_http=allow_insecure_http)
        except ValueError as exc:
            raise ConfigError([str(exc)]) from None
        self.identifier = identifier
        self.tier: Tier = tier
        self.api_url = api_url
        self.timeout = timeout
        self.retry = retry if retry is not None else RetryPolicy(max_retries=max_retries)
        # quota= / limiter= (shared ones, on Redis) take the place of the in-process
        # DailyQuota and TokenBucket that daily_quota= and rate_limit= build
        self.limiter: RequestLimiter | None = (
            limiter
            if limiter is not None
            else (TokenBucket(rate_limit, burst) if rate_limit else None)
        )
        self.quota: RequestQuota | None = (
            quota
            if quota is not None
            else (DailyQuota(daily_quota, warn_ratio=quota_warn_ratio) if daily_quota else None)
        )
        self._pool_size = pool_size
        register_credentials(identifier, key)  # logs never show the key or Basic token
        token = base64.b64encode(f"{identifier}:{key}".encode()).decode("ascii")
        self._headers: dict[str, str] = {
            "Authorization": f"Basic {token}",
            "X-Crisp-Tier": tier,
            "User-Agent": _user_agent(),
            "Accept": "application/json",
        }
        self._pool: Http11Pool | None = None
        self._observers: tuple[Observer, ...] = tuple(observers)

    # -- lifecycle -------------------------------------------------------------

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(identifier={self.identifier!r}, tier={self.tier!r}, "
            f"api_url={self.api_url!r})"
        )

    async def __aenter__(self) -> Self:
        self._ensure_pool()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _ensure_pool(self) -> Http11Pool:
        pool = self._pool
        if pool is None or pool.closed:
            pool = Http11Pool(self.api_url, self._headers, limit=self._pool_size, keepalive=30.0)
            self._pool = pool
        return pool

    async def close(self) -> None:
        """Close the connections (idempotent). The client can be reopened by using it."""
        pool, self._pool = self._pool, None
        if pool is not None and not pool.closed:
            await pool.close()

    @property
    def closed(self) -> bool:
        return self._pool is None or self._pool.closed

    # -- observers -------------------------------------------------------------------

    def add_observer(self, observer: Observer) -> None:
        """Report every HTTP attempt and every message sent to ``observer``."""
        if observer not in self._observers:
            self._observers = (*self._observers, observer)

    def remove_observer(self, observer: Observer) -> None:
        """Stop reporting to ``observer``."""
        self._observers = tuple(o for o in self._observers if o is not observer)

    def _notify_sent(self, website_id: str, session_id: str, data: Any) -> None:
        if not self._observers or not isinstance(data, dict):
            return
        fingerprint = data.get("fingerprint")
        if not isinstance(fingerprint, int):
            return
        for observer in self._observers:
            try:
                observer.message_sent(website_id, session_id, fingerprint)
            except Exception:
                _log.exception("rest.observer_failed", website_id=website_id)

    def _notify_response(self, method: str, status: int | None, started: float) -> None:
        seconds = time.perf_counter() - started
        for observer in self._observers:
            try:
                observer.rest_answered(method, status, seconds)
            except Exception:
                _log.exception("rest.observer_failed", method=method, status=status)

    # -- requests ------------------------------------------------------------------

    async def call(
        self,
        method: str,
        template: str,
        args: Iterable[object],
        body: Body = None,
        query: Query | None = None,
    ) -> Any:
        """Fill ``template``'s ``{}`` with the quoted ``args`` and send the request."""
        path = template.format(*[quote_segment(a) for a in args])
        return await self.request(method, path, body=body, query=query)

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Body = None,
        query: Query | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (a per-request override)
        retry: RetryPolicy | None = None,
    ) -> Any:
        """Send one call (``path`` starts with ``/v1/``, already encoded); return ``data``.

        Raises an :class:`~crisp_plugin.errors.APIError` subclass for an error answer,
        :class:`~crisp_plugin.errors.TransportError` / ``RequestTimeout`` when no answer
        came (``never_sent`` says whether it provably never left), ``QuotaExceeded``
        (nothing sent) when the daily quota is used up. ``retry`` replaces the client's
        policy for this call: ``RetryPolicy(max_retries=0)`` makes one attempt.
        """
        method = method.upper()
        if not path.startswith("/"):
            path = "/" + path
        target = path
        if query:
            encoded = encode_query(query)
            if encoded:
                target = f"{path}?{encoded}"
        data = _dumps(body).encode() if body is not None else None
        content_type = "application/json" if data is not None else None
        limit = self.timeout if timeout is None else timeout
        idempotent = method in IDEMPOTENT_METHODS
        policy = self.retry if retry is None else retry
        retries = 0
        while True:
            if self.quota is not None:
                await self.quota.take()
            if self.limiter is not None:
                await self.limiter.acquire()
            pool = self._pool
            if pool is None or pool.closed:
                pool = self._ensure_pool()
            retryable: bool
            retry_after: float | None = None
            retry_header: str | None = None
            limited = False
            error: Exception
            listening = bool(self._observers)
            started = time.perf_counter() if listening else 0.0
            try:
                try:
                    answer = await pool.request(
                        method, target, data, limit, content_type=content_type
                    )
                except (HttpError, TimeoutError):
                    if listening:
                        self._notify_response(method, None, started)
                    raise
                status = answer.status
                if listening:
                    self._notify_response(method, status, started)
                if status < 300:
                    if method == "HEAD":
                        return None
                    return self._data(status, answer.body, method, path)
                error = self._error(answer, method, path)
                retry_header = answer.headers.get("retry-after")
            except ConnectTimeout:
                error = RequestTimeout(
                    f"could not connect within {limit}s",
                    method=method,
                    path=path,
                    never_sent=True,
                )
                retryable = True
            except TimeoutError:
                error = RequestTimeout(f"no answer within {limit}s", method=method, path=path)
                retryable = idempotent
            except PoolClosed as exc:
                raise TransportError(
                    "the REST client was closed", method=method, path=path, never_sent=True
                ) from exc
            except TlsFailed as exc:
                raise TransportError(
                    f"TLS failure with {self.api_url}: {exc}",
                    method=method,
                    path=path,
                    never_sent=True,
                ) from exc
            except ConnectFailed as exc:
                error = TransportError(
                    f"cannot connect to {self.api_url}: {exc.os_error.strerror or exc.os_error}",
                    method=method,
                    path=path,
                    never_sent=True,
                )
                error.__cause__ = exc
                retryable = True  # the request never left: safe for any verb
            except HttpError as exc:
                error = TransportError(
                    f"connection to {self.api_url} failed: {type(exc).__name__}",
                    method=method,
                    path=path,
                )
                error.__cause__ = exc
                retryable = idempotent
            else:
                if isinstance(error, RateLimited):
                    limited = True
                    retry_after = error.retry_after
                    retryable = True
                else:
                    retryable = idempotent and isinstance(error, ServerError)
                    # a 503 "come back in N s" is honoured like a rate limit's
                    retry_after = parse_retry_after(retry_header) if retryable else None
            if not retryable or retries >= policy.max_retries:
                raise error
            if retry_after is not None and retry_after > policy.max_retry_after:
                raise error
            delay = policy.backoff(retries, retry_after, limited=limited)
            retries += 1
            _log.warning(
                "rest.retry",
                method=method,
                path=path,
                error=type(error).__name__,
                status=getattr(error, "status", None),
                retry=retries,
                of=policy.max_retries,
                delay=round(delay, 3),
            )
            await asyncio.sleep(delay)

    @staticmethod
    def _data(status: int, raw: bytes, method: str, path: str) -> Any:
        if not raw:
            return None
        try:
            envelope = _loads(raw)
        except ValueError:
            raise ServerError(
                status, "invalid_response", "answer is not JSON", method=method, path=path
            ) from None
        if isinstance(envelope, dict):
            if envelope.get("error") is True:
                reason = str(envelope.get("reason") or "error")
                raise error_for(status, reason)(status, reason, method=method, path=path)
            return envelope.get("data")
        return envelope

    @staticmethod
    def _error(answer: Answer, method: str, path: str) -> APIError:
        status, raw = answer.status, answer.body
        reason = ""
        message = ""
        data: Any = None
        if raw:
            try:
                envelope = _loads(raw)
            except ValueError:
                envelope = None
            if isinstance(envelope, dict) and "reason" in envelope:
                reason = str(envelope.get("reason") or "")
                data = envelope.get("data")
                if isinstance(data, dict) and isinstance(data.get("message"), str):
                    message = data["message"]
            elif status >= 400:
                kind = answer.content_type or "unknown type"
                message = f"answer is not Crisp JSON ({kind}, {len(raw)} bytes)"
                reason = "invalid_response" if status >= 500 else ""
        if not reason:
            reason = _HEAD_REASONS.get(status, "http_error")
        cls = error_for(status, reason)
        if not raw and status >= 500:
            cls = ServerError
        if cls is RateLimited:
            retry_after = parse_retry_after(answer.headers.get("retry-after"))
            return RateLimited(
                status,
                reason,
                message,
                method=method,
                path=path,
                data=data,
                retry_after=retry_after,
            )
        return cls(status, reason, message, method=method, path=path, data=data)
