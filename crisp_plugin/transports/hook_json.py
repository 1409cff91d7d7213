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
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["MAX_DEPTH", "TooDeep", "load_hook_json", "too_deep"]

MAX_DEPTH = 100


class TooDeep(ValueError):
    """The body nests arrays and objects deeper than :data:`MAX_DEPTH`."""


def load_hook_json(body: bytes) -> Any:
    """The document in ``body``; ``ValueError`` when it is not JSON, :class:`TooDeep`
    (a ``ValueError`` too) when it nests deeper than :data:`MAX_DEPTH`."""
    try:
        if body[:1] == b"{" and body[1:2] != b"\x00":
            # UTF-8 as Crisp sends it: decoded here, json.loads skips sniffing the
            # encoding of bytes (a UTF-16/32 or BOM-prefixed body takes the general path)
            try:
                text = body.decode()
            except UnicodeDecodeError:
                doc = json.loads(body)
            else:
                doc = json.loads(text)
        else:
            doc = json.loads(body)
    except RecursionError:
        raise TooDeep(f"body nested deeper than {MAX_DEPTH} levels") from None
    # Each level opens a bracket: with few brackets in the whole body (every hook
    # Crisp sends) the depth cannot be over the limit, and there is nothing to walk.
    if body.count(b"[") + body.count(b"{") > MAX_DEPTH and too_deep(doc):
        raise TooDeep(f"body nested deeper than {MAX_DEPTH} levels")
    return doc


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
