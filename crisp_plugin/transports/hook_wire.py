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
    "HeadReader",
    "answer_bytes",
    "http_date",
    "is_redelivery",
    "parse_head",
    "parse_head_lines",
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


# The last answer written: its second, the answer, whether it closes, its bytes.
_last: list[Any] = [-1, None, False, b""]


def answer_bytes(answer: Answer, close: bool) -> bytes:
    """The whole answer, ``Date`` included; the last one is reused within its second
    (answers in a row are nearly all the same ``200``)."""
    now = int(time.time())
    last = _last
    if answer is last[1] and now == last[0] and close == last[2]:
        data: bytes = last[3]
        return data
    before, after = rendered(answer, close)
    data = before + http_date() + after
    last[0], last[1], last[2], last[3] = now, answer, close, data
    return data


def is_redelivery(attempt: str | None) -> bool:
    """True when an ``X-Delivery-Attempt-Count`` value says this is not the first try."""
    if attempt is None:
        return False
    attempt = attempt.strip()
    return attempt.isascii() and attempt.isdigit() and int(attempt) > 1


# Maps the bytes a header line may hold, name and value (visible ASCII, space, tab,
# obs-text), to "a", every other byte (CR and LF among them) to NUL: in a head of such
# lines, NULs are its line ends, two per line after the first.
_FIELD_MAP = bytes(
    0x61 if byte == 0x09 or 0x20 <= byte <= 0x7E or byte >= 0x80 else 0 for byte in range(256)
)
# The bytes of a token (a header name), lower-cased.
_TOKEN_BYTES = b"!#$%&'*+.^_`|~0123456789abcdefghijklmnopqrstuvwxyz-"


def parse_head(head: bytes, request_line: bytes, body_limit: int) -> Head | None:
    """What the fast path needs of a plain hook POST, ``None`` for anything else.

    ``head`` runs from the request line to the last header line, without the blank
    line that ends it, and is at most :data:`MAX_HEAD` bytes long.

    The common head (every header once, digits where digits belong) is read with a
    few whole-head operations, not a loop over its lines; any other head is read line
    by line (:func:`parse_head_lines`), which gives the same answers, only slower.
    """
    first = head.find(b"\r\n")
    if first < 0 or head[:first] != request_line:
        return None
    fields = head[first + 2 :]
    low = fields.lower()  # ASCII only, as header names compare
    lines = low.split(b"\r\n")
    count = len(lines)
    if count > FAST_MAX_HEADERS:
        return None  # aiohttp serves it, or refuses it when over its own limit
    if fields.translate(_FIELD_MAP).count(0) != 2 * (count - 1):
        return None  # control bytes, a bare CR or LF
    try:
        headers = dict([line.split(b":", 1) for line in lines])
    except ValueError:
        return None  # a line without a colon
    if len(headers) != count:
        return parse_head_lines(head, request_line, body_limit)  # a name repeated
    if b"".join(headers).translate(None, _TOKEN_BYTES) or b"" in headers:
        return None  # a name that is not a token (a space before the colon, a fold)
    if b"transfer-encoding" in headers or b"expect" in headers:
        return None
    value = headers.get(b"content-length")
    if value is None:
        return None  # aiohttp answers 411
    value = value.strip(b" \t")
    if not value.isdigit() or len(value) > 12:
        return None  # sign, hex, a list, huge: aiohttp refuses or decides
    length = int(value)
    if length > body_limit:
        return None  # aiohttp answers 413
    close = False
    value = headers.get(b"connection")
    if value is not None:
        token = value.strip()
        if token == b"close":
            close = True
        elif token != b"keep-alive":
            return None  # upgrade and the like: aiohttp's business
    stamp = headers.get(b"x-crisp-request-timestamp", b"").strip()
    if stamp and not stamp.isdigit():
        # signed as sent: the lower-cased copy would not do
        return parse_head_lines(head, request_line, body_limit)
    value = headers.get(b"x-crisp-signature")
    # hex, compared lower-cased: the lower-cased copy does
    signature = None if value is None else value.strip().decode("latin-1")
    attempt = headers.get(b"x-delivery-attempt-count")
    redelivery = attempt is not None and is_redelivery(attempt.decode("latin-1"))
    return length, close, signature, stamp.decode("latin-1"), redelivery


def parse_head_lines(head: bytes, request_line: bytes, body_limit: int) -> Head | None:
    """:func:`parse_head`, line by line: the general reading of a head."""
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


# The headers whose values change from one hook to the next (a template's holes).
_VARYING = (
    b"content-length",
    b"x-crisp-request-timestamp",
    b"x-crisp-signature",
    b"x-delivery-attempt-count",
)


class HeadReader:
    """:func:`parse_head` for one endpoint, with the shape of the last head kept.

    Crisp's deliveries differ only in a few values (length, timestamp, signature,
    attempt): the rest of the head is the same bytes every time. Once a head parses,
    its bytes are kept as a template with those values as holes; a head of the same
    length whose bytes outside the holes are the template's, and whose holes hold only
    digits (a hex signature: letters and digits) between spaces or tabs, is read from
    the holes alone, with the answer :func:`parse_head` gives it. Any other head is
    parsed and becomes the template.
    """

    __slots__ = ("_body_limit", "_close", "_fixed", "_holes", "_request_line", "_size")

    def __init__(self, request_line: bytes, body_limit: int) -> None:
        self._request_line = request_line
        self._body_limit = body_limit
        self._size = -1  # the template's length (-1: none yet)
        self._fixed: tuple[tuple[int, bytes], ...] = ()  # (offset, bytes) between holes
        # (start, end) of each varying value, in _VARYING's order; (0, 0): absent
        self._holes: tuple[tuple[int, int], ...] = ()
        self._close = False

    def read(self, head: bytes) -> Head | None:
        """The :func:`parse_head` answer for ``head``."""
        if len(head) == self._size:
            for offset, fixed in self._fixed:
                if not head.startswith(fixed, offset):
                    break
            else:  # the template's shape: the values are read from the holes (inline)
                (ls, le), (ts, te), (ss, se), (as_, ae) = self._holes
                length = head[ls:le].strip(b" \t")
                stamp = head[ts:te].strip(b" \t")
                signature: str | None = None
                redelivery = False
                valid = length.isdigit() and len(length) <= 12 and (not te or stamp.isdigit())
                if valid and se:
                    sign = head[ss:se].strip(b" \t")
                    valid = sign.isalnum() and sign.isascii()
                    signature = sign.decode("ascii") if valid else None
                if valid and ae:
                    attempt = head[as_:ae].strip(b" \t")
                    valid = attempt.isdigit()
                    redelivery = valid and int(attempt) > 1
                if valid:
                    size = int(length)
                    if size <= self._body_limit:
                        return size, self._close, signature, stamp.decode("ascii"), redelivery
        answer = parse_head(head, self._request_line, self._body_limit)
        if answer is not None:
            self._learn(head, answer[1])
        return answer

    def _learn(self, head: bytes, close: bool) -> None:
        low = head.lower()
        holes: list[tuple[int, int]] = []
        for name in _VARYING:
            needle = b"\r\n" + name + b":"
            at = low.find(needle)
            if at < 0:
                holes.append((0, 0))
                continue
            if low.find(needle, at + 1) >= 0:
                self._size = -1  # a varying header twice: no template
                return
            start = at + len(needle)
            end = low.find(b"\r\n", start)
            holes.append((start, len(head) if end < 0 else end))
        fixed: list[tuple[int, bytes]] = []
        offset = 0
        for start, end in sorted(hole for hole in holes if hole[1]):
            fixed.append((offset, head[offset:start]))
            offset = end
        fixed.append((offset, head[offset:]))
        self._fixed = tuple(fixed)
        self._holes = tuple(holes)
        self._close = close
        self._size = len(head)
