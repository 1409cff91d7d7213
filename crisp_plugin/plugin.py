"""The ``Plugin`` base class: handlers, lifecycle hooks and what handlers can use.

Subclass it, declare handlers with ``@on``; the runner builds it with the settings, a
REST client and a state store, then feeds events through a ``Dispatcher``. In a
handler: ``self.rest`` (the async REST client), ``self.state`` (per-conversation
key-value store), ``self.config`` (the ``Settings``), ``self.settings`` (the free
``[settings]`` table) and ``self.log`` (a structlog logger).

Lifecycle: ``on_startup()`` after the REST client is ready and before events flow,
``on_shutdown()`` after the last handler finished; ``on_error(event, exc)`` for every
handler failure (a timeout arrives as ``TimeoutError``). The defaults do nothing: the
dispatcher already logs each failure with its event, website and session.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import structlog

from crisp_plugin.config import Settings
from crisp_plugin.errors import ConfigError, HandlerError
from crisp_plugin.events.base import Event
from crisp_plugin.events.catalogue import EVENTS, expand, is_known
from crisp_plugin.handlers import (
    HANDLERS_ATTR,
    HandlerSpec,
    check_pattern,
    compile_filters,
    make_spec,
)
from crisp_plugin.state import create_state
from crisp_plugin.state.base import StateStore

if TYPE_CHECKING:
    from crisp_plugin.rest import RestClient

__all__ = ["BoundHandler", "Plugin", "load_plugin_class"]

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


class BoundHandler:
    """A handler ready to call with an event: a bound method or a runtime function."""

    __slots__ = ("call", "filters", "name", "spec")

    def __init__(self, spec: HandlerSpec, call: Callable[[Any], Awaitable[Any]]) -> None:
        self.spec = spec
        self.call = call
        self.filters = spec.filters
        self.name = spec.qualname

    def __repr__(self) -> str:
        extra = self.filters.describe()
        return f"<handler {self.name} on {self.spec.pattern}{' ' + extra if extra else ''}>"


class Plugin:
    """Base class of a Crisp plugin. See the module docstring."""

    # Instance attributes a handler method must not shadow.
    _RESERVED = frozenset(
        {"rest", "state", "config", "log", "version", "_rest", "_handlers", "_by_name"}
    )

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for attr, value in vars(cls).items():
            if hasattr(value, HANDLERS_ATTR) and (attr in Plugin._RESERVED or attr in vars(Plugin)):
                raise HandlerError(
                    f"handler {cls.__name__}.{attr} hides Plugin.{attr}: rename the method"
                )

    def __init__(
        self,
        config: Settings | None = None,
        *,
        rest: RestClient | None = None,
        state: StateStore | None = None,
    ) -> None:
        self.config: Settings = config if config is not None else Settings()
        self._rest = rest
        self.state: StateStore = state if state is not None else create_state(self.config.state)
        self.log: Any = structlog.get_logger("crisp_plugin.plugin").bind(plugin=type(self).__name__)
        self._handlers: list[BoundHandler] = self._discover()
        self._by_name: dict[str, tuple[BoundHandler, ...]] = {}
        self.version = 0  # bumped on every runtime registration
        for handler in self._handlers:
            self._note_unknown(handler)

    # ----------------------------------------------------------------- properties

    @property
    def rest(self) -> RestClient:
        """The REST client. ``AttributeError`` when the plugin was built without one."""
        if self._rest is None:
            raise AttributeError(
                "this plugin has no REST client: pass rest=RestClient(...) to the "
                "constructor, or run it with python -m crisp_plugin run"
            )
        return self._rest

    @rest.setter
    def rest(self, client: RestClient | None) -> None:
        self._rest = client

    @property
    def has_rest(self) -> bool:
        """True when a REST client is attached."""
        return self._rest is not None

    @property
    def urn(self) -> str:
        """The plugin's URN (``plugin.urn``): the ``origin`` of the messages it sends."""
        return self.config.plugin.urn

    @property
    def settings(self) -> dict[str, Any]:
        """The free ``[settings]`` table of plugin.toml."""
        return self.config.settings

    @property
    def handlers(self) -> list[BoundHandler]:
        """Every handler, class-declared first, then runtime ones, in declaration order."""
        return list(self._handlers)

    # ------------------------------------------------------------------- handlers

    def _discover(self) -> list[BoundHandler]:
        found: dict[str, Any] = {}
        for klass in reversed(type(self).__mro__):
            for attr, value in vars(klass).items():
                if hasattr(value, HANDLERS_ATTR):
                    found.pop(attr, None)
                    found[attr] = value
                elif attr in found:
                    del found[attr]  # overridden without @on: no longer a handler
        bound = []
        for attr, func in found.items():
            method = getattr(self, attr)
            for spec in getattr(func, HANDLERS_ATTR):
                bound.append(BoundHandler(spec, method))
        return bound

    def _note_unknown(self, handler: BoundHandler) -> None:
        pattern = handler.spec.pattern
        if not pattern.endswith("*") and not is_known(pattern):
            self.log.warning(
                "handler for an event name the catalogue does not know",
                handler=handler.name,
                event_name=pattern,
                hint="fine if Crisp added it; check the spelling otherwise",
            )

    def on(self, name: str, **filters: Any) -> Callable[[F], F]:
        """Register a function at run time: ``@plugin.on("message:send")``.

        The function takes the event only: ``async def handler(event) -> None``. Same
        names and filters as ``@on``; same errors, raised here.
        """
        check_pattern(name)
        compile_filters(name, filters)

        def decorate(func: F) -> F:
            spec = make_spec(name, func, filters)
            handler = BoundHandler(spec, func)
            self._note_unknown(handler)
            self._handlers.append(handler)
            self._by_name.clear()
            self.version += 1
            return func

        return decorate

    def handlers_for(self, name: str) -> tuple[BoundHandler, ...]:
        """The handlers whose pattern covers ``name`` (filters not applied); cached."""
        found = self._by_name.get(name)
        if found is None:
            found = tuple(h for h in self._handlers if h.spec.covers(name))
            if len(self._by_name) < 4096:  # bounded: unknown names could be unbounded
                self._by_name[name] = found
        return found

    def subscribed_events(self, tier: str | None = None) -> list[str]:
        """Event names to subscribe to for the handlers, in catalogue order.

        ``tier`` defaults to ``crisp.tier``. Exact names unknown to the catalogue are
        included as written, after the known ones.
        """
        tier = tier or self.config.crisp.tier
        wanted: set[str] = set()
        for handler in self._handlers:
            wanted.update(expand(handler.spec.pattern, tier))
        known = [n for n in EVENTS if n in wanted]
        return known + sorted(n for n in wanted if not is_known(n))

    # ------------------------------------------------------------------ lifecycle

    async def on_startup(self) -> None:
        """Called once before events flow (the REST client is ready)."""

    async def on_shutdown(self) -> None:
        """Called once after the last handler finished, before the client closes."""

    async def on_error(self, event: Event, exc: BaseException) -> None:
        """Called with the event and the exception of every failed handler."""


def load_plugin_class(path: str, *, search: list[str | Path] | None = None) -> type[Plugin]:
    """Import ``"module:Class"`` and check it is a ``Plugin`` subclass.

    ``search`` directories (e.g. the folder of plugin.toml) are put on ``sys.path``
    first, so a plugin module next to its toml imports. Raises ``ConfigError``.
    """
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigError([f'plugin.class = "{path}" is not "module:Class"'])
    for folder in search or ():
        entry = str(Path(folder).resolve())
        if entry not in sys.path:
            sys.path.insert(0, entry)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise ConfigError(
                [
                    f'plugin.class = "{path}": no module named {exc.name}: check the '
                    "name, or run from the folder that holds it"
                ]
            ) from None
        raise ConfigError(
            [f'plugin.class = "{path}": importing {module_name} failed: {exc}']
        ) from None
    except SystemExit as exc:  # a script's sys.exit(main()) run on import
        raise ConfigError(
            [
                f'plugin.class = "{path}": importing {module_name} raised {exc!r}: a plugin '
                "module must not exit when imported "
                '(put that code under if __name__ == "__main__":)'
            ]
        ) from None
    except Exception as exc:
        raise ConfigError(
            [
                f'plugin.class = "{path}": importing {module_name} failed: '
                f"{type(exc).__name__}: {exc}"
            ]
        ) from None
    obj: Any = module
    for part in attr.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise ConfigError(
                [f'plugin.class = "{path}": module {module_name} has no {attr}: check the name']
            )
    if not (isinstance(obj, type) and issubclass(obj, Plugin)):
        raise ConfigError(
            [f'plugin.class = "{path}": {attr} is not a subclass of crisp_plugin.Plugin']
        )
    return obj
