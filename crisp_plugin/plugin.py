"""The ``Plugin`` base class: handlers, routers, middleware, lifecycle, what handlers use.

Subclass it, declare handlers with ``@on`` (or in routers, :mod:`crisp_plugin.routing`);
the runner builds it with the settings, a REST client and a state store, then feeds it
events through a ``Dispatcher``. In a handler: ``self.rest`` (the async REST client),
``self.state`` (the per-conversation key-value store), ``self.settings`` (the
``[settings]`` table: an instance of the plugin's settings model, or a dict when it
declares none; :mod:`crisp_plugin.plugin_settings`), ``self.config`` (every section of
plugin.toml) and ``self.log`` (a structlog logger). Events act on their conversation
themselves: ``await event.reply("Hi")``.

Lifecycle: ``on_startup()`` after the REST client is ready and before events flow,
``on_shutdown()`` after the last handler finished; ``on_error(event, exc)`` for every
handler failure (a timeout arrives as ``TimeoutError``). The defaults do nothing: the
dispatcher already logs each failure with its event, website and session.

The framework keeps its own state in one private attribute, so a plugin's attributes
(``self.version``, ``self.name``...) never collide with it; the names it reads
(``rest``, ``state``, ``settings``, ``config``, ``log``...) are refused as handler names.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic

import structlog
from pydantic import BaseModel
from typing_extensions import TypeVar

from crisp_plugin.actions import PluginBinding
from crisp_plugin.config import Config
from crisp_plugin.errors import ConfigError, HandlerError
from crisp_plugin.events.base import BINDING_SLOT, Event
from crisp_plugin.events.catalogue import EVENTS, expand, is_known
from crisp_plugin.events.derived import DERIVED
from crisp_plugin.filters import compile_filters
from crisp_plugin.middleware import Group, InnerMiddleware, Plan, Unit
from crisp_plugin.plugin_settings import declared_model, validate_settings
from crisp_plugin.routing import (
    GENERATION,
    HANDLERS_ATTR,
    MIDDLEWARE_ATTR,
    Handler,
    HandlerSpec,
    Router,
    check_pattern,
    make_spec,
)
from crisp_plugin.state import create_state
from crisp_plugin.state.base import StateStore

if TYPE_CHECKING:
    from crisp_plugin.rest import RestClient

__all__ = ["Plugin", "load_plugin_class"]

SettingsT = TypeVar("SettingsT", default=dict[str, Any])
F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
M = TypeVar("M", bound=Callable[..., Awaitable[None]])

# What a plugin's own names must not hide: the framework reads these.
_RESERVED = frozenset(
    {
        "rest",
        "state",
        "config",
        "settings",
        "log",
        "urn",
        "handlers",
        "has_rest",
        "on",
        "middleware",
        "inner_middleware",
        "include_router",
        "plan",
        "wants",
        "subscribed_events",
        "watch",
        "bind_event",
        "_crisp",
        # the Marketplace mixin's (crisp_plugin.marketplace)
        "installations",
        "installation",
        "website_settings",
        "save_website_settings",
        "attach_marketplace",
        "widget_handler",
    }
)


class _IncludeRouter:
    """``Bot.include_router(router)`` on the class (every instance gets it) and
    ``bot.include_router(router)`` on one running instance."""

    def __get__(
        self, obj: Plugin[Any] | None, owner: type[Plugin[Any]]
    ) -> Callable[[Router], Router]:
        if obj is None:
            return owner._include_class_router
        return obj._crisp.root.include_router


class _Runtime:
    """What the framework keeps on a plugin instance (one attribute: ``_crisp``)."""

    __slots__ = (
        "binding",
        "config",
        "generation",
        "log",
        "methods",
        "plans",
        "rest",
        "root",
        "settings",
        "state",
    )

    def __init__(
        self,
        config: Config,
        rest: RestClient | None,
        state: StateStore,
        settings: Any,
        root: Router,
        log: Any,
    ) -> None:
        self.config = config
        self.rest = rest
        self.state = state
        self.settings = settings
        self.root = root
        self.log = log
        self.plans: dict[str, Plan] = {}
        self.generation = -1
        self.binding: PluginBinding | None = None
        self.methods: dict[int, Callable[[Any], Awaitable[Any]]] = {}


class Plugin(Generic[SettingsT]):
    """Base class of a Crisp plugin. See the module docstring."""

    settings_model: ClassVar[type[BaseModel] | None] = None
    """The model ``[settings]`` is validated against (from ``Plugin[Model]`` or a nested
    ``class Settings(BaseModel)``); ``None``: a plain dict."""

    _crisp_routers: ClassVar[tuple[Router, ...]] = ()

    system_events: ClassVar[frozenset[str]] = frozenset()
    """Events the framework itself handles for this plugin, subscribed whatever the
    handlers ask (a marketplace plugin's installation events)."""

    include_router = _IncludeRouter()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for attr, value in vars(cls).items():
            if attr in _RESERVED:
                raise HandlerError(
                    f"{cls.__name__}.{attr} hides Plugin.{attr}, which the framework uses: "
                    "rename it"
                )
            if hasattr(value, HANDLERS_ATTR) and attr in vars(Plugin):
                raise HandlerError(
                    f"handler {cls.__name__}.{attr} hides Plugin.{attr}: rename the method"
                )
        model = declared_model(cls, Plugin, "Settings")
        if model is not None:
            cls.settings_model = model

    @classmethod
    def _include_class_router(cls, router: Router) -> Router:
        if not isinstance(router, Router):
            raise HandlerError(f"include_router takes a Router, not {router!r}")
        if router in cls._crisp_routers:
            raise HandlerError(f"router {router.name} is already included in {cls.__name__}")
        cls._crisp_routers = (*cls._crisp_routers, router)
        return router

    def __init__(
        self,
        config: Config | None = None,
        *,
        rest: RestClient | None = None,
        state: StateStore | None = None,
    ) -> None:
        config = config if config is not None else Config()
        settings = validate_settings(type(self).settings_model, config.settings)
        log: Any = structlog.get_logger("crisp_plugin.plugin").bind(plugin=type(self).__name__)
        root = Router(type(self).__name__)
        store = state if state is not None else create_state(config)
        runtime = _Runtime(config, rest, store, settings, root, log)
        object.__setattr__(self, "_crisp", runtime)
        for attr, spec in self._discover():
            runtime.methods[id(spec)] = getattr(self, attr)
            root.add(spec)
        for attr, kind in self._discover_middleware():
            bound = getattr(self, attr)
            if kind == "outer":
                root.middleware(bound)
            else:
                root.inner_middleware(bound)
        for router in type(self)._crisp_routers:
            root.include_router(router)
        runtime.binding = PluginBinding(lambda: self.rest, store, config.state.flow_ttl)
        for spec in root.all_specs():
            self._note_unknown(spec)

    # ----------------------------------------------------------------- properties

    @property
    def rest(self) -> RestClient:
        """The REST client. ``AttributeError`` when the plugin was built without one."""
        rest = self._crisp.rest
        if rest is None:
            raise AttributeError(
                "this plugin has no REST client: pass rest=RestClient(...) to the "
                "constructor, or run it with python -m crisp_plugin run"
            )
        return rest

    @property
    def has_rest(self) -> bool:
        """True when a REST client is attached."""
        return self._crisp.rest is not None

    @property
    def state(self) -> StateStore:
        """The per-conversation key-value store (``self.state.for_event(event)``)."""
        return self._crisp.state

    @property
    def config(self) -> Config:
        """Every section of plugin.toml, validated."""
        return self._crisp.config

    @property
    def settings(self) -> SettingsT:
        """The ``[settings]`` table: the settings model's instance, or a dict."""
        settings: SettingsT = self._crisp.settings
        return settings

    @property
    def log(self) -> Any:
        """A structlog logger bound to the plugin's name."""
        return self._crisp.log

    @property
    def urn(self) -> str:
        """The plugin's URN (``plugin.urn``): the ``origin`` of the messages it sends."""
        return self._crisp.config.plugin.urn

    @property
    def handlers(self) -> list[Handler]:
        """Every handler in running order: methods, runtime functions, then routers'
        (``handler.router`` names the router; empty for the plugin's own)."""
        root = self._crisp.root
        out = [self._bind(spec, "") for spec in root.specs]

        def walk(router: Router, path: str) -> None:
            out.extend(self._bind(spec, path) for spec in router.specs)
            for child in router.routers:
                walk(child, f"{path} > {child.name}")

        for child in root.routers:
            walk(child, child.name)
        return out

    def bind_event(self, event: Event) -> None:
        """Attach this plugin's actions to a conversation event (``event.reply``...);
        the dispatcher does it before handlers run."""
        binding = self._crisp.binding
        assert binding is not None
        event.__dict__[BINDING_SLOT] = binding  # what event.bind does, without its call

    # ------------------------------------------------------------------- handlers

    def _discover(self) -> list[tuple[str, HandlerSpec]]:
        found: dict[str, Any] = {}
        for klass in reversed(type(self).__mro__):
            for attr, value in vars(klass).items():
                if hasattr(value, HANDLERS_ATTR):
                    found.pop(attr, None)
                    found[attr] = value
                elif attr in found:
                    del found[attr]  # overridden without @on: no longer a handler
        return [
            (attr, spec) for attr, func in found.items() for spec in getattr(func, HANDLERS_ATTR)
        ]

    def _discover_middleware(self) -> list[tuple[str, str]]:
        found: dict[str, str] = {}
        for klass in reversed(type(self).__mro__):
            for attr, value in vars(klass).items():
                kind = getattr(value, MIDDLEWARE_ATTR, None)
                if isinstance(kind, str):
                    found.pop(attr, None)
                    found[attr] = kind
                elif attr in found:
                    del found[attr]
        return list(found.items())

    def _bind(self, spec: HandlerSpec, router: str) -> Handler:
        method = self._crisp.methods.get(id(spec))
        if method is not None:
            return Handler(spec, method, router)
        func = spec.func
        if spec.takes_plugin:

            async def call(event: Any) -> Any:
                return await func(event, self)

            return Handler(spec, call, router)
        return Handler(spec, func, router)

    def _note_unknown(self, spec: HandlerSpec) -> None:
        pattern = spec.pattern
        if not pattern.endswith("*") and not is_known(pattern) and pattern not in DERIVED:
            self.log.warning(
                "handler for an event name the catalogue does not know",
                handler=spec.qualname,
                event_name=pattern,
                hint="fine if Crisp added it; check the spelling otherwise",
            )

    def on(self, name: str, **filters: Any) -> Callable[[F], F]:
        """Register a function at run time: ``@plugin.on("message:send")``.

        The function takes ``(event)`` or ``(event, plugin)``. Same names and filters
        as ``@on``; same errors, raised here. A running RTM socket is told at once.
        """
        check_pattern(name)
        compile_filters(name, filters)

        def decorate(func: F) -> F:
            spec = make_spec(name, func, filters, method=False)
            self._note_unknown(spec)
            self._crisp.root.add(spec)
            return func

        return decorate

    def middleware(self, func: M) -> M:
        """Add an outer middleware for every event (see :mod:`crisp_plugin.middleware`)."""
        return self._crisp.root.middleware(func)

    def inner_middleware(self, func: M) -> M:
        """Add an inner middleware around every handler run."""
        return self._crisp.root.inner_middleware(func)

    def watch(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` whenever handlers or routers change (the runner re-reads
        the RTM subscription)."""
        self._crisp.root.watch(callback)

    # ---------------------------------------------------------------------- plans

    def plan(self, name: str) -> Plan:
        """What runs for events named ``name`` (cached until a router changes)."""
        runtime = self._crisp
        if runtime.generation != GENERATION[0]:
            runtime.plans.clear()
            runtime.generation = GENERATION[0]
        found = runtime.plans.get(name)
        if found is None:
            root = runtime.root
            steps = self._steps(root, name, root.inner, "")
            # Flows are the plugin's, not one event name's: with any step= filter, every
            # conversation event has its flow loaded, so any handler can read it.
            needs_flow = any(spec.filters.steps is not None for spec in root.all_specs())
            found = Plan(root.outer, steps, needs_flow)
            if len(runtime.plans) < 4096:  # bounded: unknown names could be unbounded
                runtime.plans[name] = found
        return found

    def _steps(
        self, router: Router, name: str, inner: tuple[InnerMiddleware, ...], path: str
    ) -> tuple[Unit | Group, ...]:
        steps: list[Unit | Group] = [
            Unit(self._bind(spec, path), inner) for spec in router.specs if spec.covers(name)
        ]
        for child in router.routers:
            where = f"{path} > {child.name}" if path else child.name
            sub = self._steps(child, name, inner + child.inner, where)
            if not sub:
                continue
            if child.outer:
                steps.append(Group(child.name, child.outer, sub))
            else:
                steps.extend(sub)
        return tuple(steps)

    def wants(self, name: str) -> bool:
        """True when some handler is declared for events named ``name`` (for
        ``message:updated``, also a ``picker:choice`` or ``field:answer`` one)."""
        if not self.plan(name).empty or name in self.system_events:
            return True
        return name == "message:updated" and any(not self.plan(d).empty for d in DERIVED)

    def subscribed_events(self, tier: str | None = None) -> list[str]:
        """Event names to subscribe to for the handlers, in catalogue order.

        ``tier`` defaults to ``crisp.tier``. Exact names unknown to the catalogue are
        included as written, after the known ones; derived names subscribe to their
        source (``picker:choice`` to ``message:updated``).
        """
        tier = tier or self.config.crisp.tier
        wanted: set[str] = set()
        for spec in self._crisp.root.all_specs():
            pattern = DERIVED.get(spec.pattern, spec.pattern)
            wanted.update(expand(pattern, tier))
        wanted.update(self.system_events)
        known = [n for n in EVENTS if n in wanted]
        return known + sorted(n for n in wanted if not is_known(n))

    # ------------------------------------------------------------------ lifecycle

    async def on_startup(self) -> None:
        """Called once before events flow (the REST client is ready)."""

    async def on_shutdown(self) -> None:
        """Called once after the last handler finished, before the client closes."""

    async def on_error(self, event: Event, exc: BaseException) -> None:
        """Called with the event and the exception of every failed handler."""

    if TYPE_CHECKING:
        _crisp: _Runtime


def load_plugin_class(path: str, *, search: list[str | Path] | None = None) -> type[Plugin[Any]]:
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
