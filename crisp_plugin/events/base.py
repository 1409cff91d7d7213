"""The base of every event model: name, raw payload, conversation ids, actions.

Every event keeps the payload it was parsed from (``.raw``, the same dict, not a copy)
and its Crisp name (``.name``). Fields Crisp adds that the model does not know are kept
(``extra="allow"``) and read as attributes or through ``.raw``.

A conversation event (:class:`SessionEvent`: every event with a ``session_id``) acts on
its conversation while a plugin handles it: ``await event.reply("Hi")``,
``reply_picker``, ``reply_field``, ``note``, ``typing``, ``resolve``, ``assign``,
``set_meta``, and reads ``event.flow`` (the conversation's step and data,
:mod:`crisp_plugin.flows`). The REST client, website and session are
the plugin's and the event's: nothing to repeat.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from crisp_plugin.events.binding import ChoiceSpec, EventBinding, Unbound

if TYPE_CHECKING:
    from crisp_plugin.flows import Flow
    from crisp_plugin.rest.models import SentMessage

__all__ = [
    "BINDING_SLOT",
    "RECOVERY_SOURCE",
    "STOPPED_SLOT",
    "Event",
    "GenericEvent",
    "SessionEvent",
    "WebsiteEvent",
]

RECOVERY_SOURCE = "recovery"
"""The source of the events a recovery after an RTM gap feeds (``event.recovered``)."""

BINDING_SLOT = "_crisp_binding"
"""Where an event's ``__dict__`` keeps the plugin's actions once bound (``event.reply``)."""

STOPPED_SLOT = "_crisp_stopped"
"""In an event's ``__dict__`` once a handler called ``event.stop()``."""


class Event(BaseModel):
    """A Crisp real-time event. ``name`` is the Crisp event name, ``raw`` the payload."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=False)

    # The Crisp name a typed model stands for (set by events.parse for each model).
    event_name: ClassVar[str] = ""

    website_id: str | None = None
    session_id: str | None = None

    # ``name`` and ``raw`` live in the instance __dict__ under keys that are not fields,
    # set by ``parse_event``: cheaper on the hot path than pydantic private attributes,
    # and invisible to model_dump / repr / equality.

    @property
    def name(self) -> str:
        """The Crisp event name, e.g. ``"message:send"``."""
        return self.__dict__.get("_crisp_name") or type(self).event_name

    @property
    def raw(self) -> dict[str, Any]:
        """The payload exactly as received (the same dict object).

        For an event built in code rather than parsed, the fields as Crisp names them.
        """
        raw = self.__dict__.get("_crisp_raw")
        if raw is None:
            raw = self.model_dump(by_alias=True, exclude_unset=True)
            object.__setattr__(self, "_crisp_raw", raw)
        return raw

    def _bind(self, name: str, raw: dict[str, Any]) -> None:
        object.__setattr__(self, "_crisp_name", name)
        object.__setattr__(self, "_crisp_raw", raw)

    def bind(self, binding: EventBinding) -> None:
        """Attach the plugin's actions (the dispatcher does it before handlers run)."""
        self.__dict__[BINDING_SLOT] = binding

    def stop(self) -> None:
        """No further handler runs for this event (the ones declared after the current
        one); middleware already running finishes as usual."""
        self.__dict__[STOPPED_SLOT] = True

    @property
    def stopped(self) -> bool:
        """True once a handler called :meth:`stop`."""
        return STOPPED_SLOT in self.__dict__

    @property
    def recovered(self) -> bool:
        """True when the event was not pushed live but recovered after a gap in the
        relay: read back over REST, handled late (``[rtm.backfill]``). Its fields are
        those of the message as the REST API lists it."""
        return bool(self.__dict__.get("_crisp_recovered", False))

    @property
    def text(self) -> str | None:
        """Text content, for message events carrying text; ``None`` otherwise."""
        return None

    @property
    def conversation(self) -> tuple[str, str] | None:
        """``(website_id, session_id)`` when the event belongs to a conversation."""
        if self.website_id and self.session_id:
            return (self.website_id, self.session_id)
        return None

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.name} website_id={self.website_id!r} "
            f"session_id={self.session_id!r}>"
        )


class GenericEvent(Event):
    """An event without a typed model (or unknown to this version): fields as given."""


class WebsiteEvent(Event):
    """An event that always belongs to a website."""

    website_id: str


class SessionEvent(WebsiteEvent):
    """An event of one conversation: ``website_id``, ``session_id``, ``inbox_id``, and
    the actions on that conversation (see the module docstring)."""

    session_id: str
    inbox_id: str | None = None

    def _binding(self) -> EventBinding:
        binding: EventBinding | None = self.__dict__.get(BINDING_SLOT)
        if binding is None:
            raise Unbound(
                f"{self.name} is not being handled by a running plugin: its actions "
                "(reply, note, flow...) work inside handlers"
            )
        return binding

    async def reply(self, text: str, *, fields: Mapping[str, Any] | None = None) -> SentMessage:
        """Answer in the conversation as the plugin (a ``text`` message, ``from:
        operator``, ``origin`` the plugin URN). ``fields`` adds body fields
        (``user``, ``mentions``...). Its echo is dropped as the plugin's own."""
        _text_of("reply", text)
        return await self._binding().send(self, text, type="text", fields=fields)

    async def reply_picker(
        self,
        text: str,
        choices: Sequence[ChoiceSpec],
        *,
        id: str = "picker",
        required: bool | None = None,
    ) -> SentMessage:
        """Buttons: ``choices`` are ``(value, label)`` pairs, plain strings (the value is
        the label) or choice objects. The visitor's pick arrives as ``picker:choice``
        with this ``id``."""
        _text_of("reply_picker", text)
        return await self._binding().picker(self, text, choices, id=id, required=required)

    async def reply_field(
        self,
        text: str,
        *,
        id: str,
        explain: str = "",
        value: str | None = None,
        required: bool | None = None,
    ) -> SentMessage:
        """An input box (``explain`` is its placeholder). The answer arrives as
        ``field:answer`` with this ``id``."""
        content: dict[str, Any] = {"id": id, "text": text, "explain": explain}
        if value is not None:
            content["value"] = value
        if required is not None:
            content["required"] = required
        return await self._binding().send(self, content, type="field")

    async def reply_file(self, url: str, *, name: str, mime_type: str) -> SentMessage:
        """A file already hosted at ``url``."""
        content = {"name": name, "url": url, "type": mime_type}
        return await self._binding().send(self, content, type="file")

    async def note(self, text: str, *, mentions: Sequence[str] | None = None) -> SentMessage:
        """A private note, seen by operators only (``mentions``: user ids to notify)."""
        _text_of("note", text)
        fields = {"mentions": list(mentions)} if mentions is not None else None
        return await self._binding().send(self, text, type="note", fields=fields)

    async def typing(self, on: bool = True, *, excerpt: str | None = None) -> None:
        """Show (or with ``False`` hide) the plugin's "is typing" indicator."""
        await self._binding().typing(self, on, excerpt)

    async def resolve(self) -> None:
        """Mark the conversation resolved."""
        await self._binding().set_state(self, "resolved")

    async def set_state(self, state: Literal["pending", "unresolved", "resolved"]) -> None:
        """Set the conversation's state."""
        await self._binding().set_state(self, state)

    async def assign(self, user_id: str | None, *, silent: bool = False) -> None:
        """Assign the conversation to an operator (``None`` unassigns)."""
        await self._binding().assign(self, user_id, silent)

    async def set_meta(
        self,
        *,
        email: str | None = None,
        nickname: str | None = None,
        phone: str | None = None,
        subject: str | None = None,
        segments: Sequence[str] | None = None,
        data: Mapping[str, str | int | float | bool] | None = None,
        **extra: Any,
    ) -> None:
        """Merge metas into the conversation (``data`` is the custom data object)."""
        meta: dict[str, Any] = {
            k: v
            for k, v in (
                ("email", email),
                ("nickname", nickname),
                ("phone", phone),
                ("subject", subject),
            )
            if v is not None
        }
        if segments is not None:
            meta["segments"] = list(segments)
        if data is not None:
            meta["data"] = dict(data)
        meta.update(extra)
        await self._binding().set_meta(self, meta)

    @property
    def flow(self) -> Flow:
        """The conversation's flow: its current step and data (:mod:`crisp_plugin.flows`)."""
        return self._binding().flow(self)


def _text_of(action: str, text: object) -> None:
    """Refuse what Crisp would refuse, before a REST call (and its quota) is spent."""
    if not isinstance(text, str):
        raise TypeError(f"{action} takes the text to send, a str, not {type(text).__name__}")
