"""The official npm ``crisp-api`` client (11.3.0), unchanged, against the sandbox."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from crisp_plugin.sandbox import Sandbox
from crisp_plugin.signing import sign

NodeRunner = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


def creds(sb: Sandbox, **extra: Any) -> dict[str, Any]:
    return {"rest_host": sb.url, "identifier": sb.identifier, "key": sb.key, **extra}


async def test_rest_calls(sb: Sandbox, node: NodeRunner) -> None:
    website = sb.websites[0]
    session = await sb.control.create_conversation()
    out = await node("rest", creds(sb, website_id=website, session_id=session, text="Héllo 👋"))
    assert out["website"]["website_id"] == website
    fingerprint = out["sent"]["fingerprint"]
    assert isinstance(fingerprint, int)
    [message] = out["messages"]
    assert message["fingerprint"] == fingerprint and message["content"] == "Héllo 👋"
    assert out["account"] == {"plugin_id": sb.plugin_id}
    assert out["endpoints"]["socket"]["app"] == sb.relay_url
    assert out["invalid"]["code"] == 400 and out["invalid"]["message"] == "invalid_data"
    assert "data.type" in out["invalid"]["data"]["message"]
    assert out["unknown"]["code"] == 404 and out["unknown"]["message"] == "not_found"
    transcript = await sb.control.transcript(None, session)
    assert [m["content"] for m in transcript] == ["Héllo 👋"]


async def _visitor_message_over_relay(sb: Sandbox, node: NodeRunner, rtm_host: str | None) -> None:
    website = sb.websites[0]
    session = await sb.control.create_conversation()
    arg = creds(
        sb,
        control_url=sb.url + "/_sandbox",
        website_id=website,
        session_id=session,
        text="Is anyone there? ¿Sí? 🙂",
    )
    if rtm_host:
        arg["rtm_host"] = rtm_host
    out = await node("rtm", arg)
    assert out["authenticated"] is True
    data = out["data"]
    assert data is not None, "message:send never reached the npm client"
    assert out["elapsed_ms"] < 1000
    assert data["fingerprint"] == out["sent"]["fingerprint"]
    assert data["content"] == "Is anyone there? ¿Sí? 🙂"
    assert data["website_id"] == website and data["session_id"] == session
    [sub] = out["subscriptions"]
    assert sub["events"] == ["message:send"] and sub["tier"] == "plugin"


async def test_relay_with_set_rtm_host(sb: Sandbox, node: NodeRunner) -> None:
    await _visitor_message_over_relay(sb, node, sb.relay_url)


async def test_relay_through_endpoint_discovery(sb: Sandbox, node: NodeRunner) -> None:
    await _visitor_message_over_relay(sb, node, None)
    assert any(r["path"] == "/v1/plugin/connect/endpoints" for r in sb.requests)


async def test_verify_hook_accepts_sandbox_signatures(
    sb: Sandbox, node: NodeRunner, hook_deliveries: list[tuple[dict[str, str], bytes]]
) -> None:
    deliveries = []
    for headers, body in hook_deliveries:
        deliveries.append(
            {
                "body": body.decode("utf-8"),
                "timestamp": headers["X-Crisp-Request-Timestamp"],
                "signature": headers["X-Crisp-Signature"],
            }
        )
    # The same deliveries with one byte changed (in the content) must be refused.
    tampered = []
    for d in deliveries:
        body = d["body"].encode("utf-8")
        changed = body.replace(b'"content":"msg', b'"content":"Msg', 1)
        assert len(changed) == len(body) and changed != body
        tampered.append({**d, "body": changed.decode("utf-8")})
    # A timestamp other than the signed one is refused too.
    other_ts = [{**deliveries[0], "timestamp": str(int(deliveries[0]["timestamp"]) + 1)}]
    out = await node(
        "verify_hook", {"secret": sb.secret, "deliveries": deliveries + tampered + other_ts}
    )
    n = len(deliveries)
    assert out["results"][:n] == [True] * n
    assert out["results"][n:] == [False] * (n + 1)
    # And a body signed by our own signing module with a wrong secret is refused.
    d = deliveries[0]
    wrong = sign("not-the-secret", d["timestamp"], d["body"].encode())
    out = await node(
        "verify_hook", {"secret": sb.secret, "deliveries": [{**d, "signature": wrong}]}
    )
    assert out["results"] == [False]
