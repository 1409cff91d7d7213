"""A REST server that is not the bottleneck: nginx (Debian's package) answering every
request with Crisp's envelope, for W4 to measure the clients rather than the sandbox.

``nginx_server()`` writes a configuration into a scratch folder, starts one nginx worker
pinned to the load core, and yields its base URL; every path answers ``200`` with
``{"error":false,"reason":"dispatched","data":{"fingerprint":...}}`` (the send-message
answer), without reading a file or writing a log. Authentication is not checked: what
is measured is the client's cost of one call (building it, the HTTP exchange, reading
the envelope), which the answer's content does not change.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from bench.procs import Proc, free_port, wait_port

ANSWER = '{"error":false,"reason":"dispatched","data":{"fingerprint":1796000000000000}}'

CONFIG = """
worker_processes 1;
daemon off;
master_process on;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {folder}/body;
  proxy_temp_path {folder}/proxy;
  fastcgi_temp_path {folder}/fastcgi;
  uwsgi_temp_path {folder}/uwsgi;
  scgi_temp_path {folder}/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  server {{
    listen 127.0.0.1:{port} reuseport backlog=4096;
    location / {{
      default_type application/json;
      return 200 '{answer}';
    }}
  }}
}}
"""


def nginx_path() -> str | None:
    """The nginx binary, or ``None`` when it is not installed."""
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).is_file()), None
    )


@contextlib.asynccontextmanager
async def nginx_server(cpu: int | None) -> AsyncIterator[str]:
    binary = nginx_path()
    if binary is None:
        raise RuntimeError(
            "nginx is not installed (Debian's 'nginx' package; bench/run.sh installs it)"
        )
    with tempfile.TemporaryDirectory(prefix="crisp-bench-nginx-") as folder:
        port = free_port()
        conf = Path(folder) / "nginx.conf"
        conf.write_text(CONFIG.format(folder=folder, port=port, answer=ANSWER))
        proc = await Proc.start("nginx", [binary, "-c", str(conf), "-p", folder], cpu=cpu)
        try:
            await wait_port(port)
            yield f"http://127.0.0.1:{port}"
        finally:
            await proc.stop()
