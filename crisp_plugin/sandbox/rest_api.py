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
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from aiohttp import web

from . import actions, validate
from .envelope import fail, ok
from .router import Route, Router, load_routes
from .store import JSON, Conversation, Website, now_ms

if TYPE_CHECKING:
    from .server import Sandbox

__all__ = ["RestApi"]

log = logging.getLogger(__name__)


class _Call:
    """One request being answered: its parsed pieces, for handlers."""

    __slots__ = ("body", "params", "query", "request", "route", "site")

    def __init__(self, request: web.Request, route: Route, params: dict[str, str]) -> None:
        self.request = request
        self.route = route
        self.params = params
        self.query: dict[str, str] = {}
        self.body: Any = None
        self.site: Website | None = None


class _Refused(Exception):
    def __init__(self, response: web.Response) -> None:
        self.response = response


Handler = Callable[["RestApi", _Call], Awaitable[web.Response]]
HANDLERS: dict[str, Handler] = {}


def handles(*names: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for name in names:
            HANDLERS[name] = fn
        return fn

    return register


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
        except _Refused as refused:
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
        call = _Call(request, route, {k: unquote(v) if "%" in v else v for k, v in params.items()})
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

    def conversation(self, call: _Call) -> Conversation:
        assert call.site is not None
        sid = call.params["sessionID"]
        conv = call.site.conversations.get(sid)
        if conv is None:
            raise _Refused(fail(404, "not_found", f"conversation {sid} not found"))
        return conv

    def message(self, call: _Call, conv: Conversation) -> JSON:
        raw = call.params["fingerprint"]
        try:
            fp = int(raw)
        except ValueError:
            raise _Refused(fail(400, "invalid_data", "fingerprint should be an integer")) from None
        message = conv.by_fingerprint.get(fp)
        if message is None:
            raise _Refused(fail(404, "not_found", f"message {fp} not found"))
        return message


def _check(problem: str | None) -> None:
    if problem:
        raise _Refused(fail(400, "invalid_data", problem))


def _page(call: _Call) -> int:
    try:
        page = int(call.params.get("pageNumber", "1"))
    except ValueError:
        raise _Refused(fail(400, "invalid_data", "page number should be an integer")) from None
    if page < 1:
        raise _Refused(fail(400, "invalid_data", "page number should be >= 1"))
    return page


# -- messages ------------------------------------------------------------------


@handles("sendMessageInConversation")
async def _send_message(api: RestApi, call: _Call) -> web.Response:
    conv = api.conversation(call)
    _check(validate.check_message(call.body))
    assert call.site is not None
    message = await actions.post_message(api.sb.bus, call.site, conv, call.body, api.sb.plugin_id)
    return ok({"fingerprint": message["fingerprint"]}, reason="dispatched", status=202)


@handles("getMessagesInConversation")
async def _list_messages(api: RestApi, call: _Call) -> web.Response:
    conv = api.conversation(call)
    messages = conv.messages
    try:
        if "timestamp_before" in call.query:
            before = int(call.query["timestamp_before"])
            messages = [m for m in messages if m["timestamp"] < before][-40:]
        elif "timestamp_after" in call.query:
            after = int(call.query["timestamp_after"])
            messages = [m for m in messages if m["timestamp"] > after][:40]
        else:
            messages = messages[-40:]
    except ValueError:
        _check("timestamp_before / timestamp_after should be integers (ms)")
    return ok(messages)


@handles("getMessageInConversation")
async def _get_message(api: RestApi, call: _Call) -> web.Response:
    conv = api.conversation(call)
    return ok(api.message(call, conv))


@handles("updateMessageInConversation")
async def _edit_message(api: RestApi, call: _Call) -> web.Response:
    conv = api.conversation(call)
    message = api.message(call, conv)
    _check(validate.check_message_edit(call.body))
    content = call.body["content"]
    checker = validate.CONTENT_CHECKS[message["type"]]
    _check(checker(content, "data.content"))
    await actions.edit_message(api.sb.bus, conv, message, content)
    return ok(reason="updated")


@handles("removeMessageInConversation")
async def _remove_message(api: RestApi, call: _Call) -> web.Response:
    conv = api.conversation(call)
    message = api.message(call, conv)
    await actions.remove_message(api.sb.bus, conv, message["fingerprint"])
    return ok(reason="deleted")


@handles("composeMessageInConversation")
async def _compose(api: RestApi, call: _Call) -> web.Response:
    conv = api.conversation(call)
    _check(validate.check_compose(call.body))
    assert call.site is not None
    await actions.compose(api.sb.bus, call.site, conv, call.body, api.sb.plugin_id)
    return ok(reason="dispatched")


@handles("markMessagesReadInConversation", "markMessagesDeliveredInConversation")
async def _mark(api: RestApi, call: _Call) -> web.Response:
    conv = api.conversation(call)
    _check(validate.check_read(call.body))
    what = "read" if call.route.name == "markMessagesReadInConversation" else "delivered"
    await actions.mark(api.sb.bus, conv, what, call.body)
    return ok(reason="updated")


# -- conversations ---------------------------------------------------------------


@handles("createNewConversation")
async def _create_conversation(api: RestApi, call: _Call) -> web.Response:
    assert call.site is not None
    conv = api.sb.store.new_conversation(call.site)
    return ok({"session_id": conv.session_id}, reason="added")


@handles("getConversation", "checkConversationExists")
async def _get_conversation(api: RestApi, call: _Call) -> web.Response:
    return ok(api.conversation(call).to_json())


@handles("removeConversation")
async def _remove_conversation(api: RestApi, call: _Call) -> web.Response:
    conv = api.conversation(call)
    assert call.site is not None
    del call.site.conversations[conv.session_id]
    await api.sb.bus.emit(
        "session:removed",
        {"website_id": conv.website_id, "session_id": conv.session_id, "inbox_id": None},
    )
    return ok(reason="deleted")


@handles("listConversations")
async def _list_conversations(api: RestApi, call: _Call) -> web.Response:
    assert call.site is not None
    page = _page(call)
    try:
        per_page = min(50, max(20, int(call.query.get("per_page", "20"))))
    except ValueError:
        per_page = 20
    convs = sorted(call.site.conversations.values(), key=lambda c: -c.updated_at)
    q = call.query
    if q.get("filter_resolved") == "1":
        convs = [c for c in convs if c.state == "resolved"]
    if q.get("filter_not_resolved") == "1":
        convs = [c for c in convs if c.state != "resolved"]
    if q.get("filter_unread") == "1":
        convs = [c for c in convs if c.unread_operator]
    if q.get("filter_assigned"):
        convs = [c for c in convs if c.assigned == q["filter_assigned"]]
    if q.get("filter_unassigned") == "1":
        convs = [c for c in convs if not c.assigned]
    needle = q.get("search_query", "").lower()
    if needle:
        convs = [c for c in convs if _matches(c, needle)]
    if q.get("include_empty") != "1" and "include_empty" in q:
        convs = [c for c in convs if c.messages]
    chunk = convs[(page - 1) * per_page : page * per_page]
    return ok([c.to_json() for c in chunk])


def _matches(conv: Conversation, needle: str) -> bool:
    for m in conv.messages:
        if isinstance(m["content"], str) and needle in m["content"].lower():
            return True
    return any(isinstance(v, str) and needle in v.lower() for v in conv.meta.values())


@handles("getConversationState")
async def _get_state(api: RestApi, call: _Call) -> web.Response:
    return ok({"state": api.conversation(call).state})


@handles("changeConversationState")
async def _set_state(api: RestApi, call: _Call) -> web.Response:
    conv = api.conversation(call)
    _check(validate.check_state(call.body))
    await actions.set_state(api.sb.bus, conv, call.body["state"])
    return ok(reason="updated")


@handles("getConversationMetas")
async def _get_meta(api: RestApi, call: _Call) -> web.Response:
    return ok(api.conversation(call).meta_json())


@handles("updateConversationMetas")
async def _set_meta(api: RestApi, call: _Call) -> web.Response:
    conv = api.conversation(call)
    _check(validate.check_meta(call.body))
    await actions.set_meta(api.sb.bus, conv, call.body)
    return ok(reason="updated")


@handles("getConversationRoutingAssign")
async def _get_routing(api: RestApi, call: _Call) -> web.Response:
    conv = api.conversation(call)
    return ok({"assigned": {"user_id": conv.assigned} if conv.assigned else None})


@handles("assignConversationRouting")
async def _set_routing(api: RestApi, call: _Call) -> web.Response:
    conv = api.conversation(call)
    _check(validate.check_routing(call.body))
    assigned = call.body["assigned"]
    await actions.assign(api.sb.bus, conv, assigned["user_id"] if assigned else None)
    return ok(reason="updated")


# -- people ------------------------------------------------------------------------


def _profile(api: RestApi, call: _Call) -> JSON:
    assert call.site is not None
    key = call.params["peopleID"]
    people = call.site.people
    profile = people.get(key)
    if profile is None:
        profile = next((p for p in people.values() if p.get("email") == key), None)
    if profile is None:
        raise _Refused(fail(404, "not_found", f"people profile {key} not found"))
    return profile


@handles("addNewPeopleProfile")
async def _add_profile(api: RestApi, call: _Call) -> web.Response:
    assert call.site is not None
    _check(validate.check_people_profile(call.body, require_email=True))
    email = call.body["email"]
    if any(p.get("email") == email for p in call.site.people.values()):
        return fail(409, "people_exists", f"a people profile with email {email} exists")
    people_id = str(uuid.uuid4())
    now = now_ms()
    profile = {**call.body, "people_id": people_id, "created_at": now, "updated_at": now}
    profile.setdefault("segments", [])
    call.site.people[people_id] = profile
    await api.sb.bus.emit(
        "people:profile:created",
        {"website_id": call.site.website_id, "people_id": people_id, "email": email},
    )
    return ok({"people_id": people_id}, reason="added")


@handles("getPeopleProfile", "checkPeopleProfileExists")
async def _get_profile(api: RestApi, call: _Call) -> web.Response:
    return ok(_profile(api, call))


@handles("updatePeopleProfile", "savePeopleProfile")
async def _update_profile(api: RestApi, call: _Call) -> web.Response:
    profile = _profile(api, call)
    _check(validate.check_people_profile(call.body, require_email=False))
    if call.route.name == "savePeopleProfile":
        keep = {k: profile[k] for k in ("people_id", "created_at")}
        profile.clear()
        profile.update(keep)
    for key, value in call.body.items():
        if key in ("person", "company") and isinstance(value, dict):
            profile[key] = {**(profile.get(key) or {}), **value}
        else:
            profile[key] = value
    profile["updated_at"] = now_ms()
    assert call.site is not None
    await api.sb.bus.emit(
        "people:profile:updated",
        {"website_id": call.site.website_id, "people_id": profile["people_id"]},
    )
    return ok(reason="updated")


@handles("removePeopleProfile")
async def _remove_profile(api: RestApi, call: _Call) -> web.Response:
    profile = _profile(api, call)
    assert call.site is not None
    del call.site.people[profile["people_id"]]
    await api.sb.bus.emit(
        "people:profile:removed",
        {"website_id": call.site.website_id, "people_id": profile["people_id"]},
    )
    return ok(reason="deleted")


@handles("listPeopleProfiles")
async def _list_profiles(api: RestApi, call: _Call) -> web.Response:
    assert call.site is not None
    page = _page(call)
    profiles = list(call.site.people.values())
    return ok(profiles[(page - 1) * 20 : page * 20])


# -- website -----------------------------------------------------------------------


@handles("getWebsite")
async def _get_website(api: RestApi, call: _Call) -> web.Response:
    assert call.site is not None
    return ok(call.site.to_json())


@handles("listWebsiteOperators")
async def _list_operators(api: RestApi, call: _Call) -> web.Response:
    assert call.site is not None
    return ok(
        [{"type": "operator", "details": {**o, "has_token": False}} for o in call.site.operators]
    )


@handles("getWebsiteAvailabilityStatus")
async def _availability(api: RestApi, call: _Call) -> web.Response:
    assert call.site is not None
    return ok({"status": "online", "since": call.site.installed_at // 1000})


@handles("listWebsiteOperatorAvailabilities")
async def _operator_availability(api: RestApi, call: _Call) -> web.Response:
    assert call.site is not None
    since = call.site.installed_at // 1000
    return ok(
        [
            {"user_id": o["user_id"], "type": o["availability"], "time": {"for": 0, "since": since}}
            for o in call.site.operators
        ]
    )


# -- plugin connect ----------------------------------------------------------------


@handles("getConnectAccount")
async def _account(api: RestApi, call: _Call) -> web.Response:
    return ok({"plugin_id": api.sb.plugin_id})


@handles("checkConnectSessionValidity")
async def _session(api: RestApi, call: _Call) -> web.Response:
    return ok()


@handles("getConnectEndpoints", "getWebsiteTierConnectEndpoints", "getUserConnectEndpoints")
async def _endpoints(api: RestApi, call: _Call) -> web.Response:
    url = api.sb.relay_url
    return ok({"socket": {"app": url}, "rescue": {"socket": {"app": url}}})


def _connect_website(site: Website, include_plan: bool) -> JSON:
    data: JSON = {
        "website_id": site.website_id,
        "token": site.token,
        "settings": site.settings,
        "price": 0,
    }
    if include_plan:
        data["plan"] = {"id": "sandbox", "name": "Sandbox", "trialing": False}
    return data


@handles("listAllConnectWebsites")
async def _connect_websites(api: RestApi, call: _Call) -> web.Response:
    page = _page(call)
    sites = [s for s in api.sb.store.websites.values() if s.subscribed]
    if call.query.get("filter_configured") == "1":
        sites = [s for s in sites if s.settings]
    include_plan = call.query.get("include_plan") == "1"
    chunk = sites[(page - 1) * 20 : page * 20]
    return ok([_connect_website(s, include_plan) for s in chunk])


@handles("listConnectWebsitesSince")
async def _connect_websites_since(api: RestApi, call: _Call) -> web.Response:
    raw = call.query.get("date_since", "")
    try:
        since = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
    except ValueError:
        return fail(400, "invalid_data", "date_since should be an ISO 8601 date")
    since_ms = int(since.timestamp() * 1000)
    include_plan = call.query.get("include_plan") == "1"
    out = []
    for site in api.sb.store.websites.values():
        if site.changed_at < since_ms:
            continue
        item = _connect_website(site, include_plan)
        if not site.subscribed:
            item["difference"] = "unlinked"
        elif site.installed_at >= since_ms:
            item["difference"] = "linked"
        else:
            item["difference"] = "updated"
        out.append(item)
    return ok(out)


# -- subscription settings -----------------------------------------------------------


def _own_plugin(api: RestApi, call: _Call) -> Website:
    if call.params["pluginID"] != api.sb.plugin_id:
        raise _Refused(
            fail(404, "not_found", f"plugin {call.params['pluginID']} is not this token's plugin")
        )
    assert call.site is not None
    return call.site


@handles("getSubscriptionSettings")
async def _get_settings(api: RestApi, call: _Call) -> web.Response:
    site = _own_plugin(api, call)
    return ok(
        {
            "plugin_id": api.sb.plugin_id,
            "website_id": site.website_id,
            "token": site.token,
            "schema": {},
            "settings": site.settings,
            "settings_form_url": "",
            "callback_url": "",
        }
    )


@handles("saveSubscriptionSettings", "updateSubscriptionSettings")
async def _save_settings(api: RestApi, call: _Call) -> web.Response:
    site = _own_plugin(api, call)
    if not isinstance(call.body, dict):
        return fail(400, "invalid_data", "data should be object")
    if call.route.name == "saveSubscriptionSettings":
        settings = dict(call.body)
    else:
        settings = {**site.settings, **call.body}
    await actions.save_settings(api.sb.bus, site, settings, api.sb.plugin_id)
    return ok(reason="updated")
