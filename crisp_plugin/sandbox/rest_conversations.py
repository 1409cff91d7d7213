"""The sandbox's REST handlers for conversations and their messages.

Sending, listing, editing, removing, composing and marking messages; creating,
reading, listing and removing conversations, their state, metas and routing. Each
handler registers itself with ``@handles`` (rest_registry.py); rest_api.py imports
this module and dispatches to them.

A sent message keeps the ``fingerprint`` its sender chose (any positive integer; the
sandbox's own are below 2**53, as every JavaScript reader needs). A fingerprint the
conversation already has is refused with 409 ``conflict`` and nothing is stored or
emitted. What Crisp answers then is not documented (PROTOCOL.md is silent); refusing
is the sandbox's choice, because a message id must stay unique in its conversation and
a client that sends again after a lost answer must not get a second copy. The REST
client does not rely on the status or reason: it checks the conversation instead.
After the message is stored, the ``*_after_store`` faults (faults.py) may lose its
answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aiohttp import web

from . import actions, validate
from .envelope import fail, ok
from .rest_registry import Call, Refused, check, handles, page_number
from .store import JSON, Conversation

if TYPE_CHECKING:
    from .rest_api import RestApi

__all__ = ["duplicate_fingerprint"]


# -- messages ------------------------------------------------------------------


@handles("sendMessageInConversation")
async def _send_message(api: RestApi, call: Call) -> web.Response:
    conv = api.conversation(call)
    check(validate.check_message(call.body))
    taken = duplicate_fingerprint(conv, call.body)
    if taken:
        raise Refused(fail(409, "conflict", taken))
    assert call.site is not None
    message = await actions.post_message(api.sb.bus, call.site, conv, call.body, api.sb.plugin_id)
    faults = api.sb.faults
    lost = faults.after_store()
    if lost == "error":
        return fail(500, "error", "injected fault: internal error after the message was stored")
    if lost == "hang":
        with api.sb.lingering():
            await asyncio.sleep(faults.hang_ms / 1000)
    return ok({"fingerprint": message["fingerprint"]}, reason="dispatched", status=202)


def duplicate_fingerprint(conv: Conversation, body: JSON) -> str | None:
    """Why a new message cannot be stored under the fingerprint its sender chose (one
    of this conversation's messages has it), or None."""
    fingerprint = body.get("fingerprint")
    if fingerprint is not None and fingerprint in conv.by_fingerprint:
        return f"a message with fingerprint {fingerprint} already exists in this conversation"
    return None


@handles("getMessagesInConversation")
async def _list_messages(api: RestApi, call: Call) -> web.Response:
    """Oldest first, at most :data:`MESSAGES_PAGE`. ``timestamp_after`` (ms) keeps the
    later ones and reads forward from there (the first page after it);
    ``timestamp_before`` keeps the earlier ones and pages back (the last page before
    it); both together bound a window, paged back from ``timestamp_before``. Without
    either: the last page."""
    conv = api.conversation(call)
    messages = conv.messages
    try:
        before = _ms(call.query.get("timestamp_before"))
        after = _ms(call.query.get("timestamp_after"))
    except ValueError:
        problem = "timestamp_before / timestamp_after should be integers (ms)"
        raise Refused(fail(400, "invalid_data", problem)) from None
    if after is not None:
        messages = [m for m in messages if m["timestamp"] > after]
    if before is not None:
        messages = [m for m in messages if m["timestamp"] < before]
    if after is not None and before is None:
        return ok(messages[:MESSAGES_PAGE])
    return ok(messages[-MESSAGES_PAGE:])


MESSAGES_PAGE = 40
"""Messages one listing answers at most."""


def _ms(value: str | None) -> int | None:
    return None if value is None else int(value)


@handles("getMessageInConversation")
async def _get_message(api: RestApi, call: Call) -> web.Response:
    conv = api.conversation(call)
    return ok(api.message(call, conv))


@handles("updateMessageInConversation")
async def _edit_message(api: RestApi, call: Call) -> web.Response:
    conv = api.conversation(call)
    message = api.message(call, conv)
    check(validate.check_message_edit(call.body))
    content = call.body["content"]
    checker = validate.CONTENT_CHECKS[message["type"]]
    check(checker(content, "data.content"))
    await actions.edit_message(api.sb.bus, conv, message, content)
    return ok(reason="updated")


@handles("removeMessageInConversation")
async def _remove_message(api: RestApi, call: Call) -> web.Response:
    conv = api.conversation(call)
    message = api.message(call, conv)
    await actions.remove_message(api.sb.bus, conv, message["fingerprint"])
    return ok(reason="deleted")


@handles("composeMessageInConversation")
async def _compose(api: RestApi, call: Call) -> web.Response:
    conv = api.conversation(call)
    check(validate.check_compose(call.body))
    assert call.site is not None
    await actions.compose(api.sb.bus, call.site, conv, call.body, api.sb.plugin_id)
    return ok(reason="dispatched")


@handles("markMessagesReadInConversation", "markMessagesDeliveredInConversation")
async def _mark(api: RestApi, call: Call) -> web.Response:
    conv = api.conversation(call)
    check(validate.check_read(call.body))
    what = "read" if call.route.name == "markMessagesReadInConversation" else "delivered"
    await actions.mark(api.sb.bus, conv, what, call.body)
    return ok(reason="updated")


# -- conversations ---------------------------------------------------------------


@handles("createNewConversation")
async def _create_conversation(api: RestApi, call: Call) -> web.Response:
    assert call.site is not None
    conv = api.sb.store.new_conversation(call.site)
    return ok({"session_id": conv.session_id}, reason="added")


@handles("getConversation", "checkConversationExists")
async def _get_conversation(api: RestApi, call: Call) -> web.Response:
    return ok(api.conversation(call).to_json())


@handles("removeConversation")
async def _remove_conversation(api: RestApi, call: Call) -> web.Response:
    conv = api.conversation(call)
    assert call.site is not None
    del call.site.conversations[conv.session_id]
    await api.sb.bus.emit(
        "session:removed",
        {"website_id": conv.website_id, "session_id": conv.session_id, "inbox_id": None},
    )
    return ok(reason="deleted")


@handles("listConversations")
async def _list_conversations(api: RestApi, call: Call) -> web.Response:
    """A page of ``per_page`` (20 to 50, 20 by default), newest first: by update date
    (``order_date_updated=1``, also the default) or by creation (``order_date_created=1``).
    ``filter_date_start`` / ``filter_date_end`` (ISO 8601) keep the conversations whose
    date of that order falls in the range, both ends included (which date Crisp's
    filters read is not documented: this is the sandbox's choice)."""
    assert call.site is not None
    page = page_number(call)
    q = call.query
    try:
        per_page = min(50, max(20, int(q.get("per_page", "20"))))
    except ValueError:
        per_page = 20
    by_created = q.get("order_date_created") == "1" and q.get("order_date_updated") != "1"

    def date_of(c: Conversation) -> int:
        return c.created_at if by_created else c.updated_at

    convs = sorted(call.site.conversations.values(), key=lambda c: -date_of(c))
    start, end = _iso_ms(q, "filter_date_start"), _iso_ms(q, "filter_date_end")
    if start is not None:
        convs = [c for c in convs if date_of(c) >= start]
    if end is not None:
        convs = [c for c in convs if date_of(c) <= end]
    if q.get("filter_resolved") == "1":
        convs = [c for c in convs if c.state == "resolved"]
    if q.get("filter_not_resolved") == "1":
        convs = [c for c in convs if c.state != "resolved"]
    if q.get("filter_unread") == "1":
        convs = [c for c in convs if c.unread_operator]
    if q.get("filter_assigned"):
        convs = [c for c in convs if c.assigned == q["filter_assigned"]]
    if q.get("filter_unassigned") == "1":
        convs = [c for c in convs if not c.assigned]
    needle = q.get("search_query", "").lower()
    if needle:
        convs = [c for c in convs if _matches(c, needle)]
    if q.get("include_empty") != "1" and "include_empty" in q:
        convs = [c for c in convs if c.messages]
    chunk = convs[(page - 1) * per_page : page * per_page]
    return ok([c.to_json() for c in chunk])


def _iso_ms(query: Mapping[str, str], key: str) -> int | None:
    """An ISO 8601 date of the query in ms (UTC when it names no zone), or None."""
    raw = query.get(key)
    if raw is None or raw == "":
        return None
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        problem = f"{key} should be an ISO 8601 date, e.g. 2024-01-31T12:00:00.000Z"
        raise Refused(fail(400, "invalid_data", problem)) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def _matches(conv: Conversation, needle: str) -> bool:
    for m in conv.messages:
        if isinstance(m["content"], str) and needle in m["content"].lower():
            return True
    return any(isinstance(v, str) and needle in v.lower() for v in conv.meta.values())


@handles("getConversationState")
async def _get_state(api: RestApi, call: Call) -> web.Response:
    return ok({"state": api.conversation(call).state})


@handles("changeConversationState")
async def _set_state(api: RestApi, call: Call) -> web.Response:
    conv = api.conversation(call)
    check(validate.check_state(call.body))
    await actions.set_state(api.sb.bus, conv, call.body["state"])
    return ok(reason="updated")


@handles("getConversationMetas")
async def _get_meta(api: RestApi, call: Call) -> web.Response:
    return ok(api.conversation(call).meta_json())


@handles("updateConversationMetas")
async def _set_meta(api: RestApi, call: Call) -> web.Response:
    conv = api.conversation(call)
    check(validate.check_meta(call.body))
    await actions.set_meta(api.sb.bus, conv, call.body)
    return ok(reason="updated")


@handles("getConversationRoutingAssign")
async def _get_routing(api: RestApi, call: Call) -> web.Response:
    conv = api.conversation(call)
    return ok({"assigned": {"user_id": conv.assigned} if conv.assigned else None})


@handles("assignConversationRouting")
async def _set_routing(api: RestApi, call: Call) -> web.Response:
    conv = api.conversation(call)
    check(validate.check_routing(call.body))
    assigned = call.body["assigned"]
    await actions.assign(api.sb.bus, conv, assigned["user_id"] if assigned else None)
    return ok(reason="updated")
