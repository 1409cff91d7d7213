"""``Sandbox``: the local Crisp, one aiohttp server on one port.

- ``/v1/...``        REST API v1 (rest_api.py)
- ``/relay/``        the RTM relay, Socket.IO (relay.py); ``/v1/plugin/connect/endpoints``
                     points at it
- ``/socket.io/``    the same relay at the default path, for clients without discovery;
                     both paths take Engine.IO v4 and v3 (``?EIO=3``, relay_eio3.py)
- ``/_sandbox/...``  the control API (control.py), wrapped by ``sb.control``
- ``/``              the chat page, when ``static/index.html`` exists
- ``/dashboard``     the operator's dashboard (static/dashboard.html)

Use it as an async context manager::

    async with Sandbox() as sb:
        sb.url            # "http://127.0.0.1:PORT": the api_url of the REST clients
        sb.relay_url      # "http://127.0.0.1:PORT/relay/"
        await sb.control.visitor_says(sb.websites[0], session_id, "hello")

Credentials and website ids are generated unless given. ``hook_retry_delays`` sets the
waits between hook delivery attempts (short in tests; 0.5, 2, 5 s by default) and
``hook_attempt_limit`` how many attempts a delivery gets (one more than there are
delays unless given); the control API changes both at run time. ``hook_groups`` maps
group names to instance URLs: each group is one hook subscription spread round-robin
over its instances, as a load balancer would (see hooks.py); ``hook_refused_pause`` is
how long an instance that refused a connection is skipped. ``body_limit`` (bytes,
1 MiB by default) caps request bodies: a REST call over it answers 413
``request_too_large``.

The plugin as the Marketplace knows it (marketplace.py): ``settings_url`` (opened in
the dashboard's iframe with ``?website_id=...&token=...``), ``action_url`` (where widget
actions are posted, widget_actions.py), ``settings_schema`` (the JSON Schema every save
of a website's settings is validated against) and ``widget_schema`` (the Generic
widget the dashboard renders); ``sb.listing.update({...})`` or ``PUT /_sandbox/plugin``
change them at run time. ``/dashboard`` is the operator's page.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from .bus import EventBus
from .control import add_control_routes
from .control_client import SandboxControl
from .faults import Faults
from .hooks import DEFAULT_RETRY_DELAYS, REFUSED_PAUSE, HookDeliverer
from .marketplace import PluginListing
from .relay import RELAY_PATH, Relay
from .rest_api import RestApi
from .store import Store
from .widget_actions import WidgetActions

__all__ = ["Sandbox"]

STATIC = Path(__file__).parent / "static"


class Sandbox:
    """A local Crisp speaking the real wire protocol."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        identifier: str | None = None,
        key: str | None = None,
        secret: str | None = None,
        plugin_id: str | None = None,
        urn: str | None = None,
        websites: Sequence[str] | None = None,
        hook_urls: Iterable[str] = (),
        hook_groups: Mapping[str, Iterable[str]] | None = None,
        hook_retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        hook_attempt_limit: int | None = None,
        hook_refused_pause: float = REFUSED_PAUSE,
        hook_timeout: float = 5.0,
        public_host: str | None = None,
        body_limit: int = 1_048_576,
        settings_url: str | None = None,
        action_url: str | None = None,
        settings_schema: Mapping[str, Any] | None = None,
        widget_schema: Mapping[str, Any] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.public_host = public_host
        self.body_limit = body_limit
        self.identifier = identifier or str(uuid.uuid4())
        self.key = key or secrets.token_hex(32)
        self.secret = secret or secrets.token_hex(16)
        self.plugin_id = plugin_id or str(uuid.uuid4())
        self.urn = urn or "urn:crisp-plugin:sandbox:1"
        self.store = Store(self.plugin_id, self.urn)
        self.listing = PluginListing(self.urn)
        listed = {
            "settings_url": settings_url,
            "action_url": action_url,
            "settings_schema": dict(settings_schema) if settings_schema is not None else None,
            "widget_schema": dict(widget_schema) if widget_schema is not None else None,
        }
        self.listing.update({k: v for k, v in listed.items() if v is not None})
        for wid in websites or [None]:  # type: ignore[list-item]
            self.store.add_website(wid)
        self.faults = Faults()
        self.relay = Relay(self.identifier, self.key)
        self.hooks = HookDeliverer(
            self.plugin_id,
            self.secret,
            retry_delays=hook_retry_delays,
            attempt_limit=hook_attempt_limit,
            refused_pause=hook_refused_pause,
            timeout=hook_timeout,
            duplicate=lambda: self.faults.duplicate_hooks,
        )
        for url in hook_urls:
            self.hooks.add_url(url)
        for name, urls in (hook_groups or {}).items():
            self.hooks.add_group(urls, name)
        self.bus = EventBus(self.store, self.relay, self.hooks)
        self.widgets = WidgetActions(
            self.listing, self.secret, self.plugin_id, self.bus, self.hooks, timeout=hook_timeout
        )
        self.rest = RestApi(self)
        self._runner: web.AppRunner | None = None
        self._control: SandboxControl | None = None
        self._lingering: set[asyncio.Task[object]] = set()
        self.closing = False
        self.app = self._build_app()

    def __repr__(self) -> str:
        where = self.url if self._runner else "not started"
        return f"<Sandbox {where} identifier={self.identifier} plugin_id={self.plugin_id}>"

    # -- addresses ---------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL without /v1 (what ``setRestHost`` / ``set_rest_host`` / api_url take)."""
        host = self.public_host or self.host
        if host in ("", "0.0.0.0", "::"):  # listening everywhere: name loopback
            host = "127.0.0.1"
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def chat_url(self) -> str:
        """The visitor chat page (served at the root of the sandbox's port)."""
        return self.url + "/"

    @property
    def dashboard_url(self) -> str:
        """The operator's dashboard: websites, installs, settings pages, widgets."""
        return self.url + "/dashboard"

    @property
    def relay_url(self) -> str:
        """The RTM relay URL; its path is the Socket.IO path."""
        return self.url + RELAY_PATH

    @property
    def websites(self) -> list[str]:
        return list(self.store.websites)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The REST request log: method, path, query, status, body, at (ms)."""
        return list(self.rest.requests)

    @property
    def control(self) -> SandboxControl:
        if self._control is None:
            self._control = SandboxControl(self.url, default_website=self.websites[0])
        return self._control

    # -- app ---------------------------------------------------------------------

    def _build_app(self) -> web.Application:
        app = web.Application(client_max_size=self.body_limit)
        self.relay.attach(app)
        app.router.add_route("*", "/v1/{tail:.*}", self.rest.handle)
        add_control_routes(app, self)
        app.router.add_get("/", self._index)
        app.router.add_get("/dashboard", self._dashboard)
        if STATIC.is_dir():
            app.router.add_static("/static/", STATIC)
        return app

    async def _index(self, request: web.Request) -> web.StreamResponse:
        page = STATIC / "index.html"
        if page.is_file():
            return web.FileResponse(page)
        text = (
            "Crisp sandbox\n\n"
            f"REST API: {self.url}/v1/\nRTM relay: {self.relay_url}\n"
            f"Control API: {self.url}/_sandbox/info\n"
        )
        return web.Response(text=text)

    async def _dashboard(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "dashboard.html")

    # -- lifecycle -----------------------------------------------------------------

    async def start(self) -> None:
        if self._runner is not None:
            return
        self.closing = False
        await self.hooks.start()
        await self.widgets.start()
        runner = web.AppRunner(
            self.app, access_log=None, handle_signals=False, shutdown_timeout=2.0
        )
        try:
            await runner.setup()
            site = web.TCPSite(runner, self.host, self.port, reuse_address=True)
            await site.start()
        except BaseException:
            # A port in use (OSError) or a cancelled start: close what was opened so
            # the caller sees only its error, not an unclosed session warning.
            await runner.cleanup()
            await self.hooks.stop()
            await self.widgets.stop()
            raise
        self._runner = runner
        server = site._server
        if self.port == 0 and server is not None:
            sockets = getattr(server, "sockets", None) or []
            self.port = sockets[0].getsockname()[1]

    @contextmanager
    def lingering(self) -> Iterator[None]:
        """Mark the current request task as a long wait that ``stop`` may cancel."""
        task = asyncio.current_task()
        if task is None:
            yield
            return
        self._lingering.add(task)
        try:
            yield
        finally:
            self._lingering.discard(task)

    async def stop(self) -> None:
        self.closing = True
        for task in list(self._lingering):
            task.cancel()
        if self._control is not None:
            await self._control.close()
            self._control = None
        if self._runner is None:
            return
        await self.relay.close()
        await self.hooks.stop()
        await self.widgets.stop()
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def reset(self) -> None:
        """Forget conversations, people, logs and faults; keep websites, hooks, sockets
        (and hook groups, their instances' counts zeroed)."""
        self.store.clear()
        for site in self.store.websites.values():
            site.subscribed = True
            site.settings = {}
            site.configured = False
        self.rest.requests.clear()
        self.hooks.clear_log()
        self.widgets.log.clear()
        self.bus.log.clear()
        self.faults.clear()

    async def wait_hooks(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until every hook delivery has succeeded or given up."""
        await self.hooks.wait_idle(timeout)

    async def wait_widget_actions(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until every action a deliver-widget route started has ended, its
        ``widget:action:processed`` emitted."""
        await self.widgets.wait_idle(timeout)
