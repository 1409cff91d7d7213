"""What the runner starts for a marketplace plugin: the registry, its store and sync,
the dispatcher's gate, and the settings page and Action URL routes.

The gate applies ``plugin:subscription:updated`` and ``plugin:settings:saved`` (then
lets them on to the plugin's own handlers, if it has any) and drops the events of a
website that is not installed: an uninstalled website gets no more replies.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import structlog
from aiohttp import web

from crisp_plugin.events.base import Event
from crisp_plugin.marketplace.installation import SettingsReader
from crisp_plugin.marketplace.mixin import Marketplace
from crisp_plugin.marketplace.registry import Installations
from crisp_plugin.marketplace.schema import settings_schema
from crisp_plugin.marketplace.store import create_installation_store
from crisp_plugin.marketplace.sync import SYSTEM_EVENTS, InstallationSync
from crisp_plugin.marketplace.web import MarketplaceWeb, form_key
from crisp_plugin.marketplace.widgets import widget_schema

if TYPE_CHECKING:
    from crisp_plugin.config import Config
    from crisp_plugin.redis_client import RedisLink
    from crisp_plugin.rest import RestClient

__all__ = ["MarketplaceRuntime"]

log = structlog.get_logger("crisp_plugin.marketplace")


class MarketplaceRuntime:
    """See the module docstring."""

    def __init__(
        self,
        plugin: Marketplace[Any],
        config: Config,
        rest: RestClient,
        link: RedisLink | None = None,
    ) -> None:
        self.plugin = plugin
        self.config = config
        reader: SettingsReader[Any] = SettingsReader(type(plugin).website_settings_model)
        store = create_installation_store(config, link, origin=uuid.uuid4().hex[:12])
        self.registry: Installations[Any] = Installations(reader, store, hooks=plugin)
        market = config.marketplace
        self.sync: InstallationSync[Any] = InstallationSync(
            self.registry, rest, resync_interval=market.resync_interval
        )
        secret = config.webhooks.secret
        self.web = MarketplaceWeb(
            plugin,
            self.sync,
            market,
            key=form_key(config.crisp.key.get_secret_value()),
            hook_secret=secret.get_secret_value() if secret is not None else None,
            title=f"{config.plugin.name or type(plugin).__name__} settings",
            action_timeout=min(config.dispatch.handler_timeout, 30.0),
        )
        self._site: web.AppRunner | None = None
        self._strangers: set[str] = set()
        self.url: str | None = None

    async def start(self) -> None:
        """Attach the registry to the plugin and load it (before events flow)."""
        self.plugin.attach_marketplace(self.registry, self.sync)
        await self.sync.start()

    async def gate(self, event: Event) -> bool:
        if event.name in SYSTEM_EVENTS:
            await self.sync.on_event(event)
            return True
        website_id = event.website_id
        if website_id is None or website_id in self.registry:
            return True
        if website_id not in self._strangers and len(self._strangers) < 1000:
            self._strangers.add(website_id)  # said once per website, bounded
            log.info(
                "events of a website that has not installed the plugin are ignored",
                website_id=website_id,
                event_name=event.name,
            )
        return False

    def add_routes(self, app: web.Application) -> None:
        self.web.add_routes(app)

    def entry(self, base_url: str, urn: str | None = None) -> dict[str, Any]:
        """What the Crisp Marketplace holds for this plugin, with its pages under
        ``base_url``: the Settings URL, the Action URL when it declares widget items,
        the settings JSON Schema (its ``$id`` for ``urn``, the plugin's by default) and
        the widget schema. What a sandbox is told (``control.set_plugin(**entry)``)."""
        cls = type(self.plugin)
        market = self.config.marketplace
        base = base_url.rstrip("/")
        found: dict[str, Any] = {"settings_url": base + market.settings_path}
        model = cls.website_settings_model
        if model is not None:
            found["settings_schema"] = settings_schema(model, urn or self.config.plugin.urn)
        if cls.widget_items_:
            found["action_url"] = base + market.action_path
            found["widget_schema"] = widget_schema(cls.widget_items_, cls.widget_sections)
        return found

    async def serve(self) -> None:
        """The pages on ``marketplace.host:port`` (no hook server to carry them)."""
        app = web.Application()
        self.add_routes(app)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        market = self.config.marketplace
        site = web.TCPSite(runner, market.host, market.port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._site = runner
        port = market.port
        for address in runner.addresses:
            if isinstance(address, tuple) and len(address) >= 2:
                port = int(address[1])
                break
        self.url = f"http://{market.host}:{port}"

    async def stop(self) -> None:
        runner, self._site = self._site, None
        if runner is not None:
            await runner.cleanup()
        await self.sync.stop()
