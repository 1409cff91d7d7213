"""W1 floor: bare aiohttp reading the body and answering 200, nothing else.

python -m bench.contenders.bare_aiohttp PORT PATH
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys

from aiohttp import web


async def ingest(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(text="ok")


async def main(port: int, path: str) -> None:
    app = web.Application()
    app.router.add_post(path, ingest)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print(json.dumps({"ready": True, "port": port}), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
