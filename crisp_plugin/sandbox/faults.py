"""Injected faults for REST calls: latency, a rate of 500s, 429 bursts.

The control API sets them; they apply to ``/v1/`` routes only, never to the control
API itself. ``duplicate_hooks`` (each hook delivery sent twice) is read by the hook
deliverer, and dropping relay sockets is an action, not a state (see relay.py).
"""

from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass
from typing import Any

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

    @property
    def active(self) -> bool:
        return bool(
            self.latency_ms
            or self.error_rate
            or self.rate_limit_requests
            or self.rate_limit_until > time.monotonic()
        )

    def update(self, spec: dict[str, Any]) -> None:
        """Apply a control-API fault spec; unknown keys raise ValueError naming them.

        Keys: ``latency_ms``, ``error_rate`` (0..1), ``rate_limit_seconds`` (429 for
        that long from now), ``rate_limit_requests`` (429 for the next N requests),
        ``retry_after`` (seconds, the Retry-After header), ``duplicate_hooks`` (bool).
        """
        known = {
            "latency_ms",
            "error_rate",
            "rate_limit_seconds",
            "rate_limit_requests",
            "retry_after",
            "duplicate_hooks",
        }
        unknown = set(spec) - known
        if unknown:
            raise ValueError(f"unknown fault(s): {', '.join(sorted(unknown))}")
        if "latency_ms" in spec:
            self.latency_ms = max(0.0, float(spec["latency_ms"]))
        if "error_rate" in spec:
            rate = float(spec["error_rate"])
            if not 0.0 <= rate <= 1.0:
                raise ValueError("error_rate should be between 0 and 1")
            self.error_rate = rate
        if "rate_limit_seconds" in spec:
            self.rate_limit_until = time.monotonic() + max(0.0, float(spec["rate_limit_seconds"]))
        if "rate_limit_requests" in spec:
            self.rate_limit_requests = max(0, int(spec["rate_limit_requests"]))
        if "retry_after" in spec:
            self.retry_after = max(0, int(spec["retry_after"]))
        if "duplicate_hooks" in spec:
            self.duplicate_hooks = bool(spec["duplicate_hooks"])

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

    def _too_many(self) -> web.Response:
        return fail(
            429,
            "rate_limited",
            "injected fault: rate limit (sandbox rate_limit)",
            headers={"Retry-After": str(self.retry_after)},
        )
