"""Injected faults for REST calls: latency, a rate of 500s, 429 bursts, lost answers.

The control API sets them; they apply to ``/v1/`` routes only, never to the control
API itself. ``duplicate_hooks`` (each hook delivery sent twice) is read by the hook
deliverer, and dropping relay sockets is an action, not a state (see relay.py).

Two sides of a failed send-message call:

- ``error_rate``: a 500 *before* anything happens (every ``/v1/`` route): nothing is
  stored, no event fires.
- ``error_after_store_rate`` and ``hang_after_store_rate``: the message *is* stored and
  its event fired, then the answer is lost: a 500, or no answer for ``hang_ms`` (past
  the client's timeout; the normal answer comes after that, if anyone still listens).
  These apply to the send-message route only (``sendMessageInConversation``), drawn
  in that order for each message stored. They are what a client that verifies its
  sends is tested against: after them the message must not be sent again.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from aiohttp import web

from .envelope import fail

__all__ = ["Faults"]


@dataclass
class Faults:
    """The faults in force. Times are monotonic seconds."""

    latency_ms: float = 0.0
    error_rate: float = 0.0
    rate_limit_until: float = 0.0
    rate_limit_requests: int = 0
    retry_after: int = 1
    duplicate_hooks: bool = False
    error_after_store_rate: float = 0.0
    hang_after_store_rate: float = 0.0
    hang_ms: float = 15_000.0

    @property
    def active(self) -> bool:
        return bool(
            self.latency_ms
            or self.error_rate
            or self.rate_limit_requests
            or self.rate_limit_until > time.monotonic()
        )

    def update(self, spec: dict[str, Any]) -> None:
        """Apply a control-API fault spec, all of it or none of it.

        Keys: ``latency_ms`` (0..600000), ``error_rate`` (0..1), ``rate_limit_seconds``
        (429 for that long from now, 0..86400), ``rate_limit_requests`` (429 for the
        next N requests), ``retry_after`` (seconds, the Retry-After header),
        ``duplicate_hooks`` (a JSON boolean), ``error_after_store_rate`` (0..1: a send
        is stored, its event fired, then answered 500), ``hang_after_store_rate`` (0..1:
        a send is stored, its event fired, then held ``hang_ms`` before its answer),
        ``hang_ms`` (0..600000, 15000 by default). Numbers must be JSON numbers and finite
        (no strings, no NaN); counts must be whole. The whole spec is checked first:
        a ValueError (naming every bad key) leaves the faults in force untouched.
        """
        unknown = set(spec) - set(_RULES)
        if unknown:
            raise ValueError(f"unknown fault(s): {', '.join(sorted(unknown))}")
        problems: list[str] = []
        values: dict[str, Any] = {}
        for name, value in spec.items():
            try:
                values[name] = _RULES[name](value)
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
        if problems:
            raise ValueError("; ".join(problems))
        if "latency_ms" in values:
            self.latency_ms = values["latency_ms"]
        if "error_rate" in values:
            self.error_rate = values["error_rate"]
        if "rate_limit_seconds" in values:
            self.rate_limit_until = time.monotonic() + values["rate_limit_seconds"]
        if "rate_limit_requests" in values:
            self.rate_limit_requests = values["rate_limit_requests"]
        if "retry_after" in values:
            self.retry_after = values["retry_after"]
        if "duplicate_hooks" in values:
            self.duplicate_hooks = values["duplicate_hooks"]
        if "error_after_store_rate" in values:
            self.error_after_store_rate = values["error_after_store_rate"]
        if "hang_after_store_rate" in values:
            self.hang_after_store_rate = values["hang_after_store_rate"]
        if "hang_ms" in values:
            self.hang_ms = values["hang_ms"]

    def clear(self) -> None:
        self.__init__()  # type: ignore[misc]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("rate_limit_until")
        data["rate_limit_seconds"] = max(0.0, round(self.rate_limit_until - time.monotonic(), 3))
        return data

    def refusal(self) -> web.Response | None:
        """The 429 or 500 answer a faulty Crisp gives now, or None to go on."""
        if self.rate_limit_requests > 0:
            self.rate_limit_requests -= 1
            return self._too_many()
        if self.rate_limit_until and self.rate_limit_until > time.monotonic():
            return self._too_many()
        if self.error_rate and random.random() < self.error_rate:
            return fail(500, "error", "injected fault: internal error (sandbox error_rate)")
        return None

    def after_store(self) -> Literal["error", "hang"] | None:
        """What becomes of the answer to a message just stored: lost to a 500 (``error``),
        held past the client's timeout (``hang``), or given as usual (None)."""
        if self.error_after_store_rate and random.random() < self.error_after_store_rate:
            return "error"
        if self.hang_after_store_rate and random.random() < self.hang_after_store_rate:
            return "hang"
        return None

    def _too_many(self) -> web.Response:
        return fail(
            429,
            "rate_limited",
            "injected fault: rate limit (sandbox rate_limit)",
            headers={"Retry-After": str(self.retry_after)},
        )


def _number(low: float, high: float) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"should be a number, not {value!r}")
        if not math.isfinite(value) or not low <= value <= high:
            raise ValueError(f"should be between {low:g} and {high:g}, not {value!r}")
        return float(value)

    return check


def _count(high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"should be a whole number, not {value!r}")
        if not 0 <= value <= high:
            raise ValueError(f"should be between 0 and {high}, not {value!r}")
        return value

    return check


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"should be true or false, not {value!r}")
    return value


_RULES: dict[str, Callable[[Any], Any]] = {
    "latency_ms": _number(0, 600_000),
    "error_rate": _number(0, 1),
    "rate_limit_seconds": _number(0, 86_400),
    "rate_limit_requests": _count(1_000_000),
    "retry_after": _count(86_400),
    "duplicate_hooks": _boolean,
    "error_after_store_rate": _number(0, 1),
    "hang_after_store_rate": _number(0, 1),
    "hang_ms": _number(0, 600_000),
}
