"""``Runner``: builds every part from the settings, starts them in order, stops them in
reverse.

    async with Runner(settings, plugin_class=MyBot) as runner:
        await runner.wait_failed()        # or anything else: the plugin runs meanwhile

Start order: the REST client (the token is checked: ``HEAD /v1/plugin/connect/session``,
plugin tier) -> the state store -> the plugin (``on_startup``) -> the dispatcher ->
``/healthz`` and ``/metrics`` on a port of their own (``[metrics] enabled``) -> the
transports (web hooks first, so a hook URL answers before the relay pushes). Each step
registers its undoing on an ``AsyncExitStack``, so a failure part-way stops exactly
what was started, and a normal stop runs:

    transports stop taking events (RTM closes, hooks answer 503 so Crisp retries)
    -> in-flight handlers drain up to ``dispatch.drain_timeout`` (``hurry()`` cuts it
    short) -> the hook server and the status server close -> ``on_shutdown`` -> the
    state store and the REST client close.

The runner owns no process: signals, exit codes, garbage-collector tuning and the
embedded sandbox belong to ``python -m crisp_plugin run`` (:mod:`crisp_plugin.serve`), so
a runner can be embedded in an application of your own. With ``listen=False`` the web
hook endpoint binds no socket: mount :attr:`Runner.hook_handler` in your aiohttp
application (README: "Embedding").

Handlers added at run time (``plugin.on``, ``include_router``) reach the RTM
subscription at once, by notification.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

import structlog
from aiohttp import web

from crisp_plugin.config import Config
from crisp_plugin.dispatch import Dispatcher
from crisp_plugin.errors import ConfigError, CrispError
from crisp_plugin.event_loop import loop_name
from crisp_plugin.inbox import InboxUnavailable, create_inbox
from crisp_plugin.inbox.redis_streams import RedisInbox
from crisp_plugin.marketplace.mixin import Marketplace
from crisp_plugin.metrics import Metrics
from crisp_plugin.observer import Observer
from crisp_plugin.plugin import Plugin, load_plugin_class
from crisp_plugin.redis_client import wants_redis
from crisp_plugin.state import create_state
from crisp_plugin.transports.base import EventSink, Transport
from crisp_plugin.transports.endpoints import discover_endpoints
from crisp_plugin.transports.http_extras import StatusServer, health_routes
from crisp_plugin.transports.webhook import WebhookServer

if TYPE_CHECKING:
    from crisp_plugin.backfill.setup import Backfill
    from crisp_plugin.marketplace.runtime import MarketplaceRuntime
    from crisp_plugin.redis_client import RedisLink
    from crisp_plugin.rest import RestClient
    from crisp_plugin.transports.gaps import RelayWatch
    from crisp_plugin.transports.relay_lease import LeasedRelay
    from crisp_plugin.transports.rtm import RtmTransport

__all__ = ["Runner"]

log = structlog.get_logger("crisp_plugin.runner")


class Runner:
    """One running plugin: REST client, state, plugin, dispatcher, transports."""

    def __init__(
        self,
        settings: Config,
        *,
        plugin_class: type[Plugin[Any]] | None = None,
        observers: Sequence[Observer] = (),
        listen: bool = True,
    ) -> None:
        self.settings = settings
        self._plugin_class = plugin_class
        self._observers = tuple(observers)
        self._listen = listen
        self.metrics = Metrics(source=self)
        self.rest: RestClient | None = None
        self.redis: RedisLink | None = None
        self.plugin: Plugin[Any] | None = None
        self.dispatcher: Dispatcher | None = None
        self.rtm: RtmTransport | None = None
        self.relay: LeasedRelay | None = None
        self.marketplace: MarketplaceRuntime | None = None
        """For a ``Marketplace`` plugin: its installations, sync and pages."""
        """With ``inbox.backend = "redis"``: the relay lease around ``rtm``."""
        self.backfill: Backfill | None = None
        """With RTM: the relay's gaps and their recovery (``[rtm.backfill]``)."""
        self.webhooks: WebhookServer | None = None
        self.status_server: StatusServer | None = None
        self.transports: list[Transport] = []
        self.state = "stopped"
        self._stack: AsyncExitStack | None = None
        self._force = asyncio.Event()
        self._rebind: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"<Runner state={self.state} transport={self.settings.events.transport}>"

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- start ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start every part in order; on failure, undo what was started and raise
        (``ConfigError`` for a configuration problem, ``CrispError`` / ``OSError``
        otherwise)."""
        if self._stack is not None:
            return
        self.state = "starting"
        _register_secrets(self.settings)
        stack = AsyncExitStack()
        self._stack = stack
        try:
            await self._start_parts(stack)
        except BaseException:
            self._stack = None
            await stack.aclose()
            self.state = "failed"
            raise
        self.state = "running"
        assert self.plugin is not None
        log.info(
            "plugin running",
            plugin=type(self.plugin).__name__,
            transport=self.settings.events.transport,
            loop=loop_name(asyncio.get_running_loop()),
        )

    async def _start_parts(self, stack: AsyncExitStack) -> None:
        from crisp_plugin.rest import RestClient

        s = self.settings
        observers = (self.metrics, *self._observers)
        link = None
        if wants_redis(s):  # one pool for the state, the limits and the inbox
            from crisp_plugin.redis_client import open_redis

            link = await open_redis(s)  # one RedisUnavailable line when it cannot
            stack.push_async_callback(_quietly, "redis close", link.close)
        self.redis = link
        rest = RestClient.from_settings(s, observers=observers, link=link)
        await stack.enter_async_context(rest)
        self.rest = rest
        await self._check_token(rest)

        try:
            state = create_state(s, link)
        except sqlite3.Error as exc:  # the file exists but is no database, or is locked
            raise ConfigError([f'state.path = "{s.state.path}": SQLite says {exc}']) from None
        stack.push_async_callback(_quietly, "state close", state.close)

        plugin = self._build_plugin(rest, state)
        self.plugin = plugin
        market = None
        if isinstance(plugin, Marketplace):  # every installed website, its settings, pages
            from crisp_plugin.marketplace.runtime import MarketplaceRuntime

            market = MarketplaceRuntime(plugin, s, rest, link)
        self.marketplace = market
        inbox = create_inbox(s, link)
        dispatcher = Dispatcher(
            plugin,
            s.dispatch,
            observers=observers,
            inbox=inbox,
            ack_handled=s.webhooks.ack == "handled",
            gate=market.gate if market is not None else None,
        )
        self.dispatcher = dispatcher
        rest.add_observer(dispatcher.echoes)  # the fingerprints of what the plugin sends
        await plugin.on_startup()
        stack.push_async_callback(_quietly, "on_shutdown", plugin.on_shutdown)
        if market is not None:
            await market.start()  # the installations, before any event is handled
            stack.push_async_callback(_quietly, "marketplace stop", market.stop)
        try:
            recovered = await dispatcher.recover()  # what the last run left, first
        except (OSError, sqlite3.Error, InboxUnavailable) as exc:
            raise ConfigError([f'inbox.path = "{s.inbox.path}": {exc}']) from None
        stack.push_async_callback(_quietly, "inbox close", inbox.close)
        if recovered:
            log.info("handling the events the last run left", events=recovered)

        if s.metrics.enabled:
            status = StatusServer(
                self.health, self.metrics, host=s.metrics.host, port=s.metrics.port
            )
            await _listening("metrics", s.metrics.host, s.metrics.port, status.start)
            stack.push_async_callback(_quietly, "metrics stop", status.stop)
            self.status_server = status
            log.info("health and metrics listening", url=status.url)

        transport = s.events.transport
        if transport in ("webhooks", "both"):
            health = health_routes(self.health, self.metrics)

            def extra_routes(app: web.Application) -> None:
                health(app)
                if market is not None:
                    market.add_routes(app)  # the settings page and the Action URL

            hooks = WebhookServer.from_settings(
                dispatcher,
                s.webhooks,
                extra_routes=extra_routes,
                on_answer=self.metrics.hook_answered,
            )
            self.webhooks = hooks
            if self._listen:
                await _listening("webhooks", s.webhooks.host, s.webhooks.port, hooks.start)
            else:
                hooks.mount()  # answers through hook_handler, in the embedding app
            stack.push_async_callback(_quietly, "webhooks stop", hooks.stop)
            self.transports.append(hooks)
        if market is not None and transport == "rtm":  # no hook server to carry the pages
            await _listening("marketplace", s.marketplace.host, s.marketplace.port, market.serve)
            log.info("settings page and widget actions listening", url=market.url)
        if transport in ("rtm", "both"):
            from crisp_plugin.backfill.setup import build_backfill

            relay: Transport
            lease = None
            if isinstance(inbox, RedisInbox):  # N instances: one holds the relay socket
                from crisp_plugin.inbox.leases import Lease

                lease = Lease(inbox.link, "relay", inbox.owner, s.inbox.lease_ttl)
            # gaps in the relay measured, and recovered over REST (rtm.backfill)
            backfill = build_backfill(
                s,
                dispatcher,
                rest,
                state,
                wants=plugin.wants,
                lease=lease,
                link=link,
                installed=_installed_websites(market),
                observers=observers,
            )
            self.backfill = backfill
            stack.push_async_callback(_quietly, "recovery stop", backfill.close)
            watch = backfill.tracker
            if lease is not None:
                from crisp_plugin.transports.relay_lease import LeasedRelay

                leased = LeasedRelay(
                    backfill.gate, lease, lambda sink: self._build_rtm(sink, plugin, rest, watch)
                )
                self.relay, self.rtm, relay = leased, leased.rtm, leased
            else:
                self.rtm = relay = self._build_rtm(backfill.gate, plugin, rest, watch)
            self.transports.append(relay)
            stack.push_async_callback(_quietly, "rtm stop", relay.stop)
            await relay.start()
            plugin.watch(self._handlers_changed)
        # Last in, first out: a stop begins with this (nothing to drain before here).
        stack.push_async_callback(self._pause_and_drain, dispatcher)

    async def _check_token(self, rest: RestClient) -> None:
        """Refuse to start on a token Crisp refuses, whatever the transport: a hooks-only
        plugin would otherwise run deaf to its own failures (every reply a 401).

        Only the plugin tier has the check route (``HEAD /v1/plugin/connect/session``).
        When Crisp cannot be reached the plugin starts anyway (a warning says so): hooks
        may still arrive, and REST calls retry on their own."""
        if self.settings.crisp.tier != "plugin":
            return
        try:
            valid = await rest.check_session()
        except CrispError as exc:
            log.warning("could not check the token at start-up", error=str(exc))
            return
        if not valid:
            raise CrispError(
                "Crisp refused the plugin token at start-up (HEAD /v1/plugin/connect/session "
                "answered 401): check crisp.identifier and crisp.key"
            )

    def _build_plugin(self, rest: RestClient, state: Any) -> Plugin[Any]:
        cls = self._plugin_class
        if cls is None:
            if not self.settings.plugin.class_:
                raise ConfigError(['plugin.class is missing: write e.g. class = "my_bot:MyBot"'])
            cls = load_plugin_class(self.settings.plugin.class_)
        return cls(self.settings, rest=rest, state=state)

    def _build_rtm(
        self, sink: EventSink, plugin: Plugin[Any], rest: RestClient, watch: RelayWatch | None
    ) -> RtmTransport:
        from crisp_plugin.transports.rtm import RtmTransport  # python-socketio: on use

        s = self.settings
        tier = s.crisp.tier

        async def discover() -> list[str]:
            return await discover_endpoints(rest, tier)

        def events() -> list[str]:
            return plugin.subscribed_events(tier)

        return RtmTransport(
            sink,
            identifier=s.crisp.identifier,
            key=s.crisp.key.get_secret_value(),
            tier=tier,
            events=events,
            discover=discover,
            url=s.rtm.url,
            rooms=s.rtm.rooms,
            inboxes=s.rtm.inboxes,
            auth_timeout=s.rtm.auth_timeout,
            reconnect_delay=s.rtm.reconnect_delay,
            reconnect_max=s.rtm.reconnect_max,
            watch=watch,
        )

    # -- running -------------------------------------------------------------------

    @property
    def hook_handler(self) -> Callable[[web.Request], Awaitable[web.Response]]:
        """The hook route's aiohttp handler, to mount in your own application
        (``app.router.add_post("/crisp/hooks", runner.hook_handler)``)."""
        if self.webhooks is None:
            raise CrispError(
                'the hook endpoint exists with events.transport = "webhooks" or "both"'
            )
        return self.webhooks.handle

    def marketplace_url(self) -> str | None:
        """``http://host:port`` of the server carrying a marketplace plugin's pages (the
        hook server, else ``[marketplace]``'s own); ``None`` for other plugins."""
        if self.marketplace is None:
            return None
        if self.webhooks is not None and self.webhooks.state == "listening":
            parts = urlsplit(self.webhooks.url)
            return f"{parts.scheme}://{parts.netloc}"
        return self.marketplace.url

    def transport_states(self) -> dict[str, str]:
        """``{transport name: state}`` for the transports in use."""
        return {t.name: t.state for t in self.transports}

    def stats_snapshot(self) -> Mapping[str, Mapping[str, int]]:
        """The dispatcher's counters: ``{kind: {event name: count}}``."""
        return self.dispatcher.stats.snapshot() if self.dispatcher is not None else {}

    def in_flight(self) -> int:
        """Events accepted and not finished."""
        return self.dispatcher.in_flight if self.dispatcher is not None else 0

    def health(self) -> dict[str, Any]:
        """What ``/healthz`` answers."""
        states = self.transport_states()
        inbox = self.dispatcher.inbox if self.dispatcher is not None else None
        if self.state in ("stopping", "stopped", "failed"):
            status = "draining" if self.state == "stopping" else self.state
        elif inbox is not None and not inbox.healthy:
            status = "unavailable"  # events cannot be kept: hooks get 503
        elif all(v in ("connected", "listening", "standby") for v in states.values()):
            status = "ok"
        else:
            status = "degraded"
        report: dict[str, Any] = {
            "status": status,
            "transports": states,
            "in_flight": self.in_flight(),
        }
        if inbox is not None:
            report["inbox"] = {
                "backend": inbox.name,
                "depth": inbox.depth,
                "oldest_age_s": round(inbox.oldest_age, 3),
            }
            if isinstance(inbox, RedisInbox):
                report["inbox"]["partitions"] = inbox.owned
        if self.relay is not None:
            report["relay"] = "holder" if self.relay.holds() else "standby"
        return report

    def inbox_state(self) -> tuple[int, float]:
        """``(events kept and not done, seconds the oldest has waited)``."""
        if self.dispatcher is None:
            return 0, 0.0
        return self.dispatcher.inbox.depth, self.dispatcher.inbox.oldest_age

    def lease_state(self) -> tuple[int | None, bool | None]:
        """``(partitions owned, relay held)``; ``None`` for what is not leased."""
        inbox = self.dispatcher.inbox if self.dispatcher is not None else None
        partitions = len(inbox.owned) if isinstance(inbox, RedisInbox) else None
        holder = self.relay.holds() if self.relay is not None else None
        return partitions, holder

    async def wait_failed(self) -> CrispError:
        """Return the error of the first transport that gives up for good (a refused
        token on RTM); waits for ever while none does."""
        if not self.transports:
            await asyncio.Event().wait()
        waiters = [asyncio.ensure_future(t.wait_failed()) for t in self.transports]
        try:
            done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        return next(iter(done)).result()

    def _handlers_changed(self) -> None:
        if self.rtm is None or self.state != "running":
            return
        if self._rebind is not None and not self._rebind.done():
            return  # one update reads the newest handlers
        self._rebind = asyncio.get_running_loop().create_task(self._update_events())

    async def _update_events(self) -> None:
        await asyncio.sleep(0)  # let a burst of registrations land first
        try:
            await self.update_events()
        except Exception as exc:
            log.warning("rtm event update failed", error=str(exc))

    async def update_events(self) -> tuple[list[str], list[str]]:
        """Subscribe the live socket to the handlers' events now; ``(added, removed)``."""
        if self.rtm is None:
            return [], []
        return await self.rtm.update_events()

    # -- stop ----------------------------------------------------------------------

    def hurry(self) -> None:
        """Stop waiting for the handlers still running (a second signal)."""
        self._force.set()

    async def stop(self) -> None:
        """Stop taking events, drain, close everything in reverse order. Idempotent."""
        stack, self._stack = self._stack, None
        if stack is None:
            return
        self.state = "stopping"
        try:
            await stack.aclose()
        finally:
            if self._rebind is not None:
                self._rebind.cancel()
                with contextlib.suppress(BaseException):
                    await self._rebind
                self._rebind = None
            self.state = "stopped"
            log.info("plugin stopped")

    async def _pause_and_drain(self, dispatcher: Dispatcher) -> None:
        self.state = "stopping"
        for transport in self.transports:
            await _quietly(f"{transport.name} pause", transport.pause)
        deadline = self.settings.dispatch.drain_timeout
        started = time.monotonic()
        in_flight = dispatcher.in_flight
        if in_flight:
            log.info("draining", in_flight=in_flight, deadline_s=deadline)
        drain = asyncio.ensure_future(dispatcher.drain(deadline))
        force = asyncio.ensure_future(self._force.wait())
        try:
            await asyncio.wait({drain, force}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            force.cancel()
        if not drain.done():
            log.warning("second signal: not waiting for the handlers still running")
            drain.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            try:
                await drain
            except Exception:
                log.exception("drain failed")
        dispatcher.close()
        left = dispatcher.in_flight
        if in_flight or left:
            log.info("drained", seconds=round(time.monotonic() - started, 3), left=left)


def _installed_websites(
    market: MarketplaceRuntime | None,
) -> Callable[[], list[str]] | None:
    """The websites a Marketplace plugin keeps as installed (recovery lists none)."""
    if market is None:
        return None
    registry = market.registry
    return lambda: [site.website_id for site in registry]


def _register_secrets(settings: Config) -> None:
    """Have the log redactor hide the token (and its Basic form) and hook secrets."""
    from crisp_plugin.log import register_credentials, register_secret

    register_credentials(settings.crisp.identifier, settings.crisp.key)
    for secret in settings.secrets():
        register_secret(secret)


async def _listening(
    section: str, host: str, port: int, start: Callable[[], Awaitable[None]]
) -> None:
    """Start a server; a port that cannot be bound is a ``CrispError`` naming the keys."""
    try:
        await start()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise CrispError(
            f"cannot listen on {host}:{port} ({section}.host / {section}.port): {reason}; "
            "choose another port"
        ) from exc


async def _quietly(what: str, step: Callable[[], Awaitable[None]]) -> None:
    """Run one shutdown step; log a failure and go on with the next step."""
    try:
        await step()
    except Exception:
        log.exception("shutdown step failed", step=what)
