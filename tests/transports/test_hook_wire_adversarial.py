"""The hook fast path against hostile or odd HTTP/1.1 on a raw loopback socket.

Whatever the bytes, a request is either answered by the fast path exactly as the
aiohttp route would answer it, or handed to aiohttp (whose answers carry its
``Server`` header): framing (Content-Length with Transfer-Encoding, repeated or odd
Content-Length, bare LF, folded lines) is never guessed by the fast path.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import socket
from collections.abc import AsyncIterator

import pytest

from crisp_plugin.signing import compact_json, sign
from crisp_plugin.transports.webhook import WebhookServer
from tests.transports.test_webhook_server import SECRET, NowaitSink, hook

Answer = tuple[int, dict[str, str], bytes]


@pytest.fixture
async def fed() -> NowaitSink:
    return NowaitSink()


@pytest.fixture
async def server(fed: NowaitSink) -> AsyncIterator[WebhookServer]:
    srv = WebhookServer(fed, host="127.0.0.1", port=0, secret=SECRET, body_limit=4096)
    await srv.start()
    yield srv
    await srv.stop()


def body_of(fingerprint: int) -> bytes:
    return compact_json(hook(fingerprint=fingerprint, content="hi"))


def head_lines(body: bytes, signature: str | None = None) -> list[str]:
    stamp = "1700000000000"
    return [
        "Host: 127.0.0.1",
        "X-Crisp-Request-Timestamp: " + stamp,
        "X-Crisp-Signature: " + (signature or sign(SECRET, stamp, body)),
    ]


def raw(
    body: bytes,
    lines: list[str],
    *,
    target: str = "/crisp/hooks",
    eol: str = "\r\n",
    length: str | None = None,
) -> bytes:
    all_lines = [f"POST {target} HTTP/1.1", *lines]
    if length is not None:
        all_lines.append(f"Content-Length: {length}")
    return (eol.join(all_lines) + eol + eol).encode("latin-1") + body


def plain(fingerprint: int, signature: str | None = None) -> bytes:
    body = body_of(fingerprint)
    return raw(body, head_lines(body, signature), length=str(len(body)))


async def answers(server: WebhookServer, data: bytes | list[bytes], limit: int = 4) -> list[Answer]:
    """Send ``data`` (chunks written one by one), read answers until the server closes
    the connection, ``limit`` answers arrive, or it goes quiet for 0.5 s."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    chunks = [data] if isinstance(data, bytes) else data
    for i, chunk in enumerate(chunks):
        writer.write(chunk)
        await writer.drain()
        if i < len(chunks) - 1:
            await asyncio.sleep(0.0005)  # let the server read this piece on its own
    out: list[Answer] = []
    try:
        while len(out) < limit:
            try:
                status_line = await asyncio.wait_for(reader.readline(), 0.5)
            except TimeoutError:
                break
            if not status_line:
                break
            headers: dict[str, str] = {}
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            size = int(headers.get("content-length", "0"))
            out.append((int(status_line.split()[1]), headers, await reader.readexactly(size)))
    finally:
        writer.close()
    return out


def by_aiohttp(answer: Answer) -> bool:
    return "aiohttp" in answer[1].get("server", "")


async def test_content_length_with_transfer_encoding_is_never_framed_by_length(
    server: WebhookServer, fed: NowaitSink
) -> None:
    body = body_of(1)
    chunked = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    for te in ("Transfer-Encoding: chunked", "transfer-ENCODING: chunked"):
        for before in (True, False):
            lines = head_lines(body)
            cl = f"Content-Length: {len(body)}"
            lines = [te, cl, *lines] if before else [*lines, cl, te]
            got = await answers(server, raw(body, lines).replace(body, b"") + chunked)
            assert got, "no answer"
            assert all(by_aiohttp(a) for a in got), got
            assert got[0][0] == 400  # both framings at once: refused
    assert fed.fed == []


async def test_repeated_or_conflicting_content_length_goes_to_aiohttp(
    server: WebhookServer, fed: NowaitSink
) -> None:
    body = body_of(2)
    n = len(body)
    conflicting = raw(body, [*head_lines(body), f"Content-Length: {n}", f"Content-Length: {n - 5}"])
    [answer] = await answers(server, conflicting)
    assert by_aiohttp(answer) and answer[0] == 400
    listed = raw(body, [*head_lines(body), f"Content-Length: {n}, {n - 5}"])
    [answer] = await answers(server, listed)
    assert by_aiohttp(answer) and answer[0] == 400
    same = raw(body, [*head_lines(body), f"Content-Length: {n}", f"Content-Length: {n}"])
    got = await answers(server, same)
    assert got and all(by_aiohttp(a) for a in got)
    assert all(p["fingerprint"] == 2 for _, p, _ in fed.fed)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+{n}", 400),
        ("-1", 400),
        ("0x{h}", 400),
        ("{n}.0", 400),
        ("", 400),
        ("\t{n}  ", 200),  # optional whitespace around the value is legal
        ("00{n}", 200),
        ("99999", 413),  # over the body limit
        ("9" * 30, 400),  # past any integer size
    ],
)
async def test_odd_content_length_values(
    server: WebhookServer, fed: NowaitSink, value: str, expected: int
) -> None:
    body = body_of(3)
    length = value.format(n=len(body), h=f"{len(body):x}")
    got = await answers(server, raw(body, head_lines(body), length=length))
    assert got, "no answer"
    assert got[0][0] == expected, got
    if expected != 200:
        assert by_aiohttp(got[0]) or got[0][0] == 413
        assert fed.fed == []
    else:
        assert [p["fingerprint"] for _, p, _ in fed.fed] == [3]


async def test_header_names_in_any_case_are_understood(
    server: WebhookServer, fed: NowaitSink
) -> None:
    body = body_of(4)
    stamp = "1700000000000"
    lines = [
        "HOST: x",
        "x-crisp-REQUEST-timestamp: " + stamp,
        "X-CRISP-SIGNATURE: " + sign(SECRET, stamp, body),
        f"content-LENGTH: {len(body)}",
    ]
    [answer] = await answers(server, raw(body, lines))
    assert answer[0] == 200 and not by_aiohttp(answer)  # the fast path took it
    assert [p["fingerprint"] for _, p, _ in fed.fed] == [4]


async def test_folded_header_lines_go_to_aiohttp(server: WebhookServer, fed: NowaitSink) -> None:
    body = body_of(5)
    lines = head_lines(body)
    folded = [*lines[:2], lines[2][:30], " " + lines[2][30:], f"Content-Length: {len(body)}"]
    got = await answers(server, raw(body, folded))
    assert got and by_aiohttp(got[0])
    hidden = [*lines, "X-Note: a", "\tContent-Length: 3", f"Content-Length: {len(body)}"]
    got = await answers(server, raw(body, hidden))
    assert got and by_aiohttp(got[0])
    assert all(p["fingerprint"] == 5 for _, p, _ in fed.fed)


async def test_bare_lf_line_endings_are_answered_by_aiohttp_not_left_hanging(
    server: WebhookServer, fed: NowaitSink
) -> None:
    body = body_of(6)
    lf_only = raw(body, head_lines(body), eol="\n", length=str(len(body)))
    got = await answers(server, lf_only)
    assert got, "a bare-LF request was never answered"
    assert by_aiohttp(got[0])
    # one bare LF hiding a header inside another header's line
    mixed = raw(body, [*head_lines(body), f"X-Note: a\nContent-Length: {len(body)}"])
    got = await answers(server, mixed)
    assert got and by_aiohttp(got[0])
    assert all(p["fingerprint"] == 6 for _, p, _ in fed.fed)


async def test_absolute_form_and_query_targets_go_to_aiohttps_route(
    server: WebhookServer, fed: NowaitSink
) -> None:
    body = body_of(7)
    for target in (f"http://127.0.0.1:{server.port}/crisp/hooks", "/crisp/hooks?x=1"):
        [answer] = await answers(
            server, raw(body, head_lines(body), target=target, length=str(len(body)))
        )
        assert by_aiohttp(answer) and answer[0] == 200, answer
    assert [p["fingerprint"] for _, p, _ in fed.fed] == [7, 7]


async def test_two_pipelined_requests_split_anywhere_get_the_one_chunk_answers(
    server: WebhookServer, fed: NowaitSink
) -> None:
    stream = plain(8) + plain(9, signature="0" * 64)  # a good hook, then a forged one
    expected = await answers(server, stream)
    assert [a[0] for a in expected] == [200, 403]
    rng = random.Random(20261123)
    cases = [[i] for i in range(1, len(stream))]  # every single cut
    cases += [sorted(rng.sample(range(1, len(stream)), k)) for k in (2, 3, 5, 9) for _ in range(60)]
    for cuts in cases:
        edges = [0, *cuts, len(stream)]
        chunks = [stream[a:b] for a, b in itertools.pairwise(edges)]
        got = await answers(server, chunks, limit=2)
        assert [(a[0], a[2]) for a in got] == [(a[0], a[2]) for a in expected], cuts
    assert {p["fingerprint"] for _, p, _ in fed.fed} == {8}
    assert len(fed.fed) == 1 + len(cases)


async def test_a_body_cut_short_by_close_is_not_fed_and_the_server_goes_on(
    server: WebhookServer, fed: NowaitSink
) -> None:
    request = plain(10)
    got = await answers(server, request[:-7])  # then the connection closes
    assert got == []
    assert fed.fed == []
    [answer] = await answers(server, plain(11))
    assert answer[0] == 200 and [p["fingerprint"] for _, p, _ in fed.fed] == [11]


async def test_non_ascii_bytes_in_headers(server: WebhookServer, fed: NowaitSink) -> None:
    body = body_of(12)
    note = raw(body, [*head_lines(body), "X-Note: caf\xe9 \xff"], length=str(len(body)))
    [answer] = await answers(server, note)
    assert answer[0] == 200  # obs-text in a value is legal
    forged = raw(body, head_lines(body, signature="\xe9" * 64), length=str(len(body)))
    [answer] = await answers(server, forged)
    assert answer[0] == 403 and json.loads(answer[2])["error"] == "forbidden"
    forged_route = raw(
        body,
        head_lines(body, signature="\xe9" * 64),
        target="/crisp/hooks?x=1",
        length=str(len(body)),
    )
    [answer] = await answers(server, forged_route)
    assert answer[0] == 403
    bad_name = raw(body, [*head_lines(body), "X-N\xe9te: 1"], length=str(len(body)))
    [answer] = await answers(server, bad_name)
    assert by_aiohttp(answer) and answer[0] == 400
    assert [p["fingerprint"] for _, p, _ in fed.fed] == [12]
