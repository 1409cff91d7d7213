"""``Installation``: one website that installed the plugin, with its settings typed.

Crisp gives, per website, a subscription ``token`` (the secret its settings page and
widget calls carry), the ``settings`` saved for it (a JSON object the plugin's
settings schema describes) and, for paid plugins, a ``plan``. ``read_settings`` turns
the JSON into the plugin's model: a website whose stored settings do not fit is logged
once per (website, problem) and gets the model's defaults for what does not fit, never
a crash; the raw JSON stays on ``raw`` for the plugin to look at.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic

import structlog
from pydantic import BaseModel, ValidationError
from typing_extensions import TypeVar

__all__ = ["Installation", "SettingsReader", "WebsiteSettingsT"]

log = structlog.get_logger("crisp_plugin.marketplace")

WebsiteSettingsT = TypeVar("WebsiteSettingsT", default=dict[str, Any])


@dataclass(frozen=True, slots=True)
class Installation(Generic[WebsiteSettingsT]):
    """A website that installed the plugin. ``token`` is secret: never in the repr."""

    website_id: str
    settings: WebsiteSettingsT
    raw: Mapping[str, Any] = field(default_factory=dict)
    plan: Mapping[str, Any] | None = None
    token: str = field(default="", repr=False)

    def token_matches(self, given: str | None) -> bool:
        """True when ``given`` is this website's token (compared in constant time)."""
        if not given or not self.token:
            return False
        return hmac.compare_digest(given.encode(), self.token.encode())

    def to_row(self) -> dict[str, Any]:
        """What a store keeps: the raw settings, not the model (it may change)."""
        return {
            "website_id": self.website_id,
            "token": self.token,
            "settings": dict(self.raw),
            "plan": dict(self.plan) if self.plan is not None else None,
        }


class SettingsReader(Generic[WebsiteSettingsT]):
    """Raw settings JSON -> the plugin's model (or the dict itself without one)."""

    def __init__(self, model: type[BaseModel] | None) -> None:
        self.model = model
        self._told: set[tuple[str, str]] = set()

    def defaults(self) -> WebsiteSettingsT:
        """The model's defaults (an empty dict without a model). ``TypeError`` when the
        model has required fields: a website with no settings yet could not be read."""
        return self.read("", {})

    def read(self, website_id: str, raw: Any) -> WebsiteSettingsT:
        data = dict(raw) if isinstance(raw, Mapping) else {}
        if raw is not None and not isinstance(raw, Mapping):
            self._tell(website_id, "settings", "are not a JSON object: defaults used")
        if self.model is None:
            plain: Any = data
            return plain  # type: ignore[no-any-return]
        try:
            value: Any = self.model.model_validate(data)
            return value  # type: ignore[no-any-return]
        except ValidationError as exc:
            bad = {str(err["loc"][0]) for err in exc.errors() if err["loc"]}
            for err in exc.errors():
                where = ".".join(str(p) for p in err["loc"]) or "settings"
                self._tell(website_id, where, err["msg"])
        kept = {k: v for k, v in data.items() if k not in bad}
        try:
            value = self.model.model_validate(kept)
        except ValidationError:
            value = self.model.model_validate({})  # a required field went missing
        return value  # type: ignore[no-any-return]

    def _tell(self, website_id: str, where: str, problem: str) -> None:
        if (website_id, where) in self._told:
            return
        self._told.add((website_id, where))
        log.warning(
            "website settings do not fit the plugin's model: defaults used for them",
            website_id=website_id,
            field=where,
            problem=problem,
        )
