"""Event transports: Crisp's RTM relay (Socket.IO) and signed Web Hooks (HTTP).

A transport turns what arrives on the wire into ``(name, payload)`` and hands it to the
dispatcher's ``feed``; it knows nothing of handlers. The runner builds them from
``[events] transport = "rtm" | "webhooks" | "both"``.

The RTM names (``RtmTransport``, ``BIND_INTERVAL``, ``split_relay_url``) are imported on
first use: python-socketio costs memory a plugin on web hooks alone does not need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crisp_plugin.transports.base import EventSink, Transport
from crisp_plugin.transports.endpoints import discover_endpoints, endpoints_path
from crisp_plugin.transports.http_extras import HEALTH_PATH, METRICS_PATH, health_routes
from crisp_plugin.transports.webhook import WebhookServer, timestamp_age

__all__ = [
    "BIND_INTERVAL",
    "HEALTH_PATH",
    "METRICS_PATH",
    "EventSink",
    "RtmTransport",
    "Transport",
    "WebhookServer",
    "discover_endpoints",
    "endpoints_path",
    "health_routes",
    "split_relay_url",
    "timestamp_age",
]

_RTM_NAMES = frozenset({"BIND_INTERVAL", "RtmTransport", "split_relay_url"})


def __getattr__(name: str) -> Any:
    if name in _RTM_NAMES:
        from crisp_plugin.transports import rtm

        return getattr(rtm, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:
    from crisp_plugin.transports.rtm import BIND_INTERVAL, RtmTransport, split_relay_url
