"""The sandbox's REST handlers for the resources around conversations.

People profiles; the website, its operators and their availability; the plugin
connect routes (account, endpoints, websites) and subscription settings. Each handler
registers itself with ``@handles`` (rest_registry.py); rest_api.py imports this module
and dispatches to them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aiohttp import web

from . import actions, validate
from .envelope import fail, ok
from .rest_registry import Call, Refused, check, handles, page_number
from .store import JSON, Website, now_ms

if TYPE_CHECKING:
    from .rest_api import RestApi

__all__: list[str] = []


# -- people ------------------------------------------------------------------------


def _profile(api: RestApi, call: Call) -> JSON:
    assert call.site is not None
    key = call.params["peopleID"]
    people = call.site.people
    profile = people.get(key)
    if profile is None:
        profile = next((p for p in people.values() if p.get("email") == key), None)
    if profile is None:
        raise Refused(fail(404, "not_found", f"people profile {key} not found"))
    return profile


@handles("addNewPeopleProfile")
async def _add_profile(api: RestApi, call: Call) -> web.Response:
    assert call.site is not None
    check(validate.check_people_profile(call.body, require_email=True))
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
async def _get_profile(api: RestApi, call: Call) -> web.Response:
    return ok(_profile(api, call))


@handles("updatePeopleProfile", "savePeopleProfile")
async def _update_profile(api: RestApi, call: Call) -> web.Response:
    profile = _profile(api, call)
    check(validate.check_people_profile(call.body, require_email=False))
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
async def _remove_profile(api: RestApi, call: Call) -> web.Response:
    profile = _profile(api, call)
    assert call.site is not None
    del call.site.people[profile["people_id"]]
    await api.sb.bus.emit(
        "people:profile:removed",
        {"website_id": call.site.website_id, "people_id": profile["people_id"]},
    )
    return ok(reason="deleted")


@handles("listPeopleProfiles")
async def _list_profiles(api: RestApi, call: Call) -> web.Response:
    assert call.site is not None
    page = page_number(call)
    profiles = list(call.site.people.values())
    return ok(profiles[(page - 1) * 20 : page * 20])


# -- website -----------------------------------------------------------------------


@handles("getWebsite")
async def _get_website(api: RestApi, call: Call) -> web.Response:
    assert call.site is not None
    return ok(call.site.to_json())


@handles("listWebsiteOperators")
async def _list_operators(api: RestApi, call: Call) -> web.Response:
    assert call.site is not None
    return ok(
        [{"type": "operator", "details": {**o, "has_token": False}} for o in call.site.operators]
    )


@handles("getWebsiteAvailabilityStatus")
async def _availability(api: RestApi, call: Call) -> web.Response:
    assert call.site is not None
    return ok({"status": "online", "since": call.site.installed_at // 1000})


@handles("listWebsiteOperatorAvailabilities")
async def _operator_availability(api: RestApi, call: Call) -> web.Response:
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
async def _account(api: RestApi, call: Call) -> web.Response:
    return ok({"plugin_id": api.sb.plugin_id})


@handles("checkConnectSessionValidity")
async def _session(api: RestApi, call: Call) -> web.Response:
    return ok()


@handles("getConnectEndpoints", "getWebsiteTierConnectEndpoints", "getUserConnectEndpoints")
async def _endpoints(api: RestApi, call: Call) -> web.Response:
    url = api.sb.relay_url
    return ok({"socket": {"app": url}, "rescue": {"socket": {"app": url}}})


CONNECT_PAGE_SIZE = 20
"""Websites per page of ``websites/all`` (Crisp does not document its page size)."""


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


def _flag(call: Call, name: str) -> bool:
    """A 0/1 query flag (the official clients send "0" or "1"); anything else is a 400."""
    raw = call.query.get(name, "0")
    if raw not in ("0", "1", "true", "false"):
        raise Refused(fail(400, "invalid_data", f"{name} should be 0 or 1"))
    return raw in ("1", "true")


@handles("listAllConnectWebsites")
async def _connect_websites(api: RestApi, call: Call) -> web.Response:
    page = page_number(call)
    configured_only = _flag(call, "filter_configured")
    include_plan = _flag(call, "include_plan")
    sites = [
        s
        for s in api.sb.store.websites.values()
        if s.subscribed and (s.configured or not configured_only)
    ]
    chunk = sites[(page - 1) * CONNECT_PAGE_SIZE : page * CONNECT_PAGE_SIZE]
    return ok([_connect_website(s, include_plan) for s in chunk])


def _date_since(call: Call) -> int:
    raw = call.query.get("date_since")
    if not raw:
        raise Refused(
            fail(
                400,
                "invalid_data",
                "date_since is required (an RFC 3339 date, e.g. 2024-05-01T12:00:00Z)",
            )
        )
    # An unencoded "+01:00" offset reaches us as " 01:00" (a "+" in a query is a space).
    text = raw.strip().replace(" ", "+").replace("z", "Z").replace("Z", "+00:00")
    try:
        since = datetime.fromisoformat(text)
    except ValueError:
        raise Refused(
            fail(400, "invalid_data", f"date_since should be an RFC 3339 date, not {raw!r}")
        ) from None
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return int(since.timestamp() * 1000)


@handles("listConnectWebsitesSince")
async def _connect_websites_since(api: RestApi, call: Call) -> web.Response:
    since_ms = _date_since(call)
    configured_only = _flag(call, "filter_configured")
    include_plan = _flag(call, "include_plan")
    out = []
    for site in api.sb.store.websites.values():
        if site.changed_at < since_ms or (configured_only and not site.configured):
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


def _own_plugin(api: RestApi, call: Call) -> Website:
    if call.params["pluginID"] != api.sb.plugin_id:
        raise Refused(
            fail(404, "not_found", f"plugin {call.params['pluginID']} is not this token's plugin")
        )
    assert call.site is not None
    return call.site


@handles("getSubscriptionSettings")
async def _get_settings(api: RestApi, call: Call) -> web.Response:
    site = _own_plugin(api, call)
    listing = api.sb.listing
    return ok(
        {
            "plugin_id": api.sb.plugin_id,
            "website_id": site.website_id,
            "token": site.token,
            "schema": listing.settings_schema or {},
            "settings": site.settings,
            "settings_form_url": listing.settings_url or "",
            "callback_url": "",
        }
    )


@handles("saveSubscriptionSettings", "updateSubscriptionSettings")
async def _save_settings(api: RestApi, call: Call) -> web.Response:
    """PUT replaces the settings, PATCH merges the body's top-level keys into them; the
    result must fit the plugin's settings schema, else 400 and nothing is stored."""
    site = _own_plugin(api, call)
    if not isinstance(call.body, dict):
        return fail(400, "invalid_data", "data should be object")
    if call.route.name == "saveSubscriptionSettings":
        settings = dict(call.body)
    else:
        settings = {**site.settings, **call.body}
    check(api.sb.listing.settings_problem(settings))
    await actions.save_settings(api.sb.bus, site, settings, api.sb.plugin_id)
    return ok(reason="updated")
