"""A plugin's Generic widget schema: checked when registered, rendered per conversation.

The shape (Crisp's Plugin Widgets Reference v1)::

    {"version": "1.0",
     "sections": [{"id", "title", "condition"?, "items": [
         {"id", "type": "button", "condition"?,
          "value": {"type": "link" | "modal" | "submit" | "hook", "label", "url"
                    (link, modal), "color"?, "data"?, "group"?, ...}},
         {"id", "type": "data", "condition"?,
          "value": {"label", "value"?, "placeholder"?, "editable"?, "immediate"?,
                    "group"?, "icon"?, "data"?}}]}]}

``check_widget_schema`` refuses what does not fit with a ``WidgetSchemaError`` naming
the place (``widget_schema.sections[0].items[1].value.type should be one of link,
modal, submit, hook``); keys it does not know are kept and ignored, as Crisp may add
some. iFrame widgets (``{version, url}``) are refused: the sandbox does not emulate
the Widget JS SDK they talk to. ``render`` gives the dashboard a schema with bindings
resolved and conditions evaluated for one conversation.

Assumed where the reference is thin: ``editable`` defaults to true and ``immediate``
to true (an edit is posted at once; ``immediate: false`` holds it for a submit button
of the same ``group``); a data item whose ``value`` is empty or absent is fetched from
the Action URL when the sidebar opens.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from .widget_bindings import bind, bind_data, condition

__all__ = [
    "BUTTON_TYPES",
    "COLORS",
    "WidgetSchemaError",
    "check_widget_schema",
    "find_item",
    "render",
]

JSON = dict[str, Any]

BUTTON_TYPES = ("link", "modal", "submit", "hook")
COLORS = ("black", "blue", "green", "orange", "red", "purple")


class WidgetSchemaError(ValueError):
    """A widget schema that does not fit the Generic widget reference."""


def _text(obj: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> None:
    if key not in obj:
        if required:
            raise WidgetSchemaError(f"{where} should have required property '{key}'")
        return
    if not isinstance(obj[key], str):
        raise WidgetSchemaError(f"{where}.{key} should be string")
    if required and key == "id" and not obj[key]:
        raise WidgetSchemaError(f"{where}.id should NOT be empty")


def _flag(obj: Mapping[str, Any], key: str, where: str) -> None:
    if key in obj and not isinstance(obj[key], bool):
        raise WidgetSchemaError(f"{where}.{key} should be boolean")


def _data(obj: Mapping[str, Any], where: str) -> None:
    if "data" in obj and not isinstance(obj["data"], dict):
        raise WidgetSchemaError(f"{where}.data should be object")


def _button(value: Mapping[str, Any], where: str) -> None:
    kind = value.get("type")
    if kind not in BUTTON_TYPES:
        raise WidgetSchemaError(f"{where}.type should be one of {', '.join(BUTTON_TYPES)}")
    _text(value, "label", where)
    _text(value, "url", where, required=kind in ("link", "modal"))
    if kind in ("link", "modal") and not str(value["url"]).startswith(("http://", "https://")):
        raise WidgetSchemaError(f"{where}.url should be an http(s) URL")
    if "color" in value and value["color"] not in COLORS:
        raise WidgetSchemaError(f"{where}.color should be one of {', '.join(COLORS)}")
    _text(value, "group", where, required=False)
    _flag(value, "controls", where)
    _data(value, where)


def _data_item(value: Mapping[str, Any], where: str) -> None:
    _text(value, "label", where)
    for key in ("value", "placeholder", "group", "icon"):
        _text(value, key, where, required=False)
    for key in ("editable", "immediate"):
        _flag(value, key, where)
    _data(value, where)


def check_widget_schema(schema: Any) -> None:
    """Raise ``WidgetSchemaError`` unless ``schema`` is a Generic widget schema."""
    where = "widget_schema"
    if not isinstance(schema, dict):
        raise WidgetSchemaError(f"{where} should be object")
    if schema.get("version") != "1.0":
        raise WidgetSchemaError(f'{where}.version should be "1.0"')
    if "sections" not in schema and "url" in schema:
        raise WidgetSchemaError(
            f"{where} is an iFrame widget: the sandbox renders Generic widgets (sections) only"
        )
    sections = schema.get("sections")
    if not isinstance(sections, list):
        raise WidgetSchemaError(f"{where}.sections should be array")
    section_ids: set[str] = set()
    for i, section in enumerate(sections):
        at = f"{where}.sections[{i}]"
        if not isinstance(section, dict):
            raise WidgetSchemaError(f"{at} should be object")
        _text(section, "id", at)
        _text(section, "title", at)
        _text(section, "condition", at, required=False)
        if section["id"] in section_ids:
            raise WidgetSchemaError(f"{at}.id {section['id']!r} is used by another section")
        section_ids.add(section["id"])
        items = section.get("items")
        if not isinstance(items, list):
            raise WidgetSchemaError(f"{at}.items should be array")
        item_ids: set[str] = set()
        for j, item in enumerate(items):
            it = f"{at}.items[{j}]"
            if not isinstance(item, dict):
                raise WidgetSchemaError(f"{it} should be object")
            _text(item, "id", it)
            if item["id"] in item_ids:
                raise WidgetSchemaError(f"{it}.id {item['id']!r} is used by another item")
            item_ids.add(item["id"])
            _text(item, "condition", it, required=False)
            if item.get("type") not in ("button", "data"):
                raise WidgetSchemaError(f"{it}.type should be one of button, data")
            value = item.get("value")
            if not isinstance(value, dict):
                raise WidgetSchemaError(f"{it}.value should be object")
            if item["type"] == "button":
                _button(value, f"{it}.value")
            else:
                _data_item(value, f"{it}.value")


def find_item(schema: Mapping[str, Any], section_id: str, item_id: str) -> JSON | None:
    """The item ``item_id`` of section ``section_id``, or None."""
    for section in schema.get("sections", ()):
        if section.get("id") == section_id:
            for item in section.get("items", ()):
                if item.get("id") == item_id:
                    return dict(item)
    return None


def _with_query(url: str, data: Mapping[str, Any]) -> str:
    """A link's URL with its bound data as query parameters."""
    if not data:
        return url
    parts = urlsplit(url)
    extra = urlencode({k: v if isinstance(v, str) else str(v) for k, v in data.items()})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _shown(obj: Mapping[str, Any], context: Mapping[str, Any], out: JSON) -> None:
    holds = condition(obj.get("condition"), context)
    out["visible"] = holds is not False
    if holds is None:
        out["condition_note"] = (
            f"condition {obj.get('condition')!r} is not understood by the sandbox: shown"
        )


def render(schema: Mapping[str, Any], context: Mapping[str, Any]) -> JSON:
    """The schema for one conversation: bindings resolved, conditions evaluated, the
    defaults the dashboard needs filled in."""
    sections: list[JSON] = []
    for section in schema.get("sections", ()):
        out: JSON = {"id": section["id"], "title": bind(section["title"], context)}
        _shown(section, context, out)
        items: list[JSON] = []
        for item in section.get("items", ()):
            value = item["value"]
            data = bind_data(value.get("data"), context)
            shown: JSON = {
                "id": item["id"],
                "type": item["type"],
                "label": bind(value.get("label", ""), context),
                "group": value.get("group"),
                "data": data,
            }
            _shown(item, context, shown)
            if item["type"] == "button":
                shown["kind"] = value["type"]
                shown["color"] = value.get("color", "black")
                if value["type"] in ("link", "modal"):
                    shown["url"] = _with_query(bind(value["url"], context), data)
            else:
                bound = bind(value.get("value", ""), context)
                shown.update(
                    {
                        "value": bound,
                        "placeholder": bind(value.get("placeholder", ""), context),
                        "editable": value.get("editable", True),
                        "immediate": value.get("immediate", True),
                        "icon": value.get("icon"),
                        "fetch": bound == "",
                    }
                )
            items.append(shown)
        out["items"] = items
        sections.append(out)
    return {"version": schema.get("version"), "sections": sections}
