"""Keeping ``Installations`` in step with Crisp, at a few REST calls a day.

- Start-up: what the store kept, then ``websites/since`` from the last sync when it is
  recent (``resync_max_age``), else the whole ``websites/all`` listing (pages from 1 to
  the first empty one).
- Events: ``plugin:subscription:updated`` (``bound`` true: the website's settings are
  read once, with its token; false: it is removed) and ``plugin:settings:saved`` (the
  settings the event carries) for this plugin's id.
- Every ``resync_interval`` seconds: ``websites/since`` the last sync, which also
  catches what an instance missed while it was down or cut off from the events.
- ``save``: the settings page's writes, through the settings route (PUT), then kept.

No call is made per event for settings: handlers read them from memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic

import structlog

from crisp_plugin.events.plugin import PluginSettingsSaved, PluginSubscriptionUpdated
from crisp_plugin.marketplace.installation import Installation, WebsiteSettingsT
from crisp_plugin.marketplace.registry import Installations

if TYPE_CHECKING:
    from crisp_plugin.events.base import Event
    from crisp_plugin.rest import RestClient

__all__ = ["SYSTEM_EVENTS", "InstallationSync"]

log = structlog.get_logger("crisp_plugin.marketplace")

SYSTEM_EVENTS = frozenset({"plugin:subscription:updated", "plugin:settings:saved"})
"""The events a marketplace plugin hears whatever its handlers ask."""


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")


class InstallationSync(Generic[WebsiteSettingsT]):
    """See the module docstring."""

    def __init__(
        self,
        registry: Installations[WebsiteSettingsT],
        rest: RestClient,
        *,
        resync_interval: float = 600.0,
        resync_max_age: float = 7 * 86400.0,
        margin: float = 60.0,
    ) -> None:
        self.registry = registry
        self.rest = rest
        self.resync_interval = resync_interval
        self.resync_max_age = resync_max_age
        self.margin = margin  # seconds the since window reaches back: clocks differ
        self.plugin_id: str | None = None
        self.synced_at: float | None = None
        self.calls = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Restore, catch up with Crisp, then resync in the background."""
        account = await self.rest.get_connect_account()
        self.calls += 1
        self.plugin_id = account.plugin_id
        store = self.registry.store
        rows, synced = await store.load()
        await self.registry.restore(rows)
        now = time.time()
        if synced is not None and now - synced < self.resync_max_age and rows:
            await self.since(synced)
        else:
            await self.full()
        await store.watch(self.registry.changed_elsewhere)
        self._task = asyncio.create_task(self._loop(), name="crisp-installations-sync")
        log.info("installations loaded", websites=len(self.registry), calls=self.calls)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await self.registry.store.close()

    async def full(self) -> None:
        """The whole listing."""
        started = time.time()
        rows = []
        async for site in self.rest.list_connect_websites(include_plan=True):
            rows.append(self._row(site.website_id, site.token, site.settings, site.plan))
        self.calls += len(rows) // 20 + 2  # pages read, the empty one included (estimate)
        await self.registry.replace_all(rows)
        await self._synced(started)

    async def since(self, at: float) -> None:
        """What changed since ``at`` (epoch seconds)."""
        started = time.time()
        changed = await self.rest.list_connect_websites_since(
            _iso(at - self.margin), include_plan=True
        )
        self.calls += 1
        for site in changed:
            if site.difference == "unlinked":
                await self.registry.remove(site.website_id)
            else:
                await self.registry.upsert(
                    self._row(site.website_id, site.token, site.settings, site.plan)
                )
        await self._synced(started)

    async def on_event(self, event: Event) -> None:
        """Apply a subscription or settings event of this plugin (others are ignored)."""
        if not isinstance(event, PluginSubscriptionUpdated | PluginSettingsSaved):
            return
        website_id = event.website_id
        if not website_id or (self.plugin_id and event.plugin_id != self.plugin_id):
            return  # another plugin's (a website token hears every plugin's events)
        if isinstance(event, PluginSubscriptionUpdated):
            if event.bound:
                await self.fetch(website_id)
            else:
                await self.registry.remove(website_id)
            return
        known = self.registry.get(website_id)
        if known is None or not known.token:
            await self.fetch(website_id)  # its token comes with the settings route
        else:
            await self.registry.upsert(
                self._row(website_id, known.token, event.settings, known.plan)
            )

    async def fetch(self, website_id: str) -> Installation[WebsiteSettingsT]:
        """Read one website's settings (and token) and keep them."""
        answer = await self.rest.get_settings(website_id, self.plugin_id)
        self.calls += 1
        known = self.registry.get(website_id)
        return await self.registry.upsert(
            self._row(
                website_id,
                answer.token or (known.token if known else ""),
                answer.settings,
                known.plan if known else None,
            )
        )

    async def save(
        self, website_id: str, settings: dict[str, Any]
    ) -> Installation[WebsiteSettingsT]:
        """Write a website's settings to Crisp (PUT), then keep them."""
        await self.rest.save_settings(website_id, settings, self.plugin_id)
        self.calls += 1
        known = self.registry.get(website_id)
        return await self.registry.upsert(
            self._row(
                website_id,
                known.token if known else "",
                settings,
                known.plan if known else None,
            )
        )

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.resync_interval)
            try:
                await self.since(self.synced_at or time.time() - self.resync_interval)
            except Exception as exc:  # Crisp or Redis away: the next round catches up
                log.warning("installations resync failed", error=str(exc))

    async def _synced(self, at: float) -> None:
        self.synced_at = at
        with contextlib.suppress(Exception):
            await self.registry.store.mark_synced(at)

    @staticmethod
    def _row(website_id: str, token: str | None, settings: Any, plan: Any) -> dict[str, Any]:
        return {
            "website_id": website_id,
            "token": token or "",
            "settings": settings if isinstance(settings, dict) else {},
            "plan": plan if isinstance(plan, dict) else None,
        }
