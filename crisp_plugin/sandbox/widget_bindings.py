"""Data bindings and conditions of a Generic widget, resolved for one conversation.

A widget's strings may hold bindings such as ``{conversation.meta.data.user_id}`` or
``{operator.user_id}``; Crisp replaces them with the conversation's and the operator's
data before it shows an item or posts it to the Action URL. The context is a plain dict
(``conversation``: the conversation object as the REST API returns it, plus its
``messages``; ``operator``: the operator at the dashboard; ``website``).

Assumed where Crisp's reference is thin: a bound value is written as text (numbers in
decimal, true/false, objects and lists as compact JSON, a missing path as ""); a
condition is ``{path}`` (true when the value is present and not empty, false, 0 or
null), ``!path``, and such terms joined by ``&&`` and ``||`` (``&&`` binds tighter).
A condition outside that grammar is not understood: ``condition`` answers None and the
dashboard shows the section or item, with a note.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["bind", "bind_data", "condition", "lookup", "text_of"]

_BINDING = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}")
_CONDITION = re.compile(r"^\{([A-Za-z0-9_.!&|\s]+)\}$")
_TERM = re.compile(r"^(!?)\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)$")


def lookup(context: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path (list items by index), or None when absent."""
    node: Any = context
    for part in path.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def text_of(value: Any) -> str:
    """A bound value as the text that replaces its binding."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float | str):
        return str(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def bind(template: Any, context: Mapping[str, Any]) -> Any:
    """A string with its bindings replaced; other values as they are."""
    if not isinstance(template, str) or "{" not in template:
        return template
    return _BINDING.sub(lambda m: text_of(lookup(context, m.group(1))), template)


def bind_data(data: Any, context: Mapping[str, Any]) -> dict[str, Any]:
    """An item's ``data`` object with every string bound (nested objects too)."""
    if not isinstance(data, Mapping):
        return {}
    out: dict[str, Any] = {}
    for key, value in data.items():
        out[key] = bind_data(value, context) if isinstance(value, Mapping) else bind(value, context)
    return out


def _truthy(value: Any) -> bool:
    return value not in (None, "", False, 0, [], {})


def condition(text: Any, context: Mapping[str, Any]) -> bool | None:
    """Whether a section or item with this condition shows; None if not understood."""
    if text is None or text == "":
        return True
    if not isinstance(text, str):
        return None
    found = _CONDITION.match(text.strip())
    if found is None:
        return None
    alternatives: list[bool] = []
    for alternative in found.group(1).split("||"):
        terms: list[bool] = []
        for raw in alternative.split("&&"):
            term = _TERM.match(raw.strip())
            if term is None:
                return None
            holds = _truthy(lookup(context, term.group(2)))
            terms.append(not holds if term.group(1) else holds)
        alternatives.append(all(terms))
    return any(alternatives)
