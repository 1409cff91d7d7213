"""A kept event's payload as JSON text, the way every durable inbox stores it.

With orjson installed (the ``speed`` extra) the payload is written by it, five times
faster than ``json``; whatever orjson would write differently goes to ``json``, so the
text read back is the same payload either way:

- orjson refuses an integer past 64 bits, a key that is not a string and a lone
  surrogate (``TypeError``): ``json`` writes them;
- orjson writes ``NaN`` and the infinities as ``null``: when its text has a ``null`` (a
  real one is common: ``"inbox_id": null``), the payload is searched for such a float,
  and written by ``json`` if it holds one.

``json`` with orjson missing, as before.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

try:
    from orjson import dumps as _fast_dumps
except ImportError:  # the speed extra is not installed
    _fast_dumps: Callable[[Any], bytes] | None = None  # type: ignore[no-redef]

__all__ = ["dump_payload"]

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def dump_payload(payload: Any) -> str:
    """``payload`` as compact JSON text (UTF-8 characters kept as they are)."""
    if _fast_dumps is not None:
        try:
            data = _fast_dumps(payload)
        except TypeError:
            pass  # something orjson does not write as json would: json's own text
        else:
            if b"null" not in data or not _has_nonfinite(payload):
                return data.decode()
    return _dumps(payload)


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
