"""What a transport needs from the rest of the framework, and what it offers back.

A transport turns bytes on the wire into ``(name, payload)`` and hands them to an
:class:`EventSink` (the dispatcher). It knows nothing of handlers. Each transport
reports a short ``state`` string (shown by ``/healthz``) and is started, paused and
stopped by the runner.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Protocol

from crisp_plugin.errors import CrispError

__all__ = ["EventSink", "Transport"]


class EventSink(Protocol):
    """The dispatcher as transports see it.

    ``feed`` is synchronous and returns at once: ``True`` when the event was accepted
    (duplicates and echoes included: they are accepted, then dropped), ``False`` when
    the sink is full or draining, so the transport can push back (a web hook answers
    503); or a future of that answer when the sink acknowledges later (a durable inbox
    once the event is stored, ``webhooks.ack = "handled"`` once it is handled): a web
    hook is answered then. A payload that does not fit its typed model raises
    :class:`crisp_plugin.errors.EventError`. ``redelivery`` says the transport knows
    this delivery repeats an earlier one (a web hook's second attempt and later).
    """

    def feed(
        self, name: str, payload: dict[str, Any], source: str, redelivery: bool = False
    ) -> bool | Awaitable[bool]: ...


class Transport(Protocol):
    """A source of events the runner starts, pauses (stop taking events, before the
    drain) and stops (release its sockets, after the drain)."""

    name: str

    @property
    def state(self) -> str: ...

    async def start(self) -> None: ...

    async def pause(self) -> None: ...

    async def stop(self) -> None: ...

    async def wait_failed(self) -> CrispError:
        """Return when the transport gave up for good (never, for most)."""
        ...
