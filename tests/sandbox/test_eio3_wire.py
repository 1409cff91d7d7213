"""Engine.IO v3 payload framing and Socket.IO v4 packets, as socket.io-client 2.x frames them."""

from __future__ import annotations

import pytest

from crisp_plugin.sandbox.eio3_wire import (
    EVENT,
    SioPacket,
    WireError,
    decode_payload,
    encode_payload,
    encode_sio,
    parse_sio,
    utf16_len,
)


def test_lengths_are_javascript_string_lengths() -> None:
    assert utf16_len("42") == 2
    assert utf16_len("é") == 1  # one code unit, two UTF-8 bytes
    assert utf16_len("🙂") == 2  # a surrogate pair
    assert encode_payload(["3", '42["a","🙂"]']) == '1:312:42["a","🙂"]'  # 12: the emoji counts 2


@pytest.mark.parametrize(
    "packets",
    [["40"], ["2", '42["x",{"t":"👨‍👩‍👧 déjà"}]', "3probe"], ['42["colon:in:name",":"]']],
)
def test_payloads_round_trip(packets: list[str]) -> None:
    assert decode_payload(encode_payload(packets)) == packets


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("", "empty payload"),
        ("42", "expected <length>:<packet>"),
        ("x:2", "expected <length>:<packet>"),
        ("5:42", "runs past the end"),
        ("1:🙂", "splits a character"),
        ("1:9", "unknown Engine.IO packet type"),
        ("1234567890:4", "expected <length>:<packet>"),
    ],
)
def test_malformed_payloads_say_what_is_wrong(body: str, problem: str) -> None:
    with pytest.raises(WireError, match=problem):
        decode_payload(body)


def test_an_error_does_not_quote_the_body() -> None:
    with pytest.raises(WireError) as caught:
        decode_payload('2:4299:42["authentication",{"password":"hunter2-key"}]')
    assert "hunter2" not in str(caught.value)


def test_socketio_packets_parse() -> None:
    assert parse_sio('2["message:send",{"a":1}]') == SioPacket(
        EVENT, "/", None, ["message:send", {"a": 1}], True
    )
    assert parse_sio('212["socket:bind",{}]') == SioPacket(
        EVENT, "/", 12, ["socket:bind", {}], True
    )
    assert parse_sio("0/admin") == SioPacket(0, "/admin")
    assert parse_sio('2/admin,3["x"]') == SioPacket(EVENT, "/admin", 3, ["x"], True)
    assert parse_sio("1") == SioPacket(1)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "unknown Socket.IO packet type"),
        ("7", "unknown Socket.IO packet type"),
        ('51-["x",{"_placeholder":true,"num":0}]', "binary"),
        ("2[oops", "not JSON"),
        ('2{"not":"a list"}', r'\["name", ...args\]'),
        ("2[]", r'\["name", ...args\]'),
        ("2[1]", r'\["name", ...args\]'),
    ],
)
def test_bad_socketio_packets_are_refused(text: str, problem: str) -> None:
    with pytest.raises(WireError, match=problem):
        parse_sio(text)


def test_packets_encode_as_the_clients_read_them() -> None:
    assert encode_sio(0) == "40"
    assert encode_sio(EVENT, ["authenticated", True]) == '42["authenticated",true]'
    assert encode_sio(EVENT, ["m", "ça 🙂"]) == '42["m","ça 🙂"]'  # UTF-8, not \\u escapes
    assert encode_sio(3, [], ack=7) == "437[]"
    assert encode_sio(4, "Invalid namespace", namespace="/x") == '44/x,"Invalid namespace"'
