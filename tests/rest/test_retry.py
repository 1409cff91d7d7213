"""What is retried, how often, and with which delays (against a scripted server)."""

from __future__ import annotations

import email.utils
import socket
import time

import pytest
import structlog

from crisp_plugin.errors import RateLimited, RequestTimeout, ServerError, TransportError
from crisp_plugin.rest import RestClient, RetryPolicy, parse_retry_after
from tests.rest.conftest import StubCrisp

FAIL_500 = {"error": True, "reason": "error", "data": {"message": "boom"}}
FAIL_429 = {"error": True, "reason": "rate_limited", "data": {}}


async def test_get_500_retried_until_success(stub: StubCrisp, fast_retry: RetryPolicy) -> None:
    stub.answer(500, FAIL_500)
    stub.answer(503, FAIL_500)
    stub.answer(200, {"session_id": "s"})
    async with RestClient("i", "k", api_url=stub.url, retry=fast_retry) as rest:
        conv = await rest.get_conversation("w", "s")
    assert conv.session_id == "s"
    assert len(stub.seen) == 3


async def test_get_gives_up_after_max_retries(stub: StubCrisp, fast_retry: RetryPolicy) -> None:
    stub.answer(500, FAIL_500)
    async with RestClient("i", "k", api_url=stub.url, retry=fast_retry) as rest:
        with pytest.raises(ServerError):
            await rest.get_conversation("w", "s")
    assert len(stub.seen) == 1 + fast_retry.max_retries


@pytest.mark.parametrize("verb", ["POST", "PATCH"])
async def test_non_idempotent_500_not_retried(
    stub: StubCrisp, fast_retry: RetryPolicy, verb: str
) -> None:
    stub.answer(500, FAIL_500)
    async with RestClient("i", "k", api_url=stub.url, retry=fast_retry) as rest:
        with pytest.raises(ServerError):
            await rest.request(verb, "/v1/website/w/conversation/s/state", body={"state": "x"})
    assert len(stub.seen) == 1


async def test_post_429_retried_honouring_retry_after(stub: StubCrisp) -> None:
    stub.answer(429, FAIL_429, headers={"Retry-After": "0.3"})
    stub.answer(200, {"fingerprint": 5})
    policy = RetryPolicy(max_retries=2, base_delay=0.001, max_delay=0.001, rate_limited_delay=0)
    async with RestClient("i", "k", api_url=stub.url, retry=policy) as rest:
        start = time.monotonic()
        with structlog.testing.capture_logs() as logs:
            sent = await rest.send_message("w", "s", "hi")
        elapsed = time.monotonic() - start
    assert sent.fingerprint == 5
    assert len(stub.seen) == 2
    assert elapsed >= 0.3
    retry_log = [e for e in logs if e["event"] == "rest.retry"]
    assert retry_log[0]["status"] == 429 and retry_log[0]["method"] == "POST"
    assert retry_log[0]["delay"] >= 0.3


async def test_get_503_retried_honouring_retry_after(stub: StubCrisp) -> None:
    stub.answer(503, FAIL_500, headers={"Retry-After": "0.3"})
    stub.answer(200, {"session_id": "s"})
    policy = RetryPolicy(max_retries=2, base_delay=0.001, max_delay=0.001)
    async with RestClient("i", "k", api_url=stub.url, retry=policy) as rest:
        start = time.monotonic()
        conv = await rest.get_conversation("w", "s")
        elapsed = time.monotonic() - start
    assert conv.session_id == "s"
    assert len(stub.seen) == 2
    assert elapsed >= 0.3  # the server's "come back in 0.3 s", not a 1 ms backoff


async def test_retry_after_beyond_limit_raises_at_once(stub: StubCrisp) -> None:
    stub.answer(420, FAIL_429, headers={"Retry-After": "3600"})
    async with RestClient("i", "k", api_url=stub.url) as rest:
        with pytest.raises(RateLimited) as info:
            await rest.send_message("w", "s", "hi")
    assert info.value.retry_after == 3600 and len(stub.seen) == 1


async def test_post_retried_when_connection_never_opened(fast_retry: RetryPolicy) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with RestClient("i", "k", api_url=f"http://127.0.0.1:{port}", retry=fast_retry) as rest:
        with structlog.testing.capture_logs() as logs, pytest.raises(TransportError):
            await rest.send_message("w", "s", "hi")
    assert [e["retry"] for e in logs if e["event"] == "rest.retry"] == [1, 2, 3]


@pytest.mark.parametrize("verify_sends", [False, True])
async def test_post_not_resent_after_timeout(
    stub: StubCrisp, fast_retry: RetryPolicy, verify_sends: bool
) -> None:
    stub.answer(200, {"fingerprint": 1}, delay=0.3)
    async with RestClient(
        "i", "k", api_url=stub.url, timeout=0.1, retry=fast_retry, verify_sends=verify_sends
    ) as rest:
        with pytest.raises(TransportError):
            await rest.send_message("w", "s", "hi")
    # it may have been stored: never sent twice (a verified send only reads, and every
    # read timed out too)
    assert [s.method for s in stub.seen if s.method == "POST"] == ["POST"]
    assert len(stub.seen) == (1 + fast_retry.max_retries if verify_sends else 1)


def test_backoff_full_jitter_bounds() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0, rate_limited_delay=1.0)
    for retry in range(8):
        cap = min(4.0, 0.5 * 2**retry)
        assert all(0 <= policy.backoff(retry) <= cap for _ in range(50))
        assert all(policy.backoff(retry, limited=True) >= 1.0 for _ in range(20))
    assert policy.backoff(0, retry_after=9.0) == 9.0


def test_parse_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    now = time.time()
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert 28 <= (parse_retry_after(date, now=now) or 0) <= 31
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0


async def test_a_per_call_policy_replaces_the_clients(
    stub: StubCrisp, fast_retry: RetryPolicy
) -> None:
    stub.answer(500, FAIL_500)
    async with RestClient("i", "k", api_url=stub.url, retry=fast_retry) as rest:
        with pytest.raises(ServerError):
            await rest.request("GET", "/v1/website/w", retry=RetryPolicy(max_retries=0))
        assert len(stub.seen) == 1
        with pytest.raises(ServerError):
            await rest.request("GET", "/v1/website/w")
    assert len(stub.seen) == 2 + fast_retry.max_retries


async def test_transport_errors_say_whether_the_request_left(stub: StubCrisp) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    once = RetryPolicy(max_retries=0)
    async with RestClient("i", "k", api_url=f"http://127.0.0.1:{port}", retry=once) as rest:
        with pytest.raises(TransportError) as refused:
            await rest.request("POST", "/v1/website/w/conversation/s/state", body={})
    assert refused.value.never_sent is True
    stub.answer(200, {}, delay=0.3)
    async with RestClient("i", "k", api_url=stub.url, timeout=0.1, retry=once) as rest:
        with pytest.raises(RequestTimeout) as late:
            await rest.request("POST", "/v1/website/w/conversation/s/state", body={})
    assert late.value.never_sent is False  # it reached the server: it may have acted
