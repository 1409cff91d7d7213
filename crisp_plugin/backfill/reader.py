"""The REST reads of a recovery, each one counted against its :class:`CallBudget`.

- :meth:`WindowReader.websites`: the websites that installed the plugin
  (``GET /v1/plugin/connect/websites/all/{page}``, plugin tier).
- :meth:`WindowReader.conversations`: a website's conversations updated since the
  window's start (``GET /v1/website/{w}/conversations/{page}`` with
  ``order_date_updated=1`` and ``per_page=50``), newest first, page after page until a
  page is short or reaches past the window. No ``filter_date_start`` is sent: Crisp does
  not say which date it filters on, and were it the creation date, an old conversation
  written to in the window would be left out; ordered by update, the first conversation
  older than the window ends the listing at the same cost.
- :meth:`WindowReader.messages`: a conversation's messages stamped after the window's
  start (``GET .../conversation/{s}/messages?timestamp_after=``), oldest first.

How Crisp pages the messages route is only partly documented: a batch is cut when more
messages match (Crisp answers 206 then, which the REST client does not pass on), and
older ones are read with ``timestamp_before``. Which end of the window a cut batch
keeps is not said, so a batch of :data:`FULL_PAGE` or more is read on from both ends
(back with ``timestamp_before`` within the window, forward with ``timestamp_after``
from its newest millisecond) until nothing new comes: whichever way the server pages,
nothing in the window is skipped, and a batch shorter than any page Crisp serves
costs one call. Once a conversation has shown which way the server pages (only one
direction brought new messages), the other is not tried for the rest of the recovery.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from crisp_plugin.backfill.budget import CallBudget
from crisp_plugin.rest.core import quote_segment

__all__ = [
    "CONVERSATIONS_PER_PAGE",
    "FULL_PAGE",
    "ListedConversation",
    "RestReader",
    "WindowReader",
    "iso_ms",
]

FULL_PAGE = 20
"""A messages batch this long may be cut (the smallest page Crisp is seen to serve)."""
CONVERSATIONS_PER_PAGE = 50
"""The largest conversations page Crisp serves (``per_page`` is 20 to 50)."""
MAX_PAGES = 50
"""Pages one listing reads at most (a runaway server cannot spin a recovery)."""


class RestReader(Protocol):
    """The one REST call recovery makes (the plugin's :class:`~crisp_plugin.rest.RestClient`:
    its retries, rate limit and daily quota apply)."""

    async def request(
        self, method: str, path: str, *, query: Mapping[str, Any] | None = None
    ) -> Any: ...


@dataclass(frozen=True, slots=True)
class ListedConversation:
    """A conversation updated in the window."""

    website_id: str
    session_id: str
    updated_at: int | None
    inbox_id: str | None = None


def iso_ms(ms: int) -> str:
    """ISO 8601 in UTC with milliseconds, as Crisp's date filters take it."""
    stamp = datetime.fromtimestamp(ms / 1000, UTC)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class WindowReader:
    """REST reads for one recovery; every call is taken from ``budget`` first."""

    def __init__(self, rest: RestReader, budget: CallBudget) -> None:
        self._rest = rest
        self.budget = budget
        self.pages: Literal["back", "forward"] | None = None
        """Which way the server pages a cut batch, once a conversation showed it."""

    async def _get(self, path: str, query: Mapping[str, Any] | None = None) -> Any:
        self.budget.take()
        return await self._rest.request("GET", path, query=query)

    async def websites(self) -> list[str]:
        """Every website that installed the plugin."""
        found: list[str] = []
        for page in range(1, MAX_PAGES + 1):
            data = await self._get(f"/v1/plugin/connect/websites/all/{page}")
            if not isinstance(data, list) or not data:
                break
            for item in data:
                if isinstance(item, Mapping) and isinstance(item.get("website_id"), str):
                    found.append(item["website_id"])
        return list(dict.fromkeys(found))

    async def conversations(self, website_id: str, since_ms: int) -> list[ListedConversation]:
        """The conversations of ``website_id`` updated at or after ``since_ms``.

        Pages are read by number while conversations keep being updated: one updated
        after its page was read moves to the front, onto a page already read, and the
        pages after it shift back by one. So when the listing took more than one page,
        the front is read again, page after page until one holds a conversation already
        found: those that moved are found at the cost of a call (more only when over a
        page of them moved)."""
        found: dict[str, ListedConversation] = {}
        pages = await self._list(website_id, since_ms, found, stop_at_known=False)
        if pages > 1:
            await self._list(website_id, since_ms, found, stop_at_known=True)
        return list(found.values())

    async def _list(
        self,
        website_id: str,
        since_ms: int,
        found: dict[str, ListedConversation],
        *,
        stop_at_known: bool,
    ) -> int:
        """Read pages into ``found`` until one is short or reaches past the window (or,
        with ``stop_at_known``, holds one already found: those that moved up are all
        ahead of it); how many pages were read."""
        base = f"/v1/website/{quote_segment(website_id)}/conversations/"
        query = {"order_date_updated": 1, "per_page": CONVERSATIONS_PER_PAGE}
        for page in range(1, MAX_PAGES + 1):
            data = await self._get(f"{base}{page}", query)
            if not isinstance(data, list) or not data:
                return page
            older = known = False
            for item in data:
                if not isinstance(item, Mapping) or not isinstance(item.get("session_id"), str):
                    continue
                updated = _int(item.get("updated_at"))
                if updated is not None and updated < since_ms:
                    older = True  # past the window
                    continue
                session = item["session_id"]
                if session in found:
                    known = True
                    continue
                inbox = item.get("inbox_id")
                found[session] = ListedConversation(
                    website_id, session, updated, inbox if isinstance(inbox, str) else None
                )
            if older or len(data) < CONVERSATIONS_PER_PAGE or (stop_at_known and known):
                return page
        return MAX_PAGES

    async def messages(
        self, website_id: str, session_id: str, after_ms: int
    ) -> list[Mapping[str, Any]]:
        """The messages of a conversation stamped after ``after_ms``, oldest first (in
        timestamp order; those without a fingerprint or a timestamp are left out)."""
        path = (
            f"/v1/website/{quote_segment(website_id)}/conversation/"
            f"{quote_segment(session_id)}/messages"
        )
        kept: dict[int, Mapping[str, Any]] = {}

        def add(batch: Any) -> tuple[int, int | None, int | None]:
            """Keep the new messages of ``batch``: (new, oldest, newest stamp)."""
            new, oldest, newest = 0, None, None
            for item in batch if isinstance(batch, list) else ():
                if not isinstance(item, Mapping):
                    continue
                fingerprint, stamp = _int(item.get("fingerprint")), _int(item.get("timestamp"))
                if fingerprint is None or stamp is None or stamp <= after_ms:
                    continue
                oldest = stamp if oldest is None else min(oldest, stamp)
                newest = stamp if newest is None else max(newest, stamp)
                if fingerprint not in kept:
                    kept[fingerprint] = item
                    new += 1
            return new, oldest, newest

        first = await self._get(path, {"timestamp_after": after_ms})
        _, oldest, newest = add(first)
        if not isinstance(first, list) or len(first) < FULL_PAGE:
            return _in_order(kept)
        went_back = went_on = False
        back = oldest
        for _ in range(MAX_PAGES if self.pages != "forward" else 0):  # older, in the window
            if back is None:
                break
            # that millisecond included: a batch cut inside it loses nothing
            batch = await self._get(
                path, {"timestamp_after": after_ms, "timestamp_before": back + 1}
            )
            new, batch_oldest, _ = add(batch)
            if not new or batch_oldest is None or batch_oldest >= back:
                break
            went_back, back = True, batch_oldest
            if not isinstance(batch, list) or len(batch) < FULL_PAGE:
                break
        forward = newest
        for _ in range(MAX_PAGES if self.pages != "back" else 0):  # newer ones
            if forward is None:
                break
            batch = await self._get(path, {"timestamp_after": forward - 1})
            new, _, batch_newest = add(batch)
            if not new or batch_newest is None:
                break
            went_on, forward = True, batch_newest
            if not isinstance(batch, list) or len(batch) < FULL_PAGE:
                break
        if self.pages is None and went_back != went_on:
            self.pages = "back" if went_back else "forward"  # the other way is not tried again
        return _in_order(kept)


def _in_order(kept: Mapping[int, Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return sorted(kept.values(), key=lambda m: (m["timestamp"], m["fingerprint"]))
