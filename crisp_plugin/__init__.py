"""crisp_plugin: write, run, test and scale Crisp plugins and bots in Python.

    from crisp_plugin import Plugin, on
    from crisp_plugin.events import MessageSend

    class Greeter(Plugin):
        @on("message:send", text=r"(?i)\\bhello\\b")
        async def greet(self, event: MessageSend) -> None:
            await self.rest.send_message(event.website_id, event.session_id, "Hi!")

Run it with ``python -m crisp_plugin run plugin.toml``.
"""

from __future__ import annotations

from crisp_plugin.config import Settings, load_config
from crisp_plugin.dispatch import Dispatcher
from crisp_plugin.errors import (
    APIError,
    ConfigError,
    CrispError,
    EventError,
    HandlerError,
    InvalidData,
    NotAllowed,
    NotEmulated,
    NotFound,
    NotSubscribed,
    QuotaExceeded,
    RateLimited,
    RequestTimeout,
    RestrictedRouteTier,
    RtmError,
    RtmUnauthorized,
    ServerError,
    SignatureError,
    TransportError,
    Unauthorized,
)
from crisp_plugin.events import Event, parse_event
from crisp_plugin.handlers import on
from crisp_plugin.plugin import Plugin, load_plugin_class
from crisp_plugin.state import MemoryState, SqliteState, StateStore

__version__ = "0.1.0"

__all__ = [
    "APIError",
    "ConfigError",
    "CrispError",
    "Dispatcher",
    "Event",
    "EventError",
    "HandlerError",
    "InvalidData",
    "MemoryState",
    "NotAllowed",
    "NotEmulated",
    "NotFound",
    "NotSubscribed",
    "Plugin",
    "QuotaExceeded",
    "RateLimited",
    "RequestTimeout",
    "RestrictedRouteTier",
    "RtmError",
    "RtmUnauthorized",
    "ServerError",
    "Settings",
    "SignatureError",
    "SqliteState",
    "StateStore",
    "TransportError",
    "Unauthorized",
    "__version__",
    "load_config",
    "load_plugin_class",
    "on",
    "parse_event",
]
