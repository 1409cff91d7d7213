"""Hostile traffic for a hook server: signed hooks, mangled at random, and a client
that sends them and reads back whatever comes.

Used by the abuse test (``tests/transports/test_hook_abuse.py``, thousands of cases
in seconds) and by ``python -m bench.hook_abuse`` (the same at scale, with figures).
Everything is drawn from a seeded ``random.Random``: a run can be replayed.

Every case is one connection: a mutated request (byte flips, truncation, duplicated
or missing headers, huge or odd lengths, forged signatures, bad framing, deep JSON,
garbage), sometimes pipelined with a good hook, written in pieces split at random
points, then either a closing sentinel (a good hook with ``Connection: close``, so the
server ends the connection when it can) or nothing more (the server must close it at
its deadline). :meth:`Forge.signed` remembers every payload it signed: a server may
feed only those.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import random
import socket
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Case", "Forge", "Outcome", "parse_answers", "run_case", "trickle"]

WEBSITE = "42286ab3-b29a-4fde-8538-da0ae501d825"


def _sign(secret: str, stamp: str, body: bytes) -> str:
    message = b"[" + stamp.encode() + b";" + body + b"]"
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@dataclass
class Case:
    """One connection's worth of bytes: written in ``pieces``, then maybe stalled."""

    kind: str
    pieces: list[bytes]
    stall: bool  # True: no sentinel, the server's deadline must end the connection


@dataclass
class Outcome:
    """What came back on one connection."""

    statuses: list[int] = field(default_factory=list)
    closed: bool = False  # the server closed (EOF or reset) within the wait
    reset: bool = False
    seconds: float = 0.0


class Forge:
    """Builds good signed hooks and mutated ones."""

    def __init__(self, secret: str, path: str, seed: int) -> None:
        self.secret = secret
        self.path = path
        self.rng = random.Random(seed)
        self.signed: dict[int, dict[str, Any]] = {}  # fingerprint -> payload as fed
        self._next = 1

    def fingerprint(self) -> int:
        self._next += 1
        return self._next

    def body(self, fingerprint: int, content: str = "hello") -> bytes:
        data = {
            "website_id": WEBSITE,
            "session_id": "session_700c65e1-85e2-465a-b9ac-ecb5ec2c9881",
            "type": "text",
            "from": "user",
            "origin": "chat",
            "content": content,
            "fingerprint": fingerprint,
            "timestamp": 1632396233539,
        }
        doc = {"website_id": WEBSITE, "event": "message:send", "data": data, "timestamp": 1}
        return json.dumps(doc, separators=(",", ":")).encode()

    def head_lines(self, body: bytes, sign: bool = True) -> list[str]:
        stamp = str(int(time.time() * 1000))
        lines = [
            "Host: 127.0.0.1",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
            "X-Crisp-Request-Timestamp: " + stamp,
            "X-Crisp-Signature: " + (_sign(self.secret, stamp, body) if sign else "0" * 64),
            "User-Agent: Crisp-HooksDeliver 1.0",
        ]
        if sign:
            payload = json.loads(body)["data"]
            self.signed[payload["fingerprint"]] = payload
        return lines

    def good(self, close: bool = False, content: str = "hello") -> bytes:
        """A signed hook POST (remembered in :attr:`signed`)."""
        body = self.body(self.fingerprint(), content)
        lines = self.head_lines(body)
        if close:
            lines.append("Connection: close")
        return self._raw(f"POST {self.path} HTTP/1.1", lines, body)

    @staticmethod
    def _raw(request_line: str, lines: list[str], body: bytes, eol: str = "\r\n") -> bytes:
        return (eol.join([request_line, *lines]) + eol + eol).encode("latin-1") + body

    # -- mutations -------------------------------------------------------------------

    def mutated(self) -> tuple[str, bytes]:
        """``(kind, bytes)`` of one hostile request."""
        kind = self.rng.choice(_KINDS)
        return kind, getattr(self, "_m_" + kind)()

    def _parts(self) -> tuple[str, list[str], bytes]:
        body = self.body(self.fingerprint(), self.rng.choice(["hi", "héllo 👋", "x" * 300]))
        return f"POST {self.path} HTTP/1.1", self.head_lines(body), body

    def _m_flip(self) -> bytes:
        raw = bytearray(self.good())
        for _ in range(self.rng.randint(1, 4)):
            raw[self.rng.randrange(len(raw))] ^= 1 << self.rng.randrange(8)
        return bytes(raw)

    def _m_truncate(self) -> bytes:
        raw = self.good()
        return raw[: self.rng.randrange(1, len(raw))]

    def _m_duplicate(self) -> bytes:
        line, lines, body = self._parts()
        pick = self.rng.randrange(len(lines))
        copy = lines[pick]
        if self.rng.random() < 0.5:
            name = copy.split(":", 1)[0]
            copy = f"{name}: {self.rng.choice(['0', '1', 'x', '9999', ''])}"
        lines.insert(self.rng.randrange(len(lines) + 1), copy)
        return self._raw(line, lines, body)

    def _m_missing(self) -> bytes:
        line, lines, body = self._parts()
        del lines[self.rng.randrange(len(lines))]
        return self._raw(line, lines, body)

    def _m_length(self) -> bytes:
        line, lines, body = self._parts()
        value = self.rng.choice(
            ["999999999999", "1048577", "1048576", "9" * 40, "-1", "+5", "0x10", "1e3", "", "0"]
        )
        lines = [x for x in lines if not x.startswith("Content-Length")]
        lines.append(f"Content-Length: {value}")
        return self._raw(line, lines, body)

    def _m_forged(self) -> bytes:
        line, lines, body = self._parts()
        lines = [x for x in lines if not x.startswith("X-Crisp-Signature")]
        forged = self.rng.choice(["0" * 64, "zz", "é" * 64, "", _sign("guess", "1", body)])
        lines.append("X-Crisp-Signature: " + forged)
        return self._raw(line, lines, body)

    def _m_framing(self) -> bytes:
        line, lines, body = self._parts()
        choice = self.rng.randrange(6)
        if choice == 0:
            chunked = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
            return self._raw(line, [*lines, "Transfer-Encoding: chunked"], b"") + chunked
        if choice == 1:
            return self._raw(line, lines, body, eol="\n")
        if choice == 2:
            return self._raw(line, [*lines[:2], " folded", *lines[2:]], body)
        if choice == 3:
            return self._raw(line, [*lines, "X-Nul: a\x00b"], body)
        if choice == 4:
            return self._raw(line, [*lines, "Expect: 100-continue"], body)
        return self._raw(line, [*lines, "X-Cr: a\rb"], body)

    def _m_line(self) -> bytes:
        _, lines, body = self._parts()
        line = self.rng.choice(
            [
                f"GET {self.path} HTTP/1.1",
                f"POST {self.path} HTTP/1.0",
                f"POST {self.path}?x=1 HTTP/1.1",
                f"POST {self.path} HTTP/9.9",
                f"POST /{'a' * 9000} HTTP/1.1",
                f"PATCH {self.path} HTTP/1.1",
                "POST  HTTP/1.1",
                f"\x16\x03\x01 {self.path}",
            ]
        )
        return self._raw(line, lines, body)

    def _m_big_head(self) -> bytes:
        line, lines, body = self._parts()
        if self.rng.random() < 0.5:
            extra = ["X-Junk: " + "a" * self.rng.choice([8000, 8191, 20000])]
        else:
            extra = [f"X-F{i}: {i}" for i in range(self.rng.choice([100, 127, 129, 400]))]
        return self._raw(line, [*lines, *extra], body)

    def _m_deep(self) -> bytes:
        depth = self.rng.choice([101, 1000, 50_000])
        nest = "[" * depth + "1" + "]" * depth
        body = self.body(self.fingerprint()).replace(b'"hello"', nest.encode())
        lines = self.head_lines(body, sign=False)
        stamp = lines[3].split(": ", 1)[1]
        lines[4] = "X-Crisp-Signature: " + _sign(self.secret, stamp, body)  # validly signed
        return self._raw(f"POST {self.path} HTTP/1.1", lines, body)

    def _m_garbage(self) -> bytes:
        return self.rng.randbytes(self.rng.randint(1, 3000))

    def _m_unsigned(self) -> bytes:
        body = self.body(self.fingerprint())
        lines = [x for x in self.head_lines(body, sign=False) if "Signature" not in x]
        return self._raw(f"POST {self.path} HTTP/1.1", lines, body)

    # -- cases -----------------------------------------------------------------------

    def case(self, stall_share: float = 0.05) -> Case:
        """A connection: a mutated request (maybe after a good one), split at random,
        then the closing sentinel, or (``stall_share`` of cases) nothing more."""
        kind, raw = self.mutated()
        if self.rng.random() < 0.2:
            raw = self.good() + raw
        stall = self.rng.random() < stall_share
        if not stall:
            raw += self.good(close=True)
        count = min(len(raw) - 1, self.rng.randint(0, 6))
        edges = [0, *sorted(self.rng.sample(range(1, len(raw)), count)), len(raw)]
        return Case(kind, [raw[a:b] for a, b in itertools.pairwise(edges)], stall)


_KINDS = [
    "flip",
    "flip",
    "truncate",
    "duplicate",
    "missing",
    "length",
    "forged",
    "framing",
    "line",
    "big_head",
    "deep",
    "garbage",
    "unsigned",
]


def parse_answers(data: bytes) -> list[int]:
    """The statuses of the HTTP answers in ``data``, in order (framed by their
    ``Content-Length``; interim 1xx answers have none)."""
    statuses: list[int] = []
    pos = 0
    while pos < len(data):
        end = data.find(b"\r\n\r\n", pos)
        if end < 0 or not data.startswith(b"HTTP/1.", pos):
            break
        head = data[pos:end].decode("latin-1").split("\r\n")
        statuses.append(int(head[0].split()[1]))
        length = 0
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        pos = end + 4 + length
    return statuses


async def run_case(host: str, port: int, case: Case, wait: float) -> Outcome:
    """Send ``case`` and read until the server closes, at most ``wait`` seconds."""
    started = time.monotonic()
    outcome = Outcome()
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError:
        return outcome
    with contextlib.suppress(OSError):
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    received = b""
    try:
        for piece in case.pieces:
            writer.write(piece)
            await writer.drain()
            await asyncio.sleep(0)  # let the server read this piece apart
        async with asyncio.timeout(wait):
            while chunk := await reader.read(65536):
                received += chunk
        outcome.closed = True
    except ConnectionError:  # a reset: what was read before it is kept
        outcome.closed = outcome.reset = True
    except TimeoutError:
        pass
    finally:
        writer.close()
    outcome.statuses = parse_answers(received)
    outcome.seconds = time.monotonic() - started
    return outcome


async def trickle(host: str, port: int, data: bytes, every: float, wait: float) -> Outcome:
    """A slowloris: ``data`` one byte every ``every`` seconds until the server closes
    (``closed``) or ``wait`` seconds pass."""
    started = time.monotonic()
    outcome = Outcome()
    reader, writer = await asyncio.open_connection(host, port)
    received = b""
    try:
        async with asyncio.timeout(wait):
            for i in range(len(data)):
                writer.write(data[i : i + 1])
                await writer.drain()
                try:
                    async with asyncio.timeout(every):
                        while chunk := await reader.read(65536):
                            received += chunk
                    outcome.closed = True
                    break
                except TimeoutError:
                    continue
    except ConnectionError:
        outcome.closed = outcome.reset = True
    except TimeoutError:
        pass
    finally:
        writer.close()
    outcome.statuses = parse_answers(received)
    outcome.seconds = time.monotonic() - started
    return outcome
