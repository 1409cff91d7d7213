"""The shortcuts of the hook fast path give the answers of the long way.

- :class:`HeadReader` reads a head shaped like the last one from its template's holes:
  for any head, mutated at random, its answer is the line-by-line parser's.
- :class:`HookKey` is HMAC-SHA256 for every key length, and shows nothing of its key.
- ``load_hook_json`` with orjson accepts and refuses what ``json`` does, and reads
  every value the same (an integer past 64 bits stays exact).
- ``answer_bytes`` reuses the last answer only for the same answer, close flag and
  second: its bytes are always those rendered afresh.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import random
from typing import Any

import pytest

from crisp_plugin.signing import HookKey, compact_json, sign
from crisp_plugin.transports import hook_json, hook_wire
from crisp_plugin.transports.hook_json import TooDeep, load_hook_json
from crisp_plugin.transports.hook_wire import Head, HeadReader, parse_head_lines

REQUEST_LINE = b"POST /crisp/hooks HTTP/1.1"


def crisp_head(fingerprint: int, attempt: int = 1) -> bytes:
    """A head as Crisp's deliveries send it: the same headers, other values."""
    body = compact_json({"event": "message:send", "data": {"fingerprint": fingerprint}})
    stamp = str(1_700_000_000_000 + fingerprint)
    lines = [
        REQUEST_LINE.decode(),
        "Host: 127.0.0.1:8080",
        f"Content-Length: {len(body)}",
        "Content-Type: application/json; charset=utf-8",
        "User-Agent: Crisp-HooksDeliver 1.0 (+https://crisp.chat)",
        f"X-Crisp-Request-Timestamp: {stamp}",
        f"X-Crisp-Signature: {sign('s3cret', stamp, body)}",
        f"X-Delivery-Attempt-Count: {attempt}",
        "X-Delivery-Attempt-Limit: 3",
    ]
    return "\r\n".join(lines).encode("latin-1")


def same(answer: Head | None) -> Head | None:
    """An answer with its signature lower-cased (the check compares it so)."""
    if answer is None or answer[2] is None:
        return answer
    return (answer[0], answer[1], answer[2].lower(), answer[3], answer[4])


PIECES = [b" ", b"\t", b"\r", b"\n", b"\r\n", b":", b"\x00", b"\x7f", b"\xff", b"a", b"Z"]
PIECES += [b"0", b"9", b"-", b"%", b"Transfer-Encoding: chunked\r\n", b"Connection: close\r\n"]


def mutated(rng: random.Random, head: bytes) -> bytes:
    data = bytearray(head)
    for _ in range(rng.randint(1, 2)):
        at = rng.randrange(len(data))
        choice = rng.random()
        if choice < 0.5:  # one byte replaced: same length, the template is tried
            data[at : at + 1] = rng.choice([b" ", b"\t", b"\r", b"\n", b"a", b"7", b":", b"\x00"])
        elif choice < 0.7:
            data[at:at] = rng.choice(PIECES)
        elif choice < 0.85:
            del data[at : at + rng.randint(1, 3)]
        else:
            data[at] ^= 0x20  # case flipped (or a byte changed)
    return bytes(data)


def test_a_head_read_from_the_template_gets_the_line_by_line_answer() -> None:
    rng = random.Random(13)
    reader = HeadReader(REQUEST_LINE, 4096)
    heads = [crisp_head(n, attempt=1 + n % 3) for n in range(200)]
    compared = 0
    for _ in range(30_000):
        head = rng.choice(heads)
        if rng.random() < 0.8:
            head = mutated(rng, head)
        if b"\r\n\r\n" in head:
            continue  # not a head: the protocol splits there first
        assert same(reader.read(head)) == same(parse_head_lines(head, REQUEST_LINE, 4096)), head
        compared += 1
    assert compared > 25_000


def test_heads_of_one_shape_are_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[bytes] = []
    parse = hook_wire.parse_head

    def counting(head: bytes, request_line: bytes, body_limit: int) -> Head | None:
        parsed.append(head)
        return parse(head, request_line, body_limit)

    monkeypatch.setattr(hook_wire, "parse_head", counting)
    reader = HeadReader(REQUEST_LINE, 4096)
    first, second, third = crisp_head(11), crisp_head(12, attempt=2), crisp_head(13)
    answers = [reader.read(head) for head in (first, second, third)]
    assert parsed == [first]  # the next two were read from the template
    assert answers == [parse_head_lines(h, REQUEST_LINE, 4096) for h in (first, second, third)]
    assert answers[1] is not None and answers[1][4] is True  # attempt 2: a redelivery
    # A value the template cannot hold (a signed timestamp) takes the long way, right.
    odd = first.replace(b"X-Crisp-Request-Timestamp: 17", b"X-Crisp-Request-Timestamp: +7")
    assert reader.read(odd) == parse_head_lines(odd, REQUEST_LINE, 4096)
    assert parsed[-1] == odd


@pytest.mark.parametrize("size", [1, 6, 32, 63, 64, 65, 200])
def test_hook_key_is_hmac_sha256(size: int) -> None:
    rng = random.Random(size)
    for _ in range(20):
        secret = rng.randbytes(size)
        message = rng.randbytes(rng.randint(0, 3000))
        expected = hmac.new(secret, message, hashlib.sha256).hexdigest()
        assert HookKey(secret).hexdigest(message) == expected


def test_hook_key_shows_nothing_of_its_secret() -> None:
    key = HookKey(b"very-secret-value")
    assert "very-secret" not in repr(key) and "very-secret" not in str(key)
    assert not hasattr(key, "__dict__")


BODIES = [
    b'{"a":1,"a":2}',
    b'{"n":123456789012345678901234567890,"m":-98765432109876543210}',
    b'{"n":"12345678901234567890123"}',
    b'{"f":1e400,"g":-1e400,"h":1.5e-320}',
    b'{"s":"\\ud800 lone surrogate"}',
    b'{"x":NaN,"y":Infinity}',
    b'{"u":"caf\xc3\xa9 \xe2\x98\x95"}',
    b'{"bad":"\xff\xfe"}',
    b'{"trailing":1,}',
    b'{"t":true,"f":false,"n":null,"z":-0,"e":1E2}',
    b'{"deep":' + b"[" * 150 + b"]" * 150 + b"}",
    b'{"deeper":' + b"[" * 5000 + b"]" * 5000 + b"}",
    b'{"a":' * 100_000 + b"1" + b"}" * 100_000,  # crashed orjson 3.9 (no recursion limit)
    b'{"ok":' + b"[" * 90 + b"]" * 90 + b"}",
    b"[1,2,3]",
    b"  {}",
]


def outcome(body: bytes) -> tuple[str, Any]:
    try:
        doc = load_hook_json(body)
    except TooDeep:
        return "too deep", None
    except ValueError:
        return "not json", None
    return "ok", json.dumps(doc, sort_keys=True, default=repr)


def test_orjson_reads_every_body_as_json_does(monkeypatch: pytest.MonkeyPatch) -> None:
    assert hook_json._fast_loads is not None, "orjson (the speed extra, in dev) is missing"
    with_orjson = [outcome(body) for body in BODIES]
    monkeypatch.setattr(hook_json, "_fast_loads", None)
    with_json = [outcome(body) for body in BODIES]
    assert with_orjson == with_json
    big = load_hook_json(BODIES[1])
    assert big["n"] == 123456789012345678901234567890 and isinstance(big["n"], int)
    assert math.isnan(load_hook_json(BODIES[5])["x"])
    assert [o[0] for o in with_json].count("too deep") == 3


def test_answer_bytes_are_those_rendered_afresh_whatever_came_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1_700_000_000.2]
    monkeypatch.setattr(hook_wire.time, "time", lambda: now[0])
    ok: hook_wire.Answer = (200, b'{"ok":true}', ())
    busy: hook_wire.Answer = (503, b'{"error":"busy"}', (("Retry-After", "1"),))

    def fresh(answer: hook_wire.Answer, close: bool) -> bytes:
        before, after = hook_wire.render_answer(answer, close)
        return before + hook_wire.http_date() + after

    rng = random.Random(7)
    dates = set()
    for _ in range(400):
        if rng.random() < 0.1:
            now[0] += rng.choice((0.3, 1.0, 2.5))
        answer, close = rng.choice((ok, busy)), rng.random() < 0.2
        written = hook_wire.answer_bytes(answer, close)
        assert written == fresh(answer, close)
        assert (b"Connection: close" in written) is close
        dates.add(written.split(b"Date: ")[1].split(b"\r\n")[0])
    assert len(dates) > 5  # the seconds did change under it
