"""Marketplace plugins: every website that installed the plugin, typed per-website
settings, the settings page and widgets.

    from crisp_plugin import Plugin, on
    from crisp_plugin.marketplace import Installation, Marketplace, WidgetAction, widget

See :mod:`crisp_plugin.marketplace.mixin` (the plugin's side), ``registry`` and ``sync``
(the list of installations and how it stays current), ``store`` (where it is kept),
``web`` with ``form`` (the settings page and the Action URL), ``widgets`` and
``schema`` (what to paste in the Marketplace), ``runtime`` (what the runner starts).
"""

from crisp_plugin.marketplace.installation import Installation
from crisp_plugin.marketplace.mixin import Marketplace
from crisp_plugin.marketplace.registry import Installations
from crisp_plugin.marketplace.schema import settings_schema
from crisp_plugin.marketplace.widgets import WidgetAction, WidgetItem, widget, widget_schema

__all__ = [
    "Installation",
    "Installations",
    "Marketplace",
    "WidgetAction",
    "WidgetItem",
    "settings_schema",
    "widget",
    "widget_schema",
]
