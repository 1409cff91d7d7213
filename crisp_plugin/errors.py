"""The exception tree of crisp_plugin.

    CrispError                      everything this library raises on purpose
    ├── ConfigError                 plugin.toml is invalid (carries one line per problem)
    ├── HandlerError                a handler was declared wrongly (@on misuse)
    ├── EventError                  an event payload is malformed for its typed model
    ├── SignatureError              a web hook's signature is missing or wrong
    ├── TransportError              the network failed before an answer came
    │   └── RequestTimeout           the request or handshake timed out
    ├── RtmError                    the RTM relay could not be used
    │   └── RtmUnauthorized         the relay refused the credentials
    ├── QuotaExceeded               the client-side daily quota is used up
    ├── RedisUnavailable            Redis ([redis] url) could not be reached or used
    └── APIError                    Crisp answered with an error envelope
        ├── InvalidData             400 invalid_data
        ├── NotFound                404 not_found
        ├── NotSubscribed           404 not_subscribed
        ├── Unauthorized            401 invalid_session / unauthorized
        ├── RestrictedRouteTier     restricted_route_tier
        ├── NotAllowed              403 not_allowed
        ├── RateLimited             429 / 420 (``retry_after`` in seconds, if known)
        ├── ServerError             5xx, or a body that is not Crisp JSON
        └── NotEmulated             the sandbox does not emulate this route

Messages never include secrets (token key, hook secret, Redis password): they name
keys, not values.
"""

from __future__ import annotations

__all__ = [
    "APIError",
    "ConfigError",
    "CrispError",
    "EventError",
    "HandlerError",
    "InvalidData",
    "NotAllowed",
    "NotEmulated",
    "NotFound",
    "NotSubscribed",
    "QuotaExceeded",
    "RateLimited",
    "RedisUnavailable",
    "RequestTimeout",
    "RestrictedRouteTier",
    "RtmError",
    "RtmUnauthorized",
    "ServerError",
    "SignatureError",
    "TransportError",
    "Unauthorized",
    "error_for",
]


class CrispError(Exception):
    """Base of every error crisp_plugin raises on purpose."""


class ConfigError(CrispError):
    """An invalid configuration; ``problems`` holds one human line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class HandlerError(CrispError):
    """A handler declared wrongly: not async, unknown filter, impossible filter."""


class EventError(CrispError):
    """An event payload that does not fit its typed model; names the event and field."""


class SignatureError(CrispError):
    """A web hook whose signature is missing, malformed or does not match."""


class TransportError(CrispError):
    """The network failed before Crisp answered (connection refused, reset, DNS).

    ``never_sent`` is True when the request provably never left this process (the
    connection could not be opened, or its TLS handshake failed): Crisp cannot have
    acted on it. False means it may have arrived (a timeout or a reset after sending).
    """

    def __init__(
        self, message: str, *, method: str = "", path: str = "", never_sent: bool = False
    ) -> None:
        self.method = method
        self.path = path
        self.never_sent = never_sent
        super().__init__(message)


class RequestTimeout(TransportError):
    """The request did not complete within its timeout."""


class RtmError(CrispError):
    """The RTM relay could not be reached or used."""


class RtmUnauthorized(RtmError):
    """The relay refused the token: a wrong identifier, key or tier."""


class QuotaExceeded(CrispError):
    """The client-side daily request quota is used up; no request was sent."""


class RedisUnavailable(CrispError):
    """Redis (``[redis] url``) could not be reached, timed out or refused a command.

    The message names ``redis.url`` with its password masked and what was being done
    (``state get``, ``rest quota``...); nothing was stored or counted by that call.
    """


class APIError(CrispError):
    """Crisp answered with ``{"error": true, "reason": ...}``."""

    status: int
    reason: str

    def __init__(
        self,
        status: int,
        reason: str,
        message: str = "",
        *,
        method: str = "",
        path: str = "",
        data: object = None,
    ) -> None:
        self.status = status
        self.reason = reason
        self.message = message
        self.method = method
        self.path = path
        self.data = data
        text = f"{status} {reason}"
        if method or path:
            text += f" on {method} {path}".rstrip()
        if message:
            text += f": {message}"
        super().__init__(text)


class InvalidData(APIError):
    """400 ``invalid_data``: the body failed Crisp's schema validation."""


class NotFound(APIError):
    """404 ``not_found``: the resource (or the route) does not exist."""


class NotSubscribed(APIError):
    """404 ``not_subscribed``: the website has not installed the plugin."""


class Unauthorized(APIError):
    """401 ``invalid_session`` or ``unauthorized``: a bad or revoked token."""


class RestrictedRouteTier(APIError):
    """``restricted_route_tier``: the route is closed to this token's tier."""


class NotAllowed(APIError):
    """403 ``not_allowed``."""


class RateLimited(APIError):
    """429 or 420: slow down. ``retry_after`` is in seconds when the server said."""

    def __init__(self, *args: object, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class ServerError(APIError):
    """5xx, or an answer that is not Crisp's JSON envelope (an HTML 502, say)."""


class NotEmulated(APIError):
    """The sandbox knows this route but does not emulate it."""


_BY_REASON: dict[str, type[APIError]] = {
    "invalid_data": InvalidData,
    "not_found": NotFound,
    "not_subscribed": NotSubscribed,
    "invalid_session": Unauthorized,
    "unauthorized": Unauthorized,
    "restricted_route_tier": RestrictedRouteTier,
    "not_allowed": NotAllowed,
    "rate_limited": RateLimited,
    "not_emulated": NotEmulated,
}


def error_for(status: int, reason: str) -> type[APIError]:
    """The exception class for an error answer, by reason first, then by status."""
    if status in (420, 429):
        return RateLimited
    cls = _BY_REASON.get(reason)
    if cls is not None:
        return cls
    if status >= 500:
        return ServerError
    if status == 401:
        return Unauthorized
    if status == 404:
        return NotFound
    if status == 400:
        return InvalidData
    return APIError
