"""What RTM gap recovery reads from the sandbox, as Crisp serves it: conversation lists
ordered by update and filtered by date, message lists bounded by timestamps, and a
relay that goes away for a while."""

from __future__ import annotations

from urllib.parse import urlencode

import aiohttp
import pytest
import socketio
from sbtools import RelayFactory, Rest

from crisp_plugin.backfill.reader import iso_ms
from crisp_plugin.sandbox import Sandbox
from tests.transports.transport_kit import eventually


async def _conversations(rest: Rest, sb: Sandbox, page: int = 1, **query: object) -> list[str]:
    path = f"/v1/website/{sb.websites[0]}/conversations/{page}"
    status, body = await rest("GET", f"{path}?{urlencode(query)}" if query else path)
    assert status == 200, body
    return [c["session_id"] for c in body["data"]]


async def test_conversations_ordered_by_update_and_filtered_by_its_date(
    sb: Sandbox, rest: Rest
) -> None:
    site = sb.store.websites[sb.websites[0]]
    sessions = [await sb.control.create_conversation() for _ in range(3)]
    for stamp, session in zip((3_000, 1_000, 2_000), sessions, strict=True):
        site.conversations[session].updated_at = stamp
        site.conversations[session].created_at = 4_000 - stamp
    newest_first = [sessions[0], sessions[2], sessions[1]]
    assert await _conversations(rest, sb, order_date_updated=1) == newest_first
    assert await _conversations(rest, sb, order_date_created=1) == newest_first[::-1]
    window = {"filter_date_start": iso_ms(1_500), "filter_date_end": iso_ms(3_000)}
    assert await _conversations(rest, sb, order_date_updated=1, **window) == newest_first[:2]
    naive = {"filter_date_start": "1970-01-01T00:00:02"}  # no zone: UTC
    assert await _conversations(rest, sb, order_date_updated=1, **naive) == newest_first[:2]


async def test_conversation_pages_take_per_page_between_20_and_50(sb: Sandbox, rest: Rest) -> None:
    for _ in range(55):
        await sb.control.create_conversation()
    assert len(await _conversations(rest, sb, per_page=50)) == 50
    assert len(await _conversations(rest, sb, 2, per_page=50)) == 5
    assert len(await _conversations(rest, sb, per_page=5)) == 20  # below the floor: 20


async def test_a_date_filter_that_is_no_date_is_refused(sb: Sandbox, rest: Rest) -> None:
    path = f"/v1/website/{sb.websites[0]}/conversations/1?filter_date_start=yesterday"
    status, body = await rest("GET", path)
    assert status == 400 and body["reason"] == "invalid_data"
    assert "filter_date_start should be an ISO 8601 date" in body["data"]["message"]


async def test_messages_bounded_by_timestamps_and_paged_back(sb: Sandbox, rest: Rest) -> None:
    session = await sb.control.create_conversation()
    path = f"/v1/website/{sb.websites[0]}/conversation/{session}"
    for n in range(1, 61):
        body = {"type": "text", "from": "user", "origin": "chat", "content": f"m{n}"}
        status, _ = await rest("POST", f"{path}/message", {**body, "timestamp": n * 1000})
        assert status == 202

    async def texts(**query: int) -> list[str]:
        status, body = await rest("GET", f"{path}/messages?{urlencode(query)}")
        assert status == 200, body
        return [m["content"] for m in body["data"]]

    assert await texts(timestamp_after=50_000) == [f"m{n}" for n in range(51, 61)]
    forward = await texts(timestamp_after=5_000)  # the first page after it, oldest first
    assert forward == [f"m{n}" for n in range(6, 46)]
    back = await texts(timestamp_before=50_000)  # the last page before it
    assert back == [f"m{n}" for n in range(10, 50)]
    window = await texts(timestamp_after=10_000, timestamp_before=20_000)
    assert window == [f"m{n}" for n in range(11, 20)]
    status, body = await rest("GET", f"{path}/messages?timestamp_after=soon")
    assert status == 400 and body["reason"] == "invalid_data"


async def test_a_relay_outage_drops_sockets_and_refuses_new_ones_for_its_length(
    sb: Sandbox, relay: RelayFactory
) -> None:
    client = await relay(["message:send"])
    assert await client.wait_for("authenticated") is True
    assert await sb.control.relay_outage(0.5) == 1
    with pytest.raises(socketio.exceptions.ConnectionError):
        await relay(["message:send"], authenticate=False)
    assert (await sb.control.relay())["turned_away"] >= 1
    await eventually(lambda: sb.relay.away_for == 0)  # the outage's end
    back = await relay(["message:send"])
    assert await back.wait_for("authenticated") is True
    session = await sb.control.create_conversation()
    await sb.control.visitor_says(None, session, "visitors wrote on meanwhile")
    assert (await back.wait_for("message:send"))["content"] == "visitors wrote on meanwhile"


async def test_a_relay_outage_needs_a_length(sb: Sandbox) -> None:
    for body in ({}, {"seconds": "5"}, {"seconds": -1}, {"seconds": True}):
        status = await _outage_status(sb, body)
        assert status == 400, body


async def _outage_status(sb: Sandbox, body: dict[str, object]) -> int:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{sb.url}/_sandbox/faults/relay_outage", json=body) as resp:
            return resp.status
