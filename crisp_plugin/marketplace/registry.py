"""``Installations``: every website that installed the plugin, in memory, typed.

The one place the rest of the framework asks "is this website installed, with which
settings?": a dict lookup, never a REST call. Changes come from the sync (the listing
at start-up, ``plugin:subscription:updated`` / ``plugin:settings:saved``, the periodic
``websites/since``), from the settings page, and on Redis from other instances; each
one is kept in the store (announced to the other instances) and reported to the
plugin's hooks (``on_install``, ``on_uninstall``, ``on_settings_changed``), whose
failures are logged, never raised into the sync.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Generic, Protocol

import structlog

from crisp_plugin.marketplace.installation import Installation, SettingsReader, WebsiteSettingsT
from crisp_plugin.marketplace.store import InstallationStore, Row

__all__ = ["InstallationHooks", "Installations"]

log = structlog.get_logger("crisp_plugin.marketplace")


class InstallationHooks(Protocol[WebsiteSettingsT]):
    """What the registry tells the plugin (the ``Marketplace`` mixin implements it)."""

    async def on_install(self, site: Installation[WebsiteSettingsT]) -> None: ...

    async def on_uninstall(self, website_id: str) -> None: ...

    async def on_settings_changed(
        self,
        site: Installation[WebsiteSettingsT],
        before: WebsiteSettingsT,
        after: WebsiteSettingsT,
    ) -> None: ...


class Installations(Generic[WebsiteSettingsT]):
    """The installed websites; see the module docstring."""

    def __init__(
        self,
        reader: SettingsReader[WebsiteSettingsT],
        store: InstallationStore,
        hooks: InstallationHooks[WebsiteSettingsT] | None = None,
    ) -> None:
        self.reader = reader
        self.store = store
        self.hooks = hooks
        self._sites: dict[str, Installation[WebsiteSettingsT]] = {}

    def __repr__(self) -> str:
        return f"<Installations {len(self._sites)} websites>"

    # -- reading -----------------------------------------------------------------------

    def get(self, website_id: str | None) -> Installation[WebsiteSettingsT] | None:
        return self._sites.get(website_id) if website_id else None

    def __contains__(self, website_id: object) -> bool:
        return website_id in self._sites

    def __len__(self) -> int:
        return len(self._sites)

    def __iter__(self) -> Iterator[Installation[WebsiteSettingsT]]:
        return iter(list(self._sites.values()))

    def settings(self, website_id: str | None) -> WebsiteSettingsT:
        """The website's settings, or the model's defaults when it is not installed."""
        site = self.get(website_id)
        return site.settings if site is not None else self.reader.defaults()

    # -- changing ------------------------------------------------------------------------

    def build(self, row: Mapping[str, Any]) -> Installation[WebsiteSettingsT]:
        website_id = str(row["website_id"])
        raw = row.get("settings")
        plan = row.get("plan")
        return Installation(
            website_id=website_id,
            settings=self.reader.read(website_id, raw),
            raw=dict(raw) if isinstance(raw, Mapping) else {},
            plan=dict(plan) if isinstance(plan, Mapping) else None,
            token=str(row.get("token") or ""),
        )

    async def restore(self, rows: list[Row]) -> None:
        """What the store kept from the last run: known already, no hooks."""
        for row in rows:
            if isinstance(row, Mapping) and row.get("website_id"):
                site = self.build(row)
                self._sites[site.website_id] = site

    async def replace_all(self, rows: list[Row]) -> None:
        """A full listing: add and update what it has, remove what it lacks."""
        seen = set()
        for row in rows:
            seen.add(str(row["website_id"]))
            await self.upsert(row)
        for website_id in [w for w in self._sites if w not in seen]:
            await self.remove(website_id)

    async def upsert(self, row: Row, *, keep: bool = True) -> Installation[WebsiteSettingsT]:
        """Install or update one website (``keep``: write it to the store too)."""
        site = self.build(row)
        before = self._sites.get(site.website_id)
        if before is not None and not site.token:
            site = self.build({**row, "token": before.token})  # an event carries no token
        self._sites[site.website_id] = site
        if keep:
            await self._keep(site)
        if before is None:
            log.info("website installed the plugin", website_id=site.website_id)
            await self._call("on_install", site)
        elif dict(before.raw) != dict(site.raw):
            log.info("website settings changed", website_id=site.website_id)
            await self._call("on_settings_changed", site, before.settings, site.settings)
        return site

    async def remove(self, website_id: str, *, keep: bool = True) -> bool:
        """Uninstall one website; False when it was not installed."""
        if self._sites.pop(website_id, None) is None:
            return False
        if keep:
            try:
                await self.store.remove(website_id)
            except Exception as exc:
                log.warning("installations: the store did not take a removal", error=str(exc))
        log.info("website uninstalled the plugin", website_id=website_id)
        await self._call("on_uninstall", website_id)
        return True

    async def changed_elsewhere(self, website_id: str, row: Row | None) -> None:
        """Another instance changed ``website_id`` (``row`` None: removed)."""
        if row is None:
            await self.remove(website_id, keep=False)
        else:
            await self.upsert(row, keep=False)

    async def _keep(self, site: Installation[WebsiteSettingsT]) -> None:
        try:
            await self.store.save(site.to_row())
        except Exception as exc:  # memory has it; the next sync writes it again
            log.warning("installations: the store did not take a change", error=str(exc))

    async def _call(self, hook: str, *args: Any) -> None:
        hooks = self.hooks
        if hooks is None:
            return
        try:
            if hook == "on_install":
                await hooks.on_install(*args)
            elif hook == "on_uninstall":
                await hooks.on_uninstall(*args)
            else:
                await hooks.on_settings_changed(*args)
        except Exception:
            log.exception(f"{hook} failed", hook=hook)
