"""A message sent once, through lost answers: the client's ``verify_sends``.

A POST is not idempotent, so the plain retry rules (retry.py) never send a message
again after a 5xx or a timeout: it may have been stored, and a second copy would reach
the visitor. Left there, every lost answer is a lost reply. A client with
``verify_sends`` (the default) does this instead, for every short form that sends a
message (``send_message``, ``send_note``, ``send_picker``, ``send_file``, and so
``event.reply`` and the other replies of a handler):

1. The message carries a ``fingerprint`` (Crisp's message id) chosen by the client,
   unless the caller gave one: a random integer in ``[2**52, 2**53)``. The wire says a
   fingerprint is a JSON number, and the official npm client types it ``number``: a
   JavaScript reader gets an integer exactly only below 2**53, so that is the ceiling;
   below it a fingerprint is also safe for any signed 64-bit reader. The sandbox takes
   any positive integer and makes its own from a millisecond clock times 1000 (about
   1.8e15 today, below 2**52), so the two never meet there; how Crisp makes its own is
   not documented. 52 random bits make two equal ones in a conversation a matter of
   chance (about 1e-8 for ten thousand messages); they come from ``secrets``, so
   forked workers do not repeat each other.
2. An attempt whose answer is lost (``unknown`` in retry.py: a 5xx, an answer that is
   not Crisp JSON, a timeout or a reset after the request left) is followed, after the
   policy's backoff, by a *check*: the conversation's messages stamped since the first
   attempt (``GET .../messages?timestamp_after=``, from ``WINDOW_MS`` before it, a
   margin for the two clocks; batch after batch) are read for the fingerprint. Found:
   the send returns it, no second POST. Proven absent (the window read to its end):
   the message is sent again, same body, same fingerprint. A check that fails
   (5xx, 429, timeout, a listing that does not settle it) is tried again after
   another backoff; nothing is ever sent again without a check that found nothing.
3. Every wait spends one retry of the client's :class:`RetryPolicy` (``max_retries``),
   as for any call: a send makes at most ``1 + max_retries`` POSTs and as many checks.
   429 / 420 and connections that never opened are retried as usual, without a check.
   Every attempt and every check is a REST call: each goes through the rate limiter
   and the daily quota, and observers hear of each.
4. When the budget runs out while the outcome is unknown, or a check cannot be made
   at all (a 4xx, the daily quota), the error of the attempt whose answer was lost is
   raised (``ServerError``, ``RequestTimeout``, ``TransportError``; the check's error
   as its cause) with a note saying the message may or may not be in the conversation.

When nothing fails, it costs nothing: one POST, as without it (the fingerprint is one
more body field). What it cannot rule out: an attempt that reached Crisp but is stored
only *after* the check read the conversation (a request still queued there when the
client timed out). Its resend carries the same fingerprint, so a Crisp that refuses a
fingerprint twice (the sandbox does, with 409) stores one copy; a resend refused with a
4xx is therefore checked once more, and returned as sent when the first copy is there.
Crisp's answer to a repeated fingerprint is not documented. And if Crisp ever answers
a send with a fingerprint other than the one chosen, it does not keep client
fingerprints: the client logs it once and stops verifying (a check could not find the
message), falling back to the plain rules.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import structlog

from crisp_plugin.errors import CrispError
from crisp_plugin.rest.retry import (
    CheckFailure,
    Inconclusive,
    RetryPolicy,
    SendFailure,
    check_failure,
    next_send_step,
    send_failure,
)

if TYPE_CHECKING:
    from crisp_plugin.rest.core import RestCore

__all__ = [
    "FINGERPRINT_MAX",
    "FINGERPRINT_MIN",
    "MAX_PAGES",
    "WINDOW_MS",
    "ReadCursor",
    "find_fingerprint",
    "new_fingerprint",
    "send_verified",
]

FINGERPRINT_MIN = 2**52
FINGERPRINT_MAX = 2**53 - 1
WINDOW_MS = 300_000
"""How far before the first attempt a check starts reading: a margin for the client's
and Crisp's clocks, which stamp the first attempt and the message."""
MAX_PAGES = 10
"""Batches one check reads at most before calling the listing inconclusive."""


_ONE_ATTEMPT = RetryPolicy(max_retries=0)
_log = structlog.get_logger("crisp_plugin.rest")


def new_fingerprint() -> int:
    """A random message fingerprint in ``[FINGERPRINT_MIN, FINGERPRINT_MAX]``."""
    return FINGERPRINT_MIN | secrets.randbits(52)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(slots=True)
class ReadCursor:
    """Where a check reads on from: messages stamped after ``after``, those in ``seen``
    already read. A check tried again after a failed read resumes from it."""

    after: int
    seen: set[int] = field(default_factory=set)


async def find_fingerprint(
    core: RestCore, messages_path: str, fingerprint: int, cursor: ReadCursor
) -> bool:
    """Whether the conversation at ``messages_path`` has a message ``fingerprint``
    among those stamped after ``cursor.after``; one attempt per batch read.

    Reads forward with ``timestamp_after``, then from the newest message of each batch
    (that millisecond included, so a batch cut inside it loses nothing; messages
    already seen are skipped). The message is absent when a batch is empty or holds
    nothing new. Raises what a read raised (``cursor`` keeps what was read), or
    ``Inconclusive`` when the answers cannot settle it (not a list, no fingerprints or
    timestamps, more than ``MAX_PAGES`` batches)."""
    for _ in range(MAX_PAGES):
        query = {"timestamp_after": cursor.after}
        batch = await core.request("GET", messages_path, query=query, retry=_ONE_ATTEMPT)
        if not batch:
            return False
        if not isinstance(batch, list):
            raise Inconclusive("the messages route did not answer a list")
        named = False
        fresh: set[int] = set()
        newest: int | None = None
        for item in batch:
            if not isinstance(item, Mapping):
                continue
            found = _int(item.get("fingerprint"))
            if found is None:
                continue
            if found == fingerprint:
                return True
            named = True
            if found not in cursor.seen:
                fresh.add(found)
            stamp = _int(item.get("timestamp"))
            if stamp is not None and (newest is None or stamp > newest):
                newest = stamp
        if not named:
            raise Inconclusive("the messages carry no fingerprints")
        if not fresh:
            return False  # nothing after what was read already
        if newest is None:
            raise Inconclusive("the messages carry no timestamp to read on from")
        cursor.seen |= fresh  # only a batch that moves the cursor counts as read
        cursor.after = max(cursor.after, newest - 1)
    raise Inconclusive(f"more than {MAX_PAGES} batches in one check")


async def send_verified(
    core: RestCore, message_path: str, body: Mapping[str, Any], started_ms: int | None = None
) -> Any:
    """POST ``body`` (which holds its ``fingerprint``) to ``message_path`` once, checking
    after every lost answer; returns the answer's ``data`` (``{"fingerprint": ...}``)."""
    fingerprint = body["fingerprint"]
    if started_ms is None:
        started_ms = int(time.time() * 1000)
    given = _int(body.get("timestamp"))
    since = min(started_ms, given if given is not None else started_ms) - WINDOW_MS
    messages_path = message_path + "s"
    policy = core.retry
    retries = 0
    unknown: BaseException | None = None  # the last attempt whose answer was lost
    refused_copy: BaseException | None = None
    cursor = ReadCursor(since)
    action = "send"
    while True:
        outcome: SendFailure | CheckFailure | None
        retry_after: float | None = None
        if action == "send":
            try:
                return await core.request("POST", message_path, body=body, retry=_ONE_ATTEMPT)
            except CrispError as exc:
                error: BaseException = exc
            outcome = send_failure(error, resent=unknown is not None)
            retry_after = getattr(error, "retry_after", None)
            if outcome == "unknown":
                unknown = error
                cursor = ReadCursor(since)  # a check after each lost answer reads afresh
            elif outcome == "copy_refused":
                refused_copy = error
        else:
            try:
                there = await find_fingerprint(core, messages_path, fingerprint, cursor)
            except (CrispError, Inconclusive) as exc:
                error = exc
                outcome = check_failure(error)
                retry_after = getattr(error, "retry_after", None)
                if refused_copy is not None:
                    raise refused_copy from error
            else:
                _log.info(
                    "rest.send_checked", path=message_path, fingerprint=fingerprint, found=there
                )
                if there:
                    return {"fingerprint": fingerprint}
                if refused_copy is not None:
                    raise refused_copy
                outcome = None
        step = next_send_step(outcome or "absent", retries, policy, retry_after)
        if step.action == "raise":
            if outcome in ("final", "refused", "unsent") or unknown is None:
                raise error
            _log.warning(
                "rest.send_unconfirmed",
                path=message_path,
                fingerprint=fingerprint,
                error=type(error).__name__,
                retries=retries,
            )
            unknown.add_note(
                f"message {fingerprint} may or may not be in the conversation: "
                f"its answer was lost and no check could tell ({type(error).__name__})"
            )
            if unknown is error:
                raise unknown
            raise unknown from error
        if step.spends:
            retries += 1
            _log.warning(
                "rest.retry",
                method="POST",
                path=message_path,
                error=type(error).__name__,
                status=getattr(error, "status", None),
                retry=retries,
                of=policy.max_retries,
                delay=round(step.delay, 3),
                then=step.action,
            )
            await asyncio.sleep(step.delay)
        action = step.action
