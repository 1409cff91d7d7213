"""Events the framework derives from Crisp's: what a bot waits for, typed.

Crisp reports a visitor's picker choice and a filled-in field as ``message:updated``,
whose content is the whole picker (with the choice ``selected``) or the whole field
(with ``value`` set). Handlers can ask for those directly:

    @on("picker:choice", id="topic")                  # PickerChoice
    async def topic(self, event: PickerChoice) -> None:
        if event.value == "billing": ...

    @on("field:answer", id="email")                   # FieldAnswer
    async def email(self, event: FieldAnswer) -> None:
        address = event.value

``id`` is the picker's or field's id (as sent with ``reply_picker(..., id=...)``),
``value`` the chosen value or the text typed. The derived event runs after the
``message:updated`` handlers of the same update, in the same conversation turn; it is
not a Crisp event name, so ``"*"`` and ``"message:*"`` handlers do not receive it (they
get the ``message:updated``). Subscribing to one subscribes the RTM socket to
``message:updated``.
"""

from __future__ import annotations

from crisp_plugin.content import Choice, FieldContent, PickerContent
from crisp_plugin.events.base import Event, SessionEvent
from crisp_plugin.events.message import MessageUpdated

__all__ = ["DERIVED", "FieldAnswer", "PickerChoice", "derive"]


class PickerChoice(SessionEvent):
    """``picker:choice``: the visitor picked ``value`` in picker ``id``."""

    fingerprint: int
    id: str
    value: str
    label: str = ""
    picker: PickerContent
    choice: Choice


class FieldAnswer(SessionEvent):
    """``field:answer``: the visitor typed ``value`` in field ``id``."""

    fingerprint: int
    id: str
    value: str
    field: FieldContent


DERIVED: dict[str, str] = {"picker:choice": "message:updated", "field:answer": "message:updated"}
"""Each derived name and the Crisp event it comes from."""

PickerChoice.event_name = "picker:choice"
FieldAnswer.event_name = "field:answer"


def derive(event: Event) -> Event | None:
    """The picker choice or field answer a ``message:updated`` carries, if any."""
    if not isinstance(event, MessageUpdated):
        return None
    derived: Event | None = None
    picker = event.picker
    if picker is not None:
        chosen = picker.chosen
        if chosen is None:
            return None
        derived = PickerChoice(
            website_id=event.website_id,
            session_id=event.session_id,
            inbox_id=event.inbox_id,
            fingerprint=event.fingerprint,
            id=picker.id,
            value=chosen.value,
            label=chosen.label,
            picker=picker,
            choice=chosen,
        )
        name = "picker:choice"
    else:
        field = event.field
        if field is None or field.value is None:
            return None
        derived = FieldAnswer(
            website_id=event.website_id,
            session_id=event.session_id,
            inbox_id=event.inbox_id,
            fingerprint=event.fingerprint,
            id=field.id,
            value=field.value,
            field=field,
        )
        name = "field:answer"
    derived._bind(name, event.raw)
    return derived
