"""Where the installations are kept between runs, and shared between instances.

The registry reads every installation from memory; a store only keeps them so that a
restart resyncs from Crisp with one ``websites/since`` call instead of listing every
website again, and, on Redis, so that N instances share one list: a change one
instance applies (an install event, a settings page save) is published, and every
other instance reads the changed row back.

- ``MemoryInstallationStore``: nothing survives the process (each start lists all).
- ``SqliteInstallationStore``: a table in the state's SQLite file (``state.path``).
- ``RedisInstallationStore``: the hash ``<prefix>:installations`` (website_id -> row
  JSON), ``<prefix>:installations-synced`` (the last sync, epoch seconds) and the
  channel ``<prefix>:installations-changed`` (the website_id of each change).

A row is ``{website_id, token, settings, plan}``: the token is a secret, kept where the
state is kept (the same trust as the conversations' state).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

if TYPE_CHECKING:
    from crisp_plugin.config import Config
    from crisp_plugin.redis_client import RedisLink

__all__ = [
    "InstallationStore",
    "MemoryInstallationStore",
    "RedisInstallationStore",
    "Row",
    "SqliteInstallationStore",
    "create_installation_store",
]

log = structlog.get_logger("crisp_plugin.marketplace")

Row = dict[str, Any]
Changed = Callable[[str, "Row | None"], Awaitable[None]]


class InstallationStore(ABC):
    """Keeps installation rows; see the module docstring."""

    @abstractmethod
    async def load(self) -> tuple[list[Row], float | None]:
        """Every row kept, and when the list was last synced with Crisp (epoch s)."""

    @abstractmethod
    async def save(self, row: Row) -> None:
        """Keep (or replace) one website's row."""

    @abstractmethod
    async def remove(self, website_id: str) -> None:
        """Forget one website."""

    @abstractmethod
    async def mark_synced(self, at: float) -> None:
        """Remember that the list matched Crisp at ``at``."""

    async def watch(self, changed: Changed) -> None:  # noqa: B027 (one instance: nothing to hear)
        """Call ``changed(website_id, row or None)`` for changes other instances make."""

    async def close(self) -> None:  # noqa: B027
        """Release what the store holds."""


class MemoryInstallationStore(InstallationStore):
    def __init__(self) -> None:
        self._rows: dict[str, Row] = {}
        self._synced: float | None = None

    async def load(self) -> tuple[list[Row], float | None]:
        return [dict(r) for r in self._rows.values()], self._synced

    async def save(self, row: Row) -> None:
        self._rows[str(row["website_id"])] = dict(row)

    async def remove(self, website_id: str) -> None:
        self._rows.pop(website_id, None)

    async def mark_synced(self, at: float) -> None:
        self._synced = at


_SCHEMA = """
CREATE TABLE IF NOT EXISTS crisp_installations (
    website_id TEXT PRIMARY KEY,
    row        TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS crisp_installations_synced (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    at  REAL NOT NULL
);
"""


class SqliteInstallationStore(InstallationStore):
    """Two tables in one SQLite file; each call runs in a worker thread."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._db: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()

    async def _run(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        async with self._lock:
            if self._db is None:
                self._db = await asyncio.to_thread(self._connect)
            return await asyncio.to_thread(work, self._db)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=5)
        if self.path != ":memory:":
            db.execute("PRAGMA journal_mode=WAL")
        db.executescript(_SCHEMA)
        return db

    async def load(self) -> tuple[list[Row], float | None]:
        def read(db: sqlite3.Connection) -> tuple[list[Row], float | None]:
            rows = []
            for website_id, text in db.execute("SELECT website_id, row FROM crisp_installations"):
                try:
                    rows.append(json.loads(text))
                except ValueError:
                    log.error("installations: an unreadable row was dropped", website_id=website_id)
            synced = db.execute("SELECT at FROM crisp_installations_synced").fetchone()
            return rows, (float(synced[0]) if synced else None)

        result: tuple[list[Row], float | None] = await self._run(read)
        return result

    async def save(self, row: Row) -> None:
        text = json.dumps(row, separators=(",", ":"))
        await self._run(
            lambda db: db.execute(
                "INSERT INTO crisp_installations (website_id, row) VALUES (?, ?) "
                "ON CONFLICT (website_id) DO UPDATE SET row = excluded.row",
                (str(row["website_id"]), text),
            )
        )

    async def remove(self, website_id: str) -> None:
        await self._run(
            lambda db: db.execute(
                "DELETE FROM crisp_installations WHERE website_id = ?", (website_id,)
            )
        )

    async def mark_synced(self, at: float) -> None:
        await self._run(
            lambda db: db.execute(
                "INSERT INTO crisp_installations_synced (one, at) VALUES (1, ?) "
                "ON CONFLICT (one) DO UPDATE SET at = excluded.at",
                (at,),
            )
        )

    async def close(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            await asyncio.to_thread(db.close)


class RedisInstallationStore(InstallationStore):
    """A hash of rows, the last sync time, and a channel of changes; see the module."""

    def __init__(self, link: RedisLink, *, origin: str) -> None:
        self.link = link
        self.origin = origin  # this instance: its own announcements are not read back
        self._hash = link.key("installations")
        self._synced = link.key("installations-synced")
        self._channel = link.key("installations-changed")
        self._listener: asyncio.Task[None] | None = None

    async def load(self) -> tuple[list[Row], float | None]:
        client: Any = self.link.client
        with self.link.failures("installations load"):
            values = await client.hvals(self._hash)
            synced = await client.get(self._synced)
        rows = []
        for text in values:
            try:
                rows.append(json.loads(text))
            except ValueError:
                log.error("installations: an unreadable row was dropped")
        return rows, (float(synced) if synced else None)

    async def save(self, row: Row) -> None:
        website_id = str(row["website_id"])
        client: Any = self.link.client
        with self.link.failures("installations save"):
            pipe = client.pipeline(transaction=True)
            pipe.hset(self._hash, website_id, json.dumps(row, separators=(",", ":")))
            pipe.publish(self._channel, f"{self.origin} {website_id}")
            await pipe.execute()

    async def remove(self, website_id: str) -> None:
        client: Any = self.link.client
        with self.link.failures("installations remove"):
            pipe = client.pipeline(transaction=True)
            pipe.hdel(self._hash, website_id)
            pipe.publish(self._channel, f"{self.origin} {website_id}")
            await pipe.execute()

    async def mark_synced(self, at: float) -> None:
        with self.link.failures("installations sync mark"):
            await self.link.client.set(self._synced, repr(at))

    async def watch(self, changed: Changed) -> None:
        pubsub: Any = self.link.client.pubsub()
        with self.link.failures("installations watch"):
            await pubsub.subscribe(self._channel)
        self._listener = asyncio.create_task(self._listen(pubsub, changed), name="crisp-installs")

    async def _listen(self, pubsub: Any, changed: Changed) -> None:
        client: Any = self.link.client
        try:
            while True:
                try:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                except Exception as exc:  # a lost Redis: the periodic resync covers the gap
                    log.warning("installations: change feed interrupted", error=str(exc))
                    await asyncio.sleep(1.0)
                    with contextlib.suppress(Exception):
                        await pubsub.subscribe(self._channel)
                    continue
                if message is None:
                    continue
                origin, _, website_id = str(message.get("data", "")).partition(" ")
                if not website_id or origin == self.origin:
                    continue
                try:
                    text = await client.hget(self._hash, website_id)
                    await changed(website_id, json.loads(text) if text else None)
                except Exception as exc:
                    log.warning("installations: a change could not be read", error=str(exc))
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def close(self) -> None:
        task, self._listener = self._listener, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def create_installation_store(
    config: Config, link: RedisLink | None, origin: str
) -> InstallationStore:
    """The store matching ``[state] backend``: where the plugin keeps what lasts."""
    backend = config.state.backend
    if backend == "redis" and link is not None:
        return RedisInstallationStore(link, origin=origin)
    if backend == "sqlite":
        return SqliteInstallationStore(config.state.path)
    return MemoryInstallationStore()
