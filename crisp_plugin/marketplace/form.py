"""The settings form, generated from the per-website model's JSON Schema.

``form_fields(model)`` reads each property: its title, description, default, bounds
and choices; ``render_form`` writes plain HTML (no script, no external asset) with the
current values and, after a refused save, each field's problem next to it;
``read_form`` turns a posted form back into the JSON the model validates.

How a property is shown: boolean -> checkbox; integer / number -> number input with its
bounds; a string with choices (an ``enum`` or ``Literal``) -> select; ``format`` time or
date -> the browser's time or date input; a string with ``max_length`` of 200 or more
-> textarea; a list of strings -> textarea, one per line; anything else nested -> a
JSON textarea.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

__all__ = ["FormField", "errors_by_field", "form_fields", "read_form", "render_form"]

Kind = Literal[
    "bool", "int", "number", "text", "textarea", "select", "lines", "json", "time", "date"
]


@dataclass(frozen=True, slots=True)
class FormField:
    name: str
    title: str
    kind: Kind
    description: str = ""
    optional: bool = False
    choices: tuple[Any, ...] = ()
    attrs: dict[str, str] = field(default_factory=dict)


def _resolve(prop: Mapping[str, Any], defs: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """The property with ``$ref`` followed and an ``anyOf [X, null]`` unwrapped."""
    optional = False
    prop = dict(prop)
    if "anyOf" in prop:
        options = [o for o in prop["anyOf"] if o.get("type") != "null"]
        optional = len(options) < len(prop["anyOf"])
        if len(options) == 1:
            merged = {k: v for k, v in prop.items() if k != "anyOf"}
            prop = {**options[0], **merged}
    ref = prop.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = defs.get(ref.rsplit("/", 1)[1], {})
        prop = {**target, **{k: v for k, v in prop.items() if k != "$ref"}}
    return prop, optional


def form_fields(model: type[BaseModel]) -> list[FormField]:
    schema = model.model_json_schema(mode="validation")
    defs = schema.get("$defs", {})
    required = set(schema.get("required", ()))
    out = []
    for name, raw in schema.get("properties", {}).items():
        prop, optional = _resolve(raw, defs)
        kind: Kind
        attrs: dict[str, str] = {}
        choices: tuple[Any, ...] = ()
        typ = prop.get("type")
        if "enum" in prop:
            kind, choices = "select", tuple(prop["enum"])
        elif "const" in prop:
            kind, choices = "select", (prop["const"],)
        elif typ == "boolean":
            kind = "bool"
        elif typ in ("integer", "number"):
            kind = "int" if typ == "integer" else "number"
            attrs["step"] = "1" if typ == "integer" else "any"
            for key, attr in (("minimum", "min"), ("maximum", "max")):
                if key in prop:
                    attrs[attr] = str(prop[key])
        elif typ == "string":
            fmt = prop.get("format")
            if fmt in ("time", "date"):
                kind = fmt
            elif int(prop.get("maxLength", 0)) >= 200:
                kind = "textarea"
            else:
                kind = "text"
            if "maxLength" in prop:
                attrs["maxlength"] = str(prop["maxLength"])
            if "minLength" in prop:
                attrs["minlength"] = str(prop["minLength"])
            if "pattern" in prop:
                attrs["pattern"] = str(prop["pattern"])
        elif typ == "array" and _resolve(prop.get("items", {}), defs)[0].get("type") == "string":
            kind = "lines"
        else:
            kind = "json"
        out.append(
            FormField(
                name=name,
                title=str(prop.get("title") or name.replace("_", " ").capitalize()),
                kind=kind,
                description=str(prop.get("description") or ""),
                optional=optional or (name not in required and prop.get("default") is None),
                choices=choices,
                attrs=attrs,
            )
        )
    return out


def read_form(fields: list[FormField], form: Mapping[str, str]) -> dict[str, Any]:
    """The posted form as JSON for the model (it reports what does not fit)."""
    data: dict[str, Any] = {}
    for f in fields:
        text = form.get(f.name)
        if f.kind == "bool":
            data[f.name] = text is not None
            continue
        if text is None:
            continue
        text = text.strip() if f.kind not in ("textarea", "lines") else text
        if text == "" and f.optional:
            data[f.name] = None
        elif f.kind == "lines":
            data[f.name] = [line.strip() for line in text.splitlines() if line.strip()]
        elif f.kind == "json":
            try:
                data[f.name] = json.loads(text)
            except ValueError:
                data[f.name] = text  # the model says what is wrong with it
        elif f.kind == "select":
            data[f.name] = next((c for c in f.choices if str(c) == text), text)
        else:
            data[f.name] = text
    return data


def errors_by_field(exc: ValidationError) -> dict[str, str]:
    """One message per field (the first pydantic gives), ``""`` for the whole form."""
    out: dict[str, str] = {}
    for err in exc.errors():
        where = str(err["loc"][0]) if err["loc"] else ""
        out.setdefault(where, str(err["msg"]))
    return out


def _value_text(f: FormField, value: Any) -> str:
    if value is None:
        return ""
    if f.kind == "lines" and isinstance(value, list):
        return "\n".join(str(v) for v in value)
    if f.kind == "json" and not isinstance(value, str):
        return json.dumps(value, indent=2)
    if f.kind == "time" and isinstance(value, str):
        return value[:5]  # HH:MM for the browser's input
    return str(value)


def _field_html(f: FormField, value: Any, error: str | None) -> str:
    e = html.escape
    attrs = "".join(f' {k}="{e(v)}"' for k, v in f.attrs.items())
    if not f.optional and f.kind not in ("bool", "select"):
        attrs += " required"
    ident = f"f-{e(f.name)}"
    described = f' aria-describedby="{ident}-error"' if error else ""
    text = e(_value_text(f, value))
    if f.kind == "bool":
        checked = " checked" if value else ""
        control = f'<input type="checkbox" id="{ident}" name="{e(f.name)}"{checked}{described}>'
    elif f.kind == "select":
        options = "".join(
            f'<option value="{e(str(c))}"{" selected" if c == value else ""}>{e(str(c))}</option>'
            for c in f.choices
        )
        control = f'<select id="{ident}" name="{e(f.name)}"{described}>{options}</select>'
    elif f.kind in ("textarea", "lines", "json"):
        control = (
            f'<textarea id="{ident}" name="{e(f.name)}" rows="4"{attrs}{described}>'
            f"{text}</textarea>"
        )
    else:
        typ = {"int": "number", "number": "number", "time": "time", "date": "date"}.get(
            f.kind, "text"
        )
        control = (
            f'<input type="{typ}" id="{ident}" name="{e(f.name)}" value="{text}"{attrs}{described}>'
        )
    hint = f'<p class="hint">{e(f.description)}</p>' if f.description else ""
    if f.kind == "lines":
        hint += '<p class="hint">One per line.</p>'
    problem = f'<p class="error" id="{ident}-error" role="alert">{e(error)}</p>' if error else ""
    label = f'<label for="{ident}">{e(f.title)}</label>'
    return f'<div class="field">{label}{control}{hint}{problem}</div>'


_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:0;padding:24px;color:#1c293b;background:#fff}
h1{font-size:20px;margin:0 0 16px}
.field{margin:0 0 16px}label{display:block;font-weight:600;margin:0 0 4px}
input[type=text],input[type=number],input[type=time],input[type=date],select,textarea{
width:100%;max-width:480px;box-sizing:border-box;padding:6px 8px;
border:1px solid #b7c2d0;border-radius:4px;font:inherit}
.hint{margin:4px 0 0;color:#5b6b7f;font-size:13px}
.error{margin:4px 0 0;color:#b3261e;font-size:13px}
.notice{padding:8px 12px;border-radius:4px;margin:0 0 16px;background:#e7f6ec;color:#1d6b39}
.notice.bad{background:#fdecea;color:#b3261e}
button{padding:8px 16px;border:0;border-radius:4px;background:#1972f5;color:#fff;
font:inherit;cursor:pointer}
"""


def render_form(
    *,
    title: str,
    fields: list[FormField],
    values: Mapping[str, Any],
    errors: Mapping[str, str],
    hidden: Mapping[str, str],
    action: str,
    notice: str | None = None,
    notice_bad: bool = False,
) -> str:
    e = html.escape
    inputs = "".join(
        f'<input type="hidden" name="{e(k)}" value="{e(v)}">' for k, v in hidden.items()
    )
    body = "".join(_field_html(f, values.get(f.name), errors.get(f.name)) for f in fields)
    whole = errors.get("")
    if whole:
        notice, notice_bad = whole, True
    banner = (
        f'<p class="notice{" bad" if notice_bad else ""}" role="status">{e(notice)}</p>'
        if notice
        else ""
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{e(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{e(title)}</h1>{banner}"
        f'<form method="post" action="{e(action)}">{inputs}{body}'
        '<button type="submit">Save</button></form></body></html>'
    )
