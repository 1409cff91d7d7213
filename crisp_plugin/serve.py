"""``python -m crisp_plugin run``: a runner that owns its process.

What only the owner of a process may do lives here, not in the runner: the event loop
(``[runtime] event_loop``, :func:`serve_process`), SIGINT and SIGTERM (the first stops
the plugin, a second skips the rest of the drain), the exit code, the garbage-collector
tuning (``[runtime] gc_tuning``) and the embedded sandbox (``[sandbox] enabled``).

Exit codes: 0 after a clean stop, 2 for a configuration problem found while starting
(an unopenable ``state.path``, ``[settings]`` that do not fit the plugin's model), 1
when the plugin could not start or failed while running (a refused token, a port in
use), with one line on stderr saying why, and nothing misleading before it.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from contextlib import AsyncExitStack
from typing import Any, TextIO

import structlog

from crisp_plugin import gc_tuning
from crisp_plugin.config import Config
from crisp_plugin.errors import ConfigError, CrispError
from crisp_plugin.event_loop import loop_factory
from crisp_plugin.plugin import Plugin
from crisp_plugin.runner import Runner

__all__ = ["EXIT_CONFIG", "EXIT_FAILURE", "EXIT_OK", "serve", "serve_process"]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_CONFIG = 2

log = structlog.get_logger("crisp_plugin.runner")


def serve_process(settings: Config, plugin_class: type[Plugin[Any]] | None = None) -> int:
    """:func:`serve` on a loop of this process's own, the one ``[runtime] event_loop``
    names; return the exit code. ``ConfigError`` when that loop is not installed."""
    try:
        factory = loop_factory(settings.runtime.event_loop)
    except ValueError as exc:
        raise ConfigError([str(exc)]) from None
    with asyncio.Runner(loop_factory=factory) as process:
        return process.run(serve(settings, plugin_class))


async def serve(
    settings: Config,
    plugin_class: type[Plugin[Any]] | None = None,
    out: TextIO | None = None,
    *,
    stop: asyncio.Event | None = None,
    ready: asyncio.Event | None = None,
) -> int:
    """Run until SIGINT/SIGTERM (or ``stop`` is set) or a fatal error; return the
    process exit code. ``ready`` is set once everything started."""

    def say(line: str) -> None:
        """One line for the operator; a closed output (broken pipe) is ignored."""
        with contextlib.suppress(OSError, ValueError):
            print(line, file=out or sys.stderr, flush=True)

    loop = asyncio.get_running_loop()
    stop = stop if stop is not None else asyncio.Event()
    runner: Runner | None = None

    def on_signal(signum: int) -> None:
        # Stop first, log after: logging must never be what keeps a signal from
        # stopping the plugin (a closed output pipe makes every write fail).
        if stop.is_set():
            if runner is not None:
                runner.hurry()
            return
        stop.set()
        with contextlib.suppress(Exception):
            log.info("signal received: stopping", signal=signal.Signals(signum).name)

    installed: list[signal.Signals] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, on_signal, signum)
            installed.append(signum)
    try:
        async with AsyncExitStack() as stack:
            sandbox = None
            try:
                if settings.sandbox.enabled:
                    from crisp_plugin.embedded_sandbox import embedded_sandbox, with_sandbox

                    sandbox = await stack.enter_async_context(embedded_sandbox(settings, say))
                    settings = with_sandbox(settings, sandbox)
                runner = Runner(settings, plugin_class=plugin_class)
                await runner.start()
            except ConfigError as exc:
                problems = "; ".join(" ".join(p.split()) for p in exc.problems)
                say(f"crisp_plugin: {problems}")
                return EXIT_CONFIG
            except (CrispError, OSError) as exc:
                say(_fail_line(exc))
                return EXIT_FAILURE
            stack.push_async_callback(runner.stop)
            if sandbox is not None:
                from crisp_plugin.embedded_sandbox import register_hooks

                await register_hooks(sandbox, runner, say)
            tuned = settings.runtime.gc_tuning
            if tuned:
                gc_tuning.tune()
                stack.callback(gc_tuning.restore)
            if ready is not None:
                ready.set()
            return await _until_stopped(runner, stop, say)
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


async def _until_stopped(runner: Runner, stop: asyncio.Event, say: Any) -> int:
    waiters: list[asyncio.Future[Any]] = [
        asyncio.ensure_future(stop.wait()),
        asyncio.ensure_future(runner.wait_failed()),
    ]
    try:
        done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
    failed = waiters[1]
    if failed in done and not failed.cancelled() and failed.exception() is None:
        await runner.stop()
        say(_fail_line(failed.result()))
        return EXIT_FAILURE
    await runner.stop()
    return EXIT_OK


def _fail_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"crisp_plugin: {type(exc).__name__}: {text}"
