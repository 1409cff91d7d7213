"""A kept event's payload as JSON text, the way every durable inbox stores it.

With orjson installed (the ``speed`` extra) the payload is written by it, five times
faster than ``json``; whatever orjson would write differently goes to ``json``, so the
text read back is the same payload either way:

- orjson refuses an integer past 64 bits, a key that is not a string and a lone
  surrogate (``TypeError``): ``json`` writes them;
- orjson writes ``NaN`` and the infinities as ``null``: when its text has a ``null`` (a
  real one is common: ``"inbox_id": null``), the payload is searched for such a float,
  and written by ``json`` if it holds one.

Read back (:func:`load_payload`), a text goes to orjson only when it reads it as
``json`` does: at most :data:`MAX_BRACKETS` opening brackets (some orjson versions
recurse without a limit) and no run of 19 digits (orjson reads an integer past 64
bits as a float). ``json`` with orjson missing, both ways.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from crisp_plugin.json_shape import LONG_RUN, SHAPE

try:
    from orjson import dumps as _fast_dumps
    from orjson import loads as _fast_loads
except ImportError:  # the speed extra is not installed
    _fast_dumps: Callable[[Any], bytes] | None = None  # type: ignore[no-redef]
    _fast_loads: Callable[[bytes], Any] | None = None  # type: ignore[no-redef]

__all__ = ["MAX_BRACKETS", "dump_payload", "dump_payload_bytes", "load_payload"]

MAX_BRACKETS = 100

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_ascii_dumps = json.JSONEncoder(separators=(",", ":")).encode


def dump_payload(payload: Any) -> str:
    """``payload`` as compact JSON text (UTF-8 characters kept as they are)."""
    data = _orjson_text(payload)
    return data.decode() if data is not None else _dumps(payload)


def dump_payload_bytes(payload: Any) -> bytes:
    """``payload`` as compact JSON in UTF-8 bytes (what a socket takes, without the
    round trip through ``str``). What orjson cannot write goes to ``json`` with every
    character past ASCII escaped, so a lone surrogate still makes valid UTF-8."""
    data = _orjson_text(payload)
    return data if data is not None else _ascii_dumps(payload).encode()


def _orjson_text(payload: Any) -> bytes | None:
    """orjson's text of ``payload`` when it is what ``json`` would write, else None."""
    if _fast_dumps is None:
        return None
    try:
        data = _fast_dumps(payload)
    except TypeError:
        return None  # something orjson does not write as json would: json's own text
    if b"null" in data and _has_nonfinite(payload):
        return None
    return data


def _has_nonfinite(doc: Any) -> bool:
    """True when a float in ``doc`` is NaN or infinite (iterative: any depth)."""
    stack = [doc]
    while stack:
        node = stack.pop()
        for value in node.values() if isinstance(node, dict) else node:
            kind = type(value)
            if kind in _SCALARS:
                continue
            if isinstance(value, float):
                if not math.isfinite(value):
                    return True
            elif isinstance(value, _CONTAINERS):
                stack.append(value)
    return False


_SCALARS = frozenset({str, int, bool, type(None)})
_CONTAINERS = (dict, list, tuple)


def load_payload(text: str | bytes) -> Any:
    """The payload a :func:`dump_payload` text holds (``ValueError`` when it is not
    JSON)."""
    if _fast_loads is not None:
        try:
            data = text.encode() if isinstance(text, str) else text
        except UnicodeEncodeError:  # a lone surrogate json kept in the text
            return json.loads(text)
        shape = data.translate(SHAPE)
        if shape.count(b"{") <= MAX_BRACKETS and LONG_RUN not in shape:
            try:
                return _fast_loads(data)
            except ValueError:
                pass  # (a NaN, a lone surrogate...): json's reading, or its error
    return json.loads(text)
