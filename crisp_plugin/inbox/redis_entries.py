"""What the Redis inbox writes in its streams, and the two scripts that write it.

A flush stores each partition's share of the batch as **one stream entry**: field ``b``
holds its events, field ``x`` (when any) the positions of those dropped as duplicates.
redis-py packs every command argument in Python, and Redis's own time per command
dwarfs an entry's few bytes: one entry, one argument and one ``XADD`` per partition
and flush, rather than per event, is what lets one instance keep up with its hooks.

- **An event** (:func:`entry_value`): ``<name length>,<source length>,<redelivery>:``
  then the name, the source and the payload's JSON; lengths count characters, so a
  name may hold any character.
- **A batch** (:func:`batch_value`): where it comes from (the writing inbox's own tag
  and the flush's number: the writer, reading it back, knows it without waiting for the
  answer to its write), a space, the events' lengths in characters, separated by commas,
  a newline, then the events one after the other.
- **Entries of earlier versions** (one event in four fields: ``n``, ``s``, ``r``,
  ``p``) may still be pending when an instance is upgraded: :func:`read_fields` reads
  them too. And those versions drop an entry they cannot read: while an instance that
  does not read batches is live (a rolling deploy), events are written their way
  (:data:`ONE_BY_ONE`).
"""

from __future__ import annotations

from typing import Any

from crisp_plugin.inbox.base import Entry
from crisp_plugin.inbox.payload_json import dump_payload_bytes, load_payload

__all__ = [
    "ACK",
    "ENTRY_MAX",
    "ONE_BY_ONE",
    "PUT",
    "batch_value",
    "entry_value",
    "read_batch",
    "read_fields",
    "read_value",
]

ENTRY_MAX = 32
"""Events in one batch entry at most: a read of N entries hands over at most N times
this many, which the inbox's limit on events in flight counts on."""

# One call per flush. KEYS[1..n] are the partitions' streams, then the dedupe keys;
# ARGV[1] is the dedupe TTL in ms, then per stream i: ARGV[2i] its batch, ARGV[2i + 1]
# "<events> <k>:<key> ...", each k an event of the batch (from 0) whose dedupe key is
# KEYS[<key>]. Per stream: the entry id (0 when every event was a duplicate) and the
# positions of the duplicates, comma-separated.
PUT = """
local out = {}
for i = 1, (#ARGV - 1) / 2 do
  local spec = ARGV[2 * i + 1]
  local dups = {}
  for k, key in string.gmatch(spec, '(%d+):(%d+)') do
    if not redis.call('SET', KEYS[tonumber(key)], '1', 'NX', 'PX', ARGV[1]) then
      dups[#dups + 1] = k
    end
  end
  local skipped = table.concat(dups, ',')
  local id = 0
  if #dups < tonumber(string.match(spec, '^%d+')) then
    if #dups > 0 then
      id = redis.call('XADD', KEYS[i], '*', 'b', ARGV[2 * i], 'x', skipped)
    else
      id = redis.call('XADD', KEYS[i], '*', 'b', ARGV[2 * i])
    end
  end
  out[#out + 1] = id
  out[#out + 1] = skipped
end
return out
"""

# The format of earlier versions, one entry per event, for as long as one of them is
# live. KEYS[k] is event k's stream, then the dedupe keys; ARGV[1] the dedupe TTL in ms,
# then per event 5: its dedupe key's place in KEYS ('' for none), name, payload JSON,
# source, redelivery. Per event: its entry id, or 0 for a duplicate.
ONE_BY_ONE = """
local out = {}
for k = 1, (#ARGV - 1) / 5 do
  local a = 5 * (k - 1) + 1
  local seen = ARGV[a + 1]
  if seen ~= '' and not redis.call('SET', KEYS[tonumber(seen)], '1', 'NX', 'PX', ARGV[1]) then
    out[k] = 0
  else
    out[k] = redis.call('XADD', KEYS[k], '*', 'n', ARGV[a + 2], 'p', ARGV[a + 3],
      's', ARGV[a + 4], 'r', ARGV[a + 5])
  end
end
return out
"""

# The entries handled, acknowledged and deleted in one call: KEYS are streams, ARGV[1]
# the group, ARGV[k + 1] the ids of KEYS[k] separated by spaces.
ACK = """
local function settle(stream, ids)
  redis.call('XACK', stream, ARGV[1], unpack(ids))
  redis.call('XDEL', stream, unpack(ids))
end
for k = 1, #KEYS do
  local ids = {}
  for id in string.gmatch(ARGV[k + 1], '%S+') do
    ids[#ids + 1] = id
    if #ids == 500 then
      settle(KEYS[k], ids)
      ids = {}
    end
  end
  if #ids > 0 then
    settle(KEYS[k], ids)
  end
end
return #KEYS
"""

Kept = tuple[str, str, bool, dict[str, Any]]
"""An event read back: its name, source, redelivery flag and payload."""


def entry_value(entry: Entry) -> bytes:
    """One event of a batch (UTF-8: a lone surrogate in a name becomes ``?``)."""
    name, source = entry.name, entry.source
    head = f"{len(name)},{len(source)},{1 if entry.redelivery else 0}:{name}{source}"
    return head.encode(errors="replace") + dump_payload_bytes(entry.payload)


def batch_value(origin: bytes, values: list[bytes]) -> bytes:
    """Events made by :func:`entry_value`, as one batch from ``origin`` (no spaces)."""
    lengths = [b"%d" % (len(v) if v.isascii() else len(v.decode())) for v in values]
    return origin + b" " + b",".join(lengths) + b"\n" + b"".join(values)


def read_batch(fields: dict[str, str]) -> tuple[str, list[tuple[int, str]]]:
    """Where a batch entry comes from, and its events not dropped as duplicates, with
    their positions; ``ValueError`` when the entry is not one."""
    text = fields["b"]
    head, newline, rest = text.partition("\n")
    origin, space, head = head.partition(" ")
    if not newline or not space:
        raise ValueError("not an inbox batch")
    skipped = {int(k) for k in fields["x"].split(",")} if fields.get("x") else set()
    events: list[tuple[int, str]] = []
    at = 0
    for k, length in enumerate(head.split(",")):
        stop = at + int(length)
        if stop > len(rest) or stop < at:
            raise ValueError("not an inbox batch")
        if k not in skipped:
            events.append((k, rest[at:stop]))
        at = stop
    return origin, events


def read_value(value: str) -> Kept:
    """An event of a batch; ``ValueError`` when it is not one."""
    head, colon, rest = value.partition(":")
    lengths = head.split(",")
    if not colon or len(lengths) != 3:
        raise ValueError("not an inbox event")
    a, b = int(lengths[0]), int(lengths[1])
    if a < 0 or b < 0 or a + b > len(rest):
        raise ValueError("not an inbox event")
    return rest[:a], rest[a : a + b], lengths[2] == "1", _payload(rest[a + b :])


def read_fields(fields: dict[str, str]) -> Kept:
    """The one event of an entry an earlier version wrote (``KeyError`` or
    ``ValueError`` when it is not one)."""
    payload = _payload(fields["p"])
    return fields.get("n", ""), fields.get("s", "redis"), fields.get("r") == "1", payload


def _payload(text: str) -> dict[str, Any]:
    payload = load_payload(text)
    if not isinstance(payload, dict):
        raise ValueError("an inbox event's payload is not a JSON object")
    return payload
