"""``/healthz`` and ``/metrics`` routes, mounted on the web hook server's port.

``/healthz`` answers JSON ``{"status", "transports": {name: state}, "in_flight"}``:
``status`` is ``ok`` when every transport is up, ``degraded`` when one is not (the RTM
relay reconnecting, say), ``draining`` during shutdown. It is 200 except while
draining or failed (503), so a load balancer stops sending work to a plugin on its way
out. ``/metrics`` is the Prometheus text exposition.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from crisp_plugin.metrics import CONTENT_TYPE, Metrics

__all__ = ["HEALTH_PATH", "METRICS_PATH", "health_routes"]

HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"

HealthFn = Callable[[], dict[str, Any]]


def health_routes(
    health: HealthFn, metrics: Metrics | None = None
) -> Callable[[web.Application], None]:
    """A function that adds the routes to an application (``extra_routes``)."""

    async def healthz(request: web.Request) -> web.Response:
        report = health()
        status = 503 if report.get("status") in ("draining", "failed", "stopped") else 200
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
