"""Typed events: fields, extras kept, malformed payloads named, unknown names generic."""

from __future__ import annotations

import pytest
from core_helpers import message

from crisp_plugin import EventError
from crisp_plugin.events import (
    EVENTS,
    MODELS,
    GenericEvent,
    MessageReceived,
    MessageSend,
    MessageUpdated,
    PeopleBindSession,
    PluginEvent,
    PluginSubscriptionUpdated,
    SessionSetState,
    parse_event,
)


def test_message_send_is_typed_and_keeps_the_payload() -> None:
    payload = message("s1", 42, "Hello!", brand_new_field={"x": 1})
    event = parse_event("message:send", payload)
    assert isinstance(event, MessageSend)
    assert event.name == "message:send"
    assert (event.website_id, event.session_id, event.inbox_id) == ("website_1", "s1", None)
    assert (event.type, event.from_, event.origin, event.fingerprint) == (
        "text",
        "user",
        "chat",
        42,
    )
    assert event.text == "Hello!"
    assert event.user is not None and event.user.nickname == "Visitor"
    assert event.brand_new_field == {"x": 1}  # type: ignore[attr-defined]
    assert event.raw is payload
    assert event.conversation == ("website_1", "s1")


def test_text_is_none_for_non_text_messages() -> None:
    payload = message("s1", 1, name_type="file")
    payload["content"] = {"name": "a.png", "url": "https://x/a.png", "type": "image/png"}
    event = parse_event("message:received", payload)
    assert isinstance(event, MessageReceived) and event.text is None
    note = parse_event("message:send", message("s1", 2, "internal", name_type="note"))
    assert note.text == "internal"


def test_picker_choice_arrives_as_message_updated() -> None:
    picker = {
        "id": "p",
        "text": "Pick",
        "choices": [{"value": "a", "label": "A", "selected": True}],
    }
    event = parse_event(
        "message:updated",
        {"website_id": "w", "session_id": "s", "fingerprint": 7, "content": picker},
    )
    assert isinstance(event, MessageUpdated)
    assert event.content["choices"][0]["selected"] is True
    assert event.text is None


def test_malformed_payload_names_the_event_and_field() -> None:
    with pytest.raises(EventError, match=r"message:send: field 'fingerprint' = 'abc'"):
        parse_event("message:send", message(fingerprint="abc"))  # type: ignore[arg-type]
    payload = message()
    del payload["session_id"]
    with pytest.raises(EventError, match=r"message:send: field 'session_id' is missing"):
        parse_event("message:send", payload)
    with pytest.raises(EventError, match="payload is list, not a JSON object"):
        parse_event("session:set_state", [])


def test_unknown_names_become_generic_events() -> None:
    event = parse_event("assistant:new:thing", {"website_id": "w", "anything": [1, 2]})
    assert isinstance(event, GenericEvent)
    assert event.name == "assistant:new:thing"
    assert event.website_id == "w" and event.session_id is None
    assert event.anything == [1, 2]  # type: ignore[attr-defined]
    odd = parse_event("assistant:new:thing", {"website_id": 12})
    assert odd.raw == {"website_id": 12}


def test_untyped_catalogue_events_are_generic_too() -> None:
    event = parse_event("campaign:progress", {"website_id": "w", "campaign_id": "c", "progress": 5})
    assert isinstance(event, GenericEvent) and event.raw["progress"] == 5


def test_other_typed_groups() -> None:
    state = parse_event(
        "session:set_state", {"website_id": "w", "session_id": "s", "state": "resolved"}
    )
    assert isinstance(state, SessionSetState) and state.state == "resolved"
    bind = parse_event(
        "people:bind:session", {"website_id": "w", "session_id": "s", "people_id": "p"}
    )
    assert isinstance(bind, PeopleBindSession) and bind.people_id == "p"
    installed = parse_event(
        "plugin:subscription:updated",
        {"website_id": "w", "plugin_id": "p", "bound": True, "target": "website"},
    )
    assert isinstance(installed, PluginSubscriptionUpdated) and installed.bound is True
    emitted = parse_event(
        "plugin:event", {"website_id": "w", "plugin_id": "p", "urn": "u", "name": "x", "data": {}}
    )
    assert isinstance(emitted, PluginEvent)
    assert emitted.name == "plugin:event" and emitted.name_ == "x"


def test_every_message_session_people_and_plugin_event_has_a_model() -> None:
    typed_groups = {"message", "session", "people", "plugin"}
    wanted = {name for name, group in EVENTS.items() if group in typed_groups}
    assert wanted == set(MODELS)


def test_events_built_in_code_have_a_name_and_raw() -> None:
    event = MessageSend(
        website_id="w", session_id="s", type="text", from_="user", content="hi", fingerprint=3
    )
    assert event.name == "message:send"
    assert event.raw["from"] == "user" and event.raw["fingerprint"] == 3
    assert "_crisp" not in str(event.model_dump())
    assert event == parse_event("message:send", dict(event.raw))
