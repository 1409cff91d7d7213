"""The JSON Schema subset the sandbox validates plugin settings with.

Crisp validates a website's plugin settings against the JSON Schema declared in the
Marketplace and refuses what does not fit with a 400 ``invalid_data`` whose message is
the validator's text. ``JsonSchema(schema)`` checks a schema once (at registration) and
``problem(value)`` names the first thing wrong with a value, in the validator's
wording, rooted at ``data``: ``"data.hours should be <= 23"``.

Supported: what pydantic's ``model_json_schema()`` writes for plain settings and the
usual hand-written schema, namely ``type`` (one or a list), ``enum``, ``const``,
``properties``, ``required``, ``additionalProperties`` (bool or schema),
``patternProperties``, ``minProperties`` / ``maxProperties``, ``items`` (schema or
list), ``prefixItems``, ``additionalItems``, ``minItems`` / ``maxItems``,
``uniqueItems``, ``minimum`` / ``maximum``, ``exclusiveMinimum`` / ``exclusiveMaximum``
(numbers, or draft-4 booleans), ``multipleOf``, ``minLength`` / ``maxLength``,
``pattern``, ``anyOf`` / ``oneOf`` / ``allOf``, ``$ref`` to ``#``, ``#/$defs/...``,
``#/definitions/...`` or any JSON pointer in the same document, and boolean schemas.
Annotations (``title``, ``description``, ``default``, ``examples``, ``format``...) and
keywords this module does not know (pydantic's ``json_schema_extra``) are ignored,
as JSON Schema says. ``format`` is not checked: JSON Schema makes it an annotation,
and pydantic accepts more than the formats' RFCs (``"18:00"`` for a ``time``).
Keywords known but not supported here (``not``, ``if`` / ``then`` / ``else``,
``dependentRequired``, ``contains``, ``propertyNames``, ``unevaluated*``...) refuse
the schema with a ``SchemaError`` naming them, rather than being silently skipped.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any, TypeGuard

__all__ = ["JsonSchema", "SchemaError"]


class SchemaError(ValueError):
    """A schema the sandbox cannot validate with; the message names where and why."""


UNSUPPORTED = frozenset(
    {
        "not",
        "if",
        "then",
        "else",
        "dependentRequired",
        "dependentSchemas",
        "dependencies",
        "contains",
        "minContains",
        "maxContains",
        "propertyNames",
        "unevaluatedProperties",
        "unevaluatedItems",
        "$dynamicRef",
        "$recursiveRef",
    }
)
TYPES = frozenset({"string", "integer", "number", "boolean", "array", "object", "null"})
_IDENT = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
MAX_DEPTH = 64
"""Schemas entered while checking one value: deep data, or a ``$ref`` loop."""


def _key(where: str, name: str) -> str:
    return f"{where}.{name}" if _IDENT.match(name) else f"{where}['{name}']"


def _is_number(v: Any) -> TypeGuard[int | float]:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return False
    return not (isinstance(v, float) and not math.isfinite(v))


def _type_of(v: Any) -> set[str]:
    """The JSON types a Python value is (an integral float is an integer too)."""
    if v is None:
        return {"null"}
    if isinstance(v, bool):
        return {"boolean"}
    if isinstance(v, int):
        return {"integer", "number"}
    if isinstance(v, float):
        if not math.isfinite(v):
            return set()
        return {"integer", "number"} if v.is_integer() else {"number"}
    if isinstance(v, str):
        return {"string"}
    if isinstance(v, list):
        return {"array"}
    if isinstance(v, dict):
        return {"object"}
    return set()


def _canonical(v: Any) -> str:
    """One text per JSON value, for uniqueItems and enum/const (1 == 1.0, True != 1)."""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_canonical(v[k])}" for k in sorted(v)) + "}"
    if isinstance(v, list):
        return "[" + ",".join(_canonical(x) for x in v) + "]"
    return json.dumps(v)


def _shown(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v)


def _num(v: float) -> str:
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


class JsonSchema:
    """A checked schema; ``problem(value)`` is None when the value fits it."""

    def __init__(self, schema: Any) -> None:
        if not isinstance(schema, dict | bool):
            raise SchemaError("the schema should be a JSON object")
        self.schema = schema
        self._patterns: dict[str, re.Pattern[str]] = {}
        self._check_schema(schema, "schema")

    # -- the schema itself ---------------------------------------------------------

    def _resolve(self, ref: str, where: str) -> Any:
        if ref == "#":
            return self.schema
        if not ref.startswith("#/"):
            raise SchemaError(
                f"{where}.$ref {ref!r}: only references inside the schema are supported "
                "(#, #/$defs/Name)"
            )
        node: Any = self.schema
        for raw in ref[2:].split("/"):
            part = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise SchemaError(f"{where}.$ref {ref!r} points at nothing in the schema")
        if not isinstance(node, dict | bool):
            raise SchemaError(f"{where}.$ref {ref!r} does not point at a schema")
        return node

    def _no_ref_loop(self, s: Mapping[str, Any], where: str) -> None:
        """Refuse a $ref that leads back to itself without a value being entered."""
        seen: list[int] = []
        node: Any = s
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            if id(node) in seen:
                raise SchemaError(f"{where}.$ref {s['$ref']!r} refers to itself in a loop")
            seen.append(id(node))
            node = self._resolve(node["$ref"], where)

    def _pattern(self, pattern: Any, where: str) -> re.Pattern[str]:
        if not isinstance(pattern, str):
            raise SchemaError(f"{where} should be a string (a regular expression)")
        compiled = self._patterns.get(pattern)
        if compiled is None:
            try:
                compiled = re.compile(pattern)
            except re.error as exc:
                problem = f"{where} {pattern!r} is not a regular expression: {exc}"
                raise SchemaError(problem) from None
            self._patterns[pattern] = compiled
        return compiled

    def _check_schema(self, s: Any, where: str) -> None:
        if isinstance(s, bool):
            return
        if not isinstance(s, dict):
            raise SchemaError(f"{where} should be a schema (an object or a boolean)")
        bad = sorted(UNSUPPORTED & s.keys())
        if bad:
            raise SchemaError(
                f"{where} uses {', '.join(bad)}: not supported by the sandbox's validator"
            )
        if "$ref" in s:
            if not isinstance(s["$ref"], str):
                raise SchemaError(f"{where}.$ref should be a string")
            self._no_ref_loop(s, where)
        if "type" in s:
            names = s["type"] if isinstance(s["type"], list) else [s["type"]]
            unknown = [n for n in names if n not in TYPES]
            if unknown or not names:
                raise SchemaError(
                    f"{where}.type {s['type']!r}: types are {', '.join(sorted(TYPES))}"
                )
        for kw in ("enum", "required", "anyOf", "oneOf", "allOf", "prefixItems"):
            if kw in s and (not isinstance(s[kw], list) or (kw != "required" and not s[kw])):
                raise SchemaError(f"{where}.{kw} should be a non-empty list")
        if "required" in s and not all(isinstance(n, str) for n in s["required"]):
            raise SchemaError(f"{where}.required should list property names (strings)")
        for kw in ("minimum", "maximum", "multipleOf"):
            if kw in s and not _is_number(s[kw]):
                raise SchemaError(f"{where}.{kw} should be a number")
        if "multipleOf" in s and s["multipleOf"] <= 0:
            raise SchemaError(f"{where}.multipleOf should be above 0")
        for kw in ("exclusiveMinimum", "exclusiveMaximum"):
            if kw in s and not (_is_number(s[kw]) or isinstance(s[kw], bool)):
                raise SchemaError(f"{where}.{kw} should be a number")
        for kw in (
            "minLength",
            "maxLength",
            "minItems",
            "maxItems",
            "minProperties",
            "maxProperties",
        ):
            if kw in s and (not isinstance(s[kw], int) or isinstance(s[kw], bool) or s[kw] < 0):
                raise SchemaError(f"{where}.{kw} should be a whole number >= 0")
        if "pattern" in s:
            self._pattern(s["pattern"], f"{where}.pattern")
        for kw in ("properties", "patternProperties", "$defs", "definitions"):
            if kw not in s:
                continue
            if not isinstance(s[kw], dict):
                raise SchemaError(f"{where}.{kw} should be an object")
            for name, sub in s[kw].items():
                if kw == "patternProperties":
                    self._pattern(name, f"{where}.patternProperties key")
                self._check_schema(sub, _key(f"{where}.{kw}", name))
        for kw in ("additionalProperties", "additionalItems"):
            if kw in s:
                self._check_schema(s[kw], f"{where}.{kw}")
        if "items" in s:
            items = s["items"]
            if isinstance(items, list):
                for i, sub in enumerate(items):
                    self._check_schema(sub, f"{where}.items[{i}]")
            else:
                self._check_schema(items, f"{where}.items")
        for kw in ("anyOf", "oneOf", "allOf", "prefixItems"):
            for i, sub in enumerate(s.get(kw, ())):
                self._check_schema(sub, f"{where}.{kw}[{i}]")

    # -- values ----------------------------------------------------------------------

    def problem(self, value: Any, where: str = "data") -> str | None:
        """The first way ``value`` does not fit, worded as Crisp's validator; or None."""
        return self._check(self.schema, value, where, 0)

    def _check(self, s: Any, v: Any, where: str, depth: int) -> str | None:
        if depth > MAX_DEPTH:
            return f"{where} nests deeper than the schema allows ({MAX_DEPTH} levels)"
        if s is True:
            return None
        if s is False:
            return f"{where} is not allowed"
        assert isinstance(s, Mapping)
        if "$ref" in s:
            problem = self._check(self._resolve(s["$ref"], "schema"), v, where, depth + 1)
            if problem:
                return problem
        kinds = _type_of(v)
        if "type" in s:
            wanted = s["type"] if isinstance(s["type"], list) else [s["type"]]
            if not kinds.intersection(wanted):
                return f"{where} should be {','.join(wanted)}"
        if "const" in s and _canonical(v) != _canonical(s["const"]):
            return f"{where} should be equal to constant {_shown(s['const'])}"
        if "enum" in s:
            mine = _canonical(v)
            if all(_canonical(e) != mine for e in s["enum"]):
                allowed = ", ".join(_shown(e) for e in s["enum"])
                return f"{where} should be equal to one of the allowed values: {allowed}"
        if "number" in kinds:
            problem = self._number(s, v, where)
            if problem:
                return problem
        elif isinstance(v, str):
            problem = self._string(s, v, where)
            if problem:
                return problem
        elif isinstance(v, list):
            problem = self._array(s, v, where, depth)
            if problem:
                return problem
        elif isinstance(v, dict):
            problem = self._object(s, v, where, depth)
            if problem:
                return problem
        for sub in s.get("allOf", ()):
            problem = self._check(sub, v, where, depth + 1)
            if problem:
                return problem
        if "anyOf" in s:
            problem = self._any_of(s["anyOf"], v, where, depth)
            if problem:
                return problem
        if "oneOf" in s:
            fits = [self._check(sub, v, where, depth + 1) is None for sub in s["oneOf"]]
            if sum(fits) != 1:
                if not any(fits):
                    return self._any_of(s["oneOf"], v, where, depth)
                return f"{where} should match exactly one schema in oneOf"
        return None

    def _any_of(self, branches: list[Any], v: Any, where: str, depth: int) -> str | None:
        problems = [self._check(sub, v, where, depth + 1) for sub in branches]
        if any(p is None for p in problems):
            return None
        # Every branch failed. When the value has none of the branches' types, name
        # them all ("should be string,null"); else the problem of a branch whose type
        # it has says more (a string too short, not "should match some schema").
        kinds = _type_of(v)
        types: list[str] = []
        for sub, problem in zip(branches, problems, strict=True):
            wanted = self._types_of(sub)
            if wanted is None:
                return problem
            if kinds.intersection(wanted):
                return problem
            types += [t for t in wanted if t not in types]
        return f"{where} should be {','.join(types)}"

    def _types_of(self, s: Any, seen: int = 0) -> list[str] | None:
        """The types a schema declares (following a bare $ref), or None if it says none."""
        if not isinstance(s, Mapping) or seen > MAX_DEPTH:
            return None
        if "type" in s:
            return list(s["type"]) if isinstance(s["type"], list) else [s["type"]]
        if "$ref" in s:
            return self._types_of(self._resolve(s["$ref"], "schema"), seen + 1)
        return None

    def _number(self, s: Mapping[str, Any], v: float, where: str) -> str | None:
        low, high = s.get("minimum"), s.get("maximum")
        xlow, xhigh = s.get("exclusiveMinimum"), s.get("exclusiveMaximum")
        if xlow is True and low is not None:  # draft 4: a flag on minimum
            xlow, low = low, None
        if xhigh is True and high is not None:
            xhigh, high = high, None
        if low is not None and v < low:
            return f"{where} should be >= {_num(low)}"
        if high is not None and v > high:
            return f"{where} should be <= {_num(high)}"
        if _is_number(xlow) and v <= xlow:
            return f"{where} should be > {_num(xlow)}"
        if _is_number(xhigh) and v >= xhigh:
            return f"{where} should be < {_num(xhigh)}"
        step = s.get("multipleOf")
        if step is not None:
            quotient = v / step
            if not math.isclose(quotient, round(quotient), rel_tol=0, abs_tol=1e-9):
                return f"{where} should be multiple of {_num(step)}"
        return None

    def _string(self, s: Mapping[str, Any], v: str, where: str) -> str | None:
        if "minLength" in s and len(v) < s["minLength"]:
            return f"{where} should NOT be shorter than {s['minLength']} characters"
        if "maxLength" in s and len(v) > s["maxLength"]:
            return f"{where} should NOT be longer than {s['maxLength']} characters"
        if "pattern" in s and not self._pattern(s["pattern"], "schema").search(v):
            return f'{where} should match pattern "{s["pattern"]}"'
        return None

    def _array(self, s: Mapping[str, Any], v: list[Any], where: str, depth: int) -> str | None:
        if "minItems" in s and len(v) < s["minItems"]:
            return f"{where} should NOT have fewer than {s['minItems']} items"
        if "maxItems" in s and len(v) > s["maxItems"]:
            return f"{where} should NOT have more than {s['maxItems']} items"
        if s.get("uniqueItems") is True:
            seen: dict[str, int] = {}
            for i, item in enumerate(v):
                text = _canonical(item)
                if text in seen:
                    return (
                        f"{where} should NOT have duplicate items "
                        f"(items ## {seen[text]} and {i} are identical)"
                    )
                seen[text] = i
        items = s.get("items")
        prefix: list[Any] = s.get("prefixItems") or (items if isinstance(items, list) else [])
        rest = s.get("additionalItems") if isinstance(items, list) else items
        for i, item in enumerate(v):
            sub = prefix[i] if i < len(prefix) else rest
            if sub is None:
                continue
            problem = self._check(sub, item, f"{where}[{i}]", depth + 1)
            if problem:
                return problem
        return None

    def _object(
        self, s: Mapping[str, Any], v: dict[str, Any], where: str, depth: int
    ) -> str | None:
        for name in s.get("required", ()):
            if name not in v:
                return f"{where} should have required property '{name}'"
        if "minProperties" in s and len(v) < s["minProperties"]:
            return f"{where} should NOT have fewer than {s['minProperties']} properties"
        if "maxProperties" in s and len(v) > s["maxProperties"]:
            return f"{where} should NOT have more than {s['maxProperties']} properties"
        props: Mapping[str, Any] = s.get("properties") or {}
        patterns: Mapping[str, Any] = s.get("patternProperties") or {}
        extra = s.get("additionalProperties")
        for name, item in v.items():
            at = _key(where, name)
            matched = name in props
            if matched:
                problem = self._check(props[name], item, at, depth + 1)
                if problem:
                    return problem
            for pattern, sub in patterns.items():
                if self._pattern(pattern, "schema").search(name):
                    matched = True
                    problem = self._check(sub, item, at, depth + 1)
                    if problem:
                        return problem
            if matched or extra is None or extra is True:
                continue
            if extra is False:
                return f"{where} should NOT have additional properties ('{name}')"
            problem = self._check(extra, item, at, depth + 1)
            if problem:
                return problem
        return None
