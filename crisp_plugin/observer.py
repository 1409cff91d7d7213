"""``Observer``: the one interface through which the parts report what happened.

The REST client reports each HTTP attempt and each message it sent, the dispatcher each
handler run, the hook server each answer, the RTM transport each gap in the relay and
the recovery what it brought back. Whoever wants to know (the metrics, the echo
filter, the test kit, a user's own exporter) subclasses :class:`Observer`, overrides the
methods it cares about and is handed to the part: ``RestClient(..., observers=[...])``,
``Runner(..., observers=[...])``. The defaults do nothing.

Observers are called in the event loop's thread, on the hot path: keep them cheap and
never block. An exception an observer raises is logged and ignored; it never fails the
request, the hook or the handler it reports on.

This module imports nothing of the framework, so any part may depend on it.
"""

from __future__ import annotations

__all__ = ["Observer"]


class Observer:
    """Hear of what the running parts do; see the module docstring."""

    def rest_answered(self, method: str, status: int | None, seconds: float) -> None:
        """One REST attempt finished (retries included); ``status`` is ``None`` when no
        answer came (timeout, refused or reset connection)."""

    def message_sent(self, website_id: str, session_id: str, fingerprint: int) -> None:
        """The REST client sent a message; ``fingerprint`` is the id Crisp gave it."""

    def handler_ran(self, event: str, handler: str, seconds: float, outcome: str) -> None:
        """A handler finished: ``outcome`` is ``ok``, ``error`` or ``timeout``."""

    def handler_failed(self, event: str, handler: str, error: BaseException) -> None:
        """A handler (or a middleware around it) raised or timed out."""

    def hook_answered(self, status: int) -> None:
        """The web hook endpoint answered with ``status``."""

    def relay_gap(self, seconds: float, cause: str) -> None:
        """The RTM socket is back after ``seconds`` without the relay; ``cause`` is
        ``drop``, ``restart`` or ``takeover``."""

    def recovery_finished(self, messages: int, calls: int, complete: bool) -> None:
        """A recovery after a gap fed ``messages`` missed messages, spending ``calls``
        REST calls; ``complete`` is False when a budget, an error or the token's
        rights cut it short."""
