"""The plugin as the Marketplace knows it: its URLs and its two schemas.

A Crisp plugin declares in the Marketplace a Settings URL (the page Crisp opens in an
iframe, with ``?website_id=...&token=...``), an Action URL (where widget clicks are
posted), the JSON Schema its per-website settings are validated against, and a widget
schema. ``PluginListing`` holds the sandbox's copy. ``update`` takes any of them,
checks every one before changing anything (bad input changes nothing, and raises a
``ListingError`` naming the key), and ``None`` clears one.

The settings schema must describe an object (``"type": "object"``); a ``$id`` is
optional, but one given must be ``crisp:service:api/_schema/plugin#<urn>`` with this
plugin's URN, as the Marketplace ties a schema to its plugin. Settings already stored
are not checked again when the schema changes: they stay, as on Crisp, where a plugin
meets settings saved under an older schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from .json_schema import JsonSchema, SchemaError
from .widget_schema import WidgetSchemaError, check_widget_schema

__all__ = ["FIELDS", "SCHEMA_ID_PREFIX", "ListingError", "PluginListing"]

JSON = dict[str, Any]

SCHEMA_ID_PREFIX = "crisp:service:api/_schema/plugin#"
FIELDS = ("settings_url", "action_url", "settings_schema", "widget_schema")


class ListingError(ValueError):
    """A plugin registration the sandbox refuses; nothing was changed."""


def _url(name: str, value: Any) -> str:
    problem = f"{name} should be an http(s) URL with a host (or null to clear it)"
    if not isinstance(value, str):
        raise ListingError(problem)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ListingError(problem) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ListingError(problem)
    return value


@dataclass
class PluginListing:
    """The sandbox's Marketplace entry for its one plugin."""

    urn: str
    settings_url: str | None = None
    action_url: str | None = None
    settings_schema: JSON | None = None
    widget_schema: JSON | None = None
    _validator: JsonSchema | None = field(default=None, repr=False)

    def update(self, changes: Mapping[str, Any]) -> None:
        """Set the given fields (``None`` clears one); all checked before any changes."""
        unknown = sorted(set(changes) - set(FIELDS))
        if unknown:
            raise ListingError(f"unknown key(s): {', '.join(unknown)} (known: {', '.join(FIELDS)})")
        checked: dict[str, Any] = {}
        validator = self._validator
        for name in ("settings_url", "action_url"):
            if name in changes:
                value = changes[name]
                checked[name] = None if value is None else _url(name, value)
        if "settings_schema" in changes:
            schema = changes["settings_schema"]
            validator = None if schema is None else self._compile(schema)
            checked["settings_schema"] = schema
        if "widget_schema" in changes:
            widget = changes["widget_schema"]
            if widget is not None:
                try:
                    check_widget_schema(widget)
                except WidgetSchemaError as exc:
                    raise ListingError(str(exc)) from None
            checked["widget_schema"] = widget
        for name, value in checked.items():
            setattr(self, name, value)
        self._validator = validator

    def _compile(self, schema: Any) -> JsonSchema:
        if not isinstance(schema, dict):
            raise ListingError("settings_schema should be a JSON Schema (an object)")
        if schema.get("type") != "object":
            raise ListingError(
                'settings_schema should describe an object ("type": "object"): '
                "a website's settings are a JSON object"
            )
        schema_id = schema.get("$id")
        if schema_id is not None:
            expected = SCHEMA_ID_PREFIX + self.urn
            if not isinstance(schema_id, str) or not schema_id.startswith(SCHEMA_ID_PREFIX):
                raise ListingError(
                    f"settings_schema.$id should be {expected!r} (Crisp's form: "
                    f"{SCHEMA_ID_PREFIX}<plugin urn>)"
                )
            if schema_id != expected:
                named = schema_id[len(SCHEMA_ID_PREFIX) :]
                raise ListingError(
                    f"settings_schema.$id names the plugin {named!r}, but this sandbox's "
                    f"plugin is {self.urn!r}: fix the $id, or start the sandbox with that urn"
                )
        try:
            return JsonSchema(schema)
        except SchemaError as exc:
            raise ListingError(f"settings_schema: {exc}") from None

    def settings_problem(self, settings: Any) -> str | None:
        """Why these settings would be refused (Crisp's wording), or None."""
        if not isinstance(settings, dict):
            return "data should be object"
        if self._validator is None:
            return None
        return self._validator.problem(settings)

    def settings_page(self, website_id: str, token: str) -> str | None:
        """The URL Crisp opens in its iframe for this website, or None without one."""
        if self.settings_url is None:
            return None
        parts = urlsplit(self.settings_url)
        query = urlencode({"website_id": website_id, "token": token})
        query = f"{parts.query}&{query}" if parts.query else query
        return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))

    def to_json(self) -> JSON:
        return {
            "urn": self.urn,
            "settings_url": self.settings_url,
            "action_url": self.action_url,
            "settings_schema": self.settings_schema,
            "widget_schema": self.widget_schema,
        }
