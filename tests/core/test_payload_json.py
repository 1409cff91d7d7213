"""A kept payload's JSON text, written and read back: the same payload, with orjson or without."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from crisp_plugin.inbox import payload_json
from crisp_plugin.inbox.payload_json import dump_payload, load_payload

PAYLOADS: list[Any] = [
    {"website_id": "w", "session_id": "s", "content": "hello", "fingerprint": 163239623707986},
    {"content": "héllo 😀 \u2028", "user": {"nickname": "Zoë"}, "mentions": ["a", "b"]},
    {"inbox_id": None, "stamped": True, "automated": False},
    {"content": "null and void", "n": 0},
    {"big": 123456789012345678901234567890, "neg": -(2**63) - 1, "u64": 2**64 - 1},
    {"score": 1e16, "tiny": 5e-324, "neg0": -0.0, "pi": 3.141592653589793},
    {"nan": math.nan, "inf": math.inf, "ninf": -math.inf},
    {"lone": "\ud800 surrogate"},
    {"deep": {"a": [{"b": [1, 2, {"c": None}]}]}},
    {1: "an int key"},
]


def _same(a: Any, b: Any) -> bool:
    """Equal, with NaN equal to NaN and floats and ints kept apart."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_the_text_reads_back_as_json_would_have_written_it(payload: Any) -> None:
    text = dump_payload(payload)
    assert isinstance(text, str)
    reference = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    assert _same(json.loads(text), json.loads(reference))


def test_without_orjson_the_text_is_jsons(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(payload_json, "_fast_dumps", None)
    for payload in PAYLOADS:
        assert dump_payload(payload) == json.dumps(
            payload, separators=(",", ":"), ensure_ascii=False
        )


def test_orjson_writes_the_common_payload(monkeypatch: pytest.MonkeyPatch) -> None:
    real = payload_json._fast_dumps
    assert real is not None  # the speed extra is installed wherever the suite runs
    calls: list[Any] = []

    def counting(value: Any) -> bytes:
        calls.append(value)
        return real(value)

    monkeypatch.setattr(payload_json, "_fast_dumps", counting)
    assert json.loads(dump_payload(PAYLOADS[0])) == PAYLOADS[0]
    assert calls == [PAYLOADS[0]]


@pytest.mark.parametrize("payload", PAYLOADS[:-1], ids=range(len(PAYLOADS) - 1))
def test_what_is_written_reads_back_as_it_was(payload: Any) -> None:
    text = dump_payload(payload)
    assert _same(load_payload(text), payload)
    if text.isascii() or "\ud800" not in text:  # (a lone surrogate has no UTF-8 bytes)
        assert _same(load_payload(text.encode()), payload)


def test_texts_orjson_would_read_differently_are_read_by_json() -> None:
    assert load_payload('{"big":123456789012345678901234567890}') == {
        "big": 123456789012345678901234567890
    }
    assert math.isnan(load_payload('{"x":NaN}')["x"])
    deep = "[" * 150 + "]" * 150
    assert load_payload(deep) == json.loads(deep)
    with pytest.raises(ValueError):
        load_payload("{not json")
