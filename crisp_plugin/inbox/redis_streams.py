"""``RedisInbox``: one inbox for N instances, on Redis Streams.

- **Partitions.** A conversation (website + session) hashes to one of ``partitions``
  streams. Any instance may take a hook and add its event to the stream (``XADD``); the
  hook is answered 200 once Redis has it. The dedupe key is set in the same script
  (``SET NX``), so a redelivery that reaches another instance is still dropped.
- **Owners.** Each stream is read by the one instance holding its lease
  (:mod:`crisp_plugin.inbox.leases`), through a consumer group, with one consumer name
  for all owners: the entries an owner read and did not acknowledge stay pending under
  that name, so whoever takes the partition next reads them first (``XREADGROUP ... 0``)
  and then the new ones (``>``). A flush stores each partition's share of its events as
  one entry (:mod:`crisp_plugin.inbox.redis_entries`), acknowledged and deleted
  (``XACK``, ``XDEL``) once the handlers of all its events finished. A conversation's
  events are in one stream, read by one owner, handled in order: order holds across
  instances.
- **Fencing.** Every delivered entry carries its partition's fencing token; an instance
  whose lease ran out (or was taken) stops acting on those entries before they run
  (``current``): the new owner handles them.
- **Echoes.** The fingerprints of what the bot sent are kept in Redis for
  ``sent_ttl``, so an echo is recognised whichever instance it reaches.

Writes are batched: the event loop queues them and one task sends each batch in one
pipeline, so a busy instance makes a round trip per batch, not per event; the batch and
the acknowledgements are one script call each. What an instance stored in a partition
it owns comes back to it as it was put (a batch names the inbox and flush it came
from): its JSON is not read again, nor the event parsed twice. A crash re-runs at most
the events of the entries it had not finished, as before: at least once.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import zlib
from collections import Counter
from collections.abc import Callable
from itertools import repeat
from typing import TYPE_CHECKING, Any

import structlog

from crisp_plugin.inbox.base import Entry, Inbox, InboxUnavailable, Recovered
from crisp_plugin.inbox.leases import PartitionLeases, instance_id
from crisp_plugin.inbox.payload_json import dump_payload_bytes
from crisp_plugin.inbox.redis_entries import (
    ACK,
    ENTRY_MAX,
    ONE_BY_ONE,
    PUT,
    batch_value,
    entry_value,
    read_batch,
    read_fields,
    read_value,
)

if TYPE_CHECKING:
    from crisp_plugin.redis_client import RedisLink

__all__ = ["RedisInbox", "partition_of"]

log = structlog.get_logger("crisp_plugin.inbox")

GROUP = "crisp"
CONSUMER = "owner"  # one name for every owner: the pending entries pass with the lease
_MINE_MAX = 20_000  # events stored here, kept to be handed back without a read


def partition_of(website_id: str | None, session_id: str | None, partitions: int) -> int:
    """The partition of a conversation: the same in every process."""
    key = f"{website_id or ''}/{session_id or ''}".encode()
    return zlib.crc32(key) % partitions


class RedisInbox(Inbox):
    """Events in Redis Streams, partitioned by conversation; see the module docstring."""

    durable = True
    routes = True
    name = "redis"

    def __init__(
        self,
        link: RedisLink,
        *,
        partitions: int = 16,
        lease_ttl: float = 5.0,
        dedupe_ttl: float = 600.0,
        sent_ttl: float = 600.0,
        batch: int = 200,
        in_flight: int = 1000,
        owner: str | None = None,
    ) -> None:
        self.link = link
        self.partitions = partitions
        self.lease_ttl = lease_ttl
        self._dedupe_ms = max(1, int(dedupe_ttl * 1000))
        self._sent_ms = max(1, int(sent_ttl * 1000))
        self._batch = batch
        self._max_in_flight = in_flight
        self.owner = owner or instance_id()
        self._streams = [link.key("inbox", str(p)) for p in range(partitions)]
        self._deliver: Callable[[Entry], None] | None = None
        self._writes: list[tuple[Entry, int | None, asyncio.Future[None]]] = []
        self._acks: list[tuple[int, str]] = []
        self._dead: list[tuple[int, str, dict[str, str]]] = []  # unreadable, to set aside
        self._sent: list[int] = []
        self._wake = asyncio.Event()
        self._readable = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._in_flight: Counter[int] = Counter()
        self._unread: set[int] = set()  # partitions gained whose pending entries come first
        # Entry ids delivered here and not yet acknowledged in Redis, by partition: a
        # pending entry not among them was read by an owner that lost the lease meanwhile.
        self._held: dict[int, set[str]] = {}
        # What this instance stored in a partition it owns, until it reads it back:
        # handed over as it was put, without reading its JSON or parsing it again.
        self._mine: dict[int, dict[str, Entry]] = {}  # by "<flush>-<entry>.<position>"
        self._mine_count = 0
        self._tag = secrets.token_hex(6)  # what tells this inbox's batches from others'
        self._flushes = 0
        # The entries delivered here, by partition and id: [lease token, events of it
        # not done yet]; acknowledged when the last one is done.
        self._open: dict[int, dict[str, list[Any]]] = {}
        self._delivering = True
        self._reading: set[int] = set()  # partitions of the read on its way
        self._next_scan = 0.0
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None  # set by open()
        self.failure: BaseException | None = None  # the last write, until one succeeds
        self._read_failure: BaseException | None = None
        self.redeliveries = 0
        self.leases = PartitionLeases(
            link,
            partitions=partitions,
            ttl=lease_ttl,
            owner=self.owner,
            on_gained=self._gained,
            on_lost=self._lost,
            releasable=self._releasable,
        )

    def __repr__(self) -> str:
        return f"<RedisInbox {self.owner} owns {sorted(self.leases.owned)}>"

    # -- opening and closing ---------------------------------------------------------

    async def open(self, deliver: Callable[[Entry], None]) -> Recovered:
        self._deliver = deliver
        client: Any = self.link.client
        with self.link.failures("inbox open"):
            pipe = client.pipeline(transaction=False)
            for stream in self._streams:
                pipe.xgroup_create(stream, GROUP, id="0", mkstream=True)
            for result in await pipe.execute(raise_on_error=False):
                if isinstance(result, Exception) and "BUSYGROUP" not in str(result):
                    raise result
            await self.leases.start()
        loop = self._loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._write_loop(), name="crisp-inbox-writes"),
            loop.create_task(self._read_loop(), name="crisp-inbox-reads"),
        ]
        log.info("redis inbox open", owner=self.owner, partitions=sorted(self.leases.owned))
        return Recovered()  # pending entries come back through the partitions' owners

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        self._readable.set()
        reader = self._tasks[1] if len(self._tasks) > 1 else None
        if reader is not None:
            reader.cancel()
        writer = self._tasks[0] if self._tasks else None
        if writer is not None:
            await asyncio.gather(writer, return_exceptions=True)  # it flushes, then ends
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.leases.stop()

    # -- putting -----------------------------------------------------------------------

    def put(self, entry: Entry, dedupe_key: int | None) -> asyncio.Future[None] | None:
        if self._closed:
            raise InboxUnavailable("the inbox is closed")
        loop = self._loop
        if loop is None or not loop.is_running():  # (get_running_loop: a getpid each time)
            loop = self._loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._writes.append((entry, dedupe_key, future))
        self._wake.set()
        return future

    def done(self, entry: Entry) -> None:
        p, stream_id, left = self._let_go(entry)
        if left is None:
            return  # its partition moved since: whoever reads it next counts anew
        left[1] -= 1
        if left[1] <= 0:
            del self._open[p][stream_id]
            self._acks.append((p, stream_id))
            self._wake.set()

    def _let_go(self, entry: Entry) -> tuple[int, str, list[Any] | None]:
        """``entry`` is no longer in flight here: its partition, its stream entry's id,
        and that entry's [token, events not done] while this lease still counts them."""
        partition, _, rest = str(entry.id).partition("/")
        p = int(partition)
        where, _, token = rest.partition("@")
        self._in_flight[p] -= 1
        if self._in_flight[p] <= 0:
            del self._in_flight[p]
        self._readable.set()
        stream_id = where.partition("#")[0]
        left = self._open.get(p, {}).get(stream_id)
        return p, stream_id, left if left is not None and left[0] == token else None

    def stop_delivering(self) -> None:
        """Read nothing more (a drain): what is pending passes to the next owner."""
        self._delivering = False
        self._readable.set()
        for task in self._tasks[1:]:
            task.cancel()
        for mine in self._mine.values():
            for entry in mine.values():
                entry.event = None
        self._mine.clear()
        self._mine_count = 0

    def sent(self, key: int) -> None:
        self._sent.append(key)
        self._wake.set()

    async def was_sent(self, key: int) -> bool:
        """True when any instance recorded sending the message of ``key``."""
        try:
            return bool(await self.link.client.exists(self.link.key("sent", str(key))))
        except Exception:
            return False  # unknown: the echo runs its handlers, as a message would

    def current(self, entry: Entry) -> bool:
        partition, _, rest = str(entry.id).partition("/")
        token = int(rest.split("@", 1)[1]) if "@" in rest else 0
        return self.leases.valid(int(partition), token)

    def fenced(self, entry: Entry) -> None:
        """Not run: its entry is no longer held here, so if this instance still owns the
        partition (its clock, not Redis, ended the lease: a late renewal), the check for
        pending entries it does not hold reads the entry again; else its owner does."""
        p, stream_id, left = self._let_go(entry)
        if left is not None:
            del self._open[p][stream_id]  # what else of it is done or fenced counts no more
            self._held.get(p, set()).discard(stream_id)

    @property
    def depth(self) -> int:
        return sum(self._in_flight.values()) + len(self._writes)

    @property
    def oldest_age(self) -> float:
        """Seconds since the oldest entry this instance holds was added (a stream id
        starts with its Redis time in milliseconds)."""
        oldest = min(
            (int(i.split("-", 1)[0]) for held in self._held.values() for i in held), default=None
        )
        return 0.0 if oldest is None else max(0.0, time.time() - oldest / 1000)

    @property
    def owned(self) -> list[int]:
        """The partitions this instance reads now."""
        return sorted(self.leases.owned)

    @property
    def healthy(self) -> bool:
        return self.failure is None and self._read_failure is None and not self._closed

    async def _write_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            writes, self._writes = self._writes[: self._batch * 5], self._writes[self._batch * 5 :]
            acks, self._acks = self._acks, []
            sent, self._sent = self._sent, []
            if writes or acks or sent or self._dead:
                await self._flush(writes, acks, sent)
            if self._writes or self._acks or self._sent or self._dead:
                self._wake.set()
            elif self._closed:
                return

    async def _flush(
        self,
        writes: list[tuple[Entry, int | None, asyncio.Future[None]]],
        acks: list[tuple[int, str]],
        sent: list[int],
    ) -> None:
        client: Any = self.link.client
        pipe = client.pipeline(transaction=False)
        chunks: list[tuple[int, list[int]]] = []  # (partition, its writes by position)
        flush = 0
        if writes and not self.leases.everyone_reads_batches:
            self._one_by_one(pipe, writes)  # an older version is live: its format
        elif writes:
            self._flushes += 1
            flush = self._flushes
            chunks = self._chunks(writes)
            self._keep_mine(writes, chunks, flush)  # (the read may come before the answer)
            keys = [self._streams[p] for p, _ in chunks]
            args: list[Any] = [self._dedupe_ms]
            for c, (_, members) in enumerate(chunks):
                spec = [b"%d" % len(members)]
                for k, i in enumerate(members):
                    key = writes[i][1]
                    if key is not None:
                        keys.append(self.link.key("seen", str(key)))
                        spec.append(b"%d:%d" % (k, len(keys)))
                origin = f"{self._tag}.{flush}-{c}".encode()
                args.append(batch_value(origin, [entry_value(writes[i][0]) for i in members]))
                args.append(b" ".join(spec))
            # EVAL, not a registered script: a Redis restarted without its script cache
            # needs no reload, and Redis caches the compiled body by its digest anyway.
            pipe.eval(PUT, len(keys), *keys, *args)
        dead, self._dead = self._dead, []
        for p, stream_id, fields in dead:  # kept aside, not deleted: a newer version's?
            pipe.xadd(
                self.link.key("inbox", "unreadable"),
                {**fields, "from": self._streams[p], "id": stream_id},
                maxlen=10_000,
                approximate=True,
            )
        by_stream: dict[int, list[str]] = {}
        for p, stream_id in acks:
            by_stream.setdefault(p, []).append(stream_id)
        if by_stream:
            streams = [self._streams[p] for p in by_stream]
            pipe.eval(ACK, len(streams), *streams, GROUP, *map(" ".join, by_stream.values()))
        for key in sent:
            pipe.set(self.link.key("sent", str(key)), "1", px=self._sent_ms)
        try:
            results = await pipe.execute()
        except Exception as exc:
            self.failure = exc
            error = self.link.unavailable("inbox write", exc)
            log.error("redis inbox: a write failed", error=str(error))
            if chunks:
                self._forget_mine(chunks, flush, None)
            self._dead.extend(dead)
            for _, _, future in writes:
                if not future.done():
                    future.set_exception(InboxUnavailable(str(error)))
            self._acks.extend(acks)  # handled: acknowledge them once Redis is back
            if not self._closed:
                await asyncio.sleep(0.2)
            return
        self.failure = None
        if chunks:
            self._forget_mine(chunks, flush, results[0])
        for p, stream_id in acks:
            held = self._held.get(p)
            if held is not None:
                held.discard(stream_id)
        for _, _, future in writes:
            if not future.done():
                future.set_result(None)

    def _partition(self, entry: Entry) -> int:
        payload = entry.payload
        return partition_of(payload.get("website_id"), payload.get("session_id"), self.partitions)

    def _chunks(
        self, writes: list[tuple[Entry, int | None, asyncio.Future[None]]]
    ) -> list[tuple[int, list[int]]]:
        """The writes by partition, at most ``ENTRY_MAX`` to an entry."""
        shares: dict[int, list[int]] = {}
        for i, (entry, _, _) in enumerate(writes):
            shares.setdefault(self._partition(entry), []).append(i)
        return [
            (p, members[at : at + ENTRY_MAX])
            for p, members in shares.items()
            for at in range(0, len(members), ENTRY_MAX)
        ]

    def _one_by_one(
        self, pipe: Any, writes: list[tuple[Entry, int | None, asyncio.Future[None]]]
    ) -> None:
        """The writes in the format of earlier versions: one entry per event."""
        keys = [self._streams[self._partition(entry)] for entry, _, _ in writes]
        args: list[Any] = [self._dedupe_ms]
        for entry, key, _ in writes:
            entry.event = None  # read back from Redis, as those versions do
            seen = ""
            if key is not None:
                keys.append(self.link.key("seen", str(key)))
                seen = str(len(keys))
            source, again = entry.source, "1" if entry.redelivery else "0"
            args += (seen, entry.name, dump_payload_bytes(entry.payload), source, again)
        pipe.eval(ONE_BY_ONE, len(keys), *keys, *args)

    def _keep_mine(
        self,
        writes: list[tuple[Entry, int | None, asyncio.Future[None]]],
        chunks: list[tuple[int, list[int]]],
        flush: int,
    ) -> None:
        """Keep the events of a flush to partitions this instance owns, until it reads
        them back (at most ``_MINE_MAX``: past it, they are read)."""
        owned = self.leases.owned
        for c, (p, members) in enumerate(chunks):
            mine = self._mine.setdefault(p, {}) if p in owned and self._delivering else None
            for k, i in enumerate(members):
                entry = writes[i][0]
                if mine is not None and entry.event is not None and self._mine_count < _MINE_MAX:
                    mine[f"{flush}-{c}.{k}"] = entry
                    self._mine_count += 1
                else:
                    entry.event = None  # (nothing of it kept past its write)

    def _forget_mine(
        self, chunks: list[tuple[int, list[int]]], flush: int, stored: list[Any] | None
    ) -> None:
        """Forget the events of a flush that will not be read back: all of them when
        it failed (``stored`` None), else the duplicates."""
        skips = stored[1::2] if stored is not None else repeat(None)
        for c, ((p, members), skipped) in enumerate(zip(chunks, skips, strict=False)):
            mine = self._mine.get(p)
            if not mine or skipped == "":
                continue
            gone = range(len(members)) if skipped is None else map(int, skipped.split(","))
            for k in gone:
                entry = mine.pop(f"{flush}-{c}.{k}", None)
                if entry is not None:
                    entry.event = None
                    self._mine_count -= 1

    def _forget_older(self, mine: dict[str, Entry], flush: int) -> None:
        """Forget what this instance stored in a partition before ``flush`` and did not
        read back: a partition's entries are read in the order the flushes wrote them,
        so those were lost (a Redis that lost writes it had confirmed)."""
        while mine:
            first = next(iter(mine))
            if int(first.partition("-")[0]) >= flush:
                return
            mine.pop(first).event = None
            self._mine_count -= 1

    # -- reading the partitions this instance owns ---------------------------------------

    async def _gained(self, partition: int, token: int) -> None:
        self._unread.add(partition)
        self._readable.set()
        log.info("partition taken", partition=partition, token=token, owner=self.owner)

    def _lost(self, partition: int) -> None:
        self._mine_count -= len(self._mine.pop(partition, {}))
        self._open.pop(partition, None)
        self._unread.discard(partition)
        self._in_flight.pop(partition, None)  # not ours to acknowledge any more
        self._held.pop(partition, None)
        self._readable.set()

    def _releasable(self, partition: int) -> bool:
        """Nothing of it delivered and not yet acknowledged in Redis, and no read of it on
        its way: the next owner starts exactly where this one stopped."""
        return not self._held.get(partition) and partition not in self._reading

    def _readable_partitions(self) -> list[int]:
        leases = self.leases
        unread = self._unread  # their pending entries first, or order would break
        return [
            p
            for p, token in leases.owned.items()
            if p not in leases.leaving and p not in unread and leases.valid(p, token)
        ]

    async def _read_loop(self) -> None:
        client: Any = self.link.client
        while not self._closed and self._delivering:
            try:
                if sum(self._in_flight.values()) >= self._max_in_flight:
                    self._readable.clear()
                    await self._readable.wait()
                    continue
                if time.monotonic() >= self._next_scan:
                    self._next_scan = time.monotonic() + self.leases.period
                    await self._find_strays(client)
                for partition in list(self._unread):
                    await self._read_pending(client, partition)
                    self._unread.discard(partition)
                owned = self._readable_partitions()
                if not owned:
                    self._readable.clear()
                    try:
                        await asyncio.wait_for(self._readable.wait(), self.leases.period)
                    except TimeoutError:
                        pass
                    continue
                streams = {self._streams[p]: ">" for p in owned}
                self._reading = set(owned)  # not to be let go while this read is out
                try:
                    answer = await client.xreadgroup(
                        GROUP, CONSUMER, streams, count=self._read_count(), block=200
                    )
                finally:
                    self._reading = set()
                self._hand_over(answer or [], redelivered=False)
                self._read_failure = None
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._read_failure = exc
                log.warning("redis inbox: a read failed", error=str(exc))
                await asyncio.sleep(0.5)

    def _read_count(self) -> int:
        """Entries to read at most: what the limit on events in flight leaves room for,
        counting every entry full."""
        room = self._max_in_flight - sum(self._in_flight.values())
        return max(1, min(self._batch, room // ENTRY_MAX))

    async def _find_strays(self, client: Any) -> None:
        """Partitions with more entries pending than this owner holds: an owner that lost
        the lease while a read was on its way took them; read their pending ones again."""
        owned = self._readable_partitions()
        if not owned:
            return
        pipe = client.pipeline(transaction=False)
        for p in owned:
            pipe.xpending(self._streams[p], GROUP)
        answers = await pipe.execute()
        for p, summary in zip(owned, answers, strict=True):
            pending = int(summary.get("pending", 0)) if isinstance(summary, dict) else 0
            if pending > len(self._held.get(p, ())):
                self._unread.add(p)

    async def _read_pending(self, client: Any, partition: int) -> None:
        """What the partition's previous owner read and did not acknowledge, first."""
        after = "0"
        stream = self._streams[partition]
        while partition in self.leases.owned:
            self._reading = {partition}
            try:
                answer = await client.xreadgroup(
                    GROUP, CONSUMER, {stream: after}, count=self._read_count()
                )
            finally:
                self._reading = set()
            entries = answer[0][1] if answer else []
            if not entries:
                return
            self._hand_over(answer, redelivered=True)
            after = entries[-1][0]

    def _hand_over(self, answer: list[Any], *, redelivered: bool) -> None:
        deliver = self._deliver
        assert deliver is not None
        for stream, entries in answer:
            partition = self._streams.index(stream)
            token = self.leases.owned.get(partition)
            if token is None:
                continue  # lost meanwhile: its next owner reads these
            held = self._held.setdefault(partition, set())
            opened = self._open.setdefault(partition, {})
            mine = self._mine.get(partition)
            for stream_id, fields in entries:
                if not fields:
                    continue  # deleted while pending: handled already
                if stream_id in held:
                    continue  # delivered here already, not yet acknowledged
                held.add(stream_id)
                try:
                    # (an entry of an earlier version: one event, in fields of its own)
                    origin, events = read_batch(fields) if "b" in fields else ("", [(-1, "")])
                except (KeyError, ValueError):
                    self._drop(partition, stream_id, unreadable=fields)
                    continue
                tag, _, where = origin.partition(".")
                ours = mine if mine and tag == self._tag else None
                if ours:
                    self._forget_older(ours, int(where.partition("-")[0]))
                left = opened[stream_id] = [str(token), len(events)]
                for k, value in events:
                    entry = ours.pop(f"{where}.{k}", None) if ours else None
                    if entry is not None:  # stored from here: handed back as it was put
                        self._mine_count -= 1
                        entry.id = f"{partition}/{stream_id}#{k}@{token}"
                        entry.redelivery = entry.redelivery or redelivered
                    else:
                        try:
                            name, source, again, payload = (
                                read_value(value) if k >= 0 else read_fields(fields)
                            )
                        except (KeyError, ValueError):
                            log.error(
                                "redis inbox: an unreadable event was set aside",
                                entry=stream_id,
                                position=k,
                            )
                            kept = {"event": value} if k >= 0 else fields
                            self._dead.append((partition, stream_id, kept))
                            self._wake.set()
                            left[1] -= 1
                            continue
                        place = f"#{k}" if k >= 0 else ""
                        entry = Entry(
                            f"{partition}/{stream_id}{place}@{token}",
                            name,
                            payload,
                            source,
                            again or redelivered,
                        )
                    if redelivered:
                        self.redeliveries += 1
                    self._in_flight[partition] += 1
                    deliver(entry)
                if left[1] <= 0 and opened.get(stream_id) is left:
                    del opened[stream_id]  # nothing of it to run
                    self._drop(partition, stream_id)

    def _drop(
        self, partition: int, stream_id: str, *, unreadable: dict[str, str] | None = None
    ) -> None:
        """Acknowledge an entry none of whose events is to run; one this version cannot
        read is copied to ``<prefix>:inbox:unreadable`` first (never just deleted)."""
        if unreadable is not None:
            log.error(
                "redis inbox: an unreadable entry was set aside",
                entry=stream_id,
                kept_in=self.link.key("inbox", "unreadable"),
            )
            self._dead.append((partition, stream_id, unreadable))
        self._acks.append((partition, stream_id))
        self._wake.set()  # (or it waited for the next write to go)
