"""Test your plugin against a local Crisp: a pytest plugin with four fixtures.

Installed with the package (entry point ``pytest11``), so in any project that has
``crisp_plugin`` and pytest-asyncio these fixtures are simply there::

    from crisp_plugin.testing import PluginRunner, Visitor
    from mybot import MyBot

    async def test_greets_back(run_plugin: PluginRunner, visitor: Visitor) -> None:
        async with run_plugin(MyBot):              # transport="rtm" | "webhooks" | "both"
            await visitor.say("hello")
            reply = await visitor.expect_reply(match="How can I help", timeout=5)
            assert reply.from_ == "operator"
            await visitor.expect_no_reply()        # and nothing more, once all is settled

- ``sandbox``: a running :class:`~crisp_plugin.sandbox.Sandbox` on a free loopback
  port, with one website that has the plugin installed.
- ``run_plugin``: ``run_plugin(PluginClass, transport=..., settings={...},
  config="plugin.toml")`` is an async context manager that runs the plugin class
  against that sandbox through the real runner (REST client, dispatcher, RTM
  socket and/or signed Web Hooks) and yields the plugin instance. ``settings`` is
  the plugin's own ``[settings]`` table (merged over the file's), ``state`` its
  ``[state]`` (e.g. ``{"backend": "sqlite", "path": ...}``), ``inbox`` its ``[inbox]``,
  ``webhooks`` keys of its ``[webhooks]`` (``{"ack": "handled"}``); ``config`` reads a
  plugin.toml for its ``[plugin]``, ``[settings]``, ``[dispatch]``, ``[state]`` and
  ``[log]`` tables (credentials, transports and the sandbox are the test's).
  A handler that raises (or times out) fails the test when the block ends, with the
  exception shown: a crashing handler that only logged would let a wrong test pass.
  ``run_plugin(MyBot, allow_errors=True)`` opts out (the failures are in
  ``run_plugin.failures``).
- ``visitor``: a new conversation on the sandbox's website, played from the
  visitor's side: ``say``, ``expect_reply`` (what the visitor sees: notes are not
  replies), ``expect_no_reply``, ``expect_note``, ``choose`` (a picker), ``answer_field``
  (a field), ``resolve`` (as an operator), ``transcript``.
  More visitors: the ``new_visitor`` fixture, ``await new_visitor()``.
- ``settle()`` (on ``run_plugin`` and each visitor) waits until the sandbox delivered
  every event (hooks answered, relay events received by the plugin) and every running
  plugin's dispatcher is idle, repeated until nothing new happens: ``expect_no_reply``
  uses it instead of sleeping, so a late duplicate cannot slip past.

Everything goes over real sockets; nothing is mocked.
"""

from __future__ import annotations

import asyncio
import re
import tomllib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import urlencode, urlsplit

import pytest

from crisp_plugin.observer import Observer

if TYPE_CHECKING:
    from crisp_plugin.plugin import Plugin
    from crisp_plugin.runner import Runner
    from crisp_plugin.sandbox import Sandbox
    from crisp_plugin.sandbox.control_client import SandboxControl
    from crisp_plugin.transports.rtm import RtmTransport

try:  # pytest-asyncio's decorator works in both its strict and auto modes.
    from pytest_asyncio import fixture as _async_fixture
except ImportError:  # pragma: no cover - pytest-asyncio missing: plain fixtures
    _async_fixture = pytest.fixture  # type: ignore[assignment]

__all__ = [
    "HandlerFailure",
    "NewVisitor",
    "PluginRunner",
    "TranscriptMessage",
    "TransportName",
    "Visitor",
    "new_visitor",
    "run_plugin",
    "sandbox",
    "sandbox_visitor",
    "visitor",
]

TransportName = Literal["rtm", "webhooks", "both"]
NewVisitor = Callable[..., Awaitable["Visitor"]]
Settle = Callable[[], Awaitable[None]]
Match = str | re.Pattern[str] | Callable[["TranscriptMessage"], bool] | None

P = TypeVar("P", bound="Plugin[Any]")

# Sections of a plugin.toml a test keeps; the rest (credentials, transports, the
# embedded sandbox) is set by the runner to point at the test's sandbox.
# The [inbox] is not kept: a test's events must never land in the project's own inbox
# file (a later `run` would replay them); pass inbox= to test a durable one.
_KEPT_SECTIONS = ("plugin", "dispatch", "state", "log", "settings", "marketplace", "redis")


@dataclass(frozen=True)
class TranscriptMessage:
    """One message of a conversation, as the sandbox stored it (the visitor's view)."""

    type: str
    from_: str
    content: Any
    fingerprint: int
    origin: str = ""
    timestamp: int = 0
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TranscriptMessage:
        return cls(
            type=str(data.get("type", "text")),
            from_=str(data.get("from", "")),
            content=data.get("content"),
            fingerprint=int(data.get("fingerprint", 0)),
            origin=str(data.get("origin", "")),
            timestamp=int(data.get("timestamp", 0)),
            raw=dict(data),
        )

    @property
    def text(self) -> str:
        """The text a person reads: the content, or a picker's/field's question."""
        if isinstance(self.content, str):
            return self.content
        if isinstance(self.content, Mapping):
            return str(self.content.get("text") or "")
        return ""

    @property
    def choices(self) -> list[dict[str, Any]]:
        """A picker's choices (empty for other types)."""
        if isinstance(self.content, Mapping):
            return [dict(c) for c in self.content.get("choices") or [] if isinstance(c, Mapping)]
        return []

    def matches(self, match: Match) -> bool:
        if match is None:
            return True
        if callable(match) and not isinstance(match, re.Pattern):
            return bool(match(self))
        return re.search(match, self.text) is not None


class Visitor:
    """A visitor in one sandbox conversation, driven from a test.

    Replies are read in order: each ``expect_reply`` consumes operator messages up to
    and including the one it returns, so the next call waits for a newer one.
    """

    poll_interval = 0.02

    def __init__(
        self,
        control: SandboxControl,
        website_id: str,
        session_id: str,
        settle: Settle | None = None,
    ) -> None:
        self.control = control
        self.website_id = website_id
        self.session_id = session_id
        self._settle = settle
        self._seen: set[int] = set()

    def __repr__(self) -> str:
        return f"Visitor(website_id={self.website_id!r}, session_id={self.session_id!r})"

    async def say(self, text: str) -> int:
        """Send ``text`` as the visitor (Crisp fires ``message:send``); its fingerprint."""
        return await self.control.visitor_says(self.website_id, self.session_id, text)

    async def transcript(self) -> list[TranscriptMessage]:
        """Every message of the conversation, oldest first."""
        raw = await self.control.transcript(self.website_id, self.session_id)
        return [TranscriptMessage.from_json(m) for m in raw]

    async def conversation(self) -> dict[str, Any]:
        """The conversation as the REST API shows it (state, meta, assigned...)."""
        return await self.control.conversation(self.website_id, self.session_id)

    async def replies(self) -> list[TranscriptMessage]:
        """The operator-side messages the visitor sees (the bot's and operators'), oldest
        first; private notes are not among them (see :meth:`notes`)."""
        return [m for m in await self.transcript() if m.from_ == "operator" and m.type != "note"]

    async def notes(self) -> list[TranscriptMessage]:
        """The private notes of the conversation (operators see them, the visitor does
        not), oldest first."""
        return [m for m in await self.transcript() if m.type == "note"]

    async def expect_note(
        self,
        match: Match = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> TranscriptMessage:
        """Wait for a private note (matching ``match``) once the plugin settled."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = [n for n in await self.notes() if n.matches(match)]
            if found:
                return found[-1]
            if loop.time() >= deadline:
                got = ", ".join(repr(n.text) for n in await self.notes()) or "none"
                raise AssertionError(f"expected a note matching {match!r}, notes: {got}")
            await asyncio.sleep(self.poll_interval)

    async def expect_reply(
        self,
        match: Match = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> TranscriptMessage:
        """Wait for the next reply (matching ``match``: regex on its text, or a predicate).

        Raises AssertionError naming what arrived instead when nothing matches in time.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        skipped: list[TranscriptMessage] = []
        while True:
            for message in await self.replies():
                if message.fingerprint in self._seen:
                    continue
                self._seen.add(message.fingerprint)
                if message.matches(match):
                    return message
                skipped.append(message)
            if loop.time() >= deadline:
                got = ", ".join(repr(m.text) for m in skipped) or "nothing"
                want = "a reply" if match is None else f"a reply matching {match!r}"
                raise AssertionError(f"expected {want} within {timeout}s, got {got}")
            await asyncio.sleep(self.poll_interval)

    async def settle(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until everything sent so far was delivered and handled (see the module
        docstring); without a running plugin, until the sandbox's hooks are done."""
        if self._settle is not None:
            await asyncio.wait_for(self._settle(), timeout)

    async def expect_no_reply(self, *, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Assert no new reply came once everything is settled (no fixed wait)."""
        await self.settle(timeout)
        new = [m for m in await self.replies() if m.fingerprint not in self._seen]
        if new:
            texts = ", ".join(repr(m.text) for m in new)
            raise AssertionError(f"expected no reply, got {texts}")

    async def choose(self, choice: str, *, picker: TranscriptMessage | None = None) -> None:
        """Pick a choice (by value or label) of ``picker``, or of the latest picker once
        the plugin settled (so a picker it is still sending is the one chosen from)."""
        if picker is None:
            await self.settle()
            pickers = [m for m in await self.transcript() if m.type == "picker"]
            if not pickers:
                raise AssertionError("no picker in the conversation to choose from")
            picker = pickers[-1]
        values = {str(c.get("value")): str(c.get("value")) for c in picker.choices}
        values.update({str(c.get("label")): str(c.get("value")) for c in picker.choices})
        if choice not in values:
            raise AssertionError(f"{choice!r} is not a choice of the picker: {sorted(values)}")
        await self.control.choose(
            self.website_id, self.session_id, picker.fingerprint, values[choice]
        )

    async def answer_field(
        self, value: str, *, field_message: TranscriptMessage | None = None
    ) -> None:
        """Fill in ``field_message``, or the latest field message once the plugin
        settled, with ``value``."""
        if field_message is None:
            await self.settle()
            fields = [m for m in await self.transcript() if m.type == "field"]
            if not fields:
                raise AssertionError("no field message in the conversation to answer")
            field_message = fields[-1]
        await self.control.answer_field(
            self.website_id, self.session_id, field_message.fingerprint, value
        )

    async def resolve(self) -> None:
        """Mark the conversation resolved, as an operator would (``session:set_state``)."""
        await self.control.resolve(self.website_id, self.session_id)


async def sandbox_visitor(
    sandbox: Sandbox, website_id: str | None = None, settle: Settle | None = None
) -> Visitor:
    """Start a new conversation on ``website_id`` (default: the first website)."""
    website = website_id or sandbox.websites[0]
    session = await sandbox.control.create_conversation(website)
    return Visitor(sandbox.control, website, session, settle)


@dataclass(frozen=True)
class HandlerFailure:
    """A handler (or middleware) that raised or timed out during a test."""

    event: str
    handler: str
    error: BaseException


class _Failures(Observer):
    def __init__(self, into: list[HandlerFailure]) -> None:
        self.into = into

    def handler_failed(self, event: str, handler: str, error: BaseException) -> None:
        self.into.append(HandlerFailure(event, handler, error))


class PluginRunner:
    """Runs plugin classes against one sandbox; what the ``run_plugin`` fixture gives."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.failures: list[HandlerFailure] = []
        self._running: list[Runner] = []

    async def settle(self) -> None:
        """Wait until the sandbox delivered everything and every plugin is idle (a
        recovery after a relay gap finished too)."""
        sandbox = self.sandbox
        while True:
            emitted = sandbox.bus.emitted
            await sandbox.wait_hooks()
            for runner in list(self._running):
                rtm = runner.rtm
                if rtm is not None:
                    await _received_everything(sandbox, rtm)
                if runner.backfill is not None:  # what a relay gap's recovery feeds
                    await runner.backfill.recovery.wait_idle()
                if runner.dispatcher is not None:
                    await runner.dispatcher.wait_idle()
            if sandbox.bus.emitted == emitted and sandbox.hooks.idle:
                return

    def _runner_of(self, plugin: Plugin[Any]) -> Runner:
        for runner in self._running:
            if runner.plugin is plugin:
                return runner
        raise LookupError("that plugin is not running under this run_plugin")

    def page_url(self, plugin: Plugin[Any], path: str) -> str:
        """``http://host:port<path>`` on the server carrying a marketplace plugin's pages
        (the hook server, or ``[marketplace]``'s own with RTM)."""
        runner = self._runner_of(plugin)
        if runner.webhooks is not None:
            parts = urlsplit(runner.webhooks.url)
            return f"{parts.scheme}://{parts.netloc}{path}"
        market = runner.marketplace
        if market is None or market.url is None:
            raise LookupError("that plugin serves no marketplace pages")
        return market.url + path

    def settings_page(self, plugin: Plugin[Any], website_id: str | None = None) -> str:
        """The settings page URL as Crisp opens it: ``?website_id=...&token=...``, the
        token being that website's in the sandbox (its first website by default)."""
        sb = self.sandbox
        site = sb.store.websites[website_id or sb.websites[0]]
        path = self._runner_of(plugin).settings.marketplace.settings_path
        query = urlencode({"website_id": site.website_id, "token": site.token})
        return f"{self.page_url(plugin, path)}?{query}"

    def stats(self, plugin: Plugin[Any]) -> Mapping[str, Mapping[str, int]]:
        """A running plugin's event counts (``received``, ``handled``, ``dropped``, ...:
        what ``/metrics`` reports), per event name."""
        return self._runner_of(plugin).stats_snapshot()

    def action_url(self, plugin: Plugin[Any]) -> str:
        """The widget Action URL of a running marketplace plugin."""
        path = self._runner_of(plugin).settings.marketplace.action_path
        return self.page_url(plugin, path)

    def settings_for(
        self,
        plugin_class: type[Plugin[Any]],
        *,
        transport: TransportName = "rtm",
        settings: Mapping[str, Any] | None = None,
        config: str | Path | None = None,
        state: Mapping[str, Any] | None = None,
        inbox: Mapping[str, Any] | None = None,
        webhooks: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The configuration (as plugin.toml would hold it) for a run against the sandbox."""
        data: dict[str, Any] = {}
        if config is not None:
            with Path(config).open("rb") as fh:
                loaded = tomllib.load(fh)
            data = {k: v for k, v in loaded.items() if k in _KEPT_SECTIONS}
        sb = self.sandbox
        plugin = dict(data.get("plugin", {}))
        plugin["class"] = f"{plugin_class.__module__}:{plugin_class.__qualname__}"
        plugin.setdefault("urn", sb.urn)
        plugin.setdefault("name", plugin_class.__name__)
        data["plugin"] = plugin
        data["crisp"] = {
            "identifier": sb.identifier,
            "key": sb.key,
            "tier": "plugin",
            "api_url": sb.url,
            "allow_insecure_http": True,
            "plugin_id": sb.plugin_id,
            "timeout": 5,
            "max_retries": 1,
        }
        data["events"] = {"transport": transport}
        data["webhooks"] = {"host": "127.0.0.1", "port": 0, "secret": sb.secret}
        data["rtm"] = {"reconnect_delay": 0.1, "reconnect_max": 1}
        data["sandbox"] = {"enabled": False}
        # a marketplace plugin's own page server (RTM) on a free port, framed by the
        # sandbox's dashboard as by Crisp's app
        market = dict(data.get("marketplace", {}))
        ancestors = market.get("frame_ancestors", ["https://app.crisp.chat"])
        market.update(host="127.0.0.1", port=0, frame_ancestors=[*ancestors, sb.url])
        data["marketplace"] = market
        dispatch = dict(data.get("dispatch", {}))
        dispatch.setdefault("drain_timeout", 5)
        data["dispatch"] = dispatch
        if settings is not None:
            data["settings"] = {**data.get("settings", {}), **settings}
        if state is not None:
            data["state"] = {**data.get("state", {}), **state}
        if inbox is not None:
            data["inbox"] = {**data.get("inbox", {}), **inbox}
        if webhooks is not None:
            data["webhooks"] = {**data["webhooks"], **webhooks}
        return data

    @asynccontextmanager
    async def __call__(
        self,
        plugin_class: type[P],
        *,
        transport: TransportName = "rtm",
        settings: Mapping[str, Any] | None = None,
        config: str | Path | None = None,
        state: Mapping[str, Any] | None = None,
        inbox: Mapping[str, Any] | None = None,
        webhooks: Mapping[str, Any] | None = None,
        allow_errors: bool = False,
    ) -> AsyncIterator[P]:
        """Start ``plugin_class`` on the sandbox, yield the running plugin, then stop it.

        When the block ends without an exception, a handler failure during the run
        fails the test (``AssertionError`` chained to the first exception) unless
        ``allow_errors``."""
        from crisp_plugin.config import settings_from_dict
        from crisp_plugin.embedded_sandbox import register_marketplace
        from crisp_plugin.runner import Runner

        data = self.settings_for(
            plugin_class,
            transport=transport,
            settings=settings,
            config=config,
            state=state,
            inbox=inbox,
            webhooks=webhooks,
        )
        failures: list[HandlerFailure] = []
        runner = Runner(
            # a relative state.path is the toml's folder's, as for `run`
            settings_from_dict(data, base=_folder_of(config)),
            plugin_class=plugin_class,
            observers=[_Failures(failures)],
        )
        await runner.start()
        hooks = [runner.webhooks.url] if runner.webhooks is not None else []
        self._running.append(runner)
        try:
            for url in hooks:
                await self.sandbox.control.add_hook(url)
            if runner.marketplace is not None:  # the sandbox's Marketplace lists it
                await register_marketplace(self.sandbox, runner, self.sandbox.urn)
            plugin = runner.plugin
            assert isinstance(plugin, plugin_class)
            yield plugin
        except BaseException as exc:
            for failure in failures:  # the likely cause of a timed-out expectation
                exc.add_note(
                    f"meanwhile handler {failure.handler} failed on {failure.event}: "
                    f"{type(failure.error).__name__}: {failure.error}"
                )
            raise
        finally:
            self._running.remove(runner)
            for url in hooks:
                await self.sandbox.control.remove_hook(url)
            await runner.stop()
            self.failures.extend(failures)
        if failures and not allow_errors:
            first = failures[0]
            more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
            raise AssertionError(
                f"handler {first.handler} failed on {first.event}: "
                f"{type(first.error).__name__}: {first.error}{more}; pass "
                "allow_errors=True to run_plugin if the test expects it"
            ) from first.error


@_async_fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """A running sandbox on a free loopback port (fresh for each test)."""
    from crisp_plugin.sandbox import Sandbox

    # Short hook retry delays: a refused delivery is retried within the test's time.
    async with Sandbox(host="127.0.0.1", port=0, hook_retry_delays=(0.1, 0.5, 1.0)) as sb:
        yield sb


@pytest.fixture
def run_plugin(sandbox: Sandbox) -> PluginRunner:
    """``async with run_plugin(MyPlugin, transport="rtm", settings={...}) as plugin:``."""
    return PluginRunner(sandbox)


@_async_fixture
async def visitor(sandbox: Sandbox, run_plugin: PluginRunner) -> Visitor:
    """A visitor in a new conversation on the sandbox's first website."""
    return await sandbox_visitor(sandbox, settle=run_plugin.settle)


@pytest.fixture
def new_visitor(sandbox: Sandbox, run_plugin: PluginRunner) -> NewVisitor:
    """``await new_visitor(website_id=None)``: one more visitor, in a new conversation."""

    async def make(website_id: str | None = None) -> Visitor:
        return await sandbox_visitor(sandbox, website_id, settle=run_plugin.settle)

    return make


def _folder_of(config: str | Path | None) -> Path | None:
    """The folder of a plugin.toml (what its relative paths are relative to)."""
    return Path(config).resolve().parent if config is not None else None


async def _received_everything(sandbox: Sandbox, rtm: RtmTransport) -> None:
    """Wait until the plugin's socket received every event the relay emitted to it."""
    while True:
        sid = rtm.sid
        sub = sandbox.relay.subscriptions.get(sid) if sid is not None else None
        if sub is None or rtm.received_on_socket >= sub.sent:
            return
        await asyncio.sleep(0.005)
