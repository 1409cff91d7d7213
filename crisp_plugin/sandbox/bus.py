"""Fans each event out: to the relay sockets, to the hook URLs, to local watchers.

Events reach the plugin (relay and hooks) only for websites that installed the plugin,
as on Crisp; ``plugin:subscription:updated`` is also sent when it is uninstalled.
Watchers (the long-poll of the control API, the chat page's stream) see every event
of their conversation, installed or not.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from .store import JSON, Store, now_ms

__all__ = ["EventBus", "Listener"]

Listener = Callable[[str, JSON], None]


class _Sink(Protocol):
    def publish(self, name: str, payload: JSON) -> Awaitable[None]: ...


class _HookSink(Protocol):
    def enqueue(self, name: str, payload: JSON) -> None: ...


class EventBus:
    """Where the REST and control layers announce what happened."""

    def __init__(self, store: Store, relay: _Sink, hooks: _HookSink, log_size: int = 2000) -> None:
        self.store = store
        self.relay = relay
        self.hooks = hooks
        self.log: deque[JSON] = deque(maxlen=log_size)
        self.emitted = 0
        """Events announced so far (the log keeps only the last ``log_size``)."""
        self._watchers: dict[tuple[str, str], list[Listener]] = {}
        self._global: list[Listener] = []

    def watch(self, website_id: str, session_id: str, listener: Listener) -> None:
        self._watchers.setdefault((website_id, session_id), []).append(listener)

    def unwatch(self, website_id: str, session_id: str, listener: Listener) -> None:
        key = (website_id, session_id)
        listeners = self._watchers.get(key)
        if listeners and listener in listeners:
            listeners.remove(listener)
            if not listeners:
                del self._watchers[key]

    def watch_all(self, listener: Listener) -> None:
        self._global.append(listener)

    def unwatch_all(self, listener: Listener) -> None:
        if listener in self._global:
            self._global.remove(listener)

    async def emit(self, name: str, payload: JSON) -> None:
        """Announce an event; returns once relay sockets have it queued."""
        self.emitted += 1
        website_id = payload.get("website_id", "")
        site = self.store.websites.get(website_id)
        delivered = name == "plugin:subscription:updated" or (site is not None and site.subscribed)
        self.log.append({"event": name, "data": payload, "at": now_ms(), "delivered": delivered})
        session_id = payload.get("session_id")
        if session_id is not None and self._watchers:
            for listener in list(self._watchers.get((website_id, session_id), ())):
                listener(name, payload)
        for listener in list(self._global):
            listener(name, payload)
        if delivered:
            await self.relay.publish(name, payload)
            self.hooks.enqueue(name, payload)

    def events(self, **match: Any) -> list[JSON]:
        """Logged events whose data has every given key equal (name via ``event=``)."""
        name = match.pop("event", None)
        return [
            e
            for e in self.log
            if (name is None or e["event"] == name)
            and all(e["data"].get(k) == v for k, v in match.items())
        ]
