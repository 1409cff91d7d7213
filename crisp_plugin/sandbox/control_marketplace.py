"""The control API's Marketplace part: the plugin's entry, and its widgets at work.

====== ====================================== ===========================================
verb   path                                   what
====== ====================================== ===========================================
GET    /_sandbox/plugin                       ``{plugin_id, urn, settings_url, action_url,
                                              settings_schema, widget_schema}``
PUT    /_sandbox/plugin                       any of ``{settings_url, action_url,
                                              settings_schema, widget_schema}`` (null
                                              clears one); all checked first, 400 naming
                                              the key and nothing changed -> as GET
GET    .../conversations/{s}/widget           the widget schema rendered for that
                                              conversation: bindings resolved, conditions
                                              evaluated (``visible``); 404 without one
POST   .../conversations/{s}/widget/action    an operator's click: ``{section_id, item_id,
                                              value?}`` (a data item: a string, an edit;
                                              none, a fetch; a submit button: ``{item_id:
                                              input}`` of its group) -> the record of the
                                              POST to the Action URL (body, signature
                                              headers, status, answer or error)
GET    /_sandbox/widget/actions               every Action URL attempt, oldest first
                                              (clicks and delivered actions); DELETE
                                              clears the log
====== ====================================== ===========================================

A click is posted server side, so the dashboard needs no CORS from the plugin; the
sandbox binds the item's data from the conversation itself, as Crisp does. Refused
(``{"error"}``): 404 when no widget schema is registered, or for an unknown section or
item; 409 when no Action URL is registered, or the plugin is not installed on the
website; 400 for a link or modal button (Crisp opens those, it posts nothing), an
edit of an item that is not editable, an item hidden by its condition, or a malformed
value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from .control_base import Problem, conversation_of, json_response, read_body
from .marketplace import ListingError
from .store import JSON, Conversation, Website
from .widget_actions import ActionRequest
from .widget_bindings import bind_data, condition
from .widget_schema import find_item, render

if TYPE_CHECKING:
    from .server import Sandbox

__all__ = ["add_marketplace_routes", "widget_context"]


def widget_context(site: Website, conv: Conversation) -> JSON:
    """What a widget's bindings read: the conversation (with its messages), the
    operator at the dashboard (the website's first operator) and the website."""
    conversation = conv.to_json()
    conversation["messages"] = conv.messages
    return {
        "conversation": conversation,
        "operator": dict(site.operators[0]) if site.operators else {},
        "website": site.to_json(),
    }


def _section(schema: JSON, section_id: str) -> JSON | None:
    for section in schema.get("sections", ()):
        if section.get("id") == section_id:
            return dict(section)
    return None


class MarketControl:
    """Handlers of the Marketplace part of the control API."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb

    def _plugin_json(self) -> web.Response:
        return json_response({"plugin_id": self.sb.plugin_id, **self.sb.listing.to_json()})

    async def plugin(self, request: web.Request) -> web.Response:
        if request.method == "PUT":
            try:
                self.sb.listing.update(await read_body(request))
            except ListingError as exc:
                raise Problem(400, str(exc)) from None
        return self._plugin_json()

    def _schema(self) -> JSON:
        schema = self.sb.listing.widget_schema
        if schema is None:
            raise Problem(
                404, "the plugin has no widget schema (PUT /_sandbox/plugin widget_schema)"
            )
        return schema

    async def widget(self, request: web.Request) -> web.Response:
        site, conv = conversation_of(self.sb.store, request)
        rendered = render(self._schema(), widget_context(site, conv))
        rendered["installed"] = site.subscribed
        rendered["action_url"] = self.sb.listing.action_url
        return json_response(rendered)

    async def action(self, request: web.Request) -> web.Response:
        site, conv = conversation_of(self.sb.store, request)
        body = await read_body(request)
        schema = self._schema()
        if not site.subscribed:
            raise Problem(409, f"the plugin is not installed on website {site.website_id}")
        if self.sb.listing.action_url is None:
            raise Problem(409, "the plugin has no Action URL (PUT /_sandbox/plugin action_url)")
        section_id, item_id = body.get("section_id"), body.get("item_id")
        if not isinstance(section_id, str) or not isinstance(item_id, str):
            raise Problem(400, "section_id and item_id should be strings")
        section = _section(schema, section_id)
        item = find_item(schema, section_id, item_id)
        if section is None or item is None:
            raise Problem(404, f"widget item {section_id}/{item_id} is not in the schema")
        context = widget_context(site, conv)
        for what, obj in (("section", section), ("item", item)):
            if condition(obj.get("condition"), context) is False:
                raise Problem(400, f"the {what} is hidden by its condition in this conversation")
        request_ = ActionRequest(
            website_id=site.website_id,
            session_id=conv.session_id,
            token=site.token,
            section_id=section_id,
            item_id=item_id,
            action="button" if item["type"] == "button" else "data",
            data=bind_data(item["value"].get("data"), context),
            value=self._value(section, item, body.get("value")),
        )
        return json_response(await self.sb.widgets.post(request_, source="dashboard"))

    def _value(self, section: JSON, item: JSON, given: Any) -> JSON:
        """``payload.value`` for the click, checked against the item."""
        value = item["value"]
        if item["type"] == "data":
            if given is None:
                return {}  # a fetch
            if not isinstance(given, str):
                raise Problem(400, "value should be a string (the data item's new value)")
            if value.get("editable", True) is False:
                raise Problem(400, f"data item {item['id']} is not editable")
            return {item["id"]: given}
        kind = value["type"]
        if kind in ("link", "modal"):
            raise Problem(400, f"a {kind} button opens its URL: nothing is posted to the plugin")
        if kind == "hook" or given is None:
            return {}
        if not isinstance(given, dict) or not all(isinstance(v, str) for v in given.values()):
            raise Problem(400, "value should be an object of item_id: text")
        fields = {
            i["id"]
            for i in section.get("items", ())
            if i.get("type") == "data" and i["value"].get("group") == value.get("group")
        }
        strangers = sorted(set(given) - fields)
        if strangers:
            raise Problem(
                400,
                f"value names {', '.join(strangers)}: not data items of this button's group",
            )
        return dict(given)

    async def actions(self, request: web.Request) -> web.Response:
        if request.method == "DELETE":
            self.sb.widgets.log.clear()
        return json_response(list(self.sb.widgets.log))


def add_marketplace_routes(sub: web.Application, sb: Sandbox) -> None:
    """Add these routes to the control API's sub-application."""
    c = MarketControl(sb)
    conv = "/websites/{w}/conversations/{s}"
    r = sub.router
    r.add_get("/plugin", c.plugin)
    r.add_put("/plugin", c.plugin)
    r.add_get(conv + "/widget", c.widget)
    r.add_post(conv + "/widget/action", c.action)
    r.add_get("/widget/actions", c.actions)
    r.add_delete("/widget/actions", c.actions)
