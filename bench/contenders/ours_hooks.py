"""W1: our web hook transport, as ``crisp_plugin run`` runs it, with a no-op plugin.

    python -m bench.contenders.ours_hooks PORT PATH

A Runner with ``events.transport = "webhooks"`` on PORT; REST is never called (the
no-op handler sends nothing), so the API URL points at a closed loopback port.
The dedupe TTL is cut to 5 s: wrk cycles through a pool of distinct events, and an
event seen again after the TTL is handled again, as a fresh one would be.
"""

from __future__ import annotations

import asyncio
import sys

from bench import ours
from bench.contenders import ours_runner
from crisp_plugin.config import Config


def main(port: int) -> None:
    data = ours.settings("NoopPlugin", api_url="http://127.0.0.1:9", hook_port=port, dedupe_ttl=5.0)
    asyncio.run(ours_runner.main(Config.model_validate(data), None))


if __name__ == "__main__":
    main(int(sys.argv[1]))
