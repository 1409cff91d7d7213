"""The 229 routes are declared once (routes.tsv) and the generated code is up to date."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

from crisp_plugin.rest import ROUTES, RestClient

ROOT = Path(__file__).resolve().parents[2]


def test_generated_files_match_routes_tsv() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_routes.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_route_is_a_method_with_its_path_params() -> None:
    rest = RestClient("i", "k")
    assert len(ROUTES) == 229
    assert len({(r.service, r.name) for r in ROUTES}) == 229
    for route in ROUTES:
        method = getattr(getattr(rest, route.service), route.name)
        params = [
            p.name
            for p in inspect.signature(method).parameters.values()
            if p.kind is p.POSITIONAL_OR_KEYWORD and p.name != "body"
        ]
        assert params == list(route.params), route
        assert route.verb in (method.__doc__ or ""), route


def test_website_routes_are_also_flat_on_the_client() -> None:
    rest = RestClient("i", "k")
    shadowed = {"get_conversation", "list_conversations", "get_connect_endpoints"}
    for route in ROUTES:
        if route.service != "website" or route.name in shadowed:
            continue
        flat = getattr(rest, route.name)
        assert flat.__func__ is getattr(rest.website, route.name).__func__, route
