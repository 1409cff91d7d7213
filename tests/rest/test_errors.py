"""Error answers become typed exceptions; secrets never leak into them or the logs."""

from __future__ import annotations

import socket

import pytest
import structlog

from crisp_plugin.errors import (
    APIError,
    InvalidData,
    NotAllowed,
    NotFound,
    NotSubscribed,
    RateLimited,
    RequestTimeout,
    RestrictedRouteTier,
    ServerError,
    TransportError,
    Unauthorized,
)
from crisp_plugin.rest import RestClient, RetryPolicy
from tests.rest.conftest import StubCrisp

KEY = "super-secret-token-key"
NO_RETRY = RetryPolicy(max_retries=0)


def envelope(reason: str, message: str = "") -> dict[str, object]:
    return {"error": True, "reason": reason, "data": {"message": message}}


@pytest.mark.parametrize(
    ("status", "reason", "cls"),
    [
        (400, "invalid_data", InvalidData),
        (404, "not_found", NotFound),
        (404, "not_subscribed", NotSubscribed),
        (401, "invalid_session", Unauthorized),
        (401, "unauthorized", Unauthorized),
        (403, "restricted_route_tier", RestrictedRouteTier),
        (403, "not_allowed", NotAllowed),
        (429, "rate_limited", RateLimited),
        (420, "rate_limited", RateLimited),
        (500, "error", ServerError),
        (418, "teapot", APIError),
    ],
)
async def test_each_reason_has_its_exception(
    stub: StubCrisp, status: int, reason: str, cls: type[APIError]
) -> None:
    stub.answer(status, envelope(reason, "data.type should be equal to one of the allowed values"))
    async with RestClient("ident", KEY, api_url=stub.url, retry=NO_RETRY) as rest:
        with pytest.raises(cls) as info:
            await rest.send_message("w", "s", "hi")
    err = info.value
    assert type(err) is cls
    assert (err.status, err.reason) == (status, reason)
    assert err.message == "data.type should be equal to one of the allowed values"
    assert (err.method, err.path) == ("POST", "/v1/website/w/conversation/s/message")
    assert "POST /v1/website/w/conversation/s/message" in str(err)
    assert KEY not in str(err) and KEY not in repr(err)


async def test_html_502_becomes_server_error(stub: StubCrisp) -> None:
    stub.answer(
        502,
        "<html><body>Bad gateway</body></html>",
        headers={"Content-Type": "text/html"},
        raw=True,
    )
    async with RestClient("i", KEY, api_url=stub.url, retry=NO_RETRY) as rest:
        with pytest.raises(ServerError) as info:
            await rest.get_conversation("w", "s")
    assert info.value.status == 502
    assert "not Crisp JSON (text/html" in info.value.message


async def test_head_errors_are_typed_by_status(stub: StubCrisp) -> None:
    stub.answer(404, envelope("not_found"))
    async with RestClient("i", KEY, api_url=stub.url, retry=NO_RETRY) as rest:
        with pytest.raises(NotFound) as info:
            await rest.website.check_conversation_exists("w", "s")
    assert info.value.reason == "not_found"


async def test_rate_limited_carries_retry_after(stub: StubCrisp) -> None:
    stub.answer(429, envelope("rate_limited"), headers={"Retry-After": "7"})
    async with RestClient("i", KEY, api_url=stub.url, retry=NO_RETRY) as rest:
        with pytest.raises(RateLimited) as info:
            await rest.get_conversation("w", "s")
    assert info.value.retry_after == 7.0


async def test_connection_refused_is_transport_error() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    async with RestClient("i", KEY, api_url=url, retry=NO_RETRY) as rest:
        with pytest.raises(TransportError) as info:
            await rest.get_conversation("w", "s")
    assert not isinstance(info.value, RequestTimeout)
    assert info.value.method == "GET" and KEY not in str(info.value)


async def test_slow_answer_is_request_timeout(stub: StubCrisp) -> None:
    stub.answer(200, {"session_id": "s"}, delay=0.5)
    async with RestClient("i", KEY, api_url=stub.url, timeout=0.1, retry=NO_RETRY) as rest:
        with pytest.raises(RequestTimeout, match=r"no answer within 0\.1s"):
            await rest.get_conversation("w", "s")


async def test_key_never_in_repr_or_logs(stub: StubCrisp) -> None:
    stub.answer(500, envelope("error", "boom"))
    stub.answer(200, {"session_id": "s"})
    policy = RetryPolicy(max_retries=2, base_delay=0.001, max_delay=0.001)
    with structlog.testing.capture_logs() as logs:
        async with RestClient("ident", KEY, api_url=stub.url, retry=policy) as rest:
            text = repr(rest) + repr(rest.website) + str(vars(rest).keys())
            await rest.get_conversation("w", "s")
    assert "ident" in repr(rest)
    assert KEY not in text
    assert logs and logs[0]["event"] == "rest.retry"
    assert KEY not in repr(logs)
    import base64

    assert base64.b64encode(f"ident:{KEY}".encode()).decode() not in repr(logs)
