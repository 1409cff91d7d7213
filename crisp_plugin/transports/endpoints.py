"""RTM endpoint discovery: which Socket.IO relay to connect to.

``GET /v1/{tier}/connect/endpoints`` answers ``{socket: {app: URL}, rescue: {socket:
{app: URL}}}``. The main relay comes first and the ``rescue`` relay second, as a
fallback the transport moves to after repeated failures. A refused token here is the
same fault as a refused socket authentication, so it raises ``RtmUnauthorized``.
"""

from __future__ import annotations

from typing import Any, Protocol

from crisp_plugin.errors import APIError, CrispError, RtmError, RtmUnauthorized, Unauthorized

__all__ = ["EndpointSource", "discover_endpoints", "endpoints_path"]


class EndpointSource(Protocol):
    """The one REST call discovery needs (``RestClient.request``)."""

    async def request(self, method: str, path: str) -> Any: ...


def endpoints_path(tier: str) -> str:
    """The discovery route for a token tier: the tier is part of the path."""
    return f"/v1/{tier}/connect/endpoints"


def _app_url(node: Any) -> str | None:
    if isinstance(node, dict):
        socket = node.get("socket")
        if isinstance(socket, dict):
            app = socket.get("app")
            if isinstance(app, str) and app:
                return app
    return None


async def discover_endpoints(rest: EndpointSource, tier: str = "plugin") -> list[str]:
    """Relay URLs to try, best first: the main relay, then the rescue relay."""
    path = endpoints_path(tier)
    try:
        data = await rest.request("GET", path)
    except Unauthorized as exc:
        raise RtmUnauthorized(
            f"Crisp refused the {tier} token (check crisp.identifier and crisp.key): "
            f"{exc.status} {exc.reason}"
        ) from exc
    except APIError as exc:
        raise RtmError(f"RTM endpoint discovery failed: {exc}") from exc
    except CrispError as exc:
        raise RtmError(f"RTM endpoint discovery failed: {exc}") from exc
    urls: list[str] = []
    main = _app_url(data)
    if main:
        urls.append(main)
    rescue = _app_url(data.get("rescue")) if isinstance(data, dict) else None
    if rescue and rescue not in urls:
        urls.append(rescue)
    if not urls:
        raise RtmError(f"RTM endpoint discovery: no socket URL in the answer of GET {path}")
    return urls
