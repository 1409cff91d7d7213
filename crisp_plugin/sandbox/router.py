"""Matches ``(verb, path)`` against the 229 routes of Crisp's REST API v1.

Routes come from ``crisp_plugin/rest/routes.tsv``. They are bucketed by verb and
segment count, and within a bucket tried most-literal first, so a lookup compares a
handful of short strings. Two extra discovery routes that the official clients call
(``/v1/website/connect/endpoints``, ``/v1/user/connect/endpoints``) are added.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

__all__ = ["Route", "Router", "load_routes"]


@dataclass(frozen=True)
class Route:
    """One REST method: its npm client name, verb and path template."""

    name: str
    verb: str
    template: str
    literals: tuple[tuple[int, str], ...]
    params: tuple[tuple[int, str], ...]


def _compile(name: str, verb: str, template: str) -> Route:
    parts = template.strip("/").split("/")
    literals: list[tuple[int, str]] = []
    params: list[tuple[int, str]] = []
    for i, part in enumerate(parts):
        if part.startswith("{") and part.endswith("}"):
            params.append((i, part[1:-1]))
        else:
            literals.append((i, part))
    return Route(name, verb, template, tuple(literals), tuple(params))


EXTRA_ROUTES = [
    ("getWebsiteTierConnectEndpoints", "GET", "/v1/website/connect/endpoints"),
    ("getUserConnectEndpoints", "GET", "/v1/user/connect/endpoints"),
]


def load_routes() -> list[tuple[str, str, str]]:
    """(name, verb, path) of every route in routes.tsv, plus the extra discovery routes."""
    text = resources.files("crisp_plugin.rest").joinpath("routes.tsv").read_text("utf-8")
    rows: list[tuple[str, str, str]] = []
    for line in text.splitlines()[1:]:
        cols = line.split("\t")
        if len(cols) >= 5:
            rows.append((cols[2], cols[3], cols[4]))
    return rows + EXTRA_ROUTES


class Router:
    """Finds the route of a request; ``prefer`` names win over others on the same path."""

    def __init__(self, rows: list[tuple[str, str, str]], prefer: set[str]) -> None:
        self.routes: list[Route] = []
        seen: dict[tuple[str, str], int] = {}
        for name, verb, template in rows:
            key = (verb, template)
            if key in seen:
                # Two client methods share a verb and path (e.g. batch/remove):
                # keep one, the emulated one when there is one.
                if name in prefer:
                    self.routes[seen[key]] = _compile(name, verb, template)
                continue
            seen[key] = len(self.routes)
            self.routes.append(_compile(name, verb, template))
        self._buckets: dict[tuple[str, int], list[Route]] = {}
        for route in self.routes:
            n = len(route.literals) + len(route.params)
            self._buckets.setdefault((route.verb, n), []).append(route)
        for bucket in self._buckets.values():
            # Most literal segments first; among equals, literals earlier in the path.
            bucket.sort(key=lambda r: (-len(r.literals), [i for i, _ in r.params]))
        self.names = {r.name for r in self.routes}

    def match(self, verb: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route and its path parameters (still URL-encoded), or None."""
        parts = path.strip("/").split("/")
        bucket = self._buckets.get((verb, len(parts)))
        if bucket is None:
            return None
        for route in bucket:
            for i, lit in route.literals:
                if parts[i] != lit:
                    break
            else:
                params = {name: parts[i] for i, name in route.params}
                if all(params.values()):
                    return route, params
        return None

    def allowed_verbs(self, path: str) -> list[str]:
        """Verbs that some route accepts on this path (for a 404 that helps)."""
        verbs = sorted({v for v, _ in self._buckets} - {"_"})
        return [v for v in verbs if self.match(v, path) is not None]
