"""SQLite ``StateStore``: one file, survives restarts, expiry by wall-clock time.

The standard library's ``sqlite3`` in WAL mode; each call runs in a worker thread
(``asyncio.to_thread``) under a lock so the event loop never waits on the disk.
Expired rows read as absent and are deleted on open and every few thousand writes.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from crisp_plugin.state.base import StateStore, encode

__all__ = ["SqliteState"]

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS crisp_state (
    scope   TEXT NOT NULL,
    key     TEXT NOT NULL,
    value   TEXT NOT NULL,
    expires REAL,
    PRIMARY KEY (scope, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS crisp_state_expires ON crisp_state (expires)
    WHERE expires IS NOT NULL;
"""

_SWEEP_EVERY = 4096


class SqliteState(StateStore):
    """State in a SQLite file (``state.path``); ``":memory:"`` works for tests."""

    def __init__(
        self,
        path: str | Path = "crisp_state.sqlite3",
        *,
        default_ttl: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(default_ttl=default_ttl)
        self.path = str(path)
        self._clock = clock
        self._lock = threading.Lock()
        self._writes = 0
        self._db: sqlite3.Connection | None = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None
        )
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._sweep_now()

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("the SQLite state store is closed")
        return self._db

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def locked() -> T:
            with self._lock:
                return fn(self._conn())

        return await asyncio.to_thread(locked)

    async def get(self, scope: str, key: str, default: Any = None) -> Any:
        now = self._clock()

        def read(db: sqlite3.Connection) -> Any:
            return db.execute(
                "SELECT value FROM crisp_state WHERE scope = ? AND key = ? "
                "AND (expires IS NULL OR expires > ?)",
                (scope, key, now),
            ).fetchone()

        row = await self._run(read)
        return default if row is None else json.loads(row[0])

    async def set(self, scope: str, key: str, value: Any, *, ttl: float | None = None) -> None:
        text = encode(value)
        ttl = self._ttl(ttl)
        expires = None if ttl is None else self._clock() + ttl

        def write(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO crisp_state (scope, key, value, expires) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value, "
                "expires = excluded.expires",
                (scope, key, text, expires),
            )

        await self._run(write)
        self._writes += 1
        if self._writes % _SWEEP_EVERY == 0:
            await self._run(lambda db: self._sweep(db))

    async def delete(self, scope: str, key: str) -> bool:
        now = self._clock()

        def remove(db: sqlite3.Connection) -> bool:
            cur = db.execute(
                "DELETE FROM crisp_state WHERE scope = ? AND key = ? "
                "AND (expires IS NULL OR expires > ?)",
                (scope, key, now),
            )
            return cur.rowcount > 0

        return await self._run(remove)

    async def items(self, scope: str) -> dict[str, Any]:
        now = self._clock()

        def read(db: sqlite3.Connection) -> list[tuple[str, str]]:
            return db.execute(
                "SELECT key, value FROM crisp_state WHERE scope = ? "
                "AND (expires IS NULL OR expires > ?) ORDER BY key",
                (scope, now),
            ).fetchall()

        return {k: json.loads(v) for k, v in await self._run(read)}

    async def clear(self, scope: str) -> None:
        await self._run(lambda db: db.execute("DELETE FROM crisp_state WHERE scope = ?", (scope,)))

    def _sweep(self, db: sqlite3.Connection) -> int:
        cur = db.execute(
            "DELETE FROM crisp_state WHERE expires IS NOT NULL AND expires <= ?",
            (self._clock(),),
        )
        return cur.rowcount

    def _sweep_now(self) -> int:
        with self._lock:
            return self._sweep(self._conn())

    async def close(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            with self._lock:
                db.close()
