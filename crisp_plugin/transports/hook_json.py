"""A hook body as JSON, with its nesting bounded.

``json.loads`` recurses once per nesting level, so a body like ``[[[[...]]]]`` a
hundred thousand deep raises ``RecursionError`` instead of ``ValueError``. And a
document just shallow enough to parse can still break what comes after it: the
dispatcher digests payloads with ``json.dumps``, pydantic validates them, handlers
log and walk them, all recursively, from a deeper stack than the parse. So a body
nested deeper than :data:`MAX_DEPTH` is refused like any body that is not JSON:
whatever passes has a depth every later step handles.

Crisp's own payloads nest a handful of levels (a message's content object, a picker's
choices); :data:`MAX_DEPTH` leaves a wide margin.

With orjson installed (``pip install 'crisp-plugin[speed]'``) a body is parsed by it
first, three times faster; a body it refuses (a lone surrogate, ``NaN``, a number past
a double's range) is parsed again by ``json``, so what is
accepted and what is refused does not depend on whether orjson is there. A body with a
run of 19 digits or more goes to ``json`` directly (orjson reads an integer past 64
bits as a float, ``json`` keeps it exact), and so does a body with more than
:data:`MAX_DEPTH` opening brackets: orjson 3.9 recurses without a limit, and a body
nested 100,000 deep crashed the process in it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from crisp_plugin.json_shape import LONG_RUN, SHAPE

try:
    from orjson import loads as _fast_loads
except ImportError:  # the speed extra is not installed
    _fast_loads: Callable[[bytes], Any] | None = None  # type: ignore[no-redef]

__all__ = ["MAX_DEPTH", "TooDeep", "load_hook_json", "too_deep"]

MAX_DEPTH = 100


class TooDeep(ValueError):
    """The body nests arrays and objects deeper than :data:`MAX_DEPTH`."""


def load_hook_json(body: bytes) -> Any:
    """The document in ``body``; ``ValueError`` when it is not JSON, :class:`TooDeep`
    (a ``ValueError`` too) when it nests deeper than :data:`MAX_DEPTH`."""
    doc: Any = None
    shape = body.translate(SHAPE)
    brackets = shape.count(b"{")
    try:
        # orjson only sees bodies that cannot nest past MAX_DEPTH: some of its versions
        # recurse without a limit and crash the process on a body nested deep enough
        if (
            _fast_loads is not None
            and brackets <= MAX_DEPTH
            and body[:1] == b"{"
            and LONG_RUN not in shape
        ):
            try:
                doc = _fast_loads(body)
            except ValueError:
                doc = _loads(body)  # json's verdict, and its reading of what orjson refuses
        else:
            doc = _loads(body)
    except RecursionError:
        raise TooDeep(f"body nested deeper than {MAX_DEPTH} levels") from None
    # Each level opens a bracket: with few brackets in the whole body (every hook
    # Crisp sends) the depth cannot be over the limit, and there is nothing to walk.
    if brackets > MAX_DEPTH and too_deep(doc):
        raise TooDeep(f"body nested deeper than {MAX_DEPTH} levels")
    return doc


def _loads(body: bytes) -> Any:
    """``json.loads``: a UTF-8 body, as Crisp sends it, decoded first (``json.loads``
    then skips sniffing the encoding of bytes); a UTF-16/32 or BOM-prefixed body takes
    the general path."""
    if body[:1] == b"{" and body[1:2] != b"\x00":
        try:
            text = body.decode()
        except UnicodeDecodeError:
            return json.loads(body)
        return json.loads(text)
    return json.loads(body)


def too_deep(doc: Any, limit: int = MAX_DEPTH) -> bool:
    """True when arrays and objects nest in ``doc`` more than ``limit`` levels deep.

    Iterative (an explicit stack), so it has no depth limit of its own; it stops at the
    first container past the limit."""
    if not isinstance(doc, (dict, list)):
        return False
    stack: list[tuple[dict[str, Any] | list[Any], int]] = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        for value in node.values() if isinstance(node, dict) else node:
            if isinstance(value, (dict, list)):
                stack.append((value, depth + 1))
    return False
