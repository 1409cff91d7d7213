"""``[redis]``: one Redis connection pool for what N instances of a plugin share.

    link = await open_redis(config)   # RedisUnavailable (a CrispError) when unreachable
    link.key("state", scope)          # "<prefix>:state:<scope>"
    ...
    await link.close()

A ``RedisLink`` is the pool (redis-py's asyncio client), the key prefix and the URL as
it may be shown (password masked). The state store (``state.backend = "redis"``) and
the REST limits (``crisp.limits_backend = "redis"``) take one and share it.

The prefix defaults to ``crisp:{<plugin.urn>}``, so two plugins on one Redis never share
a key, and every key of one plugin falls in one Redis Cluster hash slot (the braces).
Each part given to ``key`` has ``%`` and ``:`` percent-escaped, so a part containing a
colon can never make two different key paths equal.

redis-py is an optional dependency (``pip install 'crisp-plugin[redis]'``): this module
imports it on first use only, and says how to install it when it is missing.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit

from crisp_plugin.errors import ConfigError, RedisUnavailable

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from crisp_plugin.config import Config

__all__ = [
    "REDIS_SCHEMES",
    "RedisLink",
    "default_prefix",
    "open_redis",
    "redis_available",
    "redis_link",
    "redis_password",
    "shown_url",
    "wants_redis",
]

REDIS_SCHEMES = ("redis", "rediss")
_INSTALL = "pip install 'crisp-plugin[redis]'"


def default_prefix(urn: str) -> str:
    """The key prefix of a plugin that names none: ``crisp:{<urn>}``."""
    return "crisp:{" + urn.replace("%", "%25").replace("}", "%7D") + "}"


def _escape(part: str) -> str:
    if "%" in part:
        part = part.replace("%", "%25")
    if ":" in part:
        part = part.replace(":", "%3A")
    return part


def shown_url(url: str) -> str:
    """``url`` as messages and logs may show it: scheme, host, port and database, with
    the user information masked (``redis://***@host:6379/0``) and the query left out.

    A lone user name (``redis://word@host``) is masked too: it is often a password
    written without its leading colon."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<not a URL>"
    _, at, where = parts.netloc.rpartition("@")
    masked = "***@" if at else ""
    return f"{parts.scheme}://{masked}{where}{parts.path}"


def redis_password(url: str) -> str | None:
    """The secret part of a Redis URL (the password, or a lone user name), for log
    redaction; ``None`` when the URL carries none."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if "@" not in parts.netloc:
        return None
    userinfo = parts.netloc.rpartition("@")[0]
    user, sep, password = userinfo.partition(":")
    return (password if sep else user) or None


def wants_redis(config: Config) -> list[str]:
    """The settings that ask for Redis (``state.backend``, ``crisp.limits_backend``,
    ``inbox.backend``),
    as ``key = "redis"`` texts; empty when nothing does."""
    asked = []
    if config.state.backend == "redis":
        asked.append('state.backend = "redis"')
    if config.crisp.limits_backend == "redis":
        asked.append('crisp.limits_backend = "redis"')
    if config.inbox.backend == "redis":
        asked.append('inbox.backend = "redis"')
    return asked


def redis_available() -> bool:
    """True when redis-py (with its asyncio client) can be imported."""
    try:
        importlib.import_module("redis.asyncio")
    except ImportError:
        return False
    return True


def _import_redis(why: str) -> Any:
    try:
        return importlib.import_module("redis.asyncio")
    except ImportError:
        raise ConfigError(
            [f"{why} needs the redis library, which is not installed: {_INSTALL}"]
        ) from None


class RedisLink:
    """One Redis connection pool, the key prefix, and the errors it turns into
    :class:`~crisp_plugin.errors.RedisUnavailable`.

    ``client`` is a ``redis.asyncio.Redis`` answering ``str`` (``decode_responses``),
    speaking RESP2 whatever redis-py's default, retrying a command once on a broken
    connection (a pooled connection dropped by a Redis restart) and never on a
    timeout.
    """

    def __init__(
        self,
        client: Redis,
        prefix: str,
        url: str,
        *,
        connect_timeout: float = 5.0,
        socket_timeout: float = 5.0,
    ) -> None:
        from redis import exceptions

        self.client = client
        self.prefix = prefix
        self.url = shown_url(url)
        self.connect_timeout = connect_timeout
        self.socket_timeout = socket_timeout
        self._errors: tuple[type[BaseException], ...] = (exceptions.RedisError, OSError)
        self._exceptions = exceptions
        self._closed = False

    def __repr__(self) -> str:
        return f"RedisLink(url={self.url!r}, prefix={self.prefix!r})"

    @property
    def closed(self) -> bool:
        return self._closed

    def key(self, *parts: str) -> str:
        """``<prefix>:<part>:<part>...``, each part with ``%`` and ``:`` escaped."""
        return ":".join([self.prefix, *map(_escape, parts)])

    def failures(self, doing: str) -> _Failures:
        """A context manager turning redis-py's errors into ``RedisUnavailable``:
        ``with link.failures("state get"): await link.client.get(k)``."""
        return _Failures(self, doing)

    def fail(self, doing: str, exc: BaseException) -> NoReturn:
        """Raise the ``RedisUnavailable`` that ``exc`` means, while ``doing``."""
        raise self.unavailable(doing, exc) from exc

    def unavailable(self, doing: str, exc: BaseException) -> RedisUnavailable:
        """The one-line error for ``exc``: what was done, the URL (masked), the reason."""
        from crisp_plugin.log import redact

        where = f'redis.url = "{self.url}"'
        reason = redact(_reason(exc))
        found = self._exceptions
        text = reason.upper()
        if isinstance(exc, found.AuthenticationError) or text.startswith(
            ("NOAUTH", "WRONGPASS", "INVALID PASSWORD", "INVALID USERNAME")
        ):
            line = (
                f"Redis refused the credentials of {where} ({reason}): check the "
                "password the URL takes from the environment"
            )
        elif isinstance(exc, found.TimeoutError | TimeoutError):
            line = (
                f"Redis did not answer in time at {where} (redis.connect_timeout = "
                f"{self.connect_timeout:g}, redis.socket_timeout = {self.socket_timeout:g}): "
                "is it overloaded or out of reach?"
            )
        elif isinstance(exc, found.ConnectionError | OSError):
            line = f"Redis cannot be reached at {where} ({reason}): start it or fix redis.url"
        else:
            line = f"Redis refused a command at {where} ({reason})"
        return RedisUnavailable(f"{doing}: {line}" if doing else line)

    async def check(self) -> None:
        """PING the server; ``RedisUnavailable`` (one line) when it does not answer."""
        with self.failures(""):
            await self.client.ping()

    async def close(self) -> None:
        """Close the pool (idempotent). Never raises: a dead server is no reason to
        fail a shutdown."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):  # a dead server, a loop already closed
            await self.client.aclose()


def _reason(exc: BaseException) -> str:
    """The operating system's word for a socket failure (``Connection refused``) when
    one lies under ``exc``, else redis-py's message."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            break
        if isinstance(seen, OSError) and (seen.errno or seen.strerror):
            # asyncio words it "Connect call failed (addr)": the errno's own text is plainer
            return os.strerror(seen.errno) if seen.errno else str(seen.strerror)
        seen = seen.__cause__ or seen.__context__
    return str(exc).strip() or type(exc).__name__


class _Failures:
    """See ``RedisLink.failures``."""

    __slots__ = ("doing", "link")

    def __init__(self, link: RedisLink, doing: str) -> None:
        self.link = link
        self.doing = doing

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None and isinstance(exc, self.link._errors):
            self.link.fail(self.doing, exc)


def redis_link(config: Config) -> RedisLink:
    """A ``RedisLink`` for ``[redis]``, without touching the network (redis-py connects
    on the first command). ``ConfigError`` when ``redis.url`` is not set or redis-py is
    not installed."""
    settings = config.redis
    asked = wants_redis(config)
    why = " and ".join(asked) if asked else "[redis]"
    if settings.url is None or not settings.url.get_secret_value():
        raise ConfigError([f"redis.url is missing: {why} needs it (write it in [redis])"])
    url = settings.url.get_secret_value()
    aio = _import_redis(why)
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError

    from crisp_plugin.log import register_secret

    register_secret(redis_password(url))
    # redis-py 5 does not type NoBackoff
    no_backoff = NoBackoff()  # type: ignore[no-untyped-call,unused-ignore]
    client = aio.Redis.from_url(
        url,
        decode_responses=True,
        protocol=2,
        socket_connect_timeout=settings.connect_timeout,
        socket_timeout=settings.socket_timeout,
        retry=Retry(no_backoff, 1, supported_errors=(RedisConnectionError,)),
        retry_on_error=[RedisConnectionError],  # redis-py 5 retries only what this lists
    )
    prefix = settings.prefix or default_prefix(config.plugin.urn)
    return RedisLink(
        client,
        prefix,
        url,
        connect_timeout=settings.connect_timeout,
        socket_timeout=settings.socket_timeout,
    )


async def open_redis(config: Config) -> RedisLink:
    """``redis_link(config)``, then a PING: the link when Redis answers, else the pool
    closed and ``RedisUnavailable`` (one line naming redis.url, password masked)."""
    link = redis_link(config)
    try:
        await link.check()
    except BaseException:
        await link.close()
        raise
    return link
