"""Memory: what a running plugin imports (each check in a fresh interpreter).

A plugin on web hooks alone must not import python-socketio; the RTM transport must
not pull in ``requests`` / ``websocket-client`` through engineio's synchronous client,
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
