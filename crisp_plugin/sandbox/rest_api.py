"""REST API v1 as Crisp serves it, over the sandbox's store.

One aiohttp handler takes every ``/v1/...`` request: route lookup (router.py), faults,
Basic auth + ``X-Crisp-Tier`` (401 ``invalid_session``), tier restriction (403
``restricted_route_tier``), website subscription (404 ``not_subscribed``), then the
emulated handler, whose body validation answers 400 ``invalid_data`` naming the field
and changes nothing. A body over the sandbox's ``body_limit`` (1 MiB by default; Crisp
caps request bodies too) answers 413 ``request_too_large`` and stores nothing. Routes of
routes.tsv that are not emulated answer 501
``not_emulated`` naming the route; paths that match no route answer 404 ``not_found``.
Every call is recorded in ``requests`` (method, path, status, body).

The handlers live by resource in rest_conversations.py, rest_resources.py and
rest_widgets.py and register in rest_registry.py's ``HANDLERS``; importing them here fills it.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import logging
from collections import deque
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from aiohttp import web

from . import rest_conversations, rest_resources, rest_widgets
from .envelope import fail
from .rest_registry import HANDLERS, Call, Refused
from .router import Router, load_routes
from .store import JSON, Conversation, now_ms

if TYPE_CHECKING:
    from .server import Sandbox

__all__ = ["RestApi"]

log = logging.getLogger(__name__)

# The handler modules register their routes in HANDLERS when imported.
_HANDLER_MODULES = (rest_conversations, rest_resources, rest_widgets)


# Routes a plugin token may not call (user-tier routes).
RESTRICTED = {
    "checkWebsiteExists",
    "createWebsite",
    "deleteWebsite",
    "abortWebsiteDeletion",
    "listAllActiveSubscriptions",
    "subscribeWebsiteToPlugin",
    "unsubscribePluginFromWebsite",
    "getPlanSubscriptionForWebsite",
    "subscribeWebsiteToPlan",
    "unsubscribePlanFromWebsite",
    "changeBillPeriodForWebsitePlanSubscription",
    "checkCouponAvailabilityForWebsitePlanSubscription",
    "redeemCouponForWebsitePlanSubscription",
    "getUserConnectEndpoints",
    "getWebsiteTierConnectEndpoints",
}

WITH_BODY = {"POST", "PUT", "PATCH"}
BODY_KEY = web.RequestKey("crisp_body", object)


class RestApi:
    """The ``/v1/`` side of the sandbox."""

    def __init__(self, sandbox: Sandbox, request_log_size: int = 10_000) -> None:
        self.sb = sandbox
        self.router = Router(load_routes(), prefer=set(HANDLERS))
        self.requests: deque[JSON] = deque(maxlen=request_log_size)
        self.served = 0  # REST requests answered since start (the log is bounded)
        self._auth = "Basic " + base64.b64encode(
            f"{sandbox.identifier}:{sandbox.key}".encode()
        ).decode("ascii")
        self._auth_bytes = self._auth.encode()

    @property
    def emulated(self) -> list[str]:
        return sorted(n for n in self.router.names if n in HANDLERS)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        raw_path = request.raw_path
        qpos = raw_path.find("?")
        path = raw_path if qpos < 0 else raw_path[:qpos]
        method = request.method
        body: Any = None
        try:
            response = await self._answer(request, method, path, qpos, raw_path)
        except Refused as refused:
            response = refused.response
        except web.HTTPRequestEntityTooLarge:
            limit = self.sb.body_limit
            response = fail(413, "request_too_large", f"request body over the {limit} byte limit")
        except Exception as exc:  # a sandbox bug must still answer in Crisp's shape
            log.exception("sandbox error on %s %s", method, path)
            response = fail(500, "error", f"sandbox internal error: {type(exc).__name__}")
        body = request.get(BODY_KEY)
        self.served += 1
        self.requests.append(
            {
                "method": method,
                "path": unquote(path) if "%" in path else path,
                "query": raw_path[qpos + 1 :] if qpos >= 0 else "",
                "status": response.status,
                "body": body,
                "at": now_ms(),
            }
        )
        if method == "HEAD":
            return web.Response(status=response.status, headers=response.headers)
        return response

    async def _answer(
        self, request: web.Request, method: str, path: str, qpos: int, raw_path: str
    ) -> web.Response:
        faults = self.sb.faults
        if faults.active:
            if faults.latency_ms:
                await asyncio.sleep(faults.latency_ms / 1000)
            refusal = faults.refusal()
            if refusal is not None:
                return refusal
        found = self.router.match(method, path)
        if found is None:
            verbs = self.router.allowed_verbs(path)
            hint = f" (this path accepts {', '.join(verbs)})" if verbs else ""
            return fail(404, "not_found", f"route {method} {path} does not exist{hint}")
        route, params = found
        auth = request.headers.get("Authorization")
        if auth is None:
            return fail(401, "invalid_session", "missing Authorization header (Basic token)")
        try:
            given = auth.encode()
        except UnicodeEncodeError:  # raw non-UTF-8 bytes in the header
            return fail(401, "invalid_session", "malformed Authorization header")
        if not hmac.compare_digest(given, self._auth_bytes):
            return fail(401, "invalid_session", "wrong token identifier or key")
        tier = request.headers.get("X-Crisp-Tier", "user")
        if tier != "plugin":
            return fail(
                401,
                "invalid_session",
                f"this token is a plugin token, not valid for tier {tier!r}"
                " (send X-Crisp-Tier: plugin)",
            )
        if route.name in RESTRICTED:
            return fail(
                403,
                "restricted_route_tier",
                f"{route.name} ({route.verb} {route.template}) is not open to the plugin tier",
            )
        handler = HANDLERS.get(route.name)
        if handler is None:
            return fail(
                501,
                "not_emulated",
                f"the sandbox does not emulate {route.name} ({route.verb} {route.template})",
            )
        call = Call(request, route, {k: unquote(v) if "%" in v else v for k, v in params.items()})
        if qpos >= 0:
            call.query = dict(parse_qsl(raw_path[qpos + 1 :]))
        if method in WITH_BODY or (method == "DELETE" and request.can_read_body):
            raw = await request.read()
            if raw:
                try:
                    call.body = json.loads(raw)
                except ValueError:
                    return fail(400, "invalid_data", "data should be valid JSON")
                request[BODY_KEY] = call.body
            elif method in WITH_BODY:
                call.body = {}
        website_id = call.params.get("websiteID")
        if website_id is not None:
            site = self.sb.store.websites.get(website_id)
            if site is None or not site.subscribed:
                return fail(
                    404,
                    "not_subscribed",
                    f"website {website_id} has not installed the plugin (or does not exist)",
                )
            call.site = site
        return await handler(self, call)

    # -- helpers ---------------------------------------------------------------

    def conversation(self, call: Call) -> Conversation:
        assert call.site is not None
        sid = call.params["sessionID"]
        conv = call.site.conversations.get(sid)
        if conv is None:
            raise Refused(fail(404, "not_found", f"conversation {sid} not found"))
        return conv

    def message(self, call: Call, conv: Conversation) -> JSON:
        raw = call.params["fingerprint"]
        try:
            fp = int(raw)
        except ValueError:
            raise Refused(fail(400, "invalid_data", "fingerprint should be an integer")) from None
        message = conv.by_fingerprint.get(fp)
        if message is None:
            raise Refused(fail(404, "not_found", f"message {fp} not found"))
        return message
