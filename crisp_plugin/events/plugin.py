"""Models of the ``plugin:*`` events (4 names): installs, settings, plugin messages.

``plugin:event`` carries a field called ``name``; every event already has ``.name``
(the Crisp event name), so that field is ``name_`` here (``raw["name"]`` too).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from crisp_plugin.events.base import WebsiteEvent

__all__ = [
    "PluginChannel",
    "PluginEvent",
    "PluginSettingsSaved",
    "PluginSubscriptionUpdated",
]


class PluginChannel(WebsiteEvent):
    """``plugin:channel``: a message on a plugin's channel namespace."""

    plugin_id: str
    identifier: str | None = None
    namespace: str | None = None
    type: str | None = None
    payload: Any = None


class PluginEvent(WebsiteEvent):
    """``plugin:event``: an event another plugin emitted."""

    plugin_id: str
    urn: str | None = None
    name_: str | None = Field(default=None, alias="name")
    data: dict[str, Any] | None = None


class PluginSubscriptionUpdated(WebsiteEvent):
    """``plugin:subscription:updated``: the plugin was installed (bound) or removed."""

    plugin_id: str
    bound: bool
    target: str | None = None


class PluginSettingsSaved(WebsiteEvent):
    """``plugin:settings:saved``: a website saved its settings for the plugin."""

    plugin_id: str
    settings: dict[str, Any]
