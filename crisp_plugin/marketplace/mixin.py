"""``Marketplace``: what a plugin installed on many websites adds to ``Plugin``.

    class SiteSettings(BaseModel):
        enabled: bool = Field(True, title="Auto-reply")
        message: str = Field("Thanks, we'll be right back", title="Message")

    class AutoResponder(Plugin, Marketplace[SiteSettings]):
        @on("message:send")
        async def answer(self, event: MessageSend) -> None:
            site = self.website_settings(event)       # a SiteSettings: mypy knows
            if site.enabled:
                await event.reply(site.message)

        async def on_install(self, site: Installation[SiteSettings]) -> None: ...

The runner lists every website that installed the plugin at start-up and keeps the
list current (``crisp_plugin.marketplace.sync``); settings are read from memory, never
fetched per event. Events of a website that is not installed do not reach handlers.
The per-website model (``Marketplace[Model]`` or a nested ``class WebsiteSettings``)
must give every field a default: a website that just installed has saved nothing. A
plugin for one's own workspace keeps using plugin.toml's ``[settings]`` instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar, Generic

from pydantic import BaseModel

from crisp_plugin.errors import HandlerError
from crisp_plugin.events.base import Event
from crisp_plugin.marketplace.installation import Installation, WebsiteSettingsT
from crisp_plugin.marketplace.registry import Installations
from crisp_plugin.marketplace.sync import SYSTEM_EVENTS, InstallationSync
from crisp_plugin.marketplace.widgets import WidgetAction, WidgetItem, collect_items
from crisp_plugin.plugin_settings import declared_model

__all__ = ["Marketplace", "website_id_of"]

Of = Event | WidgetAction[Any] | str | None


def website_id_of(of: Of) -> str | None:
    """The website an event, a widget action or an id names."""
    if isinstance(of, str) or of is None:
        return of
    return of.website_id


class _Attached(Generic[WebsiteSettingsT]):
    __slots__ = ("registry", "sync")

    def __init__(
        self,
        registry: Installations[WebsiteSettingsT],
        sync: InstallationSync[WebsiteSettingsT] | None,
    ) -> None:
        self.registry = registry
        self.sync = sync


class Marketplace(Generic[WebsiteSettingsT]):
    """Mix into a ``Plugin``; see the module docstring."""

    website_settings_model: ClassVar[type[BaseModel] | None] = None
    """The per-website model (from ``Marketplace[Model]`` or ``class WebsiteSettings``)."""
    widget_sections: ClassVar[Mapping[str, str]] = {}
    """Titles of the widget sections, by section id (the id itself otherwise)."""
    system_events: ClassVar[frozenset[str]] = SYSTEM_EVENTS
    widget_items_: ClassVar[dict[str, WidgetItem]] = {}

    _crisp_market: _Attached[WebsiteSettingsT] | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        model = declared_model(cls, Marketplace, "WebsiteSettings")
        if model is not None:
            missing = [n for n, f in model.model_fields.items() if f.is_required()]
            if missing:
                raise HandlerError(
                    f"{cls.__name__}: website settings {model.__name__} need a default for "
                    f"{', '.join(missing)}: a website that just installed has saved nothing"
                )
            cls.website_settings_model = model
        cls.system_events = SYSTEM_EVENTS  # on the class itself: ahead of Plugin's in the MRO
        cls.widget_items_ = collect_items(cls)

    # -- the framework's side --------------------------------------------------------

    def attach_marketplace(
        self,
        registry: Installations[WebsiteSettingsT],
        sync: InstallationSync[WebsiteSettingsT] | None = None,
    ) -> None:
        """Give the plugin its installations (the runner does, before events flow)."""
        object.__setattr__(self, "_crisp_market", _Attached(registry, sync))

    def widget_handler(self, item_id: str) -> Callable[[WidgetAction[Any]], Awaitable[Any]] | None:
        """The bound method answering ``item_id``, if one is declared."""
        item = type(self).widget_items_.get(item_id)
        if item is None:
            return None
        method: Callable[[WidgetAction[Any]], Awaitable[Any]] = getattr(self, item.method)
        return method

    # -- what handlers use ----------------------------------------------------------

    @property
    def installations(self) -> Installations[WebsiteSettingsT]:
        """Every installed website (``len``, ``in``, iteration, ``get``)."""
        attached = self._crisp_market
        if attached is None:
            raise AttributeError(
                "the installations are loaded by the runner: run the plugin "
                "(python -m crisp_plugin run, or crisp_plugin.testing's run_plugin)"
            )
        return attached.registry

    def installation(self, of: Of) -> Installation[WebsiteSettingsT] | None:
        """The installation of an event's (or a widget action's, or an id's) website."""
        return self.installations.get(website_id_of(of))

    def website_settings(self, of: Of) -> WebsiteSettingsT:
        """That website's settings, typed; the model's defaults when it is unknown."""
        return self.installations.settings(website_id_of(of))

    async def save_website_settings(
        self, website_id: str, settings: WebsiteSettingsT | Mapping[str, Any]
    ) -> Installation[WebsiteSettingsT]:
        """Write a website's settings to Crisp (validated by the model first)."""
        attached = self._crisp_market
        if attached is None or attached.sync is None:
            raise AttributeError("saving settings needs the running plugin's REST client")
        if isinstance(settings, BaseModel):
            data: dict[str, Any] = settings.model_dump(mode="json")
        elif isinstance(settings, Mapping):
            data = dict(settings)
        else:
            raise TypeError(f"website settings are a model or a mapping, not {settings!r}")
        model = type(self).website_settings_model
        if model is not None:
            data = model.model_validate(data).model_dump(mode="json")
        return await attached.sync.save(website_id, data)

    # -- hooks ------------------------------------------------------------------------

    async def on_install(self, site: Installation[WebsiteSettingsT]) -> None:
        """A website installed the plugin (or was first seen: the first start lists all)."""

    async def on_uninstall(self, website_id: str) -> None:
        """A website removed the plugin."""

    async def on_settings_changed(
        self,
        site: Installation[WebsiteSettingsT],
        before: WebsiteSettingsT,
        after: WebsiteSettingsT,
    ) -> None:
        """A website's settings changed (saved in Crisp, or on the settings page)."""
