"""The sandbox as the Marketplace: websites that installed the plugin (paged, since a
date), per-website settings validated against the plugin's schema, the plugin's entry
(Settings URL, Action URL, schemas) on the constructor, the control API and the CLI.
Everything through the REST client and the control client, over loopback sockets."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from test_sandbox_cli import start, stop

from crisp_plugin.errors import InvalidData
from crisp_plugin.rest import RestClient
from crisp_plugin.sandbox import Sandbox, SandboxControlError
from crisp_plugin.sandbox.store import now_ms
from crisp_plugin.sandbox.widget_actions import ActionRequest

URN = "urn:acme:auto-responder:1"
SCHEMA: dict[str, Any] = {
    "$id": f"crisp:service:api/_schema/plugin#{URN}",
    "type": "object",
    "additionalProperties": False,
    "required": ["message"],
    "properties": {
        "message": {"type": "string", "minLength": 1, "title": "Reply"},
        "enabled": {"type": "boolean", "default": True},
        "start_hour": {"type": "integer", "minimum": 0, "maximum": 23},
    },
}
WIDGET: dict[str, Any] = {
    "version": "1.0",
    "sections": [
        {
            "id": "main",
            "title": "Auto responder",
            "items": [
                {"id": "canned", "type": "button", "value": {"type": "hook", "label": "Send"}}
            ],
        }
    ],
}


@pytest.fixture
async def market() -> AsyncIterator[Sandbox]:
    async with Sandbox(
        urn=URN,
        websites=["site-a", "site-b", "site-c"],
        settings_url="http://127.0.0.1:9/settings",
        action_url="http://127.0.0.1:9/action",
        settings_schema=SCHEMA,
        widget_schema=WIDGET,
    ) as sandbox:
        yield sandbox


@pytest.fixture
async def client(market: Sandbox) -> AsyncIterator[RestClient]:
    async with RestClient(
        market.identifier, market.key, api_url=market.url, allow_insecure_http=True
    ) as rest:
        yield rest


def _settings_events(sb: Sandbox) -> list[dict[str, Any]]:
    return sb.bus.events(event="plugin:settings:saved")


async def test_websites_all_pages_from_1_and_ends_with_an_empty_page() -> None:
    ids = [f"w{i:02}" for i in range(25)]
    async with (
        Sandbox(websites=ids) as sb,
        RestClient(sb.identifier, sb.key, api_url=sb.url, allow_insecure_http=True) as rest,
    ):
        await sb.control.uninstall("w03")
        page1 = await rest.plugin.list_all_connect_websites(1)
        page2 = await rest.plugin.list_all_connect_websites(2)
        page3 = await rest.plugin.list_all_connect_websites(3)
        assert len(page1) == 20 and len(page2) == 4 and page3 == []
        listed = [w["website_id"] for w in page1 + page2]
        assert listed == [i for i in ids if i != "w03"]  # the uninstalled one is not there
        site = sb.store.websites["w00"]
        assert page1[0] == {"website_id": "w00", "token": site.token, "settings": {}, "price": 0}
        # The short form reads every page and stops at the empty one.
        assert [w.website_id async for w in rest.list_connect_websites()] == listed
        with pytest.raises(InvalidData, match="page number"):
            await rest.plugin.list_all_connect_websites(0)


async def test_filter_configured_and_include_plan(market: Sandbox, client: RestClient) -> None:
    await market.control.save_settings("site-b", {"message": "Hi from B"})
    configured = await client.plugin.list_all_connect_websites(
        1, query={"filter_configured": "1", "include_plan": "1"}
    )
    assert [w["website_id"] for w in configured] == ["site-b"]
    assert configured[0]["settings"] == {"message": "Hi from B"}
    assert configured[0]["plan"]["id"]
    everyone = await client.plugin.list_all_connect_websites(1, query={"filter_configured": "0"})
    assert [w["website_id"] for w in everyone] == ["site-a", "site-b", "site-c"]
    assert all("plan" not in w for w in everyone)
    with pytest.raises(InvalidData, match="filter_configured should be 0 or 1"):
        await client.plugin.list_all_connect_websites(1, query={"filter_configured": "maybe"})


async def _after(ms: int) -> None:
    """Wait until the sandbox's clock (ms) is past ``ms``, so changes are later."""
    while now_ms() <= ms:  # noqa: ASYNC110 - the condition is the clock itself
        await asyncio.sleep(0.001)


async def test_websites_since_gives_the_difference(market: Sandbox, client: RestClient) -> None:
    before = now_ms()
    await _after(before)
    since = datetime.fromtimestamp(before / 1000 + 0.0005, UTC).isoformat().replace("+00:00", "Z")
    assert await client.list_connect_websites_since(since) == []  # nothing changed yet
    await market.control.uninstall("site-a")
    await market.control.save_settings("site-b", {"message": "B"})
    assert await market.control.add_website(website_id="site-d") == "site-d"
    changes = {w.website_id: w for w in await client.list_connect_websites_since(since)}
    assert {k: v.difference for k, v in changes.items()} == {
        "site-a": "unlinked",
        "site-b": "updated",
        "site-d": "linked",
    }
    assert changes["site-b"].settings == {"message": "B"}
    raw = await client.plugin.list_connect_websites_since(query={"date_since": since})
    assert {w["website_id"] for w in raw} == set(changes)
    with pytest.raises(InvalidData, match="date_since is required"):
        await client.plugin.list_connect_websites_since()
    with pytest.raises(InvalidData, match="RFC 3339"):
        await client.plugin.list_connect_websites_since(query={"date_since": "yesterday"})


async def test_connect_account_and_the_settings_route(market: Sandbox, client: RestClient) -> None:
    assert (await client.get_connect_account()).plugin_id == market.plugin_id
    got = await client.plugin.get_subscription_settings("site-a", market.plugin_id)
    assert got == {
        "plugin_id": market.plugin_id,
        "website_id": "site-a",
        "token": market.store.websites["site-a"].token,
        "schema": SCHEMA,
        "settings": {},
        "settings_form_url": "http://127.0.0.1:9/settings",
        "callback_url": "",
    }


async def test_put_replaces_patch_merges_and_each_save_fires_the_event(
    market: Sandbox, client: RestClient
) -> None:
    await client.save_settings("site-a", {"message": "Hello A", "start_hour": 9})
    await client.save_settings("site-a", {"enabled": False}, merge=True)
    stored = market.store.websites["site-a"].settings
    assert stored == {"message": "Hello A", "start_hour": 9, "enabled": False}
    await client.save_settings("site-a", {"message": "Only this"})
    assert market.store.websites["site-a"].settings == {"message": "Only this"}
    saved = [e["data"] for e in _settings_events(market)]
    assert saved == [
        {"website_id": "site-a", "plugin_id": market.plugin_id, "settings": s}
        for s in (
            {"message": "Hello A", "start_hour": 9},
            {"message": "Hello A", "start_hour": 9, "enabled": False},
            {"message": "Only this"},
        )
    ]
    assert (await client.get_settings("site-a")).settings == {"message": "Only this"}


@pytest.mark.parametrize(
    ("body", "merge", "reason"),
    [
        ({"start_hour": 9}, False, "data should have required property 'message'"),
        ({"message": ""}, False, "data.message should NOT be shorter than 1 characters"),
        ({"message": "x", "start_hour": 24}, False, "data.start_hour should be <= 23"),
        ({"message": "x", "enabled": "no"}, False, "data.enabled should be boolean"),
        ({"message": "x", "colour": "red"}, False, "data should NOT have additional properties"),
        ({"start_hour": "nine"}, True, "data.start_hour should be integer"),
    ],
)
async def test_a_save_that_does_not_fit_the_schema_is_refused_and_stores_nothing(
    market: Sandbox, client: RestClient, body: dict[str, Any], merge: bool, reason: str
) -> None:
    await client.save_settings("site-c", {"message": "kept", "start_hour": 8})
    events = len(_settings_events(market))
    with pytest.raises(InvalidData) as caught:
        await client.save_settings("site-c", body, merge=merge)
    assert caught.value.status == 400 and caught.value.reason == "invalid_data"
    assert reason in str(caught.value)
    assert market.store.websites["site-c"].settings == {"message": "kept", "start_hour": 8}
    assert len(_settings_events(market)) == events  # no event for a refused save


async def test_the_dashboards_save_is_validated_too(market: Sandbox) -> None:
    with pytest.raises(SandboxControlError, match=r"data\.start_hour should be <= 23"):
        await market.control.save_settings("site-a", {"message": "x", "start_hour": 30})
    assert market.store.websites["site-a"].settings == {}
    assert _settings_events(market) == []
    # As settings saved under an older schema would be: stored, and the event fires.
    await market.control.save_settings("site-a", {"legacy": 1}, validate=False)
    assert market.store.websites["site-a"].settings == {"legacy": 1}
    await market.control.uninstall("site-a")
    with pytest.raises(SandboxControlError, match="has not installed"):
        await market.control.save_settings("site-a", {"message": "x"})


async def test_the_plugin_entry_is_read_and_changed_through_the_control_api(
    market: Sandbox,
) -> None:
    control = market.control
    entry = await control.plugin()
    assert entry == {
        "plugin_id": market.plugin_id,
        "urn": URN,
        "settings_url": "http://127.0.0.1:9/settings",
        "action_url": "http://127.0.0.1:9/action",
        "settings_schema": SCHEMA,
        "widget_schema": WIDGET,
    }
    sites = {s["website_id"]: s for s in await control.websites()}
    token = market.store.websites["site-b"].token
    assert sites["site-b"]["token"] == token
    assert sites["site-b"]["settings_page"] == (
        f"http://127.0.0.1:9/settings?website_id=site-b&token={token}"
    )
    # A bad field refuses the whole change: nothing moves.
    for bad, named in [
        ({"settings_url": "ftp://x", "action_url": "http://ok/a"}, "settings_url"),
        ({"settings_schema": {"type": "array"}}, "describe an object"),
        ({"settings_schema": {**SCHEMA, "$id": "crisp:service:api/_schema/plugin#urn:x:y:1"}},
         "names the plugin 'urn:x:y:1'"),
        ({"settings_schema": {"type": "object", "if": {}}}, "not supported"),
        ({"widget_schema": {"version": "2.0", "sections": []}}, 'version should be "1.0"'),
        ({"widget_schema": {**WIDGET, "sections": [{"id": "s", "title": "t", "items": [
            {"id": "b", "type": "button", "value": {"type": "jump", "label": "x"}}]}]}},
         "sections[0].items[0].value.type should be one of link, modal, submit, hook"),
        ({"callback_url": "http://x/"}, "unknown key(s): callback_url"),
    ]:  # fmt: skip
        with pytest.raises(SandboxControlError, match=re.escape(named)) as caught:
            await control.call("PUT", "/plugin", bad)
        assert caught.value.status == 400
        assert await control.plugin() == entry
    changed = await control.set_plugin(settings_url="http://127.0.0.1:9/s?lang=en")
    assert changed["settings_url"] == "http://127.0.0.1:9/s?lang=en"
    assert changed["action_url"] == entry["action_url"]  # the others stay
    sites = {s["website_id"]: s for s in await control.websites()}
    assert sites["site-b"]["settings_page"] == (
        f"http://127.0.0.1:9/s?lang=en&website_id=site-b&token={token}"
    )
    cleared = await control.clear_plugin("settings_schema")
    assert cleared["settings_schema"] is None
    await control.save_settings("site-a", {"anything": [1, 2]})  # no schema, no check
    assert market.store.websites["site-a"].settings == {"anything": [1, 2]}
    cleared = await control.clear_plugin()
    assert [cleared[k] for k in ("settings_url", "action_url", "widget_schema")] == [None] * 3


def test_the_constructor_refuses_a_bad_entry() -> None:
    with pytest.raises(ValueError, match="settings_schema"):
        Sandbox(settings_schema={"type": "object", "properties": {"a": {"type": "text"}}})
    with pytest.raises(ValueError, match="action_url"):
        Sandbox(action_url="not a url")


async def test_install_and_uninstall_fire_the_subscription_event(market: Sandbox) -> None:
    await market.control.uninstall("site-a")
    await market.control.install("site-a")
    events = [e["data"] for e in market.bus.events(event="plugin:subscription:updated")]
    assert [(e["website_id"], e["bound"]) for e in events] == [
        ("site-a", False),
        ("site-a", True),
    ]
    assert all(e["plugin_id"] == market.plugin_id and e["target"] for e in events)


async def test_the_cli_registers_the_plugin(tmp_path: Path) -> None:
    schema = tmp_path / "settings.json"
    schema.write_text(json.dumps({"type": "object", "properties": {"a": {"type": "integer"}}}))
    widget = tmp_path / "widget.json"
    widget.write_text(json.dumps(WIDGET))
    proc, banner = await start(
        "--settings-url",
        "http://127.0.0.1:9/settings",
        "--action-url",
        "http://127.0.0.1:9/action",
        "--settings-schema",
        str(schema),
        "--widget-schema",
        str(widget),
    )
    try:
        assert "dashboard    http://127.0.0.1:" in banner
        url = banner.split("control API  ")[1].split("/_sandbox/info")[0]
        async with aiohttp.ClientSession() as http, http.get(url + "/_sandbox/plugin") as resp:
            entry = await resp.json()
        assert entry["settings_url"] == "http://127.0.0.1:9/settings"
        assert entry["action_url"] == "http://127.0.0.1:9/action"
        assert entry["settings_schema"]["properties"]["a"] == {"type": "integer"}
        assert entry["widget_schema"] == WIDGET
    finally:
        await stop(proc)


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--settings-url", "localhost:9"], "is not an http(s) URL"),
        (["--settings-schema", "/nonexistent/schema.json"], "cannot read"),
        (["--widget-schema", "BAD"], "is not JSON"),
        (["--settings-schema", "LIST"], "should hold a JSON object"),
        (["--settings-schema", "ARRAY_SCHEMA"], "describe an object"),
    ],
)
async def test_the_cli_refuses_bad_plugin_flags(
    tmp_path: Path, flags: list[str], says: str
) -> None:
    files = {
        "BAD": ("bad.json", "{not json"),
        "LIST": ("list.json", "[1, 2]"),
        "ARRAY_SCHEMA": ("array.json", '{"type": "array"}'),
    }
    args = []
    for flag in flags:
        if flag in files:
            name, text = files[flag]
            (tmp_path / name).write_text(text)
            flag = str(tmp_path / name)
        args.append(flag)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "crisp_plugin",
        "sandbox",
        "--port",
        "0",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 15)
    assert proc.returncode == 2, (out, err)
    assert says in err.decode()


async def test_tokens_stay_out_of_reprs_and_info_names_the_dashboard(market: Sandbox) -> None:
    site = market.store.websites["site-a"]
    assert site.token not in repr(site)
    action = ActionRequest(
        website_id="site-a",
        session_id="s",
        token=site.token,
        section_id="main",
        item_id="canned",
        action="button",
    )
    assert site.token not in repr(action) and "canned" in repr(action)
    info = await market.control.info()
    assert info["dashboard_url"] == market.dashboard_url == market.url + "/dashboard"
    assert market.key not in json.dumps(info) and market.secret not in json.dumps(info)
    async with aiohttp.ClientSession() as http, http.get(market.dashboard_url) as resp:
        assert resp.status == 200 and "text/html" in resp.headers["Content-Type"]
        assert "/static/dashboard.js" in await resp.text()
