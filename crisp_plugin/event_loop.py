"""``[runtime] event_loop``: which asyncio event loop ``run`` starts for its process.

``"auto"`` (the default) takes uvloop when it is installed (``pip install
'crisp-plugin[uvloop]'``) and the stock asyncio loop otherwise; ``"asyncio"`` always
takes the stock loop; ``"uvloop"`` insists on uvloop, and a plugin.toml asking for it
where it is not installed is a configuration problem (:func:`loop_problem`), found by
``check`` and ``run`` before anything starts.

Only the owner of a process chooses its loop (:func:`crisp_plugin.serve.serve_process`):
a runner embedded in an application runs on whatever loop that application started.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
from collections.abc import Callable
from typing import Literal

__all__ = ["EventLoopChoice", "loop_factory", "loop_name", "loop_problem", "uvloop_available"]

EventLoopChoice = Literal["auto", "asyncio", "uvloop"]

_INSTALL = "pip install 'crisp-plugin[uvloop]'"


def uvloop_available() -> bool:
    """True when uvloop can be imported here (never on Windows, which it does not support)."""
    return importlib.util.find_spec("uvloop") is not None


def loop_problem(choice: EventLoopChoice) -> str | None:
    """The problem line for a choice this interpreter cannot honour, else ``None``."""
    if choice == "uvloop" and not uvloop_available():
        return f'runtime.event_loop = "uvloop" needs uvloop, which is not installed: {_INSTALL}'
    return None


def loop_factory(choice: EventLoopChoice) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """What ``asyncio.Runner(loop_factory=...)`` takes for ``choice``: uvloop's
    ``new_event_loop``, or ``None`` for the stock loop. ``ValueError`` (the problem line)
    for ``"uvloop"`` where it is not installed."""
    problem = loop_problem(choice)
    if problem is not None:
        raise ValueError(problem)
    if choice == "asyncio" or not uvloop_available():
        return None
    uvloop = importlib.import_module("uvloop")
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def loop_name(loop: asyncio.AbstractEventLoop) -> str:
    """``"uvloop"`` or ``"asyncio"``: which kind of loop ``loop`` is, for the logs."""
    return "uvloop" if type(loop).__module__.split(".")[0] == "uvloop" else "asyncio"
