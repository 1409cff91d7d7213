"""``SqliteInbox``: the embedded durable inbox for one machine.

One SQLite file (WAL). A writer thread takes every write the event loop queues (new
entries, done marks, dedupe keys, sent fingerprints) and commits whatever has piled up
in one transaction (group commit), then resolves the futures of the entries it stored,
in order, in one call back into the loop. So a web hook is answered 200 once its event
is committed, throughput holds (a commit carries hundreds of events under load), and
the loop never waits on the disk.

``synchronous = "normal"`` (the default, WAL): a committed event survives the process
being killed (kill -9, OOM): the OS has it. ``"full"`` also survives the machine losing
power, at the cost of an fsync per commit.

On ``open`` the entries not done are handed back in their order, with the dedupe keys
and sent fingerprints that have not expired.
"""

from __future__ import annotations

import asyncio
import fcntl
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import structlog

from crisp_plugin.inbox.base import Entry, Inbox, InboxUnavailable, Recovered
from crisp_plugin.inbox.payload_json import dump_payload, load_payload

__all__ = ["SqliteInbox"]

log = structlog.get_logger("crisp_plugin.inbox")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS crisp_inbox (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    payload    TEXT NOT NULL,
    source     TEXT NOT NULL,
    redelivery INTEGER NOT NULL,
    received   REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS crisp_seen (
    key     INTEGER NOT NULL,
    kind    INTEGER NOT NULL,
    expires REAL NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
"""

_DEDUPE, _SENT = 0, 1
_SWEEP_EVERY = 512  # commits between two deletions of expired keys

# ("put", Entry id, name, payload text, source, redelivery, received, dedupe key, future)
# ("done", Entry id) | ("sent", key) | ("stop",). The loop hands the writer a list of
# them per turn of the loop (one wake-up of the thread, not one per event).
_Op = tuple[Any, ...]


class SqliteInbox(Inbox):
    """Events kept in ``path`` until done; see the module docstring."""

    durable = True
    name = "sqlite"

    def __init__(
        self,
        path: str | Path,
        *,
        dedupe_ttl: float = 600.0,
        sent_ttl: float = 600.0,
        synchronous: Literal["normal", "full"] = "normal",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = str(path)
        self._dedupe_ttl = dedupe_ttl
        self._sent_ttl = sent_ttl
        self._synchronous = synchronous.upper()
        self._clock = clock
        self._ops: queue.SimpleQueue[list[_Op]] = queue.SimpleQueue()
        self._buffer: list[_Op] = []  # this turn of the loop's ops, handed over at its end
        self._writer: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._next_id = 1
        self._pending: dict[int, float] = {}  # id -> monotonic time kept (oldest first)
        self._closed = False
        self._lock_file: Any = None
        self.commits = 0
        self.failure: BaseException | None = None
        """The error of the last commit, ``None`` once one succeeds again."""

    def __repr__(self) -> str:
        return f"<SqliteInbox {self.path} depth={self.depth}>"

    # -- opening -------------------------------------------------------------------

    async def open(self, deliver: Callable[[Entry], None] | None = None) -> Recovered:
        """Create or open the file; what was pending, oldest first."""
        self._loop = asyncio.get_running_loop()
        db = await asyncio.to_thread(self._connect)
        recovered, last = await asyncio.to_thread(self._recover, db)
        self._next_id = last + 1
        now = time.monotonic()
        for entry in recovered.pending:
            self._pending[int(entry.id)] = now
        self._writer = threading.Thread(
            target=self._write_loop, args=(db,), name="crisp-inbox-writer", daemon=True
        )
        self._writer.start()
        if recovered.pending:
            log.info("inbox: pending events from the last run", pending=len(recovered.pending))
        return recovered

    def _lock(self) -> None:
        """One running instance per inbox file: a second would replay the same events."""
        if self.path == ":memory:":
            return
        handle = open(self.path + ".lock", "a+")  # held (and locked) while the inbox is open
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise InboxUnavailable(
                f"{self.path} is in use by another running instance: an inbox file is "
                "one instance's (give each its own inbox.path, or use Redis to share)"
            ) from None
        self._lock_file = handle

    def _connect(self) -> sqlite3.Connection:
        self._lock()
        # A short busy wait: this process is the file's only writer, so a lock held
        # elsewhere is a fault to report, not to wait out.
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=1.0)
        if self.path != ":memory:":
            db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={self._synchronous}")
        db.executescript(_SCHEMA)
        return db

    def _recover(self, db: sqlite3.Connection) -> tuple[Recovered, int]:
        now = self._clock()
        db.execute("DELETE FROM crisp_seen WHERE expires <= ?", (now,))
        rows = db.execute(
            "SELECT id, name, payload, source, redelivery FROM crisp_inbox ORDER BY id"
        ).fetchall()
        pending: list[Entry] = []
        for row_id, name, payload, source, redelivery in rows:
            try:
                data = load_payload(payload)
            except ValueError:
                log.error("inbox: an unreadable entry was dropped", entry_id=row_id)
                db.execute("DELETE FROM crisp_inbox WHERE id = ?", (row_id,))
                continue
            pending.append(Entry(row_id, name, data, source, bool(redelivery)))
        keys = db.execute("SELECT kind, key FROM crisp_seen").fetchall()
        last = db.execute("SELECT COALESCE(MAX(id), 0) FROM crisp_inbox").fetchone()[0]
        recovered = Recovered(
            pending=pending,
            dedupe_keys=[k for kind, k in keys if kind == _DEDUPE],
            sent_keys=[k for kind, k in keys if kind == _SENT],
        )
        return recovered, int(last)

    # -- the event loop's side -------------------------------------------------------

    def put(self, entry: Entry, dedupe_key: int | None) -> asyncio.Future[None] | None:
        loop = self._loop
        if loop is None or self._closed:
            raise InboxUnavailable("the inbox is not open")
        entry_id = self._next_id
        entry.id = entry_id
        self._next_id += 1
        future: asyncio.Future[None] = loop.create_future()
        self._pending[entry_id] = time.monotonic()
        text = dump_payload(entry.payload)
        self._queue(
            (
                "put",
                entry_id,
                entry.name,
                text,
                entry.source,
                int(entry.redelivery),
                self._clock(),
                dedupe_key,
                future,
            )
        )
        return future

    def done(self, entry: Entry) -> None:
        entry_id = int(entry.id)
        if self._pending.pop(entry_id, None) is not None and not self._closed:
            self._queue(("done", entry_id))

    def sent(self, key: int) -> None:
        if not self._closed:
            self._queue(("sent", key))

    def _queue(self, op: _Op) -> None:
        if not self._buffer and self._loop is not None:
            self._loop.call_soon(self._hand_over)
        self._buffer.append(op)

    def _hand_over(self) -> None:
        ops, self._buffer = self._buffer, []
        if ops:
            self._ops.put(ops)

    @property
    def depth(self) -> int:
        return len(self._pending)

    @property
    def oldest_age(self) -> float:
        if not self._pending:
            return 0.0
        return time.monotonic() - next(iter(self._pending.values()))

    @property
    def healthy(self) -> bool:
        return self.failure is None and not self._closed

    def _resolve(self, futures: list[tuple[int, asyncio.Future[None]]], error: str | None) -> None:
        for entry_id, future in futures:
            if error is not None:
                self._pending.pop(entry_id, None)  # not kept: not pending either
            if future.done():
                continue
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(InboxUnavailable(error))

    # -- the writer thread -------------------------------------------------------------

    def _write_loop(self, db: sqlite3.Connection) -> None:
        try:
            while True:
                batch = self._ops.get()
                while True:
                    try:
                        batch += self._ops.get_nowait()
                    except queue.Empty:
                        break
                stop = any(op[0] == "stop" for op in batch)
                self._commit(db, batch)
                if stop:
                    return
        finally:
            db.close()

    def _commit(self, db: sqlite3.Connection, batch: list[_Op]) -> None:
        now = self._clock()
        puts = [op for op in batch if op[0] == "put"]
        done = [(op[1],) for op in batch if op[0] == "done"]
        seen = [(op[7], _DEDUPE, now + self._dedupe_ttl) for op in puts if op[7] is not None]
        seen += [(op[1], _SENT, now + self._sent_ttl) for op in batch if op[0] == "sent"]
        futures = [(op[1], op[8]) for op in puts]
        error: str | None = None
        try:
            db.execute("BEGIN")
            if puts:
                db.executemany(
                    "INSERT INTO crisp_inbox (id, name, payload, source, redelivery, received)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    [op[1:7] for op in puts],
                )
            if done:
                db.executemany("DELETE FROM crisp_inbox WHERE id = ?", done)
            if seen:
                db.executemany(
                    "INSERT INTO crisp_seen (key, kind, expires) VALUES (?, ?, ?) "
                    "ON CONFLICT (kind, key) DO UPDATE SET expires = excluded.expires",
                    seen,
                )
            self.commits += 1
            if self.commits % _SWEEP_EVERY == 0:
                db.execute("DELETE FROM crisp_seen WHERE expires <= ?", (now,))
            db.execute("COMMIT")
            self.failure = None
        except sqlite3.Error as exc:
            error = f"SQLite says {exc}"
            self.failure = exc
            log.error("inbox: a write failed", path=self.path, error=str(exc))
            try:
                db.execute("ROLLBACK")
            except sqlite3.Error:
                pass
        if futures and self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._resolve, futures, error)

    # -- closing -----------------------------------------------------------------------

    async def close(self) -> None:
        """Write what is queued (done marks included), then close the file."""
        if self._closed:
            return
        self._closed = True
        writer, self._writer = self._writer, None
        if writer is not None:
            self._hand_over()
            self._ops.put([("stop",)])
            await asyncio.to_thread(writer.join)
        lock, self._lock_file = self._lock_file, None
        if lock is not None:
            lock.close()  # releases the instance lock
