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


def test_raw_routes_live_in_their_namespace_and_no_short_form_hides_one() -> None:
    rest = RestClient("i", "k")
    for route in ROUTES:
        group = getattr(rest, route.service)
        assert callable(getattr(group, route.name)), route
    # On the client itself, a raw route's name is only ever a typed short form written
    # in rest/client.py (returning a model), never the generated raw route.
    raw_names = {r.name for r in ROUTES if r.service == "website"}
    on_client = sorted(n for n in raw_names if hasattr(rest, n))
    assert on_client == ["get_connect_endpoints", "get_conversation", "list_conversations"]
    for name in on_client:
        assert getattr(RestClient, name).__module__ == "crisp_plugin.rest.client", name
