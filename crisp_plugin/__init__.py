"""crisp_plugin: write, run, test and scale Crisp plugins and bots in Python.

    from crisp_plugin import Plugin, on
    from crisp_plugin.events import MessageSend

    class Greeter(Plugin):
        @on("message:send", text=r"(?i)\\bhello\\b")
        async def greet(self, event: MessageSend) -> None:
            await event.reply("Hi! How can I help?")

Run it with ``python -m crisp_plugin run plugin.toml``.

Names are imported on first use, so ``import crisp_plugin.rest`` (the REST client
alone) does not load the dispatcher, the transports or the sandbox.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from crisp_plugin.version import __version__

__all__ = [
    "ANY_STEP",
    "NO_STEP",
    "APIError",
    "Config",
    "ConfigError",
    "CrispError",
    "Event",
    "EventError",
    "Flow",
    "Handler",
    "HandlerError",
    "InnerMiddleware",
    "InvalidData",
    "MemoryState",
    "Next",
    "NotAllowed",
    "NotEmulated",
    "NotFound",
    "NotSubscribed",
    "Observer",
    "OuterMiddleware",
    "Plugin",
    "QuotaExceeded",
    "RateLimited",
    "RequestTimeout",
    "RestClient",
    "RestrictedRouteTier",
    "Router",
    "RtmError",
    "RtmUnauthorized",
    "Runner",
    "ScopedState",
    "ServerError",
    "SignatureError",
    "SqliteState",
    "StateStore",
    "TransportError",
    "Unauthorized",
    "__version__",
    "inner_middleware",
    "load_config",
    "on",
    "outer_middleware",
]

_ERRORS = (
    "APIError",
    "ConfigError",
    "CrispError",
    "EventError",
    "HandlerError",
    "InvalidData",
    "NotAllowed",
    "NotEmulated",
    "NotFound",
    "NotSubscribed",
    "QuotaExceeded",
    "RateLimited",
    "RequestTimeout",
    "RestrictedRouteTier",
    "RtmError",
    "RtmUnauthorized",
    "ServerError",
    "SignatureError",
    "TransportError",
    "Unauthorized",
)

_WHERE: dict[str, str] = {
    **{name: "crisp_plugin.errors" for name in _ERRORS},
    "ANY_STEP": "crisp_plugin.flows",
    "NO_STEP": "crisp_plugin.flows",
    "Flow": "crisp_plugin.flows",
    "Event": "crisp_plugin.events.base",
    "Handler": "crisp_plugin.routing",
    "Router": "crisp_plugin.routing",
    "on": "crisp_plugin.routing",
    "inner_middleware": "crisp_plugin.routing",
    "outer_middleware": "crisp_plugin.routing",
    "InnerMiddleware": "crisp_plugin.middleware",
    "Next": "crisp_plugin.middleware",
    "OuterMiddleware": "crisp_plugin.middleware",
    "Observer": "crisp_plugin.observer",
    "Plugin": "crisp_plugin.plugin",
    "RestClient": "crisp_plugin.rest.client",
    "Runner": "crisp_plugin.runner",
    "MemoryState": "crisp_plugin.state",
    "ScopedState": "crisp_plugin.state",
    "SqliteState": "crisp_plugin.state",
    "StateStore": "crisp_plugin.state",
    "Config": "crisp_plugin.config",
    "load_config": "crisp_plugin.config",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'crisp_plugin' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:
    from crisp_plugin.config import Config, load_config
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
    from crisp_plugin.events.base import Event
    from crisp_plugin.flows import ANY_STEP, NO_STEP, Flow
    from crisp_plugin.middleware import InnerMiddleware, Next, OuterMiddleware
    from crisp_plugin.observer import Observer
    from crisp_plugin.plugin import Plugin
    from crisp_plugin.rest.client import RestClient
    from crisp_plugin.routing import Handler, Router, inner_middleware, on, outer_middleware
    from crisp_plugin.runner import Runner
    from crisp_plugin.state import MemoryState, ScopedState, SqliteState, StateStore
