"""Contract: each of the 229 route methods sends its own verb and path to the sandbox.

Most routes are not emulated by the sandbox (it answers ``not_emulated``) and some are
closed to plugin tokens; that is fine here: the sandbox's request log shows what went
on the wire, and its router proves the path is the route's path.
"""

from __future__ import annotations

import re
from typing import Any

from crisp_plugin.errors import APIError
from crisp_plugin.rest import ROUTES, RestClient, RetryPolicy


def _shape(template: str) -> str:
    return re.sub(r"\{\w+\}", "{}", template)


async def test_every_route_sends_its_verb_and_path(sb: Any) -> None:
    website = sb.websites[0]
    proven = 0
    async with RestClient(
        sb.identifier, sb.key, api_url=sb.url, retry=RetryPolicy(max_retries=0)
    ) as rest:
        for route in ROUTES:
            values: dict[str, Any] = {}
            for name in route.params:
                if name in ("page_number", "fingerprint"):
                    values[name] = 1
                elif name == "website_id":
                    values[name] = website
                else:
                    values[name] = f"{name.replace('_', '-')}-1"
            method = getattr(getattr(rest, route.service), route.name)
            before = len(sb.requests)
            try:
                await method(*values.values())
            except APIError:
                pass  # not_emulated, not_found, restricted_route_tier...: answered
            log = sb.requests
            assert len(log) == before + 1, route
            seen = log[-1]
            expected = route.path.format(**{k: str(v) for k, v in values.items()})
            assert (seen["method"], seen["path"]) == (route.verb, expected), route
            matched = sb.rest.router.match(route.verb, expected)
            assert matched is not None, f"sandbox knows no {route.verb} {expected}"
            assert _shape(matched[0].template) == _shape(route.path), route
            proven += 1
    assert proven == len(ROUTES) == 229
