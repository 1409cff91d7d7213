"""``python -m crisp_plugin sandbox``: run the local Crisp standalone.

    python -m crisp_plugin sandbox [--host H] [--port P] [--hook URL]...
        [--hook-group [NAME=]URL,URL,...]... [--hook-retry-delays S,S,...]
        [--hook-attempt-limit N]
        [--identifier ID --key KEY --secret SECRET --plugin-id ID --urn URN]
        [--website ID]...
        [--settings-url URL] [--action-url URL]
        [--settings-schema FILE] [--widget-schema FILE]

Credentials and website ids not given are generated, and printed with the addresses as
a plugin.toml snippet ready to paste. The last four options register the plugin as the
Marketplace would (its Settings URL, Action URL, settings JSON Schema and Generic widget
schema, the two schemas as JSON files); the dashboard at ``/dashboard`` uses them.
Runs until SIGINT or SIGTERM, then closes its sockets and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import json
import math
import signal
import sys
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from .. import gc_tuning
from .server import Sandbox

__all__ = [
    "add_parser",
    "attempt_limit",
    "hook_group",
    "hook_url",
    "json_file",
    "main",
    "port_number",
    "retry_delays",
    "serve",
    "snippet",
    "web_url",
]


def hook_url(value: str) -> str:
    """argparse type of ``--hook``: an http(s) URL with a host (else exit 2, one line)."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a web hook URL (expected http://host[:port]/path)"
        )
    return value


def web_url(value: str) -> str:
    """argparse type of ``--settings-url`` / ``--action-url``: an http(s) URL with a host."""
    try:
        return hook_url(value)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an http(s) URL (expected http://host[:port]/path)"
        ) from None


def json_file(value: str) -> dict[str, Any]:
    """argparse type of ``--settings-schema`` / ``--widget-schema``: a JSON object file."""
    try:
        text = Path(value).read_text(encoding="utf-8")
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read {value!r}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise argparse.ArgumentTypeError(f"{value!r} should hold a JSON object")
    return data


def port_number(value: str) -> int:
    """argparse type of ``--port``: 0..65535 (else exit 2, one line)."""
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a port (a number from 0 to 65535; 0 picks a free one)"
        )
    return port


def hook_group(value: str) -> tuple[str | None, list[str]]:
    """argparse type of ``--hook-group``: ``[NAME=]URL,URL,...`` -> (name, instance URLs)."""
    name: str | None = None
    listed = value
    head, sep, tail = value.partition("=")
    if sep and "://" not in head:
        name, listed = head, tail
    urls = [u.strip() for u in listed.split(",") if u.strip()]
    if not urls:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a hook group (expected [NAME=]URL,URL,...)"
        )
    return name, [hook_url(u) for u in urls]


def retry_delays(value: str) -> tuple[float, ...]:
    """argparse type of ``--hook-retry-delays``: seconds, comma-separated ("" for none)."""
    delays: list[float] = []
    for part in filter(None, (p.strip() for p in value.split(","))):
        try:
            seconds = float(part)
        except ValueError:
            seconds = -1.0
        if not math.isfinite(seconds) or not 0 <= seconds <= 3600:
            raise argparse.ArgumentTypeError(
                f"{value!r} is not a list of delays (seconds from 0 to 3600, "
                "comma-separated, e.g. 0.5,2,5)"
            )
        delays.append(seconds)
    return tuple(delays)


def attempt_limit(value: str) -> int:
    """argparse type of ``--hook-attempt-limit``: 1..100 (else exit 2, one line)."""
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if not 1 <= limit <= 100:
        raise argparse.ArgumentTypeError(f"{value!r} is not an attempt limit (1 to 100)")
    return limit


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``sandbox`` sub-command to the CLI's sub-parsers."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "sandbox",
        help="run the local Crisp sandbox (REST, RTM relay, web hooks, control API)",
        description=(
            "Run a local Crisp speaking the real wire protocol. Credentials and website "
            "ids not given are generated and printed as a plugin.toml snippet."
        ),
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=port_number, default=8787, help="port (8787; 0 picks a free one)")
    p.add_argument(
        "--hook",
        action="append",
        default=[],
        type=hook_url,
        metavar="URL",
        help="web hook URL to deliver signed events to (http or https; repeatable)",
    )
    p.add_argument(
        "--hook-group",
        dest="hook_group",
        action="append",
        default=[],
        type=hook_group,
        metavar="[NAME=]URL,URL",
        help=(
            "instance URLs behind one hook subscription: each event goes to one of them "
            "in turn, and is retried on the others (repeatable)"
        ),
    )
    p.add_argument(
        "--hook-retry-delays",
        dest="hook_retry_delays",
        type=retry_delays,
        default=None,
        metavar="S,S,...",
        help="seconds between hook delivery attempts (0.5,2,5)",
    )
    p.add_argument(
        "--hook-attempt-limit",
        dest="hook_attempt_limit",
        type=attempt_limit,
        default=None,
        metavar="N",
        help="attempts per hook delivery (one more than the delays)",
    )
    p.add_argument("--identifier", help="plugin token identifier (generated if absent)")
    p.add_argument("--key", help="plugin token key (generated if absent)")
    p.add_argument("--secret", help="web hook signing secret (generated if absent)")
    p.add_argument("--plugin-id", dest="plugin_id", help="plugin id (generated if absent)")
    p.add_argument("--urn", help="plugin URN (urn:crisp-plugin:sandbox:1 if absent)")
    p.add_argument(
        "--website",
        action="append",
        default=[],
        metavar="ID",
        help="website id with the plugin installed (repeatable; one generated if absent)",
    )
    p.add_argument(
        "--settings-url",
        dest="settings_url",
        type=web_url,
        metavar="URL",
        help="the plugin's Settings URL (the dashboard opens it in an iframe)",
    )
    p.add_argument(
        "--action-url",
        dest="action_url",
        type=web_url,
        metavar="URL",
        help="the plugin's Action URL (widget clicks are posted there)",
    )
    p.add_argument(
        "--settings-schema",
        dest="settings_schema",
        type=json_file,
        metavar="FILE",
        help="JSON Schema file every website's settings are validated against",
    )
    p.add_argument(
        "--widget-schema",
        dest="widget_schema",
        type=json_file,
        metavar="FILE",
        help="Generic widget schema file (the dashboard's widget sidebar)",
    )
    p.set_defaults(command="sandbox")
    return p


def snippet(sb: Sandbox, given: argparse.Namespace | None = None) -> str:
    """The plugin.toml lines that point a plugin at this sandbox.

    Secrets given on the command line are not echoed back; generated ones are printed,
    since nobody else knows them.
    """
    key = '"<the --key you gave>"' if given and given.key else f'"{sb.key}"'
    secret = '"<the --secret you gave>"' if given and given.secret else f'"{sb.secret}"'
    return "\n".join(
        [
            "[plugin]",
            f'urn = "{sb.urn}"',
            "",
            "[crisp]",
            f'identifier = "{sb.identifier}"',
            f"key = {key}",
            'tier = "plugin"',
            f'api_url = "{sb.url}"',
            "allow_insecure_http = true",
            f'plugin_id = "{sb.plugin_id}"',
            "",
            "[webhooks]",
            f"secret = {secret}",
            "",
            f"# websites with the plugin installed: {', '.join(sb.websites)}",
        ]
    )


async def serve(
    args: argparse.Namespace, *, stop: asyncio.Event | None = None, out: TextIO | None = None
) -> int:
    """Run the sandbox until SIGINT/SIGTERM (or ``stop`` is set); the exit code."""
    out = out or sys.stdout
    retries: dict[str, Any] = {}
    if args.hook_retry_delays is not None:
        retries["hook_retry_delays"] = args.hook_retry_delays
    if args.hook_attempt_limit is not None:
        retries["hook_attempt_limit"] = args.hook_attempt_limit
    try:
        sb = Sandbox(
            host=args.host,
            port=args.port,
            identifier=args.identifier,
            key=args.key,
            secret=args.secret,
            plugin_id=args.plugin_id,
            urn=args.urn,
            websites=args.website or None,
            hook_urls=args.hook,
            settings_url=args.settings_url,
            action_url=args.action_url,
            settings_schema=args.settings_schema,
            widget_schema=args.widget_schema,
            **retries,
        )
        for name, urls in args.hook_group:
            sb.hooks.add_group(urls, name)
    except ValueError as exc:  # a retry budget that does not hold, a group name, a schema
        print(f"sandbox: {exc}", file=sys.stderr)
        return 2
    try:
        await sb.start()
    except OSError as exc:
        in_use = exc.errno == errno.EADDRINUSE
        reason = "address already in use" if in_use else (exc.strerror or str(exc))
        print(f"sandbox: cannot listen on {args.host}:{args.port}: {reason}", file=sys.stderr)
        return 1
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        print(f"Crisp sandbox listening on {sb.url}", file=out)
        print(f"  REST API     {sb.url}/v1/", file=out)
        print(f"  RTM relay    {sb.relay_url}", file=out)
        print(f"  control API  {sb.url}/_sandbox/info", file=out)
        print(f"  chat page    {sb.url}/", file=out)
        print(f"  dashboard    {sb.dashboard_url}", file=out)
        if sb.listing.settings_url:
            print(f"  settings URL {sb.listing.settings_url}", file=out)
        if sb.listing.action_url:
            print(f"  action URL   {sb.listing.action_url}", file=out)
        for url in args.hook:
            print(f"  web hook     {url}", file=out)
        for group in sb.hooks.groups.values():
            print(f"  hook group   {group.name}: {', '.join(group.urls)}", file=out)
        if args.hook or args.hook_group or retries:
            print(f"  hook retries {_budget(sb)}", file=out)
        print("\n# plugin.toml\n" + snippet(sb, args) + "\n", file=out)
        print("Press Ctrl+C to stop.", file=out, flush=True)
        await stop.wait()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
        await sb.stop()
    print("sandbox stopped", file=out, flush=True)
    return 0


def _budget(sb: Sandbox) -> str:
    hooks = sb.hooks
    delays = ", ".join(f"{d:g}" for d in hooks.retry_delays) or "none"
    return (
        f"after {delays} s; {hooks.attempt_limit} attempts, the last "
        f"{hooks.retry_window:g} s after the first"
    )


def main(args: argparse.Namespace) -> Any:
    """The ``sandbox`` command.

    Called outside an event loop (as ``python -m crisp_plugin`` does) it runs the
    sandbox and returns the exit code; called inside a running loop it returns the
    coroutine to await (``await main(args)`` -> exit code).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        # The process is the sandbox's own: tune the collector as `run` does (the
        # sandbox keeps every message, and full collections would walk them all).
        gc_tuning.tune()
        try:
            return asyncio.run(serve(args))
        finally:
            gc_tuning.restore()
    return serve(args)
