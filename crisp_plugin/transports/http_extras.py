"""``/healthz`` and ``/metrics`` routes, mounted on the web hook server's port, and
:class:`StatusServer`, which serves them on a port of their own (``[metrics]``).

``/healthz`` answers JSON ``{"status", "transports": {name: state}, "in_flight"}``:
``status`` is ``ok`` when every transport is up, ``degraded`` when one is not (the RTM
relay reconnecting, say), ``unavailable`` while the inbox cannot keep events (hooks get
503 meanwhile), ``draining`` during shutdown. It is 200 except while draining, failed
or unavailable (503), so a load balancer stops sending work to a plugin that cannot
take it. ``inbox`` gives the inbox's backend, depth and the oldest event's age.
``/metrics`` is the Prometheus text exposition.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from crisp_plugin.metrics import CONTENT_TYPE, Metrics

__all__ = ["HEALTH_PATH", "METRICS_PATH", "StatusServer", "health_routes"]

HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"

HealthFn = Callable[[], dict[str, Any]]


def health_routes(
    health: HealthFn, metrics: Metrics | None = None
) -> Callable[[web.Application], None]:
    """A function that adds the routes to an application (``extra_routes``)."""

    async def healthz(request: web.Request) -> web.Response:
        report = health()
        closed = ("draining", "failed", "stopped", "unavailable")
        status = 503 if report.get("status") in closed else 200
        return web.Response(
            status=status, body=json.dumps(report).encode(), content_type="application/json"
        )

    async def metrics_view(request: web.Request) -> web.Response:
        assert metrics is not None
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    def add(app: web.Application) -> None:
        app.router.add_get(HEALTH_PATH, healthz, allow_head=True)
        if metrics is not None:
            app.router.add_get(METRICS_PATH, metrics_view, allow_head=False)

    return add


class StatusServer:
    """``/healthz`` and ``/metrics`` alone on ``host:port`` (port 0 picks a free one)."""

    def __init__(
        self, health: HealthFn, metrics: Metrics, *, host: str = "127.0.0.1", port: int = 9090
    ) -> None:
        self.host = host
        self.port = port
        self._add = health_routes(health, metrics)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """``http://host:port`` of the bound address."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "", "::") else self.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

    async def start(self) -> None:
        """Bind and serve."""
        app = web.Application()
        self._add(app)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        for address in runner.addresses:
            if isinstance(address, tuple) and len(address) >= 2:
                self.port = int(address[1])
                break

    async def stop(self) -> None:
        """Close the port."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
