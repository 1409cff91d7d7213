"""A plugin on the embedded sandbox: ``[sandbox] enabled = true`` in plugin.toml.

The runner knows nothing of the sandbox and the sandbox nothing of the runner; this
module joins them for ``python -m crisp_plugin run``: it starts the sandbox, gives
the settings its URL, token, hook secret and plugin id, and once the runner listens,
registers its hook URL with the sandbox, and a marketplace plugin's pages and schemas
with the sandbox's Marketplace (so its dashboard shows the settings page and widget).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from pydantic import SecretStr

from crisp_plugin.config import Config
from crisp_plugin.errors import CrispError

if TYPE_CHECKING:
    from crisp_plugin.runner import Runner
    from crisp_plugin.sandbox import Sandbox

__all__ = ["embedded_sandbox", "register_hooks", "register_marketplace", "with_sandbox"]

Say = Callable[[str], None]


@asynccontextmanager
async def embedded_sandbox(settings: Config, say: Say) -> AsyncIterator[Sandbox]:
    """The sandbox ``[sandbox]`` describes, running; ``say`` prints its address."""
    from crisp_plugin.sandbox import Sandbox

    s = settings
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
    try:
        await sandbox.start()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise CrispError(
            f"cannot listen on {s.sandbox.host}:{s.sandbox.port} (sandbox.host / "
            f"sandbox.port): {reason}; choose another port"
        ) from exc
    try:
        say(f"Sandbox: Crisp API and RTM relay at {sandbox.url}")
        if s.sandbox.chat_page:
            say(f"Sandbox: chat as a visitor at {sandbox.chat_url}")
        yield sandbox
    finally:
        await sandbox.stop()


def with_sandbox(settings: Config, sandbox: Sandbox) -> Config:
    """The settings with the sandbox's URL, token, hook secret and plugin id."""
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
    # the sandbox's dashboard frames the settings page, as Crisp's app does
    ancestors = [*settings.marketplace.frame_ancestors, sandbox.url]
    market = settings.marketplace.model_copy(update={"frame_ancestors": ancestors})
    return settings.model_copy(update={"crisp": crisp, "webhooks": hooks, "marketplace": market})


async def register_hooks(sandbox: Sandbox, runner: Runner, say: Say) -> None:
    """Have the sandbox deliver its events to the runner's hook URL, if it has one, and
    list a marketplace plugin in its Marketplace (pages, schemas: its dashboard)."""
    if runner.webhooks is not None and runner.webhooks.state == "listening":
        await sandbox.control.add_hook(runner.webhooks.url)
        say(f"Web hooks: {runner.webhooks.url} (registered with the sandbox)")
    await register_marketplace(sandbox, runner)
    if runner.marketplace is not None:
        say(f"Sandbox: the dashboard (settings page, widget) at {sandbox.dashboard_url}")


async def register_marketplace(sandbox: Sandbox, runner: Runner, urn: str | None = None) -> None:
    """Tell the sandbox what the Marketplace holds for a marketplace plugin: its
    Settings and Action URLs and its schemas (``urn`` names the ``$id``'s plugin)."""
    base = runner.marketplace_url()
    if runner.marketplace is None or base is None:
        return
    await sandbox.control.set_plugin(**runner.marketplace.entry(base, urn))
