"""The settings JSON Schema the Marketplace takes, from the plugin's per-website model.

Crisp validates what a website saves against the schema pasted in the plugin's
Marketplace page; its ``$id`` is ``crisp:service:api/_schema/plugin#<plugin urn>``.
``python -m crisp_plugin schema plugin.toml`` prints it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

__all__ = ["schema_id", "settings_schema"]


def schema_id(urn: str) -> str:
    return f"crisp:service:api/_schema/plugin#{urn}"


def settings_schema(model: type[BaseModel], urn: str) -> dict[str, Any]:
    """The model's JSON Schema (titles, descriptions, defaults, bounds, enums) with the
    Marketplace's ``$id`` first."""
    schema = model.model_json_schema(mode="validation")
    return {"$id": schema_id(urn), **schema}
