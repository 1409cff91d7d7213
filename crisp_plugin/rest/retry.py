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
"""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass

__all__ = ["IDEMPOTENT_METHODS", "RetryPolicy", "parse_retry_after"]

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
