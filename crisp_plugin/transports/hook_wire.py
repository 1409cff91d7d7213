"""The bytes of the hook fast path: which heads it takes, and how its answers look.

:func:`parse_head` reads the head of one request (request line and header lines, up to
the blank line) and says whether it is a plain hook POST the fast path may answer
itself; ``None`` sends the request to aiohttp, whose parser then decides. The answers
are pre-rendered around the ``Date`` value, which changes once a second.
"""

from __future__ import annotations

import re
import time
from email.utils import formatdate
from typing import Any

__all__ = [
    "FAST_MAX_HEADERS",
    "MAX_FIELD_SIZE",
    "MAX_HEAD",
    "MAX_HEADERS",
    "MAX_LINE_SIZE",
    "Answer",
    "Head",
    "http_date",
    "is_redelivery",
    "parse_head",
    "render_answer",
    "rendered",
]

# aiohttp's own limits for a request head (the defaults of its RequestHandler, given
# to it explicitly by the web hook server): the request target and each header field
# at most 8190 bytes, at most 128 header lines. Over any of them its parser answers 400.
MAX_LINE_SIZE = 8190
MAX_FIELD_SIZE = 8190
MAX_HEADERS = 128

# The longest head the fast path takes (request line and header lines): any line of
# such a head is within both limits above. A longer head, complete or not, goes to
# aiohttp, whose limits then decide.
MAX_HEAD = 8190

# The most header lines the fast path takes. aiohttp's C parser allows MAX_HEADERS;
# its pure-Python parser (AIOHTTP_NO_EXTENSIONS) counts the request line and the blank
# line too and allows two fewer. Past this, aiohttp decides (and the C parser still
# serves 127 or 128 headers: the same answer, from aiohttp).
FAST_MAX_HEADERS = MAX_HEADERS - 2

_REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 408: "Request Timeout"}
_REASONS.update({413: "Payload Too Large", 500: "Internal Server Error"})
_REASONS[503] = "Service Unavailable"

# (status, JSON body, extra headers)
Answer = tuple[int, bytes, tuple[tuple[str, str], ...]]

# (content length, close, signature, timestamp, redelivery)
Head = tuple[int, bool, str | None, str, bool]

# A header line the fast path takes: a token name, a colon, then visible ASCII, spaces,
# tabs and obs-text bytes only. Anything else (obs-fold, bare CR or LF, NUL and other
# control bytes, a space before the colon) goes to aiohttp.
_HEADER_LINE = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t\x20-\x7e\x80-\xff]*")

# Headers that must appear at most once for the fast path to take the request.
_SINGLE = frozenset(
    {
        b"content-length",
        b"x-crisp-signature",
        b"x-crisp-request-timestamp",
        b"x-delivery-attempt-count",
        b"connection",
    }
)

_date_second = -1
_date_value = b""


def http_date() -> bytes:
    """The ``Date`` header value, formatted once per second."""
    global _date_second, _date_value
    now = int(time.time())
    if now != _date_second:
        _date_second = now
        _date_value = formatdate(now, usegmt=True).encode("ascii")
    return _date_value


def render_answer(answer: Answer, close: bool = False) -> tuple[bytes, bytes]:
    """The bytes of an answer, split around the ``Date`` value: ``(before, after)``."""
    status, body, headers = answer
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}"]
    lines.append("Content-Type: application/json")
    lines.append(f"Content-Length: {len(body)}")
    lines.extend(f"{name}: {value}" for name, value in headers)
    if close:
        lines.append("Connection: close")
    before = ("\r\n".join(lines) + "\r\nDate: ").encode("latin-1")
    return before, b"\r\n\r\n" + body


_rendered_cache: dict[tuple[Any, ...], tuple[bytes, bytes]] = {}


def rendered(answer: Answer, close: bool) -> tuple[bytes, bytes]:
    """:func:`render_answer`, cached: answers are few (a handful of statuses/messages)."""
    key = (*answer, close)
    found = _rendered_cache.get(key)
    if found is None:
        found = render_answer(answer, close)
        if len(_rendered_cache) < 256:
            _rendered_cache[key] = found
    return found


def is_redelivery(attempt: str | None) -> bool:
    """True when an ``X-Delivery-Attempt-Count`` value says this is not the first try."""
    if attempt is None:
        return False
    attempt = attempt.strip()
    return attempt.isascii() and attempt.isdigit() and int(attempt) > 1


def parse_head(head: bytes, request_line: bytes, body_limit: int) -> Head | None:
    """What the fast path needs of a plain hook POST, ``None`` for anything else.

    ``head`` runs from the request line to the last header line, without the blank
    line that ends it, and is at most :data:`MAX_HEAD` bytes long.
    """
    first = head.find(b"\r\n")
    if first < 0 or head[:first] != request_line:
        return None
    lines = head[first + 2 :].split(b"\r\n")
    if len(lines) > FAST_MAX_HEADERS:
        return None  # aiohttp serves it, or refuses it when over its own limit
    length = -1
    close = False
    signature: str | None = None
    timestamp = ""
    redelivery = False
    seen: set[bytes] = set()
    for line in lines:
        if _HEADER_LINE.fullmatch(line) is None:
            return None  # folded, bare CR/LF, control bytes, a name not a token
        name, _, value = line.partition(b":")
        lower = name.lower()
        if lower in _SINGLE:
            if lower in seen:
                return None  # twice: aiohttp's parser decides which one counts
            seen.add(lower)
        if lower == b"x-crisp-signature":
            signature = value.strip().decode("latin-1")
        elif lower == b"x-crisp-request-timestamp":
            timestamp = value.strip().decode("latin-1")
        elif lower == b"x-delivery-attempt-count":
            redelivery = is_redelivery(value.decode("latin-1"))
        elif lower == b"content-length":
            value = value.strip(b" \t")
            if not value.isdigit() or len(value) > 12:
                return None  # sign, hex, a list, huge: aiohttp refuses or decides
            length = int(value)
        elif lower == b"transfer-encoding" or lower == b"expect":
            return None
        elif lower == b"connection":
            token = value.strip().lower()
            if token == b"close":
                close = True
            elif token != b"keep-alive":
                return None  # upgrade and the like: aiohttp's business
    if length < 0 or length > body_limit:
        return None  # aiohttp answers 411 / 413
    return length, close, signature, timestamp, redelivery
