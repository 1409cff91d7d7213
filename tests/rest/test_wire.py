"""What the client puts on the wire: headers, encoded paths and queries, bodies."""

from __future__ import annotations

import base64

import structlog

from crisp_plugin import __version__
from crisp_plugin.observer import Observer
from crisp_plugin.rest import RestClient, SentMessage
from crisp_plugin.rest.sends import FINGERPRINT_MAX, FINGERPRINT_MIN, new_fingerprint
from tests.rest.conftest import StubCrisp


async def test_headers_auth_tier_user_agent(stub: StubCrisp) -> None:
    async with RestClient("ident", "s3cret", api_url=stub.url) as rest:
        stub.answer(200, {"socket": {"app": "wss://relay.example"}})
        endpoints = await rest.get_connect_endpoints()
    assert endpoints.url == "wss://relay.example"
    seen = stub.seen[0]
    assert (seen.method, seen.path) == ("GET", "/v1/plugin/connect/endpoints")
    expected = base64.b64encode(b"ident:s3cret").decode()
    assert seen.headers["Authorization"] == f"Basic {expected}"
    assert seen.headers["X-Crisp-Tier"] == "plugin"
    assert seen.headers["User-Agent"] == f"crisp-plugin/{__version__} (python)"
    assert "Content-Type" not in seen.headers  # no body, no content type


async def test_send_message_body_and_origin(stub: StubCrisp) -> None:
    async with RestClient(
        "i", "k", api_url=stub.url, urn="urn:acme:bot:1", verify_sends=False
    ) as rest:
        stub.answer(200, {"fingerprint": 4242})
        sent = await rest.send_message("web-1", "session_1", "Hello!")
    assert sent == SentMessage(fingerprint=4242)
    seen = stub.seen[0]
    assert (seen.method, seen.path) == ("POST", "/v1/website/web-1/conversation/session_1/message")
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.json() == {
        "type": "text",
        "from": "operator",
        "origin": "urn:acme:bot:1",
        "content": "Hello!",
    }


async def test_a_verified_send_carries_its_own_fingerprint(stub: StubCrisp) -> None:
    async with RestClient("i", "k", api_url=stub.url, urn="urn:acme:bot:1") as rest:
        stub.answer(200, {"fingerprint": 77})
        stub.answer(200, {"fingerprint": 4242})  # then as if Crisp ignored the chosen one
        assert (await rest.send_message("w", "s", "mine", fingerprint=77)).fingerprint == 77
        with structlog.testing.capture_logs() as logs:
            sent = await rest.send_message("w", "s", "Hello!")
        await rest.send_message("w", "s", "after that")
    first, chosen, later = (seen.json() for seen in stub.seen)
    assert first["fingerprint"] == 77
    fingerprint = chosen.pop("fingerprint")
    assert FINGERPRINT_MIN <= fingerprint <= FINGERPRINT_MAX < 2**53
    assert chosen == {
        "type": "text",
        "from": "operator",
        "origin": "urn:acme:bot:1",
        "content": "Hello!",
    }
    # Crisp's answer wins, and a Crisp that does not keep client fingerprints turns
    # verification off: a check could never find the message
    assert sent == SentMessage(fingerprint=4242)
    [warning] = [e for e in logs if e["event"] == "rest.fingerprint_not_kept"]
    assert warning["sent"] == fingerprint and warning["answered"] == 4242
    assert "fingerprint" not in later


async def test_fingerprints_are_random_and_javascript_safe() -> None:
    picked = {new_fingerprint() for _ in range(2000)}
    assert len(picked) == 2000
    assert all(FINGERPRINT_MIN <= f <= FINGERPRINT_MAX for f in picked)
    assert FINGERPRINT_MAX == 2**53 - 1 and FINGERPRINT_MAX < 2**63 - 1


async def test_origin_defaults_to_chat_without_urn(stub: StubCrisp) -> None:
    async with RestClient("i", "k", api_url=stub.url) as rest:
        stub.answer(200, {"fingerprint": 1})
        await rest.send_note("w", "s", "internal", mentions=["u1"])
    body = stub.seen[0].json()
    assert FINGERPRINT_MIN <= body.pop("fingerprint") <= FINGERPRINT_MAX
    assert body == {
        "type": "note",
        "from": "operator",
        "origin": "chat",
        "content": "internal",
        "mentions": ["u1"],
    }


async def test_path_segments_are_url_encoded(stub: StubCrisp) -> None:
    async with RestClient("i", "k", api_url=stub.url) as rest:
        stub.answer(200, {"people_id": "p1", "email": "jo+x@ex.com"})
        profile = await rest.get_profile("w", "jo+x/y@ex.com")
        await rest.website.get_people_profile("w", "a b")
    assert profile.email == "jo+x@ex.com"
    assert stub.seen[0].path == "/v1/website/w/people/profile/jo%2Bx%2Fy%40ex.com"
    assert stub.seen[1].path == "/v1/website/w/people/profile/a%20b"


async def test_query_values_json_and_booleans(stub: StubCrisp) -> None:
    async with RestClient("i", "k", api_url=stub.url) as rest:
        stub.answer(200, [])
        await rest.media.list_animation_medias(
            1, query={"list_id": "x", "search_query": {"q": "cat"}, "skip": None}
        )
        items = [w async for w in rest.list_connect_websites(configured_only=True)]
    assert items == []
    assert stub.seen[0].query == "list_id=x&search_query=%7B%22q%22%3A%22cat%22%7D"
    assert stub.seen[1].path == "/v1/plugin/connect/websites/all/1"
    assert stub.seen[1].query == "filter_configured=1&include_plan=0"


async def test_head_returns_none_and_check_session(stub: StubCrisp) -> None:
    async with RestClient("i", "k", api_url=stub.url) as rest:
        stub.answer(200, {})
        assert await rest.website.check_conversation_exists("w", "s") is None
        assert await rest.check_session() is True
        stub.answer(401, {"error": True, "reason": "invalid_session", "data": {}})
        stub.answers.pop(0)
        assert await rest.check_session() is False
    assert [s.method for s in stub.seen] == ["HEAD", "HEAD", "HEAD"]


async def test_list_conversations_pages_until_empty(stub: StubCrisp) -> None:
    async with RestClient("i", "k", api_url=stub.url) as rest:
        stub.answer(200, [{"session_id": "s1"}, {"session_id": "s2"}])
        stub.answer(200, [{"session_id": "s3", "meta": {"email": "a@b.c"}}])
        stub.answer(200, [])
        convs = [c async for c in rest.list_conversations("w", per_page=2, filter_unread=True)]
    assert [c.session_id for c in convs] == ["s1", "s2", "s3"]
    assert convs[2].meta is not None and convs[2].meta.email == "a@b.c"
    assert [s.path for s in stub.seen] == [f"/v1/website/w/conversations/{n}" for n in (1, 2, 3)]
    assert stub.seen[0].query == "filter_unread=1&per_page=2"


async def test_settings_use_plugin_id_from_account(stub: StubCrisp) -> None:
    async with RestClient("i", "k", api_url=stub.url) as rest:
        stub.answer(200, {"plugin_id": "plug-9"})
        stub.answer(200, {"settings": {"greeting": "hi"}, "token": "tok"})
        stub.answer(200, {})
        settings = await rest.get_settings("w")
        await rest.save_settings("w", {"greeting": "yo"})
    assert settings.settings == {"greeting": "hi"}
    assert "tok" not in repr(settings)
    assert [(s.method, s.path) for s in stub.seen] == [
        ("GET", "/v1/plugin/connect/account"),
        ("GET", "/v1/plugins/subscription/w/plug-9/settings"),
        ("PUT", "/v1/plugins/subscription/w/plug-9/settings"),
    ]
    assert stub.seen[2].json() == {"greeting": "yo"}


async def test_observers_hear_every_fingerprint_sent(stub: StubCrisp) -> None:
    heard: list[tuple[str, str, int]] = []

    class Sent(Observer):
        def message_sent(self, website_id: str, session_id: str, fingerprint: int) -> None:
            heard.append((website_id, session_id, fingerprint))

    async with RestClient("i", "k", api_url=stub.url, observers=[Sent()]) as rest:
        stub.answer(200, {"fingerprint": 7})
        stub.answer(200, {"fingerprint": 8})
        await rest.send_picker("w", "s", "Pick", [("a", "A"), ("b", "B")])
        await rest.website.send_message_in_conversation(
            "w", "s2", {"type": "text", "from": "operator", "origin": "chat", "content": "x"}
        )
    assert heard == [("w", "s", 7), ("w", "s2", 8)]
    assert stub.seen[0].json()["content"]["choices"][1] == {
        "value": "b",
        "label": "B",
        "selected": False,
    }


async def test_short_forms_verbs_and_bodies(stub: StubCrisp) -> None:
    async with RestClient("i", "k", api_url=stub.url, urn="urn:a:b:1") as rest:
        stub.answer(200, {})
        await rest.compose("w", "s", excerpt="typing…")
        await rest.mark_read("w", "s", [1, 2])
        await rest.resolve("w", "s")
        await rest.update_meta("w", "s", {"nickname": "Jo"}, data={"plan": "pro"})
        await rest.update_profile("w", "p@x.io", {"person": {"nickname": "P"}})
        await rest.assign("w", "s", "op-1")
    got = [(s.method, s.path, s.json()) for s in stub.seen]
    assert got == [
        ("PATCH", "/v1/website/w/conversation/s/compose",
         {"type": "start", "from": "operator", "excerpt": "typing…"}),
        ("PATCH", "/v1/website/w/conversation/s/read",
         {"from": "user", "origin": "urn:a:b:1", "fingerprints": [1, 2]}),
        ("PATCH", "/v1/website/w/conversation/s/state", {"state": "resolved"}),
        ("PATCH", "/v1/website/w/conversation/s/meta",
         {"nickname": "Jo", "data": {"plan": "pro"}}),
        ("PATCH", "/v1/website/w/people/profile/p%40x.io", {"person": {"nickname": "P"}}),
        ("PATCH", "/v1/website/w/conversation/s/routing", {"assigned": {"user_id": "op-1"}}),
    ]  # fmt: skip


async def test_api_url_with_v1_suffix_and_http_guard() -> None:
    import pytest

    from crisp_plugin.errors import ConfigError

    rest = RestClient("i", "k", api_url="https://api.crisp.chat/v1/")
    assert rest.api_url == "https://api.crisp.chat"
    with pytest.raises(ConfigError, match="allow_insecure_http"):
        RestClient("i", "k", api_url="http://crisp.example.com")
    assert RestClient("i", "k", api_url="http://h.example", allow_insecure_http=True)


async def test_a_raw_website_route_in_its_namespace(stub: StubCrisp) -> None:
    async with RestClient("i", "k", api_url=stub.url) as rest:
        stub.answer(200, {})
        await rest.website.update_conversation_metas("w", "s", {"email": "a@b.c"})
    seen = stub.seen[0]
    assert (seen.method, seen.path) == ("PATCH", "/v1/website/w/conversation/s/meta")
    assert seen.json() == {"email": "a@b.c"}


async def test_from_settings_takes_crisp_and_plugin_sections(stub: StubCrisp) -> None:
    from crisp_plugin.config import Config

    settings = Config.model_validate(
        {
            "plugin": {"urn": "urn:acme:cfg:2"},
            "crisp": {
                "identifier": "ident",
                "key": "cfg-secret",
                "api_url": stub.url,
                "plugin_id": "plug-1",
                "max_retries": 1,
                "daily_quota": 100,
                "verify_sends": False,
            },
        }
    )
    async with RestClient.from_settings(settings) as rest:
        stub.answer(200, {"settings": {}})
        await rest.get_settings("w")
    assert rest.urn == "urn:acme:cfg:2" and rest.retry.max_retries == 1
    assert rest.verify_sends is False
    assert rest.quota is not None and rest.quota.used == 1
    assert stub.seen[0].path == "/v1/plugins/subscription/w/plug-1/settings"
    assert "cfg-secret" not in repr(rest)
