"""Verified sends: the retry decisions one by one, then scripted lost answers.

The decisions (retry.py) are pure functions; the scripted server (``stub``) then plays
each path a send can take: the answer lost and the message there, not there, a check
that fails, a resend refused as a copy, a listing read back batch by batch.
"""

from __future__ import annotations

import socket
import time
import types
from typing import Any

import aiohttp
import pytest
import structlog

from crisp_plugin.errors import (
    APIError,
    InvalidData,
    NotFound,
    QuotaExceeded,
    RateLimited,
    RequestTimeout,
    ServerError,
    TransportError,
    Unauthorized,
)
from crisp_plugin.observer import Observer
from crisp_plugin.rest import RestClient, RetryPolicy
from crisp_plugin.rest.retry import (
    Inconclusive,
    SendStep,
    check_failure,
    next_send_step,
    send_failure,
)
from crisp_plugin.rest.sends import WINDOW_MS
from tests.rest.conftest import StubCrisp

FAIL_500 = {"error": True, "reason": "error", "data": {"message": "boom"}}
FAIL_429 = {"error": True, "reason": "rate_limited", "data": {}}
FAIL_409 = {"error": True, "reason": "conflict", "data": {"message": "taken"}}
FP = 2**52 + 12345
MESSAGE = "/v1/website/w/conversation/s/message"
MESSAGES = MESSAGE + "s"


def now_ms() -> int:
    return int(time.time() * 1000)


def listed(*fingerprints: int, at: int | None = None) -> list[dict[str, Any]]:
    stamp = now_ms() if at is None else at
    return [
        {"fingerprint": f, "timestamp": stamp + i, "type": "text"}
        for i, f in enumerate(fingerprints)
    ]


def flows(stub: StubCrisp) -> list[str]:
    return [f"{s.method} {s.path}" for s in stub.seen]


def tls_error() -> TransportError:
    error = TransportError("TLS failure", never_sent=True)
    key = types.SimpleNamespace(host="crisp.example", port=443, ssl=True)
    error.__cause__ = aiohttp.ClientSSLError(key, OSError("bad certificate"))  # type: ignore[arg-type]
    return error


# -- the decisions -------------------------------------------------------------------


def test_send_failures_are_classified_by_what_crisp_may_have_done() -> None:
    assert send_failure(RateLimited(429, "rate_limited")) == "refused"
    assert send_failure(RateLimited(420, "rate_limited")) == "refused"
    assert send_failure(TransportError("refused", never_sent=True)) == "unsent"
    assert send_failure(RequestTimeout("no connection", never_sent=True)) == "unsent"
    assert send_failure(RequestTimeout("no answer")) == "unknown"
    assert send_failure(TransportError("reset after sending")) == "unknown"
    assert send_failure(ServerError(500, "error")) == "unknown"
    assert send_failure(ServerError(502, "invalid_response")) == "unknown"
    assert send_failure(ServerError(200, "invalid_response")) == "unknown"  # 2xx, not JSON
    assert send_failure(tls_error()) == "final"
    assert send_failure(InvalidData(400, "invalid_data")) == "final"
    assert send_failure(Unauthorized(401, "invalid_session")) == "final"
    assert send_failure(QuotaExceeded("used up")) == "final"
    # a 4xx on a resend, after an attempt whose answer was lost: maybe a refused copy
    assert send_failure(InvalidData(409, "conflict"), resent=True) == "copy_refused"
    assert send_failure(NotFound(404, "not_found"), resent=True) == "copy_refused"
    assert send_failure(QuotaExceeded("used up"), resent=True) == "final"


def test_check_failures_are_retried_unless_final() -> None:
    assert check_failure(RateLimited(429, "rate_limited")) == "check_refused"
    assert check_failure(ServerError(503, "error")) == "check_failed"
    assert check_failure(RequestTimeout("no answer")) == "check_failed"
    assert check_failure(TransportError("refused", never_sent=True)) == "check_failed"
    assert check_failure(Inconclusive("no timestamps")) == "check_failed"
    assert check_failure(tls_error()) == "check_final"
    assert check_failure(NotFound(404, "not_found")) == "check_final"
    assert check_failure(QuotaExceeded("used up")) == "check_final"


def test_next_step_waits_spend_the_budget_and_a_miss_resends_at_once() -> None:
    policy = RetryPolicy(max_retries=2, base_delay=0.1, max_delay=0.1, rate_limited_delay=0.5)
    step = next_send_step("unknown", 0, policy)
    assert step.action == "check" and step.spends and 0 <= step.delay <= 0.1
    assert next_send_step("absent", 2, policy) == SendStep("send")  # free, even at the end
    assert next_send_step("copy_refused", 2, policy) == SendStep("check")
    assert next_send_step("check_failed", 1, policy).action == "check"
    refused = next_send_step("refused", 0, policy)
    assert refused.action == "send" and refused.delay >= 0.5  # a 429: no check needed
    assert next_send_step("unsent", 1, policy).action == "send"
    assert next_send_step("check_refused", 0, policy, retry_after=2.0).delay == 2.0
    for outcome in ("unknown", "check_failed", "refused", "unsent", "check_refused"):
        assert next_send_step(outcome, 2, policy).action == "raise"  # budget spent
    assert next_send_step("final", 0, policy).action == "raise"
    assert next_send_step("check_final", 0, policy).action == "raise"
    assert next_send_step("refused", 0, policy, retry_after=3600).action == "raise"


# -- scripted lost answers ---------------------------------------------------------------


async def test_lost_answer_and_the_message_is_there(
    stub: StubCrisp, fast_retry: RetryPolicy
) -> None:
    heard: list[int] = []

    class Sent(Observer):
        def message_sent(self, website_id: str, session_id: str, fingerprint: int) -> None:
            heard.append(fingerprint)

    stub.answer(500, FAIL_500)
    stub.answer(200, listed(1, FP, 2))
    async with RestClient("i", "k", api_url=stub.url, retry=fast_retry, observers=[Sent()]) as rest:
        with structlog.testing.capture_logs() as logs:
            sent = await rest.send_message("w", "s", "hi", fingerprint=FP)
    assert sent.fingerprint == FP and heard == [FP]
    assert flows(stub) == [f"POST {MESSAGE}", f"GET {MESSAGES}"]
    since = int(stub.seen[1].query.removeprefix("timestamp_after="))
    assert now_ms() - WINDOW_MS - 5000 < since <= now_ms() - WINDOW_MS  # from the send
    [retry] = [e for e in logs if e["event"] == "rest.retry"]
    assert retry["then"] == "check" and retry["status"] == 500 and retry["retry"] == 1
    [checked] = [e for e in logs if e["event"] == "rest.send_checked"]
    assert checked["found"] is True and checked["fingerprint"] == FP


async def test_lost_answer_and_not_there_resends_the_same_message(
    stub: StubCrisp, fast_retry: RetryPolicy
) -> None:
    stub.answer(502, FAIL_500)
    stub.answer(200, listed(1, 2))  # the visitor's message and another, not ours
    stub.answer(200, listed(2))  # from the newest on: nothing new, the window is read
    stub.answer(200, {"fingerprint": FP})
    async with RestClient("i", "k", api_url=stub.url, retry=fast_retry) as rest:
        sent = await rest.send_message("w", "s", "hi", fingerprint=FP)
    assert sent.fingerprint == FP
    assert flows(stub) == [
        f"POST {MESSAGE}",
        f"GET {MESSAGES}",
        f"GET {MESSAGES}",
        f"POST {MESSAGE}",
    ]
    assert stub.seen[0].json() == stub.seen[3].json()  # same body, same fingerprint


async def test_an_empty_conversation_proves_absence(
    stub: StubCrisp, fast_retry: RetryPolicy
) -> None:
    stub.answer(500, FAIL_500)
    stub.answer(200, [])
    stub.answer(200, {"fingerprint": FP})
    async with RestClient("i", "k", api_url=stub.url, retry=fast_retry) as rest:
        await rest.send_message("w", "s", "hi", fingerprint=FP)
    assert [s.method for s in stub.seen] == ["POST", "GET", "POST"]


async def test_a_check_that_fails_is_tried_again(stub: StubCrisp) -> None:
    policy = RetryPolicy(max_retries=4, base_delay=0.01, max_delay=0.01, rate_limited_delay=0.01)
    stub.answer(200, {"fingerprint": FP}, delay=0.3)  # the answer outlives the timeout
    stub.answer(500, FAIL_500)
    stub.answer(429, FAIL_429, headers={"Retry-After": "0"})
    stub.answer(200, listed(FP))
    async with RestClient("i", "k", api_url=stub.url, retry=policy, timeout=0.1) as rest:
        with structlog.testing.capture_logs() as logs:
            sent = await rest.send_message("w", "s", "hi", fingerprint=FP)
    assert sent.fingerprint == FP
    assert [s.method for s in stub.seen] == ["POST", "GET", "GET", "GET"]
    retries = [(e["error"], e["then"]) for e in logs if e["event"] == "rest.retry"]
    assert retries == [
        ("RequestTimeout", "check"),
        ("ServerError", "check"),
        ("RateLimited", "check"),
    ]


async def test_a_check_that_keeps_failing_raises_without_a_second_post(
    stub: StubCrisp, fast_retry: RetryPolicy
) -> None:
    stub.answer(500, FAIL_500)  # and every check after it
    async with RestClient("i", "k", api_url=stub.url, retry=fast_retry) as rest:
        with structlog.testing.capture_logs() as logs, pytest.raises(ServerError) as info:
            await rest.send_message("w", "s", "hi", fingerprint=FP)
    assert [s.method for s in stub.seen] == ["POST"] + ["GET"] * fast_retry.max_retries
    assert info.value.path == MESSAGE  # the send's error, not the check's
    assert any("may or may not be in the conversation" in n for n in info.value.__notes__)
    assert isinstance(info.value.__cause__, ServerError)  # the last check's
    [unconfirmed] = [e for e in logs if e["event"] == "rest.send_unconfirmed"]
    assert unconfirmed["fingerprint"] == FP


async def test_a_check_that_cannot_be_made_gives_up_at_once(
    stub: StubCrisp, fast_retry: RetryPolicy
) -> None:
    stub.answer(500, FAIL_500)
    stub.answer(404, {"error": True, "reason": "not_found", "data": {}})
    async with RestClient("i", "k", api_url=stub.url, retry=fast_retry) as rest:
        with pytest.raises(ServerError) as info:
            await rest.send_message("w", "s", "hi", fingerprint=FP)
    assert [s.method for s in stub.seen] == ["POST", "GET"]
    assert isinstance(info.value.__cause__, NotFound)


async def test_a_resend_refused_as_a_copy_is_checked_once_more(
    stub: StubCrisp, fast_retry: RetryPolicy
) -> None:
    # the first attempt lands only after the check read the conversation: its resend
    # is refused as a copy, and the last check finds the first
    stub.answer(500, FAIL_500)
    stub.answer(200, [])
    stub.answer(409, FAIL_409)
    stub.answer(200, listed(FP))
    async with RestClient("i", "k", api_url=stub.url, retry=fast_retry) as rest:
        sent = await rest.send_message("w", "s", "hi", fingerprint=FP)
    assert sent.fingerprint == FP
    assert [s.method for s in stub.seen] == ["POST", "GET", "POST", "GET"]


async def test_a_refused_copy_not_found_raises_the_refusal(
    stub: StubCrisp, fast_retry: RetryPolicy
) -> None:
    stub.answer(500, FAIL_500)
    stub.answer(200, [])
    stub.answer(409, FAIL_409)
    stub.answer(200, [])
    async with RestClient("i", "k", api_url=stub.url, retry=fast_retry) as rest:
        with pytest.raises(APIError) as info:
            await rest.send_message("w", "s", "hi", fingerprint=FP)
    assert info.value.status == 409
    assert [s.method for s in stub.seen] == ["POST", "GET", "POST", "GET"]


async def test_a_first_attempt_refused_is_not_checked(
    stub: StubCrisp, fast_retry: RetryPolicy
) -> None:
    stub.answer(409, FAIL_409)  # a caller's fingerprint the conversation already has
    async with RestClient("i", "k", api_url=stub.url, retry=fast_retry) as rest:
        with pytest.raises(APIError) as info:
            await rest.send_message("w", "s", "hi", fingerprint=FP)
    assert info.value.status == 409 and len(stub.seen) == 1


async def test_a_busy_conversation_is_read_batch_after_batch(
    stub: StubCrisp, fast_retry: RetryPolicy
) -> None:
    start = now_ms()
    stub.answer(500, FAIL_500)
    stub.answer(200, listed(*range(100, 140), at=start - 100))
    stub.answer(200, listed(139, *range(140, 179), at=start - 61))  # the newest again first
    stub.answer(200, [])
    stub.answer(200, {"fingerprint": FP})
    async with RestClient("i", "k", api_url=stub.url, retry=fast_retry) as rest:
        await rest.send_message("w", "s", "hi", fingerprint=FP)
    assert [s.method for s in stub.seen] == ["POST", "GET", "GET", "GET", "POST"]
    # each batch from the newest message of the one before, that millisecond included
    assert stub.seen[2].query == f"timestamp_after={start - 100 + 39 - 1}"
    assert stub.seen[3].query == f"timestamp_after={start - 61 + 39 - 1}"


async def test_a_listing_without_fingerprints_is_not_absence(
    stub: StubCrisp, fast_retry: RetryPolicy
) -> None:
    stub.answer(500, FAIL_500)
    stub.answer(200, [{"type": "text", "timestamp": now_ms()}])
    async with RestClient("i", "k", api_url=stub.url, retry=fast_retry) as rest:
        with pytest.raises(ServerError) as info:
            await rest.send_message("w", "s", "hi", fingerprint=FP)
    assert [s.method for s in stub.seen] == ["POST"] + ["GET"] * fast_retry.max_retries
    assert isinstance(info.value.__cause__, Inconclusive)


async def test_a_listing_that_settles_nothing_is_not_absence(
    stub: StubCrisp, fast_retry: RetryPolicy
) -> None:
    stub.answer(500, FAIL_500)
    stub.answer(200, [{"fingerprint": 1, "type": "text"}])  # no timestamp to page by
    async with RestClient("i", "k", api_url=stub.url, retry=fast_retry) as rest:
        with pytest.raises(ServerError) as info:
            await rest.send_message("w", "s", "hi", fingerprint=FP)
    assert [s.method for s in stub.seen] == ["POST"] + ["GET"] * fast_retry.max_retries
    assert isinstance(info.value.__cause__, Inconclusive)


async def test_a_connection_never_opened_is_resent_without_a_check(
    fast_retry: RetryPolicy,
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with RestClient("i", "k", api_url=f"http://127.0.0.1:{port}", retry=fast_retry) as rest:
        with structlog.testing.capture_logs() as logs, pytest.raises(TransportError) as info:
            await rest.send_message("w", "s", "hi")
    assert info.value.never_sent is True
    steps = [(e["retry"], e["then"]) for e in logs if e["event"] == "rest.retry"]
    assert steps == [(1, "send"), (2, "send"), (3, "send")]
    assert not any(e["event"] == "rest.send_checked" for e in logs)


async def test_checks_count_in_the_quota(stub: StubCrisp, fast_retry: RetryPolicy) -> None:
    stub.answer(500, FAIL_500)
    stub.answer(200, [])
    stub.answer(200, {"fingerprint": FP})
    async with RestClient("i", "k", api_url=stub.url, retry=fast_retry, daily_quota=4) as rest:
        await rest.send_message("w", "s", "hi", fingerprint=FP)
        assert rest.quota is not None and rest.quota.used == 3
        stub.answer(500, FAIL_500)
        stub.answers.pop(0)
        with pytest.raises(ServerError) as info:  # the check finds the quota used up
            await rest.send_message("w", "s", "again", fingerprint=FP + 1)
    assert isinstance(info.value.__cause__, QuotaExceeded)
    assert len(stub.seen) == 4


async def test_verification_off_is_the_plain_rule(stub: StubCrisp, fast_retry: RetryPolicy) -> None:
    stub.answer(500, FAIL_500)
    async with RestClient("i", "k", api_url=stub.url, retry=fast_retry, verify_sends=False) as rest:
        with pytest.raises(ServerError):
            await rest.send_message("w", "s", "hi")
    assert len(stub.seen) == 1 and "fingerprint" not in stub.seen[0].json()


async def test_a_check_tried_again_resumes_where_its_reads_stopped(
    stub: StubCrisp, fast_retry: RetryPolicy
) -> None:
    start = now_ms()
    stub.answer(500, FAIL_500)  # the send
    stub.answer(200, listed(1, 2, at=start))  # the check's first batch
    stub.answer(503, FAIL_500)  # its second read fails
    stub.answer(200, listed(2, at=start + 1))  # tried again: from the newest on, nothing new
    stub.answer(200, {"fingerprint": FP})
    async with RestClient("i", "k", api_url=stub.url, retry=fast_retry) as rest:
        await rest.send_message("w", "s", "hi", fingerprint=FP)
    assert [s.method for s in stub.seen] == ["POST", "GET", "GET", "GET", "POST"]
    assert stub.seen[2].query == stub.seen[3].query == f"timestamp_after={start + 1 - 1}"
