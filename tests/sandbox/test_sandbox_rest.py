"""REST API v1 of the sandbox as a client sees it: envelope, auth, validation, routes."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import aiohttp
import pytest
from sbtools import Rest, auth_headers

from crisp_plugin.sandbox import Sandbox
from crisp_plugin.sandbox.router import load_routes


def text(content: str = "hello", **extra: Any) -> dict[str, Any]:
    return {"type": "text", "from": "operator", "origin": "chat", "content": content, **extra}


async def new_session(rest: Rest) -> tuple[str, str]:
    website = rest.sb.websites[0]
    status, env = await rest("POST", f"/v1/website/{website}/conversation", {})
    assert status == 200, env
    return website, env["data"]["session_id"]


async def test_success_envelope_and_send_message(rest: Rest) -> None:
    website, session = await new_session(rest)
    status, env = await rest(
        "POST", f"/v1/website/{website}/conversation/{session}/message", text("Hi!")
    )
    assert status == 202
    assert env["error"] is False and env["reason"] == "dispatched"
    fingerprint = env["data"]["fingerprint"]
    assert isinstance(fingerprint, int) and fingerprint < 2**53

    status, env = await rest("GET", f"/v1/website/{website}/conversation/{session}/messages")
    assert status == 200 and env["error"] is False
    [message] = env["data"]
    assert message["content"] == "Hi!" and message["from"] == "operator"
    assert message["fingerprint"] == fingerprint and message["website_id"] == website


async def test_a_chosen_fingerprint_is_kept_and_a_taken_one_refused(rest: Rest) -> None:
    website, session = await new_session(rest)
    path = f"/v1/website/{website}/conversation/{session}/message"
    chosen = 2**53 - 7
    status, env = await rest("POST", path, text("first", fingerprint=chosen))
    assert status == 202 and env["data"]["fingerprint"] == chosen
    status, env = await rest("POST", path, text("again", fingerprint=chosen))
    assert status == 409 and env["error"] is True and env["reason"] == "conflict"
    assert str(chosen) in env["data"]["message"]
    conv = rest.sb.store.websites[website].conversations[session]
    assert [(m["content"], m["fingerprint"]) for m in conv.messages] == [("first", chosen)]
    received = rest.sb.bus.events(event="message:received", session_id=session)
    assert [e["data"]["fingerprint"] for e in received] == [chosen]
    # the same fingerprint in another conversation is another message
    _, other = await new_session(rest)
    other_path = f"/v1/website/{website}/conversation/{other}/message"
    assert (await rest("POST", other_path, text("elsewhere", fingerprint=chosen)))[0] == 202
    # and the visitor's side of the control API refuses it the same way
    from crisp_plugin.sandbox import SandboxControlError

    with pytest.raises(SandboxControlError) as info:
        await rest.sb.control.call(
            "POST",
            f"/websites/{website}/conversations/{session}/messages",
            {"text": "visitor", "fingerprint": chosen},
        )
    assert info.value.status == 409
    assert len(conv.messages) == 1


async def test_wrong_key_is_invalid_session_and_stores_nothing(rest: Rest) -> None:
    website, session = await new_session(rest)
    status, env = await rest(
        "POST",
        f"/v1/website/{website}/conversation/{session}/message",
        text(),
        headers=auth_headers(rest.sb, key="not-the-key"),
    )
    assert status == 401
    assert env == {
        "error": True,
        "reason": "invalid_session",
        "data": {"message": "wrong token identifier or key"},
    }
    assert rest.sb.store.websites[website].conversations[session].messages == []


async def test_missing_auth_and_wrong_tier_are_refused(rest: Rest) -> None:
    path = "/v1/plugin/connect/account"
    status, env = await rest("GET", path, headers={})
    assert status == 401 and env["reason"] == "invalid_session"
    status, env = await rest("GET", path, headers=auth_headers(rest.sb, tier="user"))
    assert status == 401 and "tier 'user'" in env["data"]["message"]
    assert rest.sb.key not in env["data"]["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**text(), "type": "gif"}, "data.type"),
        ({**text(), "from": "bot"}, "data.from"),
        ({k: v for k, v in text().items() if k != "origin"}, "'origin'"),
        ({**text(), "origin": 3}, "data.origin"),
        ({**text(), "content": {"text": "x"}}, "data.content should be string"),
        ({"type": "file", "from": "operator", "origin": "chat", "content": {"url": "u"}}, "'name'"),
        (
            {
                "type": "picker",
                "from": "operator",
                "origin": "chat",
                "content": {"id": "p", "text": "?", "choices": [{"value": 1}]},
            },
            "data.content.choices[0].value",
        ),
        ({**text(), "fingerprint": "12"}, "data.fingerprint"),
        ([], "data should be object"),
    ],
)
async def test_malformed_message_is_invalid_data_naming_the_field(
    rest: Rest, body: Any, field: str
) -> None:
    website, session = await new_session(rest)
    status, env = await rest("POST", f"/v1/website/{website}/conversation/{session}/message", body)
    assert status == 400
    assert env["error"] is True and env["reason"] == "invalid_data"
    assert field in env["data"]["message"]
    assert rest.sb.store.websites[website].conversations[session].messages == []
    assert rest.sb.bus.events(event="message:received") == []


async def test_body_that_is_not_json_is_invalid_data(rest: Rest) -> None:
    website, session = await new_session(rest)
    async with rest.session.post(
        f"{rest.sb.url}/v1/website/{website}/conversation/{session}/message",
        data=b"{not json",
        headers=auth_headers(rest.sb),
    ) as resp:
        assert resp.status == 400
        assert (await resp.json())["reason"] == "invalid_data"


async def test_every_message_type_is_accepted(rest: Rest) -> None:
    website, session = await new_session(rest)
    contents = {
        "note": "internal",
        "file": {"name": "a.pdf", "url": "https://x/a.pdf", "type": "application/pdf"},
        "animation": {"url": "https://x/a.gif", "type": "image/gif"},
        "audio": {"url": "https://x/a.ogg", "type": "audio/ogg", "duration": 3},
        "picker": {
            "id": "p",
            "text": "Pick",
            "choices": [{"value": "a", "label": "A", "selected": False}],
        },
        "field": {"id": "f", "text": "Email?", "explain": "Your email"},
        "carousel": {
            "text": "See",
            "targets": [
                {"title": "T", "description": "D", "actions": [{"label": "Go", "url": "u"}]}
            ],
        },
        "event": {"namespace": "state:resolved"},
    }
    for mtype, content in contents.items():
        body = {"type": mtype, "from": "operator", "origin": "urn:x:y:1", "content": content}
        status, env = await rest(
            "POST", f"/v1/website/{website}/conversation/{session}/message", body
        )
        assert status == 202, (mtype, env)


async def test_unknown_conversation_is_not_found(rest: Rest) -> None:
    website = rest.sb.websites[0]
    status, env = await rest("GET", f"/v1/website/{website}/conversation/session_nope")
    assert status == 404 and env["reason"] == "not_found"
    assert "session_nope" in env["data"]["message"]


async def test_unknown_route_is_not_found(rest: Rest) -> None:
    status, env = await rest("GET", "/v1/nothing/here")
    assert status == 404 and env["reason"] == "not_found"
    assert "/v1/nothing/here" in env["data"]["message"]


async def test_website_without_the_plugin_is_not_subscribed(rest: Rest) -> None:
    website = rest.sb.websites[0]
    await rest.sb.control.uninstall(website)
    status, env = await rest("GET", f"/v1/website/{website}")
    assert status == 404 and env["reason"] == "not_subscribed"
    await rest.sb.control.install(website)
    status, env = await rest("GET", f"/v1/website/{website}")
    assert status == 200 and env["data"]["website_id"] == website


async def test_route_not_emulated_says_so(rest: Rest) -> None:
    website = rest.sb.websites[0]
    status, env = await rest("GET", f"/v1/website/{website}/helpdesk")
    assert status == 501
    assert env["reason"] == "not_emulated"
    assert "resolveHelpdesk" in env["data"]["message"]
    assert "/v1/website/{websiteID}/helpdesk" in env["data"]["message"]


async def test_user_tier_route_is_restricted(rest: Rest) -> None:
    status, env = await rest("GET", "/v1/plugins/subscription")
    assert status == 403 and env["reason"] == "restricted_route_tier"


async def test_every_route_of_the_table_is_routed(rest: Rest) -> None:
    """Each of the 229 methods gets its own answer: never a route-level 404."""
    website = rest.sb.websites[0]
    values = {"websiteID": website, "pluginID": rest.sb.plugin_id}
    seen = 0
    for name, verb, template in load_routes():
        path = re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "x1"), template)
        found = rest.sb.rest.router.match(verb, path)
        assert found is not None, (name, verb, template)
        assert found[0].template == template, (name, found[0].template)
        seen += 1
    assert seen >= 229


async def test_conversation_state_meta_routing_and_list(rest: Rest) -> None:
    website, session = await new_session(rest)
    base = f"/v1/website/{website}/conversation/{session}"
    assert (await rest("PATCH", base + "/state", {"state": "resolved"}))[0] == 200
    assert (await rest("GET", base + "/state"))[1]["data"] == {"state": "resolved"}
    status, env = await rest("PATCH", base + "/state", {"state": "done"})
    assert status == 400 and "data.state" in env["data"]["message"]

    meta = {"email": "ana@example.com", "nickname": "Ana", "data": {"plan": "pro", "seats": 3}}
    assert (await rest("PATCH", base + "/meta", meta))[0] == 200
    got = (await rest("GET", base + "/meta"))[1]["data"]
    assert got["email"] == "ana@example.com" and got["data"] == {"plan": "pro", "seats": 3}
    names = [e["event"] for e in rest.sb.bus.events(session_id=session)]
    assert "session:set_email" in names and "session:set_nickname" in names

    assert (await rest("PATCH", base + "/routing", {"assigned": {"user_id": "op1"}}))[0] == 200
    assert (await rest("GET", base + "/routing"))[1]["data"]["assigned"] == {"user_id": "op1"}

    status, env = await rest("GET", f"/v1/website/{website}/conversations/1")
    assert status == 200 and [c["session_id"] for c in env["data"]] == [session]
    assert env["data"][0]["state"] == "resolved"
    assert (await rest("GET", f"/v1/website/{website}/conversations/2"))[1]["data"] == []
    status, env = await rest("GET", base)
    assert env["data"]["meta"]["nickname"] == "Ana"


async def test_message_get_edit_delete_compose_read(rest: Rest) -> None:
    website, session = await new_session(rest)
    base = f"/v1/website/{website}/conversation/{session}"
    fp = (await rest("POST", base + "/message", text("one")))[1]["data"]["fingerprint"]
    assert (await rest("GET", f"{base}/message/{fp}"))[1]["data"]["content"] == "one"
    assert (await rest("PATCH", f"{base}/message/{fp}", {"content": "uno"}))[0] == 200
    assert (await rest("GET", f"{base}/message/{fp}"))[1]["data"]["content"] == "uno"
    assert (await rest("PATCH", base + "/compose", {"type": "start", "from": "operator"}))[0] == 200
    read = {"from": "operator", "origin": "urn:x:y:1", "fingerprints": [fp]}
    assert (await rest("PATCH", base + "/read", read))[0] == 200
    assert (await rest("DELETE", f"{base}/message/{fp}"))[0] == 200
    status, env = await rest("GET", f"{base}/message/{fp}")
    assert status == 404 and env["reason"] == "not_found"
    names = [e["event"] for e in rest.sb.bus.events(session_id=session)]
    assert names == [
        "message:received",
        "message:updated",
        "message:compose:receive",
        "message:acknowledge:read:received",
        "message:removed",
    ]


async def test_user_message_through_rest_is_message_send(rest: Rest) -> None:
    website, session = await new_session(rest)
    body = {**text("from the visitor"), "from": "user"}
    await rest("POST", f"/v1/website/{website}/conversation/{session}/message", body)
    [event] = rest.sb.bus.events(session_id=session)
    assert event["event"] == "message:send"
    data = event["data"]
    assert data["from"] == "user" and data["inbox_id"] is None and data["stamped"] is True
    assert data["user"]["user_id"] == session


async def test_people_profiles(rest: Rest) -> None:
    website = rest.sb.websites[0]
    base = f"/v1/website/{website}/people"
    profile = {"email": "bo@example.com", "person": {"nickname": "Bo"}}
    status, env = await rest("POST", base + "/profile", profile)
    assert status == 200
    people_id = env["data"]["people_id"]
    status, env = await rest("GET", f"{base}/profile/{people_id}")
    assert env["data"]["email"] == "bo@example.com"
    status, env = await rest("GET", f"{base}/profile/bo%40example.com")
    assert status == 200 and env["data"]["people_id"] == people_id
    await rest("PATCH", f"{base}/profile/{people_id}", {"person": {"nickname": "Bob"}})
    assert (await rest("GET", f"{base}/profiles/1"))[1]["data"][0]["person"]["nickname"] == "Bob"
    status, env = await rest("POST", base + "/profile", {"email": "nope"})
    assert status == 400 and "data.email" in env["data"]["message"]
    assert (await rest("DELETE", f"{base}/profile/{people_id}"))[0] == 200
    assert (await rest("GET", f"{base}/profile/{people_id}"))[0] == 404


async def test_plugin_connect_routes(rest: Rest) -> None:
    sb = rest.sb
    assert (await rest("GET", "/v1/plugin/connect/account"))[1]["data"] == {
        "plugin_id": sb.plugin_id
    }
    assert (await rest("HEAD", "/v1/plugin/connect/session"))[0] == 200
    assert (await rest("HEAD", "/v1/plugin/connect/session", headers={}))[0] == 401
    env = (await rest("GET", "/v1/plugin/connect/endpoints"))[1]
    assert env["data"] == {
        "socket": {"app": sb.relay_url},
        "rescue": {"socket": {"app": sb.relay_url}},
    }
    sites = (await rest("GET", "/v1/plugin/connect/websites/all/1?include_plan=1"))[1]["data"]
    assert [s["website_id"] for s in sites] == sb.websites
    assert sites[0]["plan"]["id"] == "sandbox"
    configured = "/v1/plugin/connect/websites/all/1?filter_configured=1"
    assert (await rest("GET", configured))[1]["data"] == []
    since = "/v1/plugin/connect/websites/since?date_since=2000-01-01T00:00:00Z"
    assert (await rest("GET", since))[1]["data"][0]["difference"] == "linked"


async def test_subscription_settings(rest: Rest) -> None:
    sb = rest.sb
    website = sb.websites[0]
    path = f"/v1/plugins/subscription/{website}/{sb.plugin_id}/settings"
    assert (await rest("PUT", path, {"greeting": "Hello", "hours": 9}))[0] == 200
    assert (await rest("PATCH", path, {"hours": 10}))[0] == 200
    env = (await rest("GET", path))[1]
    assert env["data"]["settings"] == {"greeting": "Hello", "hours": 10}
    saved = sb.bus.events(event="plugin:settings:saved")
    assert [e["data"]["settings"] for e in saved][-1] == {"greeting": "Hello", "hours": 10}
    status, env = await rest("GET", f"/v1/plugins/subscription/{website}/other/settings")
    assert status == 404


async def test_website_operators_availability(rest: Rest) -> None:
    website = rest.sb.websites[0]
    ops = (await rest("GET", f"/v1/website/{website}/operators/list"))[1]["data"]
    assert ops[0]["details"]["role"] == "owner"
    status = (await rest("GET", f"/v1/website/{website}/availability/status"))[1]["data"]
    assert status["status"] == "online"
    avail = (await rest("GET", f"/v1/website/{website}/availability/operators"))[1]["data"]
    assert avail[0]["user_id"] == ops[0]["details"]["user_id"]


async def test_request_log_records_each_call(rest: Rest) -> None:
    website, session = await new_session(rest)
    await rest("POST", f"/v1/website/{website}/conversation/{session}/message", text("logged"))
    await rest("GET", "/v1/plugin/connect/account", headers={})
    log = await rest.sb.control.requests()
    assert [(r["method"], r["status"]) for r in log] == [("POST", 200), ("POST", 202), ("GET", 401)]
    assert log[1]["path"] == f"/v1/website/{website}/conversation/{session}/message"
    assert log[1]["body"]["content"] == "logged"
    assert rest.sb.requests[1]["status"] == 202
    assert await rest.sb.control.requests(clear=True) == []


async def test_sandbox_repr_and_info_hide_secrets(sb: Sandbox) -> None:
    info = await sb.control.info()
    assert sb.key not in repr(sb) and sb.secret not in repr(sb)
    assert sb.key not in str(info) and sb.secret not in str(info)
    assert info["identifier"] == sb.identifier and info["relay_url"] == sb.relay_url


async def test_head_routes_answer_status_only(rest: Rest) -> None:
    website, session = await new_session(rest)
    assert (await rest("HEAD", f"/v1/website/{website}/conversation/{session}"))[0] == 200
    assert (await rest("HEAD", f"/v1/website/{website}/conversation/session_no"))[0] == 404


async def test_websites_since_reports_unlinked(rest: Rest) -> None:
    sb = rest.sb
    other = await sb.control.add_website()
    await sb.control.uninstall(other)
    since = "/v1/plugin/connect/websites/since?date_since=2000-01-01T00:00:00Z"
    diffs = {s["website_id"]: s["difference"] for s in (await rest("GET", since))[1]["data"]}
    assert diffs == {sb.websites[0]: "linked", other: "unlinked"}
    status, env = await rest("GET", "/v1/plugin/connect/websites/since?date_since=yesterday")
    assert status == 400 and "date_since" in env["data"]["message"]


async def test_invalid_meta_compose_and_routing_name_the_field(rest: Rest) -> None:
    website, session = await new_session(rest)
    base = f"/v1/website/{website}/conversation/{session}"
    cases = [
        ("/meta", {"email": 42}, "data.email"),
        ("/meta", {"data": {"k": [1]}}, "data.data['k']"),
        ("/compose", {"type": "maybe", "from": "operator"}, "data.type"),
        ("/routing", {"assigned": "op"}, "data.assigned"),
        ("/read", {"from": "operator", "fingerprints": ["x"]}, "data.fingerprints[0]"),
    ]
    for suffix, body, field in cases:
        status, env = await rest("PATCH", base + suffix, body)
        assert status == 400 and env["reason"] == "invalid_data", (suffix, env)
        assert field in env["data"]["message"], (suffix, env)
    assert rest.sb.bus.events(session_id=session) == []


def test_url_names_loopback_when_listening_everywhere() -> None:
    assert Sandbox(host="0.0.0.0", port=8787).url == "http://127.0.0.1:8787"
    assert Sandbox(host="::1", port=1).relay_url == "http://[::1]:1/relay/"


async def test_raw_non_utf8_authorization_bytes_are_invalid_session(rest: Rest) -> None:
    host, port = rest.sb.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(
            b"GET /v1/plugin/connect/account HTTP/1.1\r\n"
            b"Host: " + host.encode() + b"\r\n"
            b"Authorization: Basic caf\xe9\r\n"
            b"X-Crisp-Tier: plugin\r\n"
            b"Connection: close\r\n\r\n"
        )
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 401 ")
    env = json.loads(body)
    assert env["error"] is True and env["reason"] == "invalid_session"
    assert "Authorization" in env["data"]["message"]


async def test_a_body_over_the_limit_is_413_in_an_envelope_and_stores_nothing(
    rest: Rest,
) -> None:
    website, session = await new_session(rest)
    path = f"/v1/website/{website}/conversation/{session}/message"
    status, env = await rest("POST", path, text("x" * 3_000_000))
    assert status == 413
    assert env == {
        "error": True,
        "reason": "request_too_large",
        "data": {"message": "request body over the 1048576 byte limit"},
    }
    assert rest.sb.store.websites[website].conversations[session].messages == []
    assert rest.sb.requests[-1]["status"] == 413
    assert (await rest("POST", path, text("y" * 500_000)))[0] == 202


async def test_the_body_limit_is_configurable() -> None:
    async with Sandbox(body_limit=1000) as sb, aiohttp.ClientSession() as session:
        rest = Rest(sb, session)
        website, conv = await new_session(rest)
        path = f"/v1/website/{website}/conversation/{conv}/message"
        status, env = await rest("POST", path, text("z" * 2000))
        assert status == 413 and "1000 byte" in env["data"]["message"]
        assert (await rest("POST", path, text("short")))[0] == 202
