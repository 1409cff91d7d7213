"""W1 and W5: our web hook transport, as ``crisp_plugin run`` runs it, with a no-op plugin.

    python -m bench.contenders.ours_hooks PORT PATH [INBOX [DEDUPE_TTL [REDIS_URL]]]

A Runner with ``events.transport = "webhooks"`` on PORT; REST is never called (the
no-op handler sends nothing), so the API URL points at a closed loopback port. INBOX is
``memory`` (the default), ``sqlite`` (a file in a scratch folder) or ``redis`` (at
REDIS_URL: one instance owning every partition). The dedupe TTL is the default unless
given (wrk's pool is larger than a run sends, so every event is new and handled); W5
gives 0 (no dedupe): every request is a new event the inbox must keep. The event loop
is the one ``run`` picks (uvloop when installed), or ``CRISP_BENCH_EVENT_LOOP``
(``asyncio``, ``uvloop``).
"""

from __future__ import annotations

import os
import sys

from bench import ours
from bench.contenders import ours_runner
from bench.procs import scratch_dir
from crisp_plugin.config import Config


def main(
    port: int,
    inbox: str = "memory",
    dedupe_ttl: float | None = None,
    redis_url: str | None = None,
) -> None:
    data = ours.settings(
        "NoopPlugin", api_url="http://127.0.0.1:9", hook_port=port, dedupe_ttl=dedupe_ttl
    )
    if inbox == "sqlite":
        data["inbox"] = {"backend": inbox, "path": str(scratch_dir() / f"inbox-{port}.sqlite3")}
    elif inbox == "redis":
        data["inbox"] = {"backend": "redis"}
        data["redis"] = {"url": redis_url}
    data["runtime"] = {"event_loop": os.environ.get("CRISP_BENCH_EVENT_LOOP", "auto")}
    ours_runner.run_as_run_does(Config.model_validate(data))


if __name__ == "__main__":
    args = sys.argv[1:]
    main(
        int(args[0]),
        args[2] if len(args) > 2 else "memory",
        float(args[3]) if len(args) > 3 else None,
        args[4] if len(args) > 4 else None,
    )
