"""Widget actions posted to the plugin's Action URL, as Crisp posts them.

The body Crisp sends::

    {"origin": {"website_id", "session_id", "token"},
     "widget": {"section_id", "item_id"},
     "action": {"type": "data" | "button"},
     "payload": {"data": {...bound data}, "value": {<item_id>: input, ...}}}

as compact UTF-8 JSON, signed like a hook (``X-Crisp-Request-Timestamp``, ms, and
``X-Crisp-Signature``: crisp_plugin.signing over ``[timestamp;body]`` with the hook
secret; *assumed*: npm crisp-api's ``verifyWidget`` checks that HMAC, but which headers
carry it is not documented). ``token`` is the website's subscription token. A data item
is answered ``{"data": {"value": ...}}``, a button ``{}``.

Two ways in:

- ``post``: one attempt, its record returned (an operator's click on the dashboard);
- ``deliver``: what the deliver-widget REST routes start. It answers at once with a
  ``correlation_id`` and a ``strategy`` (``attempts``: how many tries, ``exhaustion``:
  seconds from the first try to the last: the hook retry budget in force, *assumed*),
  then posts with those retries and emits ``widget:action:processed`` with ``outcome``
  ``success`` (``result``: the answer) or ``failure`` (``result``: ``{status, error}``).

Every attempt is recorded in ``log`` (newest last): the URL, the exact body and
signature headers sent, the status, the answer or the error, the time taken. The hook
secret itself is never recorded.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import aiohttp

from ..signing import compact_json, sign
from .marketplace import PluginListing
from .store import JSON, now_ms

__all__ = ["ANSWER_LIMIT", "USER_AGENT", "ActionRequest", "WidgetActions"]

USER_AGENT = "crisp-plugin-sandbox widget actions"
ANSWER_LIMIT = 1_048_576
"""Bytes of an Action URL's answer the sandbox reads; more is an error."""

ActionType = Literal["data", "button"]


class RetryBudget(Protocol):
    """The hook retry budget (hooks.HookDeliverer), reused for delivered actions."""

    @property
    def attempt_limit(self) -> int: ...
    def retry_delay(self, attempt: int) -> float: ...
    @property
    def retry_window(self) -> float: ...


class Emitter(Protocol):
    async def emit(self, name: str, payload: JSON) -> None: ...


@dataclass(frozen=True)
class ActionRequest:
    """One widget action, as the fields of the body Crisp posts."""

    website_id: str
    session_id: str
    token: str = field(repr=False)
    section_id: str
    item_id: str
    action: ActionType
    data: JSON = field(default_factory=dict)
    value: JSON = field(default_factory=dict)

    def body(self) -> JSON:
        return {
            "origin": {
                "website_id": self.website_id,
                "session_id": self.session_id,
                "token": self.token,
            },
            "widget": {"section_id": self.section_id, "item_id": self.item_id},
            "action": {"type": self.action},
            "payload": {"data": self.data, "value": self.value},
        }


class WidgetActions:
    """Posts widget actions to the listing's Action URL; keeps a log of attempts."""

    def __init__(
        self,
        listing: PluginListing,
        secret: str,
        plugin_id: str,
        bus: Emitter,
        budget: RetryBudget,
        *,
        timeout: float = 5.0,
        log_size: int = 500,
    ) -> None:
        self.listing = listing
        self._secret = secret
        self.plugin_id = plugin_id
        self.bus = bus
        self.budget = budget
        self.timeout = timeout
        self.log: deque[JSON] = deque(maxlen=log_size)
        self._ids = itertools.count(1)
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        return f"<WidgetActions action_url={self.listing.action_url!r} posted={len(self.log)}>"

    async def start(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def idle(self) -> bool:
        """No delivered action is still being posted."""
        return not self._tasks

    async def wait_idle(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until every delivered action has ended (its event emitted)."""
        if self._tasks:
            async with asyncio.timeout(timeout):
                await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- one attempt -------------------------------------------------------------------

    async def post(
        self,
        request: ActionRequest,
        *,
        source: str = "dashboard",
        correlation_id: str | None = None,
        attempt: int = 1,
    ) -> JSON:
        """Post the action once; the record of the attempt (also appended to ``log``)."""
        url = self.listing.action_url
        body = request.body()
        raw = compact_json(body)
        timestamp = str(now_ms())
        headers = {
            "X-Crisp-Request-Timestamp": timestamp,
            "X-Crisp-Signature": sign(self._secret, timestamp, raw),
        }
        record: JSON = {
            "id": next(self._ids),
            "at": now_ms(),
            "source": source,
            "correlation_id": correlation_id,
            "attempt": attempt,
            "url": url,
            "request": {"headers": headers, "body": body},
            "status": None,
            "answer": None,
            "ok": False,
            "error": None,
            "ms": 0.0,
        }
        self.log.append(record)
        if url is None:
            record["error"] = "the plugin has no Action URL (PUT /_sandbox/plugin action_url)"
            return record
        if self._session is None:
            await self.start()
        assert self._session is not None
        started = time.monotonic()
        try:
            async with self._session.post(
                url,
                data=raw,
                headers={
                    **headers,
                    "Content-Type": "application/json; charset=utf-8",
                    "User-Agent": USER_AGENT,
                },
            ) as resp:
                record["status"] = resp.status
                text = await resp.content.read(ANSWER_LIMIT + 1)
            self._answer(record, request, text)
        except TimeoutError:
            record["error"] = f"the Action URL did not answer within {self.timeout:g} s"
        except aiohttp.ClientError as exc:
            record["error"] = f"could not reach the Action URL: {type(exc).__name__}: {exc}"
        record["ms"] = round((time.monotonic() - started) * 1000, 1)
        return record

    def _answer(self, record: JSON, request: ActionRequest, raw: bytes) -> None:
        status = record["status"]
        if len(raw) > ANSWER_LIMIT:
            record["error"] = f"the Action URL answered more than {ANSWER_LIMIT} bytes"
            return
        try:
            answer: Any = json.loads(raw) if raw.strip() else None
        except ValueError:
            answer = None
            record["answer"] = raw[:500].decode("utf-8", errors="replace")
        else:
            record["answer"] = answer
        if not 200 <= status < 300:
            record["error"] = f"the Action URL answered {status}"
            return
        if not isinstance(answer, dict):
            record["error"] = (
                f"the Action URL answered {status} without a JSON object "
                '(a data item is answered {"data": {"value": ...}}, a button {})'
            )
            return
        record["ok"] = True
        if request.action == "data":
            data = answer.get("data")
            if not isinstance(data, dict) or "value" not in data:
                record["note"] = "no data.value in the answer: the item shows nothing new"

    # -- delivered actions -------------------------------------------------------------

    def deliver(self, request: ActionRequest, *, inbox_id: str | None = None) -> JSON:
        """Start posting the action with retries; ``{correlation_id, strategy}`` at once."""
        correlation_id = str(uuid.uuid4())
        task = asyncio.get_running_loop().create_task(
            self._deliver(request, correlation_id, inbox_id)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return {
            "correlation_id": correlation_id,
            "strategy": {
                "attempts": self.budget.attempt_limit,
                "exhaustion": round(self.budget.retry_window, 3),
            },
        }

    async def _deliver(
        self, request: ActionRequest, correlation_id: str, inbox_id: str | None
    ) -> None:
        limit = self.budget.attempt_limit
        record: JSON = {}
        for attempt in range(1, limit + 1):
            record = await self.post(
                request, source="rest", correlation_id=correlation_id, attempt=attempt
            )
            if record["ok"] or self.listing.action_url is None:
                break
            if attempt < limit:
                await asyncio.sleep(self.budget.retry_delay(attempt))
        payload: JSON = {
            "website_id": request.website_id,
            "session_id": request.session_id,
            "inbox_id": inbox_id,
            "plugin_id": self.plugin_id,
            "correlation_id": correlation_id,
        }
        if record.get("ok"):
            payload["outcome"] = "success"
            payload["result"] = record["answer"]
        else:
            payload["outcome"] = "failure"
            payload["result"] = {"status": record.get("status"), "error": record.get("error")}
        await self.bus.emit("widget:action:processed", payload)
