"""Import python-socketio without the ~8 MB its synchronous client and its server-side
message queues drag in.

python-engineio's package imports its synchronous ``Client`` on import, which
imports ``requests`` (and urllib3, charset-normalizer, idna...) and
``websocket-client`` when they are installed; python-socketio's package imports its
Redis message-queue managers (for servers spread over processes), which import
redis-py (or valkey) when installed: several MB of RSS for modules the asyncio
client used here never touches. :func:`import_socketio` imports the packages with
those hidden, then gives engineio's synchronous client lazy stand-ins that import the
real module on first use, so code that does use ``socketio.Client`` in the same
process still works. Socket.IO's Redis managers (``socketio.AsyncRedisManager``) are
the one thing left out: a plugin has no Socket.IO server to spread. A module already
imported is not hidden (the plugin's own redis-py, opened first, stays visible), and
importing redis-py later works as always.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

__all__ = ["import_socketio"]

_OPTIONAL = ("requests", "websocket", "redis", "aioredis", "valkey")
_DEFERRED = ("requests", "websocket")  # engineio's synchronous client gets stand-ins


class _Deferred(types.ModuleType):
    """A module imported on first attribute access."""

    def __getattr__(self, attr: str) -> Any:
        module = importlib.import_module(self.__name__)
        return getattr(module, attr)


def import_socketio() -> tuple[types.ModuleType, types.ModuleType]:
    """``(socketio, engineio)``, imported once."""
    if "engineio" in sys.modules and "socketio" in sys.modules:
        return sys.modules["socketio"], sys.modules["engineio"]
    hidden = [name for name in _OPTIONAL if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # makes `import name` fail
    try:
        import engineio
        import engineio.client
        import socketio
    finally:
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
    client: Any = engineio.client
    for name in hidden:
        if name not in _DEFERRED:
            continue
        if getattr(client, name, 0) is None and importlib.util.find_spec(name) is not None:
            setattr(client, name, _Deferred(name))
    return socketio, engineio
