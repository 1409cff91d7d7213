"""The pieces the sandbox's REST handlers share: the handler registry and a call.

``@handles("routeName", ...)`` registers an emulated handler in ``HANDLERS`` (the
handler modules, rest_conversations.py and rest_resources.py, are imported by
rest_api.py, which dispatches to them). ``Call`` is one request's parsed pieces;
raising ``Refused`` from a handler answers with its response; ``check`` and
``page_number`` turn a body or page problem into a 400 ``invalid_data``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .envelope import fail
from .router import Route
from .store import Website

if TYPE_CHECKING:
    from .rest_api import RestApi

__all__ = ["HANDLERS", "Call", "Handler", "Refused", "check", "handles", "page_number"]


class Call:
    """One request being answered: its parsed pieces, for handlers."""

    __slots__ = ("body", "params", "query", "request", "route", "site")

    def __init__(self, request: web.Request, route: Route, params: dict[str, str]) -> None:
        self.request = request
        self.route = route
        self.params = params
        self.query: dict[str, str] = {}
        self.body: Any = None
        self.site: Website | None = None


class Refused(Exception):
    def __init__(self, response: web.Response) -> None:
        self.response = response


Handler = Callable[["RestApi", Call], Awaitable[web.Response]]
HANDLERS: dict[str, Handler] = {}


def handles(*names: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for name in names:
            HANDLERS[name] = fn
        return fn

    return register


def check(problem: str | None) -> None:
    if problem:
        raise Refused(fail(400, "invalid_data", problem))


def page_number(call: Call) -> int:
    try:
        page = int(call.params.get("pageNumber", "1"))
    except ValueError:
        raise Refused(fail(400, "invalid_data", "page number should be an integer")) from None
    if page < 1:
        raise Refused(fail(400, "invalid_data", "page number should be >= 1"))
    return page
