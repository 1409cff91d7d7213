"""``python -m crisp_plugin init NAME``: a new plugin folder that runs and tests at once.

The folder holds the plugin module (one handler), a plugin.toml running it on the
embedded sandbox (no Crisp account needed) and a test that runs the plugin against a
local sandbox with the ``run_plugin`` and ``visitor`` fixtures of crisp_plugin.testing.
"""

from __future__ import annotations

import keyword
import re
import sys
from pathlib import Path

__all__ = ["names_for", "scaffold"]

_MODULE = """\
\"\"\"{title}: a Crisp plugin written with crisp_plugin.\"\"\"

from __future__ import annotations

from crisp_plugin import Plugin, on
from crisp_plugin.events import MessageSend

GREETING = r"(?i)\\b(hello|hi|hey)\\b"


class {cls}(Plugin):
    \"\"\"Answers visitors who say hello, and counts the greetings per conversation.\"\"\"

    @on("message:send", text=GREETING)
    async def greet(self, event: MessageSend) -> None:
        conversation = self.state.for_event(event)
        count = await conversation.get("greetings", 0) + 1
        await conversation.set("greetings", count)
        await event.reply("Hi! How can I help you today?")
"""

_TOML = """\
# {title}: run it with `python -m crisp_plugin run plugin.toml` (from this folder).
# The embedded sandbox is a local Crisp: no account needed. For the real Crisp, set
# sandbox.enabled = false and export CRISP_IDENTIFIER and CRISP_KEY.

[plugin]
class = "{module}:{cls}"
urn = "urn:crisp-plugin:{slug}:1"

[crisp]
identifier = "${{CRISP_IDENTIFIER:-}}"
key = "${{CRISP_KEY:-}}"
tier = "plugin"

[events]
transport = "rtm"

[inbox]
backend = "sqlite"             # events kept until handled: a crash or restart loses none
path = "inbox.sqlite3"         # next to this file

[sandbox]
enabled = true
port = "${{CRISP_SANDBOX_PORT:-8787}}"

[log]
level = "info"
"""

_TEST = """\
\"\"\"{title}: the greeting reaches the visitor through a real local Crisp sandbox.

``run_plugin`` and ``visitor`` come from crisp_plugin's pytest plugin
(crisp_plugin.testing): the plugin runs through the real runner, REST client and
RTM relay of a sandbox on a free loopback port, and the visitor plays the other side.
\"\"\"

from __future__ import annotations

from pathlib import Path

from crisp_plugin.testing import PluginRunner, Visitor

from {module} import {cls}

CONFIG = Path(__file__).with_name("plugin.toml")


async def test_greets_a_visitor_who_says_hello(run_plugin: PluginRunner, visitor: Visitor) -> None:
    async with run_plugin({cls}, config=CONFIG) as plugin:
        await visitor.say("Hello there")
        await visitor.expect_reply(match="How can I help", timeout=5)
        state = plugin.state.conversation(visitor.website_id, visitor.session_id)
        assert await state.get("greetings") == 1


async def test_stays_quiet_without_a_greeting(run_plugin: PluginRunner, visitor: Visitor) -> None:
    async with run_plugin({cls}, config=CONFIG):
        await visitor.say("What are your prices?")
        await visitor.expect_no_reply()
"""

_CONFTEST = """\
\"\"\"Makes the plugin module next to this file importable by the tests.\"\"\"

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
"""

_PYTEST_INI = """\
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
# A forgotten `await` (event.reply(...) never sent) fails the test instead of a warning.
filterwarnings =
    error:coroutine .* was never awaited:RuntimeWarning
    error::pytest.PytestUnraisableExceptionWarning
"""


_GITIGNORE = """\
# the inbox and state files `run` keeps next to plugin.toml
*.sqlite3
*.sqlite3-*
*.sqlite3.lock
__pycache__/
"""


def names_for(name: str) -> tuple[str, str, str]:
    """``(module, Class, slug)`` for a plugin name, e.g. ``echo_bot, EchoBot, echo-bot``.

    ``ValueError`` (one line) for a name that is a path, holds a character that would
    break the files written from it (a quote, a backslash, a control character), or
    gives no module name (no ASCII letter or digit).
    """
    if "/" in name:
        *_, last = [part for part in name.split("/") if part] or [""]
        raise ValueError(
            f"{name!r} is a path, not a name: give the folder with --directory, "
            f"e.g. init {last or 'echo-bot'} --directory {name}"
        )
    bad = next((c for c in name if c in '"\\' or not c.isprintable()), None)
    if bad is not None:
        raise ValueError(
            f"{name!r} holds {bad!r}, which a plugin name cannot: use letters, digits, "
            "spaces, '-', '_' or '.', e.g. 'echo-bot'"
        )
    words = [w for w in re.split(r"[^A-Za-z0-9]+", name) if w]
    if not words:
        raise ValueError(
            f"{name!r} has no ASCII letter or digit to name a module by: use e.g. 'echo-bot'"
        )
    module = "_".join(w.lower() for w in words)
    if module[0].isdigit():
        module = "plugin_" + module
    if keyword.iskeyword(module) or module in sys.stdlib_module_names:
        module += "_plugin"  # "class" or "json" would not import, or would shadow the stdlib
    cls = "".join(w[:1].upper() + w[1:] for w in words)
    if cls[0].isdigit():
        cls = "Plugin" + cls
    slug = "-".join(w.lower() for w in words)
    return module, cls, slug


def scaffold(name: str, directory: str | Path | None = None) -> list[Path]:
    """Write the plugin folder; returns the files written. ``FileExistsError`` if the
    folder exists and is not empty."""
    module, cls, slug = names_for(name)
    target = Path(directory) if directory is not None else Path(name)
    if target.exists() and any(target.iterdir()):
        raise FileExistsError(f"{target} already exists and is not empty")
    target.mkdir(parents=True, exist_ok=True)
    values = {"title": name, "module": module, "cls": cls, "slug": slug}
    files = {
        f"{module}.py": _MODULE,
        "plugin.toml": _TOML,
        f"test_{module}.py": _TEST,
        "conftest.py": _CONFTEST,
        "pytest.ini": _PYTEST_INI,
        ".gitignore": _GITIGNORE,
    }
    written = []
    for filename, template in files.items():
        path = target / filename
        path.write_text(template.format(**values), encoding="utf-8")
        written.append(path)
    return written
