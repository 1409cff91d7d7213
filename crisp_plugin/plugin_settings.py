"""Typed plugin settings: the ``[settings]`` table of plugin.toml, validated by a model.

A plugin declares its options as a pydantic model and names it as its type parameter:

    class HoursSettings(BaseModel):
        timezone: str = "UTC"
        open: time = time(9)
        close: time = time(18)

    class OfficeHours(Plugin[HoursSettings]):
        async def on_startup(self) -> None:
            self.settings.timezone          # a str: mypy knows

(or, without the type parameter, as a nested ``class Settings(BaseModel)`` in the plugin
class). ``check`` and ``run`` validate ``[settings]`` against it: one line per problem,
naming the key (``settings.open = "nine" is not ...``), and a key the model does not
declare is refused with a "did you mean" (a typo would otherwise be silently ignored),
unless the model says ``model_config = ConfigDict(extra="allow")``. A plugin that
declares no model gets ``[settings]`` as a plain dict, as before.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from crisp_plugin.config import explain_errors, nested_model, unknown_key_line
from crisp_plugin.errors import ConfigError

__all__ = ["declared_model", "unknown_keys", "validate_settings"]


def validate_settings(model: type[BaseModel] | None, raw: Mapping[str, Any]) -> Any:
    """``raw`` as an instance of ``model`` (``raw`` itself as a dict when ``model`` is
    ``None``); ``ConfigError`` with one line per problem."""
    if model is None:
        return dict(raw)
    problems = [unknown_key_line(loc, model, "settings") for loc in unknown_keys(model, raw)]
    try:
        settings = model.model_validate(dict(raw))
    except ValidationError as exc:
        problems.extend(explain_errors(exc, model, "settings"))
        settings = None
    if problems:
        raise ConfigError(list(dict.fromkeys(problems)))
    return settings


def unknown_keys(
    model: type[BaseModel], data: Any, at: tuple[int | str, ...] = ()
) -> list[tuple[int | str, ...]]:
    """Where ``data`` has keys ``model`` does not declare (nested models included)."""
    if not isinstance(data, Mapping) or model.model_config.get("extra") == "allow":
        return []
    fields = model.model_fields
    by_name = {f.alias or name: f for name, f in fields.items()}
    by_name.update(fields)
    found: list[tuple[int | str, ...]] = []
    for key, value in data.items():
        field = by_name.get(str(key))
        if field is None:
            found.append((*at, str(key)))
            continue
        inner = nested_model(field.annotation)
        if inner is None:
            continue
        if isinstance(value, Mapping):
            found.extend(unknown_keys(inner, value, (*at, str(key))))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                found.extend(unknown_keys(inner, item, (*at, str(key), index)))
    return found


def declared_model(cls: type, generic: type, nested: str) -> type[BaseModel] | None:
    """The pydantic model ``cls`` declares for ``generic``: its parameter where ``cls``
    subclasses ``generic[Model]`` directly, else a nested class named ``nested``."""
    for base in cls.__dict__.get("__orig_bases__", ()):
        origin = typing.get_origin(base)
        if isinstance(origin, type) and issubclass(origin, generic):
            args = typing.get_args(base)
            if args and isinstance(args[0], type) and issubclass(args[0], BaseModel):
                return args[0]
    found = cls.__dict__.get(nested)
    if isinstance(found, type) and issubclass(found, BaseModel):
        return found
    return None
