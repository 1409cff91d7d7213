"""Engine.IO v3 and Socket.IO v4 framing, as socket.io-client 2.x and go-crisp-api use it.

An Engine.IO v3 packet is a type digit and its data: ``0`` open, ``1`` close, ``2`` ping,
``3`` pong, ``4`` message, ``5`` upgrade, ``6`` noop. Over websocket each text frame is
one packet. Over polling an HTTP body carries several, each framed ``<length>:<packet>``
with the length in UTF-16 code units, as JavaScript counts a string (``"🙂"`` is 2).

A message's data is a Socket.IO v4 packet (the protocol of socket.io 2.x): a type digit
(``0`` connect, ``1`` disconnect, ``2`` event, ``3`` ack, ``4`` error, ``5`` / ``6``
binary event / ack, whose attachments count and ``-`` follow), then ``/namespace,``
unless it is ``/``, then an ack id if any, then JSON: ``2["message:send",{...}]``.

Everything malformed raises `WireError`, whose message says what is wrong and where,
without quoting the input (it may hold credentials).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ACK",
    "BINARY_ACK",
    "BINARY_EVENT",
    "CLOSE",
    "CONNECT",
    "DISCONNECT",
    "ERROR",
    "EVENT",
    "MESSAGE",
    "NOOP",
    "OPEN",
    "PING",
    "PONG",
    "UPGRADE",
    "SioPacket",
    "WireError",
    "decode_payload",
    "encode_payload",
    "encode_sio",
    "parse_sio",
    "utf16_len",
]

# Engine.IO v3 packet types (the first character of a packet).
OPEN, CLOSE, PING, PONG, MESSAGE, UPGRADE, NOOP = "0", "1", "2", "3", "4", "5", "6"
_ENGINE_TYPES = frozenset("0123456")

# Socket.IO v4 packet types (the first character of a message's data).
CONNECT, DISCONNECT, EVENT, ACK, ERROR, BINARY_EVENT, BINARY_ACK = range(7)

_MAX_LENGTH_DIGITS = 9  # a packet of a billion code units is not a relay's


class WireError(ValueError):
    """Input that is not Engine.IO v3 / Socket.IO v4 as the clients send it."""


def utf16_len(text: str) -> int:
    """The length JavaScript gives ``text``: characters past U+FFFF count twice."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def encode_payload(packets: list[str]) -> str:
    """Frame packets for a polling response: ``<length>:<packet>`` each."""
    return "".join(f"{utf16_len(p)}:{p}" for p in packets)


def decode_payload(body: str) -> list[str]:
    """Split a polling request's body into its packets; empty packets are skipped."""
    if not body:
        raise WireError("empty payload: expected <length>:<packet>")
    astral = utf16_len(body) != len(body)
    packets: list[str] = []
    i, end = 0, len(body)
    while i < end:
        colon = body.find(":", i, i + _MAX_LENGTH_DIGITS + 1)
        digits = body[i:colon] if colon >= 0 else body[i : i + _MAX_LENGTH_DIGITS + 1]
        if colon < 0 or not digits or not (digits.isascii() and digits.isdigit()):
            # What the client sent is not quoted back: it may hold its credentials.
            raise WireError(f"malformed payload at character {i}: expected <length>:<packet>")
        units = int(digits)
        start = colon + 1
        stop = _advance(body, start, units) if astral else start + units
        if stop > end:
            raise WireError(
                f"malformed payload: a packet of length {units} at character {start} "
                f"runs past the end of the body"
            )
        if stop > start:
            packet = body[start:stop]
            if packet[0] not in _ENGINE_TYPES:
                raise WireError(f"unknown Engine.IO packet type {packet[0]!r}")
            packets.append(packet)
        i = stop
    return packets


def _advance(text: str, start: int, units: int) -> int:
    """The index ``units`` UTF-16 code units after ``start`` (past the end if too few)."""
    i, end = start, len(text)
    while units > 0 and i < end:
        units -= 2 if ord(text[i]) > 0xFFFF else 1
        i += 1
    if units < 0:
        raise WireError("malformed payload: a packet length splits a character in two")
    return i if units == 0 else end + 1


@dataclass(frozen=True)
class SioPacket:
    """One Socket.IO v4 packet: its type, namespace, ack id and JSON data."""

    kind: int
    namespace: str = "/"
    ack: int | None = None
    data: Any = None
    has_data: bool = False


def parse_sio(text: str) -> SioPacket:
    """Parse a message's data (what follows the Engine.IO ``4``)."""
    if not text or not ("0" <= text[0] <= "6"):
        raise WireError(f"unknown Socket.IO packet type {text[:1]!r}")
    kind, i = int(text[0]), 1
    if kind in (BINARY_EVENT, BINARY_ACK):
        raise WireError("binary Socket.IO packets are not supported by this relay")
    namespace = "/"
    if text.startswith("/", i):
        comma = text.find(",", i)
        stop = len(text) if comma < 0 else comma
        namespace, i = text[i:stop], (stop + 1 if comma >= 0 else stop)
    j = i
    while j < len(text) and text[j].isascii() and text[j].isdigit():
        j += 1
    ack = int(text[i:j]) if j > i else None
    rest = text[j:]
    if not rest:
        return SioPacket(kind, namespace, ack)
    try:
        data = json.loads(rest)
    except ValueError as exc:
        raise WireError(f"Socket.IO packet data is not JSON: {exc}") from None
    if kind == EVENT and not (isinstance(data, list) and data and isinstance(data[0], str)):
        raise WireError('an event should be ["name", ...args]')
    return SioPacket(kind, namespace, ack, data, True)


def encode_sio(kind: int, data: Any = None, *, ack: int | None = None, namespace: str = "/") -> str:
    """An Engine.IO message packet (``4`` + the Socket.IO packet); ``data`` None: none."""
    head = f"{MESSAGE}{kind}"
    if namespace != "/":
        head += namespace + ","
    if ack is not None:
        head += str(ack)
    if data is None:
        return head
    return head + json.dumps(data, ensure_ascii=False, separators=(",", ":"))
