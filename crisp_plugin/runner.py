"""The runner: builds every part from the settings, starts them, and stops them well.

Start order: the embedded sandbox (when ``[sandbox] enabled``; its URL, token, hook
secret and plugin id then replace the ones in the settings) -> the REST client -> the
plugin (``on_startup``) -> the transports (web hooks first, so a hook URL answers
before the relay starts pushing; with the sandbox, the hook URL is registered with it).

With ``[metrics] enabled``, ``/healthz`` and ``/metrics`` get a port of their own,
started before the transports and closed after the drain (so a probe sees
``draining``).

Stop order: the transports stop taking events (the RTM socket closes, hooks answer
503 so Crisp retries them later) -> in-flight handlers drain up to
``dispatch.drain_timeout`` -> the hook server closes -> ``on_shutdown`` -> the REST
client closes -> the sandbox closes. Nothing accepted is dropped silently.

:meth:`Runner.run_forever` is what ``python -m crisp_plugin run`` calls: it handles
SIGINT and SIGTERM (a second signal skips the rest of the drain) and returns the exit
code: 0 after a clean stop, 2 for a configuration problem found while starting (an
unopenable ``state.path``), 1 when the plugin could not start or failed while running
(a refused token, say), with one line on stderr saying why. The token is checked at
start-up for every transport (``HEAD /v1/plugin/connect/session``, plugin tier).

While running, the garbage collector is tuned for serving (:mod:`crisp_plugin.gc_tuning`:
start-up objects frozen, a larger young generation); ``stop`` restores it.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

import structlog

from crisp_plugin import gc_tuning
from crisp_plugin.config import Settings
from crisp_plugin.errors import ConfigError, CrispError
from crisp_plugin.metrics import Metrics
from crisp_plugin.transports.endpoints import discover_endpoints
from crisp_plugin.transports.http_extras import StatusServer, health_routes
from crisp_plugin.transports.webhook import WebhookServer

if TYPE_CHECKING:
    from crisp_plugin.dispatch import Dispatcher
    from crisp_plugin.plugin import Plugin
    from crisp_plugin.rest import RestClient
    from crisp_plugin.sandbox import Sandbox
    from crisp_plugin.transports.rtm import RtmTransport

__all__ = ["EXIT_CONFIG", "Runner"]

EXIT_CONFIG = 2  # as the CLI's exit code for a configuration problem

log = structlog.get_logger("crisp_plugin.runner")


class Runner:
    """One running plugin: sandbox (optional), REST client, plugin, dispatcher, transports."""

    def __init__(
        self,
        settings: Settings,
        *,
        plugin_class: type[Plugin] | None = None,
        out: TextIO | None = None,
    ) -> None:
        self.settings = settings
        self._plugin_class = plugin_class
        self._out = out
        self.metrics = Metrics()
        self.sandbox: Sandbox | None = None
        self.rest: RestClient | None = None
        self.plugin: Plugin | None = None
        self.dispatcher: Dispatcher | None = None
        self.rtm: RtmTransport | None = None
        self.webhooks: WebhookServer | None = None
        self.status_server: StatusServer | None = None
        self.state = "stopped"
        self._started_plugin = False
        self._force = asyncio.Event()
        self._watch: asyncio.Task[None] | None = None
        self._gc_tuned = False

    def __repr__(self) -> str:
        return f"<Runner state={self.state} transport={self.settings.events.transport}>"

    # -- start ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start every part; on failure, stop what was started and raise."""
        self.state = "starting"
        _register_secrets(self.settings)
        try:
            await self._start_sandbox()
            await self._start_rest()
            self._build_plugin()
            assert self.plugin is not None
            await self.plugin.on_startup()
            self._started_plugin = True
            await self._start_transports()
        except BaseException:
            await self.stop()
            self.state = "failed"
            raise
        self.state = "running"
        gc_tuning.tune()
        self._gc_tuned = True
        log.info(
            "plugin running",
            plugin=type(self.plugin).__name__,
            transport=self.settings.events.transport,
        )

    async def _start_sandbox(self) -> None:
        if not self.settings.sandbox.enabled:
            return
        from crisp_plugin.sandbox import Sandbox

        s = self.settings
        key = s.crisp.key.get_secret_value()
        secret = s.webhooks.secret.get_secret_value() if s.webhooks.secret else None
        sandbox = Sandbox(
            host=s.sandbox.host,
            port=s.sandbox.port,
            identifier=s.crisp.identifier or None,
            key=key or None,
            secret=secret,
            plugin_id=s.crisp.plugin_id,
            urn=s.plugin.urn,
            websites=list(s.sandbox.websites) or None,
        )
        self.sandbox = sandbox
        try:
            await sandbox.start()
        except OSError as exc:
            raise CrispError(_listen_error("sandbox", s.sandbox.host, s.sandbox.port, exc)) from exc
        self.settings = _with_sandbox(s, sandbox)
        _register_secrets(self.settings)  # the generated key and hook secret
        self._print(f"Sandbox: Crisp API and RTM relay at {sandbox.url}")
        if s.sandbox.chat_page:
            self._print(f"Sandbox: chat as a visitor at {sandbox.chat_url}")

    async def _start_rest(self) -> None:
        from crisp_plugin.rest import RestClient

        rest = RestClient.from_settings(self.settings)
        await rest.__aenter__()
        self.rest = rest
        await self._check_token(rest)

    async def _check_token(self, rest: RestClient) -> None:
        """Refuse to start on a token Crisp refuses, whatever the transport: a hooks-only
        plugin would otherwise run deaf to its own failures (every reply a 401).

        Only the plugin tier has the check route (``HEAD /v1/plugin/connect/session``).
        When Crisp cannot be reached the plugin starts anyway (a warning says so): hooks
        may still arrive, and REST calls retry on their own."""
        if self.settings.crisp.tier != "plugin":
            return
        try:
            valid = await rest.check_session()
        except CrispError as exc:
            log.warning("could not check the token at start-up", error=str(exc))
            return
        if not valid:
            raise CrispError(
                "Crisp refused the plugin token at start-up (HEAD /v1/plugin/connect/session "
                "answered 401): check crisp.identifier and crisp.key"
            )

    def _build_plugin(self) -> None:
        from crisp_plugin.dispatch import Dispatcher

        cls = self._plugin_class
        if cls is None:
            from crisp_plugin.plugin import load_plugin_class

            if not self.settings.plugin.class_:
                raise CrispError('plugin.class is missing: write e.g. class = "my_bot:MyBot"')
            cls = load_plugin_class(self.settings.plugin.class_)
        from crisp_plugin.state import create_state

        try:
            state = create_state(self.settings.state)
        except sqlite3.Error as exc:  # the file exists but is no database, or is locked
            problem = f'state.path = "{self.settings.state.path}": SQLite says {exc}'
            raise ConfigError([problem]) from None
        self.plugin = cls(self.settings, rest=self.rest, state=state)
        self.dispatcher = Dispatcher(self.plugin, self.settings.dispatch)
        self._wire_metrics()

    def _wire_metrics(self) -> None:
        d = self.dispatcher
        m = self.metrics
        m.stats_source = lambda: getattr(d, "stats", {})
        m.in_flight_source = lambda: int(getattr(d, "in_flight", 0))
        m.transports_source = self.transport_states
        # Optional hook points: used when the dispatcher / REST client offer them.
        for obj, names, callback in (
            (d, ("add_handler_listener", "add_timing_listener"), m.observe_handler),
            (self.rest, ("add_response_listener", "add_request_listener"), m.observe_rest),
        ):
            for name in names:
                add = getattr(obj, name, None)
                if callable(add):
                    add(callback)
                    break

    async def _start_transports(self) -> None:
        s = self.settings
        assert self.dispatcher is not None and self.plugin is not None
        transport = s.events.transport
        if s.metrics.enabled:
            status = StatusServer(
                self.health, self.metrics, host=s.metrics.host, port=s.metrics.port
            )
            try:
                await status.start()
            except OSError as exc:
                raise CrispError(
                    _listen_error("metrics", s.metrics.host, s.metrics.port, exc)
                ) from exc
            self.status_server = status
            log.info("health and metrics listening", url=status.url)
        if transport in ("webhooks", "both"):
            self.webhooks = WebhookServer.from_settings(
                self.dispatcher,
                s.webhooks,
                extra_routes=health_routes(self.health, self.metrics),
                on_answer=self.metrics.observe_hook,
            )
            try:
                await self.webhooks.start()
            except OSError as exc:
                raise CrispError(
                    _listen_error("webhooks", s.webhooks.host, s.webhooks.port, exc)
                ) from exc
            if self.sandbox is not None:
                await self.sandbox.control.add_hook(self.webhooks.url)
                self._print(f"Web hooks: {self.webhooks.url} (registered with the sandbox)")
        if transport in ("rtm", "both"):
            from crisp_plugin.transports.rtm import RtmTransport  # python-socketio: on use

            rest = self.rest
            plugin = self.plugin
            tier = s.crisp.tier

            async def discover() -> list[str]:
                assert rest is not None
                return await discover_endpoints(rest, tier)

            self.rtm = RtmTransport(
                self.dispatcher,
                identifier=s.crisp.identifier,
                key=s.crisp.key.get_secret_value(),
                tier=tier,
                events=lambda: plugin.subscribed_events(tier),
                discover=discover,
                url=s.rtm.url,
                rooms=s.rtm.rooms,
                inboxes=s.rtm.inboxes,
                auth_timeout=s.rtm.auth_timeout,
                reconnect_delay=s.rtm.reconnect_delay,
                reconnect_max=s.rtm.reconnect_max,
            )
            await self.rtm.start()
            self._watch = asyncio.create_task(self._watch_handlers(), name="crisp-handler-watch")

    # -- running -------------------------------------------------------------------

    def transport_states(self) -> dict[str, str]:
        """``{transport name: state}`` for the transports in use."""
        out: dict[str, str] = {}
        if self.rtm is not None:
            out["rtm"] = self.rtm.state
        if self.webhooks is not None:
            out["webhooks"] = self.webhooks.state
        return out

    def health(self) -> dict[str, Any]:
        """What ``/healthz`` answers."""
        states = self.transport_states()
        if self.state in ("stopping", "stopped", "failed"):
            status = "draining" if self.state == "stopping" else self.state
        elif all(v in ("connected", "listening") for v in states.values()):
            status = "ok"
        else:
            status = "degraded"
        return {
            "status": status,
            "transports": states,
            "in_flight": int(getattr(self.dispatcher, "in_flight", 0)),
        }

    async def _watch_handlers(self, every: float = 1.0) -> None:
        """Follow handlers added at run time (``plugin.on``): push their events to RTM."""
        plugin = self.plugin
        assert plugin is not None
        seen = plugin.version
        while True:
            await asyncio.sleep(every)
            if plugin.version != seen:
                seen = plugin.version
                try:
                    await self.update_events()
                except Exception as exc:
                    log.warning("rtm event update failed", error=str(exc))

    async def update_events(self) -> tuple[list[str], list[str]]:
        """After handlers changed at run time: subscribe the live socket to the new set."""
        if self.rtm is None:
            return [], []
        return await self.rtm.update_events()

    # -- stop ----------------------------------------------------------------------

    async def stop(self) -> None:
        """Stop taking events, drain, close everything. Safe to call twice."""
        if self.state in ("stopped", "stopping", "failed"):
            return
        self.state = "stopping"
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
            self._watch = None
        if self.webhooks is not None:
            await self.webhooks.pause()
        if self.rtm is not None:
            await _quietly("rtm stop", self.rtm.stop())
        if self.dispatcher is not None:
            await self._drain(self.dispatcher)
        if self.webhooks is not None:
            await _quietly("webhooks stop", self.webhooks.stop())
        if self.status_server is not None:
            await _quietly("metrics stop", self.status_server.stop())
            self.status_server = None
        if self.plugin is not None and self._started_plugin:
            self._started_plugin = False
            await _quietly("on_shutdown", self.plugin.on_shutdown())
        if self.plugin is not None:
            await _quietly("state close", self.plugin.state.close())
        if self.rest is not None:
            await _quietly("rest close", self.rest.close())
        if self.sandbox is not None:
            await _quietly("sandbox close", self.sandbox.stop())
            self.sandbox = None
        self.state = "stopped"
        if self._gc_tuned:
            self._gc_tuned = False
            gc_tuning.restore()
        log.info("plugin stopped")

    async def _drain(self, dispatcher: Dispatcher) -> None:
        deadline = self.settings.dispatch.drain_timeout
        started = time.monotonic()
        in_flight = int(getattr(dispatcher, "in_flight", 0))
        if in_flight:
            log.info("draining", in_flight=in_flight, deadline_s=deadline)
        drain = asyncio.ensure_future(dispatcher.drain(deadline))
        force = asyncio.ensure_future(self._force.wait())
        try:
            await asyncio.wait({drain, force}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            force.cancel()
        if not drain.done():
            log.warning("second signal: not waiting for the handlers still running")
            drain.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            try:
                await drain
            except Exception:
                log.exception("drain failed")
        left = int(getattr(dispatcher, "in_flight", 0))
        if in_flight or left:
            log.info("drained", seconds=round(time.monotonic() - started, 3), left=left)

    # -- the whole life ------------------------------------------------------------

    async def run_forever(self) -> int:
        """Run until SIGINT/SIGTERM or a fatal error; return the process exit code."""
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()

        def on_signal(signum: int) -> None:
            # Stop first, log after: logging must never be what keeps a signal from
            # stopping the plugin (a closed output pipe makes every write fail).
            if stop.is_set():
                self._force.set()
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
            try:
                await self.start()
            except ConfigError as exc:
                problems = "; ".join(" ".join(p.split()) for p in exc.problems)
                self._print(f"crisp_plugin: {problems}")
                return EXIT_CONFIG
            except (CrispError, OSError) as exc:
                self._fail_line(exc)
                return 1
            waiters: list[asyncio.Future[Any]] = [asyncio.ensure_future(stop.wait())]
            if self.rtm is not None:
                waiters.append(asyncio.ensure_future(self.rtm.wait_failed()))
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waiters:
                    w.cancel()
            failure = self.rtm.error if self.rtm is not None else None
            await self.stop()
            if failure is not None:
                self._fail_line(failure)
                return 1
            return 0
        finally:
            for signum in installed:
                loop.remove_signal_handler(signum)

    def _fail_line(self, exc: BaseException) -> None:
        text = " ".join(str(exc).split()) or type(exc).__name__
        self._print(f"crisp_plugin: {type(exc).__name__}: {text}")

    def _print(self, line: str) -> None:
        """One line for the operator; a closed output (broken pipe) is ignored."""
        with contextlib.suppress(OSError, ValueError):
            print(line, file=self._out or sys.stderr, flush=True)


def _register_secrets(settings: Settings) -> None:
    """Have the log redactor hide the token (and its Basic form) and hook secrets."""
    from crisp_plugin.log import register_credentials, register_secret

    register_credentials(settings.crisp.identifier, settings.crisp.key)
    for secret in settings.secrets():
        register_secret(secret)


def _with_sandbox(settings: Settings, sandbox: Sandbox) -> Settings:
    """The settings with the sandbox's URL, token, hook secret and plugin id."""
    from pydantic import SecretStr

    crisp = settings.crisp.model_copy(
        update={
            "identifier": sandbox.identifier,
            "key": SecretStr(sandbox.key),
            "api_url": sandbox.url,
            "plugin_id": sandbox.plugin_id,
            "allow_insecure_http": True,
        }
    )
    hooks = settings.webhooks.model_copy(update={"secret": SecretStr(sandbox.secret)})
    return settings.model_copy(update={"crisp": crisp, "webhooks": hooks})


def _listen_error(section: str, host: str, port: int, exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    return (
        f"cannot listen on {host}:{port} ({section}.host / {section}.port): {reason}; "
        "choose another port"
    )


async def _quietly(what: str, step: Any) -> None:
    """Await one shutdown step; log a failure and go on with the next step."""
    try:
        await step
    except Exception:
        log.exception("shutdown step failed", step=what)
