"""``Inbox``: where an accepted event is kept until its handlers finished.

Between the transports and the dispatcher. ``put`` keeps an event (with its dedupe
key); the dispatcher queues it once it is kept, and calls ``done`` when its handlers
finished. A durable inbox (SQLite, Redis) keeps it across a crash: the web hook is
answered 200 only once the event is stored, and on start-up ``open`` hands back what was
pending, to be handled first, in order, with the dedupe keys and the fingerprints of
the messages the plugin sent, so a restart neither re-runs what was done nor forgets
its own echoes. The memory inbox keeps nothing: at most once on a crash.

Keys are stable 64-bit digests (:func:`stable_key`), the same in every process.
"""

from __future__ import annotations

import asyncio
import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = ["Entry", "Inbox", "InboxUnavailable", "Recovered", "stable_key"]


class InboxUnavailable(Exception):
    """The inbox could not keep an event (disk full, Redis down...): refuse it (503)."""


def stable_key(key: Hashable) -> int:
    """A 63-bit digest of ``key`` that every process computes alike (``hash()`` of a
    string changes between runs)."""
    digest = hashlib.blake2b(repr(key).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


@dataclass(slots=True)
class Entry:
    """One kept event."""

    id: int | str  # the inbox's own id (a row id, a stream entry id)
    name: str
    payload: dict[str, Any]
    source: str = "direct"
    redelivery: bool = False
    event: object = None
    """The typed event the dispatcher made of it, while this process holds the entry:
    a routing inbox that hands back what this instance put passes it on, and the event
    is not parsed twice."""


@dataclass(slots=True)
class Recovered:
    """What a durable inbox hands back on opening."""

    pending: list[Entry] = field(default_factory=list)
    dedupe_keys: list[int] = field(default_factory=list)
    sent_keys: list[int] = field(default_factory=list)


class Inbox(ABC):
    """Keeps accepted events until done. Subclass for a backend."""

    durable: ClassVar[bool] = False
    keeps: ClassVar[bool] = True
    """False when ``put`` keeps nothing and ``done`` has nothing to forget (memory): the
    dispatcher then makes no entry for an event."""
    routes: ClassVar[bool] = False
    """True when what is put comes back through ``deliver``, on whichever instance owns
    its conversation (Redis); False when the instance that put it handles it (the
    dispatcher queues it once stored)."""
    name: ClassVar[str] = "inbox"

    async def open(self, deliver: Callable[[Entry], None]) -> Recovered:
        """Open the storage; what was pending (and the keys to remember). A routing
        inbox hands its entries to ``deliver`` from then on."""
        return Recovered()

    @abstractmethod
    def put(self, entry: Entry, dedupe_key: int | None) -> asyncio.Future[None] | None:
        """Keep ``entry``; ``None`` when it is kept already (memory), else a future done
        once it is stored (``InboxUnavailable`` when it could not be)."""

    def done(self, entry: Entry) -> None:  # noqa: B027 (nothing to do when nothing is kept)
        """The entry's handlers finished: it need not be kept any more."""

    def sent(self, key: int) -> None:  # noqa: B027
        """Remember the (stable) key of a message the plugin sent, for its echo."""

    async def was_sent(self, key: int) -> bool:
        """True when the message of ``key`` was sent by any instance (a shared inbox
        knows what the others sent; a local one only what ``sent`` was told here)."""
        return False

    def stop_delivering(self) -> None:  # noqa: B027
        """A drain began: a routing inbox hands over nothing more (what it did not hand
        over stays for the next owner)."""

    def current(self, entry: Entry) -> bool:
        """False when this instance may no longer act on ``entry`` (its partition's
        lease ran out or was taken: another instance handles it now)."""
        return True

    def fenced(self, entry: Entry) -> None:  # noqa: B027
        """``entry`` was not run, ``current`` being False: whoever reads its partition
        next (this instance again, if its lease turns out to be still held) hands it
        over anew."""

    @property
    def depth(self) -> int:
        """Entries kept and not done."""
        return 0

    @property
    def oldest_age(self) -> float:
        """Seconds the oldest entry not done has waited (0 when none)."""
        return 0.0

    @property
    def healthy(self) -> bool:
        """False while the storage refuses writes (the next success clears it)."""
        return True

    async def close(self) -> None:  # noqa: B027
        """Write what is still buffered and release the storage. Idempotent."""
