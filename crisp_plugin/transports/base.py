"""What a transport needs from the rest of the framework, and what it offers back.

A transport turns bytes on the wire into ``(name, payload)`` and hands them to an
:class:`EventSink` (the dispatcher). It knows nothing of handlers. Each transport
reports a short ``state`` string (shown by ``/healthz``) and can be started and
stopped by the runner.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

__all__ = ["EventSink", "Transport"]


@runtime_checkable
class EventSink(Protocol):
    """The dispatcher as transports see it.

    ``feed`` returns quickly: ``True`` when the event was accepted (or was a known
    duplicate), ``False`` when the dispatcher is full or draining. A payload that does
    not fit its typed model raises :class:`crisp_plugin.errors.EventError`.
    ``redelivery`` says the transport knows this delivery repeats an earlier one (a web
    hook's second attempt and later).
    """

    async def feed(
        self, name: str, payload: dict[str, Any], source: str, redelivery: bool = False
    ) -> bool: ...


class Transport(Protocol):
    """A source of events the runner starts and stops."""

    name: str

    @property
    def state(self) -> str: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
