"""Memory: what a running plugin imports (each check in a fresh interpreter).

A plugin on web hooks alone must not import python-socketio; the RTM transport must
not pull in redis-py through socketio's message queues, nor ``requests`` /
``websocket-client`` through engineio's synchronous client,
yet that client must still work for code that uses it (``requests`` is installed with
the dev dependencies: the PyPI ``crisp-api`` needs it).
"""

from __future__ import annotations

import subprocess
import sys


def run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip()


def test_the_hooks_runner_does_not_import_socketio() -> None:
    out = run(
        "import sys, crisp_plugin.runner, crisp_plugin.transports as t\n"
        "print('socketio' in sys.modules, 'engineio' in sys.modules)\n"
        "t.RtmTransport\n"
        "print('socketio' in sys.modules)\n"
    )
    assert out.splitlines() == ["False False", "True"]


def test_rtm_leaves_requests_unimported_until_engineios_sync_client_needs_it() -> None:
    out = run(
        "import sys\n"
        "from crisp_plugin.transports.rtm import RtmTransport\n"
        "import engineio.client as c\n"
        "print('requests' in sys.modules)\n"
        "print(c.requests.Session.__name__, 'requests' in sys.modules)\n"
        "import requests\n"
        "print(requests.Session is c.requests.Session)\n"
    )
    assert out.splitlines() == ["False", "Session True", "True"]


def test_rtm_leaves_redis_unimported_and_importable() -> None:
    # python-socketio's Redis message-queue managers import redis-py when it is
    # installed (it is, with the dev dependencies): ~4 MB a plugin without a Redis
    # backend never uses. Hidden while socketio imports, and importable after.
    out = run(
        "import sys\n"
        "from crisp_plugin.transports import sio_import\n"
        "sio_import.import_socketio()\n"
        "print('socketio' in sys.modules, 'redis' in sys.modules)\n"
        "import redis.asyncio\n"
        "print(redis.asyncio.Redis.__name__)\n"
    )
    assert out.splitlines() == ["True False", "Redis"]


def test_a_redis_imported_first_stays_what_it_is() -> None:
    out = run(
        "import redis.asyncio\n"
        "from crisp_plugin.transports import sio_import\n"
        "sio_import.import_socketio()\n"
        "import socketio.async_redis_manager as m\n"
        "print(m.aioredis is redis.asyncio)\n"
    )
    assert out == "True"


def loaded_after(statement: str) -> set[str]:
    """The crisp_plugin modules a fresh interpreter holds after ``statement``."""
    out = run(
        f"import sys\n{statement}\n"
        "print('\\n'.join(m for m in sys.modules if m.startswith('crisp_plugin')))\n"
    )
    return set(out.splitlines())


RUNTIME = {"crisp_plugin.dispatch", "crisp_plugin.plugin", "crisp_plugin.runner"}


def test_the_rest_client_alone_does_not_load_the_framework() -> None:
    loaded = loaded_after("from crisp_plugin.rest import RestClient")
    assert not loaded & (RUNTIME | {"crisp_plugin.config", "crisp_plugin.sandbox"}), loaded


def test_the_transports_and_the_sandbox_do_not_load_the_dispatcher_or_plugins() -> None:
    for statement in (
        "import crisp_plugin.transports.webhook",
        "import crisp_plugin.transports.rtm",
        "from crisp_plugin.sandbox import Sandbox",
    ):
        loaded = loaded_after(statement)
        assert not loaded & RUNTIME, (statement, loaded)


def test_the_runner_does_not_load_the_sandbox_and_log_not_the_config() -> None:
    assert not any(
        m.startswith("crisp_plugin.sandbox") for m in loaded_after("import crisp_plugin.runner")
    )
    assert "crisp_plugin.config" not in loaded_after("import crisp_plugin.log")
