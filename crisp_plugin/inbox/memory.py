"""``MemoryInbox``: today's behaviour. The dispatcher's queues are the only copy: an
event is acknowledged once queued, and a crash (kill -9, OOM) loses what was queued or
running. At most once; see ``webhooks.ack = "handled"`` for at least once with no
storage (Crisp redelivers what was not answered)."""

from __future__ import annotations

import asyncio

from crisp_plugin.inbox.base import Entry, Inbox

__all__ = ["MemoryInbox"]


class MemoryInbox(Inbox):
    """Keeps nothing: ``put`` returns at once."""

    name = "memory"
    keeps = False

    def put(self, entry: Entry, dedupe_key: int | None) -> asyncio.Future[None] | None:
        return None
