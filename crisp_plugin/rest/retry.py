"""When and how long the REST client waits before trying a request again.

What is retried (DESIGN.md, "retries what is safe"):

- 429 / 420 (rate limited): every verb, POST included: Crisp refused the request, so
  nothing happened on its side.
- 5xx, timeouts, connections dropped mid-request: only idempotent verbs (GET, HEAD,
  PUT, DELETE). Sending them twice leaves Crisp in the same state.
- A connection that could not be opened (``aiohttp.ClientConnectorError``): every verb,
  POST included, because the request provably never left this process.

PATCH is treated as **not idempotent**: Crisp's PATCH routes are mostly merges, but some
(``compose``, batch operations, ``read``) trigger side effects such as events sent to
operators, so a PATCH is retried only on 429/420 or a connection never opened.

Delays are exponential with full jitter, ``uniform(0, min(max_delay, base * 2**n))``. A
rate-limited answer waits at least ``rate_limited_delay`` (Crisp sends no documented
``Retry-After``), and a ``Retry-After`` header (seconds or an HTTP date) on any
retried answer (429/420, a 503 or another 5xx) is honoured when present, up to
``max_retry_after``; beyond that the error is raised at once.

A message sent by a client with ``verify_sends`` (sends.py) goes further, because it
carries a fingerprint of its own: a send whose answer was lost (``unknown`` below) is
not resent blindly but *checked* first, and resent only when the check shows it is not
in the conversation. ``send_failure`` and ``check_failure`` name what went wrong;
``next_send_step`` decides what comes next, under the same policy: every wait (before a
resend, a check or another check) spends one of ``max_retries``; a resend after a check
found nothing spends none, so a send makes at most ``1 + max_retries`` POSTs.
"""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass
from typing import Literal

import aiohttp

from crisp_plugin.errors import APIError, RateLimited, ServerError, TransportError

__all__ = [
    "IDEMPOTENT_METHODS",
    "CheckFailure",
    "Inconclusive",
    "RetryPolicy",
    "SendFailure",
    "SendStep",
    "check_failure",
    "next_send_step",
    "parse_retry_after",
    "send_failure",
]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retry settings of a :class:`~crisp_plugin.rest.RestClient`.

    ``max_retries`` counts retries, not attempts: 3 means up to 4 requests on the wire.
    """

    max_retries: int = 3
    base_delay: float = 0.25
    max_delay: float = 8.0
    rate_limited_delay: float = 1.0
    max_retry_after: float = 60.0

    def backoff(
        self, retry: int, retry_after: float | None = None, *, limited: bool = False
    ) -> float:
        """Seconds to wait before retry number ``retry`` (0-based)."""
        cap = min(self.max_delay, self.base_delay * (2**retry))
        delay = random.uniform(0.0, cap)
        if limited:
            delay = max(delay, self.rate_limited_delay)
        if retry_after is not None:
            delay = max(delay, retry_after)
        return delay

    @staticmethod
    def idempotent(method: str) -> bool:
        """True for verbs that are safe to send twice."""
        return method in IDEMPOTENT_METHODS


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP date; None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


# -- verified sends ------------------------------------------------------------------

SendFailure = Literal["refused", "unsent", "unknown", "copy_refused", "final"]
"""Why a POST of a verified send failed:

- ``refused``: 429 / 420, Crisp did nothing;
- ``unsent``: the request never left (connection refused, connect timeout);
- ``unknown``: it reached Crisp but the answer was lost (5xx, an answer that is not
  Crisp JSON, a timeout or a reset after sending): the message may be stored;
- ``copy_refused``: a resend, after an earlier attempt's answer was lost, refused with
  another 4xx: Crisp may be refusing a copy of a message that landed after all;
- ``final``: anything else (invalid data, auth, a TLS failure, the quota): raise.
"""

CheckFailure = Literal["check_refused", "check_failed", "check_final"]
"""Why a check (reading the conversation for the fingerprint) could not tell:
``check_refused`` (429 / 420), ``check_failed`` (5xx, timeout, network, a listing that
does not settle it): try again; ``check_final``: anything else, give up."""


def _tls(error: BaseException) -> bool:
    return isinstance(error.__cause__, aiohttp.ClientSSLError)


def send_failure(error: BaseException, *, resent: bool = False) -> SendFailure:
    """Classify the error of one POST attempt; ``resent``: an earlier attempt of the
    same message had its answer lost."""
    if isinstance(error, RateLimited):
        return "refused"
    if isinstance(error, TransportError):
        if _tls(error):
            return "final"  # as for every other call: a TLS failure is not retried
        return "unsent" if error.never_sent else "unknown"
    if isinstance(error, ServerError):
        return "unknown"
    if resent and isinstance(error, APIError) and 400 <= error.status < 500:
        return "copy_refused"
    return "final"


def check_failure(error: BaseException) -> CheckFailure:
    """Classify the error of one check attempt."""
    if isinstance(error, RateLimited):
        return "check_refused"
    if isinstance(error, TransportError):
        return "check_final" if _tls(error) else "check_failed"
    if isinstance(error, ServerError | Inconclusive):
        return "check_failed"
    return "check_final"


class Inconclusive(Exception):
    """The conversation's messages did not settle whether the fingerprint is there."""


@dataclass(frozen=True, slots=True)
class SendStep:
    """What a verified send does next, after ``delay`` seconds: ``send`` (again, the same
    fingerprint), ``check`` (read the conversation for it) or ``raise``. ``spends``: the
    step uses one retry of the budget."""

    action: Literal["send", "check", "raise"]
    delay: float = 0.0
    spends: bool = False


RAISE = SendStep("raise")


def next_send_step(
    outcome: SendFailure | CheckFailure | Literal["absent"],
    retries: int,
    policy: RetryPolicy,
    retry_after: float | None = None,
) -> SendStep:
    """The step after ``outcome``, ``retries`` retries already spent.

    A check that found nothing (``absent``) is followed by a resend at once; a refused
    copy by one last check at once (neither spends a retry). Everything else waits
    first, like any retry: that wait spends a retry, and without one left, or when
    ``Retry-After`` asks for more than ``max_retry_after``, the send raises.
    """
    if outcome == "absent":
        return SendStep("send")
    if outcome == "copy_refused":
        return SendStep("check")
    if outcome in ("final", "check_final"):
        return RAISE
    if retries >= policy.max_retries:
        return RAISE
    if retry_after is not None and retry_after > policy.max_retry_after:
        return RAISE
    limited = outcome in ("refused", "check_refused")
    delay = policy.backoff(retries, retry_after, limited=limited)
    action: Literal["send", "check"] = "send" if outcome in ("refused", "unsent") else "check"
    return SendStep(action, delay, spends=True)
