"""``python -m crisp_plugin`` and the ``crisp-plugin`` command: run, check, list events,
scaffold, sandbox. Both are this module: the same commands, help and exit codes, each
naming itself as it was called.

    python -m crisp_plugin run plugin.toml       run the plugin until SIGINT/SIGTERM
    python -m crisp_plugin check plugin.toml     validate, import, list handlers, test token
    python -m crisp_plugin events                the catalogue of Crisp events
    python -m crisp_plugin init my-bot           a new plugin folder with a passing test
    python -m crisp_plugin sandbox ...           the local Crisp (see sandbox --help)

Exit codes: 0 ok, 2 configuration error (one line per problem on stderr, no
traceback), 1 runtime failure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import difflib
import importlib
import json
import os
import shlex
import sqlite3
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from crisp_plugin.config import Config, load_config
from crisp_plugin.errors import ConfigError, CrispError

if TYPE_CHECKING:
    from crisp_plugin.plugin import Plugin

__all__ = [
    "COMMAND",
    "EXIT_CONFIG",
    "EXIT_FAILURE",
    "EXIT_OK",
    "MODULE_COMMAND",
    "build_parser",
    "main",
    "run_main",
    "script_main",
]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_CONFIG = 2

_COMMANDS = ("run", "check", "events", "init", "schema", "widget", "sandbox")

# How the CLI names itself in its help and hints: the console script, or the module.
COMMAND = "crisp-plugin"
MODULE_COMMAND = "python -m crisp_plugin"


def build_parser(with_sandbox: bool = False, prog: str = MODULE_COMMAND) -> argparse.ArgumentParser:
    """The argument parser; the sandbox's own options load only when asked for."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Run, check and scaffold Crisp plugins written with crisp_plugin.",
        epilog="Exit codes: 0 ok, 2 configuration error, 1 runtime failure.",
    )
    from crisp_plugin import __version__

    parser.add_argument("--version", action="version", version=f"crisp-plugin {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    run = sub.add_parser(
        "run",
        help="run a plugin until SIGINT/SIGTERM",
        description="Load CONFIG, start the plugin and its transports, run until "
        "SIGINT/SIGTERM, then drain in-flight handlers and exit.",
    )
    run.add_argument("config", metavar="CONFIG", help="path to plugin.toml")
    run.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    run.add_argument("--log-format", choices=["auto", "console", "json"])

    check = sub.add_parser(
        "check",
        help="validate a plugin.toml, import the plugin, test the token",
        description="Validate CONFIG, import the plugin class, list its handlers and the "
        "events it subscribes to, and (with credentials, unless --offline) check the "
        "token against the API.",
    )
    check.add_argument("config", metavar="CONFIG", help="path to plugin.toml")
    check.add_argument("--offline", action="store_true", help="do not contact the API")

    events = sub.add_parser(
        "events",
        help="list the Crisp event catalogue",
        description="List Crisp's real-time events: name, group, and the typed model.",
    )
    events.add_argument("--tier", choices=["plugin", "website", "user"], default=None)
    events.add_argument("--group", help="only this group, e.g. message")

    init = sub.add_parser(
        "init",
        help="create a new plugin folder",
        description="Create folder NAME with a plugin module, a plugin.toml running it on "
        "the embedded sandbox, and a passing test.",
    )
    init.add_argument("name", metavar="NAME", help="plugin name, e.g. echo-bot")
    init.add_argument("--directory", "-d", help="folder to create (default: NAME)")

    schema = sub.add_parser(
        "schema",
        help="print a marketplace plugin's settings JSON Schema",
        description="Print the JSON Schema of the per-website settings model of the "
        "plugin CONFIG runs (with its Marketplace $id), to paste in the plugin's "
        "Marketplace settings; the Settings and Action URLs go to stderr.",
    )
    schema.add_argument("config", metavar="CONFIG", help="path to plugin.toml")

    widget = sub.add_parser(
        "widget",
        help="print a marketplace plugin's Generic widget schema",
        description="Print the Generic widget schema built from the @widget.button and "
        "@widget.data handlers of the plugin CONFIG runs.",
    )
    widget.add_argument("config", metavar="CONFIG", help="path to plugin.toml")

    sandbox_cli = _sandbox_cli() if with_sandbox else None
    if sandbox_cli is not None:
        sandbox_cli.add_parser(sub)
    else:
        stub = sub.add_parser(
            "sandbox",
            help="run the local Crisp sandbox (see: sandbox --help)",
            add_help=False,
        )
        stub.add_argument("sandbox_args", nargs=argparse.REMAINDER)
    return parser


def main(argv: Sequence[str] | None = None, prog: str = MODULE_COMMAND) -> int:
    """Entry point; returns the exit code. ``prog``: the command as the user typed it."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in args_list if not a.startswith("-")), None)
    if command == "sandbox" and _sandbox_cli() is None:
        print("sandbox: the sandbox command is not available in this build", file=sys.stderr)
        return EXIT_FAILURE
    parser = build_parser(with_sandbox=command == "sandbox", prog=prog)
    args = parser.parse_args(args_list)
    if args.command == "run":
        return cmd_run(args.config, args.log_level, args.log_format)
    if args.command == "check":
        return cmd_check(args.config, offline=args.offline)
    if args.command == "events":
        return cmd_events(args.tier, args.group)
    if args.command == "init":
        return cmd_init(args.name, args.directory, command=prog)
    if args.command in ("schema", "widget"):
        return cmd_marketplace(args.command, args.config)
    sandbox_cli = _sandbox_cli()
    if sandbox_cli is None:
        print("sandbox: the sandbox command is not available in this build", file=sys.stderr)
        return EXIT_FAILURE
    code = sandbox_cli.main(args)
    return EXIT_OK if code is None else int(code)


def run_main(argv: Sequence[str] | None = None, prog: str = MODULE_COMMAND) -> int:
    """``main`` for a process: output that went to a closed pipe (``run ... | head -1``)
    does not turn a clean exit into a traceback or a failure code."""
    try:
        code = main(argv, prog)
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        code = EXIT_OK
    except KeyboardInterrupt:
        return EXIT_OK
    _mute_broken_outputs()
    return code


def script_main() -> int:
    """The ``crisp-plugin`` console script (``[project.scripts]``): ``run_main`` under
    that name."""
    return run_main(prog=COMMAND)


def _mute_broken_outputs() -> None:
    """Point stdout/stderr at /dev/null when their reader is gone, so the interpreter's
    final flush has nowhere to fail."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            with contextlib.suppress(OSError, ValueError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, stream.fileno())
                os.close(devnull)


def _sandbox_cli() -> Any:
    """``crisp_plugin.sandbox.cli``, imported only for the sandbox command."""
    try:
        return importlib.import_module("crisp_plugin.sandbox.cli")
    except ModuleNotFoundError as exc:
        if exc.name != "crisp_plugin.sandbox.cli":
            raise
        return None


# --------------------------------------------------------------------------- helpers


def _problems(path: str, problems: list[str], err: TextIO | None = None) -> int:
    err = err or sys.stderr
    count = len(problems)
    print(f"{path}: {count} problem{'s' if count != 1 else ''}", file=err)
    for line in problems:
        print(f"  {line}", file=err)
    return EXIT_CONFIG


def _load(path: str) -> tuple[Config, type[Plugin]]:
    """Config and plugin class; ``ConfigError`` with every problem found."""
    from crisp_plugin.plugin import load_plugin_class
    from crisp_plugin.plugin_settings import validate_settings

    folder = Path(path).resolve().parent
    try:
        settings = load_config(path)
    except ConfigError as exc:
        # Report a bad plugin class along with the file's other problems.
        class_path = _raw_class(path)
        if class_path and ":" in class_path and not any("plugin.class" in p for p in exc.problems):
            try:
                load_plugin_class(class_path, search=[Path.cwd(), folder])
            except ConfigError as more:
                raise ConfigError([*exc.problems, *more.problems]) from None
        raise
    assert settings.plugin.class_ is not None
    cls = load_plugin_class(settings.plugin.class_, search=[Path.cwd(), folder])
    # [settings] against the plugin's model now, before anything starts or prints
    validate_settings(cls.settings_model, settings.settings)
    return settings, cls


def _raw_class(path: str) -> str | None:
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None  # load_config has said what is wrong with the file
    value = raw.get("plugin", {}).get("class") if isinstance(raw.get("plugin"), dict) else None
    return value if isinstance(value, str) else None


# -------------------------------------------------------------------------- commands


def cmd_run(path: str, level: str | None = None, fmt: str | None = None) -> int:
    """``run CONFIG``."""
    try:
        settings, cls = _load(path)
    except ConfigError as exc:
        return _problems(path, exc.problems)
    if level or fmt:
        log = settings.log.model_copy(
            update={k: v for k, v in (("level", level), ("format", fmt)) if v}
        )
        settings = settings.model_copy(update={"log": log})
    from crisp_plugin.config import configure_logging_for

    configure_logging_for(settings)
    from crisp_plugin.serve import serve_process

    try:
        return serve_process(settings, cls)
    except KeyboardInterrupt:
        return EXIT_OK
    except ConfigError as exc:
        return _problems(path, exc.problems)
    except CrispError as exc:
        print(f"crisp_plugin: {exc}", file=sys.stderr)
        return EXIT_FAILURE


def cmd_check(path: str, *, offline: bool = False, out: TextIO | None = None) -> int:
    """``check CONFIG``."""
    out = out or sys.stdout
    try:
        settings, cls = _load(path)
    except ConfigError as exc:
        return _problems(path, exc.problems)
    try:
        # check touches no state: a Redis store is not opened for it (Redis is tested below)
        plugin = cls(settings, state=_memory_state() if settings.state.backend == "redis" else None)
    except ConfigError as exc:  # [settings] that do not fit the plugin's model
        return _problems(path, exc.problems)
    except sqlite3.Error as exc:
        return _problems(path, [f'state.path = "{settings.state.path}": SQLite says {exc}'])
    except Exception as exc:
        print(f"{path}: 1 problem", file=sys.stderr)
        print(f"  plugin.class: {cls.__name__}(settings) failed: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    tier = settings.crisp.tier
    print(f"{path}: valid", file=out)
    print(f"plugin: {settings.plugin.class_} (urn {settings.plugin.urn})", file=out)
    print(f"handlers ({len(plugin.handlers)}):", file=out)
    for handler in plugin.handlers:
        filters = handler.filters.describe()
        where = f"  [{handler.router}]" if handler.router else ""
        line = f"  {handler.name}  on {handler.pattern}  {filters}".rstrip()
        print(line + where, file=out)
    subscribed = plugin.subscribed_events(tier)
    print(f"events ({tier} tier, {len(subscribed)}): {', '.join(subscribed) or '-'}", file=out)
    print(f"transport: {settings.events.transport}", file=out)
    from crisp_plugin.backfill.setup import backfill_line

    print(backfill_line(settings), file=out)
    _describe_marketplace(settings, cls, out)
    code = EXIT_OK
    if settings.sandbox.enabled:
        print("token: not checked (the embedded sandbox provides it)", file=out)
    elif offline:
        print("token: not checked (--offline)", file=out)
    else:
        code = asyncio.run(_check_token(settings, out))
    if code == EXIT_OK and _wants_redis(settings):
        if offline:
            print("redis: not checked (--offline)", file=out)
        else:
            code = asyncio.run(_check_redis(settings, out))
    return code


def _memory_state() -> Any:
    from crisp_plugin.state import MemoryState

    return MemoryState()


def _wants_redis(settings: Config) -> bool:
    from crisp_plugin.redis_client import wants_redis

    return bool(wants_redis(settings))


async def _check_redis(settings: Config, out: TextIO) -> int:
    """PING ``[redis]`` as ``run`` would at start-up: one line either way."""
    from crisp_plugin.redis_client import open_redis

    try:
        link = await open_redis(settings)
    except CrispError as exc:
        print(f"redis: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    await link.close()
    print(f"redis: answers at {link.url} (keys under {link.prefix})", file=out)
    return EXIT_OK


async def _check_token(settings: Config, out: TextIO) -> int:
    from crisp_plugin.backfill.setup import probe_backfill
    from crisp_plugin.rest import RestClient

    # one HEAD to test the token: the shared limits (on Redis) are not needed for it
    crisp = settings.crisp.model_copy(update={"limits_backend": "memory"})
    try:
        async with RestClient.from_settings(settings.model_copy(update={"crisp": crisp})) as rest:
            valid = await rest.check_session()
            cannot = await probe_backfill(settings, rest) if valid else None
    except CrispError as exc:
        print(f"token: could not reach {settings.crisp.api_url}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    if not valid:
        print("1 problem", file=sys.stderr)
        print(
            f"  crisp.key: {settings.crisp.api_url} refused the token (tier "
            f"{settings.crisp.tier}): check crisp.identifier, crisp.key and crisp.tier",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    print(f"token: valid ({settings.crisp.api_url})", file=out)
    if cannot is not None:
        print(cannot, file=out)
    return EXIT_OK


def _describe_marketplace(settings: Config, cls: type[Plugin[Any]], out: TextIO) -> None:
    """For a marketplace plugin: its per-website model, widget items and page URLs."""
    from crisp_plugin.marketplace import Marketplace

    if not issubclass(cls, Marketplace):
        return
    model = cls.website_settings_model
    fields = f"{model.__name__} ({len(model.model_fields)} fields)" if model else "none"
    items = ", ".join(cls.widget_items_) or "none"
    print(f"marketplace: website settings {fields}; widget items: {items}", file=out)
    market = settings.marketplace
    if settings.events.transport == "rtm":
        served = f"http://{market.host}:{market.port}"
    else:
        served = f"the hook server (http://{settings.webhooks.host}:{settings.webhooks.port})"
    public = market.public_url.rstrip("/") if market.public_url else None
    pages = [market.settings_path] + ([market.action_path] if cls.widget_items_ else [])
    shown = ", ".join(f"{public}{p}" if public else p for p in pages)
    print(f"  pages: {shown} (served on {served})", file=out)
    if settings.crisp.tier != "plugin":
        print(
            f"  warning: crisp.tier = {settings.crisp.tier!r}: listing installed websites "
            'needs a plugin token (tier = "plugin")',
            file=out,
        )


def cmd_marketplace(what: str, path: str, out: TextIO | None = None) -> int:
    """``schema CONFIG`` / ``widget CONFIG``: what to paste in the Marketplace."""
    out = out or sys.stdout
    try:
        settings, cls = _load(path)
    except ConfigError as exc:
        return _problems(path, exc.problems)
    from crisp_plugin.marketplace import Marketplace, settings_schema, widget_schema

    if not issubclass(cls, Marketplace):
        print(
            f"{path}: {cls.__name__} is not a marketplace plugin: mix in "
            "crisp_plugin.marketplace.Marketplace[YourSettingsModel]",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    if what == "widget":
        if not cls.widget_items_:
            print(f"{path}: {cls.__name__} declares no @widget handler", file=sys.stderr)
            return EXIT_CONFIG
        document = widget_schema(cls.widget_items_, cls.widget_sections)
    else:
        model = cls.website_settings_model
        if model is None:
            print(
                f"{path}: {cls.__name__} declares no website settings model: "
                "Marketplace[YourSettingsModel]",
                file=sys.stderr,
            )
            return EXIT_CONFIG
        document = settings_schema(model, settings.plugin.urn)
        market = settings.marketplace
        base = (market.public_url or "https://<your plugin's public host>").rstrip("/")
        print(f"Settings URL: {base}{market.settings_path}", file=sys.stderr)
        if cls.widget_items_:
            print(f"Action URL:   {base}{market.action_path}", file=sys.stderr)
    print(json.dumps(document, indent=2, ensure_ascii=False), file=out)
    return EXIT_OK


def cmd_events(tier: str | None, group: str | None, out: TextIO | None = None) -> int:
    """``events``: name, group, typed model, one per line."""
    from crisp_plugin.events.catalogue import EVENTS, GROUPS, events_for_tier
    from crisp_plugin.events.parse import model_for

    out = out or sys.stdout
    if group is not None and group not in GROUPS:
        close = difflib.get_close_matches(group.lower(), sorted(GROUPS), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        print(
            f"events: --group {group!r} is not a group: {hint}(groups: "
            f"{', '.join(sorted(GROUPS))})",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    names = events_for_tier(tier) if tier else list(EVENTS)
    rows = [(n, EVENTS[n], model_for(n).__name__) for n in names if not group or EVENTS[n] == group]
    width = max((len(n) for n, _, _ in rows), default=10)
    for name, grp, model in rows:
        print(f"{name:<{width}}  {grp:<9}  {model}", file=out)
    print(f"{len(rows)} events", file=out)
    return EXIT_OK


def cmd_init(
    name: str, directory: str | None, out: TextIO | None = None, command: str = MODULE_COMMAND
) -> int:
    """``init NAME``: scaffold a plugin folder."""
    from crisp_plugin.scaffold import names_for, scaffold

    out = out or sys.stdout
    try:
        names_for(name)
        files = scaffold(name, directory)
    except (ValueError, FileExistsError) as exc:
        print(f"init: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    folder = files[0].parent
    print(f"created {folder}/", file=out)
    for path in files:
        print(f"  {path.name}", file=out)
    print(f"next: cd {shlex.quote(str(folder))} && {command} run plugin.toml", file=out)
    print("      (and `python -m pytest` to run its test)", file=out)
    return EXIT_OK
