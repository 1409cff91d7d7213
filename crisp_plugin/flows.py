"""Conversation flows: a per-conversation step and its data, kept in the state store.

A multi-step dialogue (ask a topic, then an e-mail, then confirm) is a step name per
conversation plus what was gathered so far. Handlers declare the step they answer, and
move the conversation on:

    @on("message:send", step=NO_STEP)            # not in a flow yet
    async def start(self, event: MessageSend) -> None:
        await event.reply_field("Your e-mail?", id="email")
        await event.flow.goto("ask_email", topic="billing")

    @on("message:send", step="ask_email")
    async def got_email(self, event: MessageSend) -> None:
        topic = event.flow.data["topic"]
        ...
        await event.flow.finish()

- ``step=`` takes a step name, several, :data:`NO_STEP` (no flow running) or
  :data:`ANY_STEP` (any flow running). A handler without ``step=`` runs whatever the step.
- The step filter sees the step as it was when the event arrived: a ``goto`` in one
  handler takes effect from the conversation's next event, so the handler of the new
  step does not also run for the message that led to it.
- ``goto(step, **data)`` sets the step and merges ``data`` into the flow's data;
  ``update(**data)`` merges without moving; ``finish()`` forgets step and data.
- The flow lives in the plugin's state store (memory, SQLite, Redis) under the
  conversation's scope, with ``state.flow_ttl`` seconds of life after its last change
  (a day by default): with SQLite it survives a restart.
- Steps are strings; a ``StrEnum`` works too. Data values are JSON.

``event.flow.step`` and ``event.flow.data`` are read without ``await``: when the plugin
declares any ``step=`` filter (in a method or any router), the dispatcher loads the
flow of every conversation event before its handlers run. A plugin that declares none
can ``await event.flow.load()`` first. Use a ``StrEnum`` for the steps: a misspelt step
is then an ``AttributeError`` (and a mypy error), not a handler that never runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from crisp_plugin.state.base import StateStore

__all__ = ["ANY_STEP", "FLOW_KEY", "NO_STEP", "Flow"]

NO_STEP: Final = ""
"""``step=NO_STEP``: the handler runs only when no flow is running in the conversation."""

ANY_STEP: Final = "*"
"""``step=ANY_STEP``: the handler runs only while some flow step is set."""

FLOW_KEY: Final = "crisp:flow"
"""The state key a conversation's flow is stored under."""


class Flow:
    """One conversation's flow; see the module docstring."""

    __slots__ = ("_arrival", "_data", "_loaded", "_scope", "_step", "_store", "_ttl")

    def __init__(self, store: StateStore, scope: str, ttl: float | None = None) -> None:
        self._store = store
        self._scope = scope
        self._ttl = ttl
        self._loaded = False
        self._step: str | None = None
        self._arrival: str | None = None
        self._data: dict[str, Any] = {}

    def __repr__(self) -> str:
        shown = self._step if self._loaded else "<not loaded>"
        return f"<Flow {self._scope} step={shown!r}>"

    @property
    def loaded(self) -> bool:
        """True once read from the store (or written)."""
        return self._loaded

    async def load(self) -> Flow:
        """Read the step and data from the store (once; later calls return at once)."""
        if not self._loaded:
            stored = await self._store.get(self._scope, FLOW_KEY)
            if isinstance(stored, dict) and isinstance(stored.get("step"), str):
                self._step = stored["step"]
                data = stored.get("data")
                self._data = dict(data) if isinstance(data, dict) else {}
            self._arrival = self._step
            self._loaded = True
        return self

    def _need(self) -> None:
        if not self._loaded:
            raise RuntimeError(
                "the flow is not loaded: this plugin declares no handler with step=..., "
                "so await event.flow.load() first (with one, it is loaded for every event)"
            )

    @property
    def step(self) -> str | None:
        """The current step, ``None`` when no flow runs."""
        self._need()
        return self._step

    @property
    def step_at_arrival(self) -> str | None:
        """The step when the event being handled arrived (what ``step=`` filters see)."""
        self._need()
        return self._arrival

    @property
    def data(self) -> Mapping[str, Any]:
        """What the flow gathered so far (read-only: change it with goto/update)."""
        self._need()
        return MappingProxyType(self._data)

    async def goto(self, step: str, **data: Any) -> None:
        """Move to ``step``, merging ``data`` into the flow's data."""
        if not isinstance(step, str) or not step or step == ANY_STEP:
            raise ValueError(f"a flow step is a non-empty string other than '*', not {step!r}")
        if not self._loaded:
            await self.load()
        self._step = str(step)
        self._data.update(data)
        await self._save()

    async def update(self, **data: Any) -> None:
        """Merge ``data`` into the flow's data without changing the step."""
        if not self._loaded:
            await self.load()
        if self._step is None:
            raise RuntimeError("no flow is running here: start one with goto(step, ...)")
        self._data.update(data)
        await self._save()

    async def finish(self) -> None:
        """End the flow: forget the step and the data."""
        self._step = None
        self._data = {}
        self._loaded = True
        await self._store.delete(self._scope, FLOW_KEY)

    async def _save(self) -> None:
        await self._store.set(
            self._scope, FLOW_KEY, {"step": self._step, "data": self._data}, ttl=self._ttl
        )

    def matches(self, steps: frozenset[str]) -> bool:
        """The ``step=`` filter: does the step at arrival match one of ``steps``?"""
        arrival = self.step_at_arrival
        if arrival is None:
            return NO_STEP in steps
        return arrival in steps or ANY_STEP in steps
