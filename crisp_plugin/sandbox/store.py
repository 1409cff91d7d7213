"""The sandbox's in-memory world: websites, conversations, messages, people, operators.

Plain dicts hold what the REST API returns, so answering is a lookup, not a
conversion. Nothing here does I/O or emits events: the REST and control layers
change the store, then tell the event bus.
"""

from __future__ import annotations

import itertools
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "JSON",
    "Conversation",
    "Store",
    "Website",
    "new_fingerprint",
    "now_ms",
]

JSON = dict[str, Any]

_counter = itertools.count()


def now_ms() -> int:
    """Milliseconds since the epoch, as Crisp stamps messages and events."""
    return int(time.time() * 1000)


def new_fingerprint() -> int:
    """A unique message id: an int below 2**53, so JavaScript reads it exactly."""
    return now_ms() * 1000 + next(_counter) % 1000


STATUS_OF_STATE = {"pending": 0, "unresolved": 1, "resolved": 2}


@dataclass
class Conversation:
    """One chat session of a website."""

    website_id: str
    session_id: str
    created_at: int = field(default_factory=now_ms)
    updated_at: int = field(default_factory=now_ms)
    state: str = "pending"
    assigned: str | None = None
    people_id: str | None = None
    meta: JSON = field(default_factory=dict)
    messages: list[JSON] = field(default_factory=list)
    by_fingerprint: dict[int, JSON] = field(default_factory=dict)
    unread_operator: int = 0
    unread_visitor: int = 0

    def add(self, message: JSON) -> None:
        self.messages.append(message)
        self.by_fingerprint[message["fingerprint"]] = message
        self.updated_at = message["timestamp"]

    def remove(self, fingerprint: int) -> bool:
        message = self.by_fingerprint.pop(fingerprint, None)
        if message is None:
            return False
        self.messages.remove(message)
        return True

    def to_json(self) -> JSON:
        """The conversation object the REST API returns."""
        last = self.messages[-1] if self.messages else None
        data: JSON = {
            "session_id": self.session_id,
            "website_id": self.website_id,
            "inbox_id": None,
            "people_id": self.people_id,
            "state": self.state,
            "status": STATUS_OF_STATE[self.state],
            "is_verified": False,
            "is_blocked": False,
            "availability": "offline",
            "active": {"now": False},
            "last_message": _excerpt(last) if last else "",
            "mentions": [],
            "participants": [],
            "compose": {},
            "unread": {"operator": self.unread_operator, "visitor": self.unread_visitor},
            "meta": self.meta_json(),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "waiting_since": self.created_at,
        }
        if last is not None:
            data["preview_message"] = {
                "type": last["type"],
                "from": last["from"],
                "excerpt": _excerpt(last),
                "fingerprint": last["fingerprint"],
            }
        if self.assigned:
            data["assigned"] = {"user_id": self.assigned}
        return data

    def meta_json(self) -> JSON:
        meta: JSON = {
            "nickname": "",
            "email": "",
            "phone": "",
            "address": "",
            "subject": "",
            "ip": "127.0.0.1",
            "avatar": "",
            "origin": "chat",
            "data": {},
            "segments": [],
        }
        meta.update(self.meta)
        return meta


def _excerpt(message: JSON) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content[:200]
    if isinstance(content, dict):
        return str(content.get("text") or content.get("name") or "")[:200]
    return ""


@dataclass
class Website:
    """A website, whether the plugin is installed on it, and its per-website data."""

    website_id: str
    name: str
    domain: str
    subscribed: bool = True
    settings: JSON = field(default_factory=dict)
    configured: bool = False  # settings saved at least once (websites/all filter_configured)
    token: str = field(default_factory=lambda: uuid.uuid4().hex, repr=False)
    installed_at: int = field(default_factory=now_ms)
    changed_at: int = field(default_factory=now_ms)
    conversations: dict[str, Conversation] = field(default_factory=dict)
    people: dict[str, JSON] = field(default_factory=dict)
    operators: list[JSON] = field(default_factory=list)

    def to_json(self) -> JSON:
        return {
            "website_id": self.website_id,
            "name": self.name,
            "domain": self.domain,
            "logo": "",
            "verified": True,
            "institutional": False,
        }


class Store:
    """Every website the sandbox knows, keyed by id."""

    def __init__(self, plugin_id: str, urn: str) -> None:
        self.plugin_id = plugin_id
        self.urn = urn
        self.websites: dict[str, Website] = {}

    def add_website(
        self, website_id: str | None = None, *, name: str | None = None, subscribed: bool = True
    ) -> Website:
        wid = website_id or str(uuid.uuid4())
        n = len(self.websites) + 1
        site = Website(
            website_id=wid,
            name=name or f"Sandbox website {n}",
            domain=f"site{n}.sandbox.local",
            subscribed=subscribed,
        )
        site.operators.append(
            {
                "user_id": str(uuid.uuid4()),
                "email": f"owner@site{n}.sandbox.local",
                "first_name": "Olivia",
                "last_name": "Owner",
                "role": "owner",
                "title": "Founder",
                "availability": "online",
            }
        )
        self.websites[wid] = site
        return site

    def new_conversation(self, site: Website, meta: JSON | None = None) -> Conversation:
        sid = "session_" + str(uuid.uuid4())
        conv = Conversation(website_id=site.website_id, session_id=sid)
        if meta:
            conv.meta.update(meta)
        site.conversations[sid] = conv
        return conv

    def clear(self) -> None:
        """Forget every conversation, message and person; keep websites and installs."""
        for site in self.websites.values():
            site.conversations.clear()
            site.people.clear()
