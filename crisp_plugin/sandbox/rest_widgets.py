"""The deliver-widget REST routes: a widget action started by the plugin itself.

``POST /v1/website/{w}/conversation/{s}/widget/{plugin_id}/button``
``{section_id, item_id, data, value?}`` and ``.../data`` ``{section_id, item_id, data}``
(fetch) or ``{section_id, item_id, value}`` (edit) answer ``202`` with
``{correlation_id, strategy: {attempts, exhaustion}}``; the sandbox then posts the
action to the plugin's Action URL as a click would be posted (widget_actions.py) and
emits ``widget:action:processed`` with the outcome.

Refused as Crisp refuses bad input, nothing started: 404 ``not_found`` for a plugin id
that is not this token's, an unknown conversation, or (when a widget schema is
registered) a section or item it does not have; 400 ``invalid_data`` naming the field
for a malformed body, or an item of the wrong kind for the route (a data item on
``/button``, a link or modal button, which Crisp opens and never posts). Without a
registered widget schema any ids are taken.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from .envelope import fail, ok
from .rest_registry import Call, Refused, check, handles
from .widget_actions import ActionRequest
from .widget_schema import find_item

if TYPE_CHECKING:
    from .rest_api import RestApi

__all__: list[str] = []


def _body_problem(body: object, route: str) -> str | None:
    if not isinstance(body, dict):
        return "data should be object"
    for name in ("section_id", "item_id"):
        if name not in body:
            return f"data should have required property '{name}'"
        if not isinstance(body[name], str) or not body[name]:
            return f"data.{name} should be string"
    edit = route == "data" and "value" in body
    if "data" not in body and not edit:
        return "data should have required property 'data'"
    if "data" in body and not isinstance(body["data"], dict):
        return "data.data should be object"
    if "value" in body and not isinstance(body["value"], str):
        return "data.value should be string"
    return None


def _check_item(api: RestApi, section_id: str, item_id: str, route: str) -> None:
    schema = api.sb.listing.widget_schema
    if schema is None:
        return
    item = find_item(schema, section_id, item_id)
    if item is None:
        raise Refused(
            fail(404, "not_found", f"widget item {section_id}/{item_id} not found in the schema")
        )
    if item["type"] != route:
        raise Refused(
            fail(
                400,
                "invalid_data",
                f"widget item {section_id}/{item_id} is a {item['type']} item, not a {route}",
            )
        )
    if route == "button" and item["value"]["type"] in ("link", "modal"):
        raise Refused(
            fail(
                400,
                "invalid_data",
                f"widget item {section_id}/{item_id} is a {item['value']['type']} button: "
                "it opens a URL, there is no action to deliver",
            )
        )


@handles(
    "deliverWidgetButtonActionForConversation",
    "deliverWidgetDataFetchActionForConversation",
    "deliverWidgetDataEditActionForConversation",
)
async def _deliver(api: RestApi, call: Call) -> web.Response:
    assert call.site is not None
    route = "button" if call.route.template.endswith("/button") else "data"
    if call.params["pluginID"] != api.sb.plugin_id:
        raise Refused(
            fail(404, "not_found", f"plugin {call.params['pluginID']} is not this token's plugin")
        )
    conv = api.conversation(call)
    body = call.body
    check(_body_problem(body, route))
    _check_item(api, body["section_id"], body["item_id"], route)
    value = {body["item_id"]: body["value"]} if "value" in body else {}
    request = ActionRequest(
        website_id=call.site.website_id,
        session_id=conv.session_id,
        token=call.site.token,
        section_id=body["section_id"],
        item_id=body["item_id"],
        action="button" if route == "button" else "data",
        data=dict(body.get("data") or {}),
        value=value,
    )
    return ok(api.sb.widgets.deliver(request), reason="dispatched", status=202)
