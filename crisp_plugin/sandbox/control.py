"""The control API under ``/_sandbox/``: play the visitor and steer the sandbox.

JSON in, JSON out, no auth (the sandbox listens on loopback), never subject to
faults. ``{w}`` is a website id, ``{s}`` a session id. Errors answer
``{"error": "<message>"}`` with a 4xx status.

====== ====================================== ===========================================
verb   path                                   what
====== ====================================== ===========================================
GET    /_sandbox/info                         url, relay_url, dashboard_url, identifier,
                                              plugin_id, urn, websites, emulated routes,
                                              served (REST calls answered); never key
                                              or secret
POST   /_sandbox/reset                        forget conversations, people, logs, faults
GET    /_sandbox/websites                     websites: subscribed, token, configured,
                                              settings, settings_page (the iframe URL)
POST   /_sandbox/websites                     ``{website_id?, name?, subscribed?}`` -> site
POST   /_sandbox/websites/{w}/install         install the plugin (plugin:subscription:updated)
POST   /_sandbox/websites/{w}/uninstall       uninstall it
PUT    /_sandbox/websites/{w}/settings        save settings as the dashboard does
                                              (plugin:settings:saved): ``{settings,
                                              validate?}`` or the settings object; checked
                                              against the settings schema unless
                                              ``validate`` is false (400 naming the field);
                                              409 when the plugin is not installed
GET    /_sandbox/websites/{w}/conversations   conversations of a website (newest first)
POST   /_sandbox/websites/{w}/conversations   ``{nickname?, email?, phone?}`` ->
                                              ``{session_id}``
GET    .../conversations/{s}                  the conversation object
GET    .../conversations/{s}/transcript       every message, oldest first
POST   .../conversations/{s}/messages         visitor message: ``{text}`` or
                                              ``{type, content}``, ``fingerprint?`` ->
                                              ``{fingerprint}`` (message:send); 409 for a
                                              fingerprint the conversation already has
POST   .../conversations/{s}/choose           picker choice ``{value, fingerprint?}``
                                              (message:updated)
POST   .../conversations/{s}/field            field answer ``{value, fingerprint?}``
                                              (message:updated)
POST   .../conversations/{s}/compose          visitor typing ``{type: start|stop, excerpt?}``
POST   .../conversations/{s}/read             visitor read the operator's messages
POST   .../conversations/{s}/state            ``{state}`` (session:set_state)
POST   .../conversations/{s}/resolve          state resolved
POST   .../conversations/{s}/assign           ``{user_id|null}`` (session:set_routing)
POST   .../conversations/{s}/meta             ``{email?, nickname?, phone?, ...}``
GET    .../conversations/{s}/next_reply       long poll: ``?after=<fingerprint>&timeout=5``
                                              -> the next operator message after it (any
                                              type), 204 on timeout. Without ``after``: the
                                              first operator message after the visitor's
                                              last message.
GET    .../conversations/{s}/events           server-sent events of this conversation
                                              (``event: <name>``, ``data: <json>``)
GET    /_sandbox/events                       event log ``?event=&website_id=&session_id=``
GET    /_sandbox/hooks                        ``{urls, groups, retries}``: hook URLs,
                                              groups with their instances' health, the
                                              retry budget
POST   /_sandbox/hooks                        ``{url}`` adds a hook URL (-> as GET);
                                              ``{urls: [...], group?}`` adds a group: one
                                              subscription spread round-robin over those
                                              instance URLs (name made up if absent; 409
                                              if taken) -> the group
DELETE /_sandbox/hooks                        ``{url}`` or ``{group}`` removes it (-> as GET)
GET    /_sandbox/hooks/groups/{g}             ``{name, instances: [{url, healthy,
                                              skipped_for, attempts, delivered, failed,
                                              refused, last_status}]}``; DELETE removes it
POST   /_sandbox/hooks/groups/{g}/instances   ``{url}``: an instance joins (-> the group);
                                              DELETE ``{url}``: it leaves
GET    /_sandbox/hooks/retries                ``{delays, attempt_limit, window,
                                              refused_pause}`` (window: seconds from the
                                              first attempt to the last)
PUT    /_sandbox/hooks/retries                ``{delays?, attempt_limit?, refused_pause?}``:
                                              delays alone also set the limit to
                                              len(delays) + 1
GET    /_sandbox/deliveries                   hook delivery log: url, group, status,
                                              attempts ``[{attempt, url, status, at}]``
                                              (``?wait=1`` waits idle)
GET    /_sandbox/requests                     REST request log; DELETE clears it
GET    /_sandbox/relay                        relay sockets and their subscriptions
GET    /_sandbox/faults                       faults in force; PUT/POST sets some (keys of
                                              faults.Faults.update); DELETE clears all
POST   /_sandbox/faults/drop_rtm              disconnect every relay socket now
POST   /_sandbox/faults/relay_outage          ``{seconds}``: the relay goes away that long
                                              (sockets dropped, new ones refused; REST,
                                              hooks and this API go on) -> ``{dropped,
                                              seconds}``
====== ====================================== ===========================================

The plugin's Marketplace entry and its widgets: control_marketplace.py.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, TypeGuard

from aiohttp import web

from . import actions, validate
from .control_base import Problem as _Problem
from .control_base import conversation_of, problems, read_body, site_of
from .control_base import json_response as _json
from .control_marketplace import add_marketplace_routes
from .envelope import dumps
from .hooks import HookGroup
from .rest_conversations import duplicate_fingerprint
from .store import JSON, Conversation, Website

if TYPE_CHECKING:
    from .server import Sandbox

__all__ = ["PREFIX", "add_control_routes"]

PREFIX = "/_sandbox"


def _is_url(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and value.startswith(("http://", "https://"))


class Control:
    """Handlers of the control API."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb

    def site(self, request: web.Request) -> Website:
        return site_of(self.sb.store, request)

    def conv(self, request: web.Request) -> tuple[Website, Conversation]:
        return conversation_of(self.sb.store, request)

    # -- sandbox -------------------------------------------------------------------

    async def info(self, request: web.Request) -> web.Response:
        sb = self.sb
        return _json(
            {
                "url": sb.url,
                "relay_url": sb.relay_url,
                "dashboard_url": sb.dashboard_url,
                "identifier": sb.identifier,
                "plugin_id": sb.plugin_id,
                "urn": sb.urn,
                "websites": sb.websites,
                "emulated": sb.rest.emulated,
                "served": sb.rest.served,
            }
        )

    async def reset(self, request: web.Request) -> web.Response:
        self.sb.reset()
        return _json({"reset": True})

    async def websites(self, request: web.Request) -> web.Response:
        listing = self.sb.listing
        return _json(
            [
                {
                    **s.to_json(),
                    "subscribed": s.subscribed,
                    "token": s.token,
                    "configured": s.configured,
                    "settings": s.settings,
                    "settings_page": (
                        listing.settings_page(s.website_id, s.token) if s.subscribed else None
                    ),
                }
                for s in self.sb.store.websites.values()
            ]
        )

    async def add_website(self, request: web.Request) -> web.Response:
        body = await read_body(request)
        wid = body.get("website_id")
        if wid is not None and wid in self.sb.store.websites:
            raise _Problem(409, f"website {wid} exists")
        site = self.sb.store.add_website(
            wid, name=body.get("name"), subscribed=bool(body.get("subscribed", True))
        )
        return _json({**site.to_json(), "subscribed": site.subscribed})

    async def install(self, request: web.Request) -> web.Response:
        site = self.site(request)
        bound = request.match_info["action"] == "install"
        await actions.set_subscription(self.sb.bus, site, bound, self.sb.plugin_id)
        return _json({"website_id": site.website_id, "subscribed": bound})

    async def settings(self, request: web.Request) -> web.Response:
        site = self.site(request)
        body = await read_body(request)
        settings = body.get("settings", body)
        if not isinstance(settings, dict):
            raise _Problem(400, "settings should be an object")
        check = body.get("validate", True) if "settings" in body else True
        if not isinstance(check, bool):
            raise _Problem(400, "validate should be true or false")
        if not site.subscribed:
            raise _Problem(409, f"website {site.website_id} has not installed the plugin")
        problem = self.sb.listing.settings_problem(settings) if check else None
        if problem:
            raise _Problem(400, problem)
        await actions.save_settings(self.sb.bus, site, settings, self.sb.plugin_id)
        return _json({"website_id": site.website_id, "settings": settings})

    # -- conversations -------------------------------------------------------------------

    async def conversations(self, request: web.Request) -> web.Response:
        site = self.site(request)
        convs = sorted(site.conversations.values(), key=lambda c: -c.updated_at)
        return _json([c.to_json() for c in convs])

    async def new_conversation(self, request: web.Request) -> web.Response:
        site = self.site(request)
        body = await read_body(request)
        meta = {k: body[k] for k in ("nickname", "email", "phone") if isinstance(body.get(k), str)}
        conv = self.sb.store.new_conversation(site, meta)
        return _json({"website_id": site.website_id, "session_id": conv.session_id})

    async def conversation(self, request: web.Request) -> web.Response:
        _, conv = self.conv(request)
        return _json(conv.to_json())

    async def transcript(self, request: web.Request) -> web.Response:
        _, conv = self.conv(request)
        return _json(conv.messages)

    async def visitor_message(self, request: web.Request) -> web.Response:
        site, conv = self.conv(request)
        body = await read_body(request)
        if "text" in body:
            message: JSON = {"type": "text", "content": body["text"]}
        else:
            message = {"type": body.get("type"), "content": body.get("content")}
        message["from"] = "user"
        message["origin"] = body.get("origin", "chat")
        for key in ("fingerprint", "timestamp", "user"):
            if key in body:
                message[key] = body[key]
        problem = validate.check_message(message)
        if problem:
            raise _Problem(400, problem)
        taken = duplicate_fingerprint(conv, message)
        if taken:
            raise _Problem(409, taken)
        stored = await actions.post_message(self.sb.bus, site, conv, message, self.sb.plugin_id)
        return _json({"fingerprint": stored["fingerprint"], "timestamp": stored["timestamp"]})

    def _last_of_type(self, conv: Conversation, mtype: str, body: JSON) -> JSON:
        fp = body.get("fingerprint")
        if fp is not None:
            found = conv.by_fingerprint.get(int(fp))
            if found is None or found["type"] != mtype:
                raise _Problem(404, f"no {mtype} message with fingerprint {fp}")
            return found
        for m in reversed(conv.messages):
            if m["type"] == mtype:
                return m
        raise _Problem(404, f"no {mtype} message in this conversation")

    async def choose(self, request: web.Request) -> web.Response:
        _, conv = self.conv(request)
        body = await read_body(request)
        picker = self._last_of_type(conv, "picker", body)
        value = body.get("value")
        choices = picker["content"].get("choices", [])
        if not any(c.get("value") == value for c in choices):
            values = ", ".join(str(c.get("value")) for c in choices)
            raise _Problem(400, f"value should be one of the choices: {values}")
        content = dict(picker["content"])
        content["choices"] = [{**c, "selected": c.get("value") == value} for c in choices]
        await actions.edit_message(self.sb.bus, conv, picker, content)
        return _json({"fingerprint": picker["fingerprint"], "content": content})

    async def field(self, request: web.Request) -> web.Response:
        _, conv = self.conv(request)
        body = await read_body(request)
        fieldmsg = self._last_of_type(conv, "field", body)
        value = body.get("value")
        if not isinstance(value, str):
            raise _Problem(400, "value should be a string")
        content = {**fieldmsg["content"], "value": value}
        await actions.edit_message(self.sb.bus, conv, fieldmsg, content)
        return _json({"fingerprint": fieldmsg["fingerprint"], "content": content})

    async def compose(self, request: web.Request) -> web.Response:
        site, conv = self.conv(request)
        body = await read_body(request)
        body["from"] = "user"
        body.setdefault("type", "start")
        problem = validate.check_compose(body)
        if problem:
            raise _Problem(400, problem)
        await actions.compose(self.sb.bus, site, conv, body, self.sb.plugin_id)
        return _json({"ok": True})

    async def read(self, request: web.Request) -> web.Response:
        _, conv = self.conv(request)
        body = await read_body(request)
        await actions.mark(self.sb.bus, conv, "read", {"from": "user", "origin": "chat", **body})
        return _json({"ok": True})

    async def state(self, request: web.Request) -> web.Response:
        _, conv = self.conv(request)
        body = await read_body(request)
        if request.match_info.get("resolve"):
            body = {"state": "resolved"}
        problem = validate.check_state(body)
        if problem:
            raise _Problem(400, problem)
        await actions.set_state(self.sb.bus, conv, body["state"])
        return _json({"state": conv.state})

    async def assign(self, request: web.Request) -> web.Response:
        _, conv = self.conv(request)
        body = await read_body(request)
        user_id = body.get("user_id")
        if user_id is not None and not isinstance(user_id, str):
            raise _Problem(400, "user_id should be a string or null")
        await actions.assign(self.sb.bus, conv, user_id)
        return _json({"assigned": user_id})

    async def meta(self, request: web.Request) -> web.Response:
        _, conv = self.conv(request)
        body = await read_body(request)
        problem = validate.check_meta(body)
        if problem:
            raise _Problem(400, problem)
        await actions.set_meta(self.sb.bus, conv, body)
        return _json(conv.meta_json())

    async def next_reply(self, request: web.Request) -> web.Response:
        site, conv = self.conv(request)
        try:
            timeout = min(60.0, float(request.query.get("timeout", "5")))
            after = request.query.get("after")
            after_fp = int(after) if after else None
        except ValueError:
            raise _Problem(400, "timeout and after should be numbers") from None
        # Where the reply must come after: the given message, else the visitor's last.
        start = 0
        if after_fp is not None:
            anchor = conv.by_fingerprint.get(after_fp)
            if anchor is None:
                raise _Problem(404, f"no message with fingerprint {after_fp}")
            start = conv.messages.index(anchor) + 1
        else:
            for i in range(len(conv.messages) - 1, -1, -1):
                if conv.messages[i]["from"] == "user":
                    start = i + 1
                    break
        for m in conv.messages[start:]:
            if m["from"] == "operator":
                return _json(m)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()

        def listener(name: str, payload: JSON) -> None:
            if name == "message:received" and not future.done():
                future.set_result(payload["fingerprint"])

        self.sb.bus.watch(site.website_id, conv.session_id, listener)
        try:
            with self.sb.lingering():
                fp = await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return web.Response(status=204)
        finally:
            self.sb.bus.unwatch(site.website_id, conv.session_id, listener)
        message = conv.by_fingerprint.get(fp)
        return _json(message) if message is not None else web.Response(status=204)

    async def stream(self, request: web.Request) -> web.StreamResponse:
        site, conv = self.conv(request)
        queue: asyncio.Queue[tuple[str, JSON]] = asyncio.Queue(maxsize=1000)

        def listener(name: str, payload: JSON) -> None:
            if not queue.full():
                queue.put_nowait((name, payload))

        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        self.sb.bus.watch(site.website_id, conv.session_id, listener)
        try:
            await response.write(b": connected\n\n")
            while not self.sb.closing:
                try:
                    with self.sb.lingering():
                        name, payload = await asyncio.wait_for(queue.get(), 15)
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
                    continue
                chunk = f"event: {name}\ndata: {dumps(payload)}\n\n"
                await response.write(chunk.encode("utf-8"))
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.sb.bus.unwatch(site.website_id, conv.session_id, listener)
        return response

    # -- logs, hooks, relay, faults -----------------------------------------------------

    async def events(self, request: web.Request) -> web.Response:
        match = {
            k: v for k, v in request.query.items() if k in ("event", "website_id", "session_id")
        }
        return _json(self.sb.bus.events(**match))

    def _hooks_json(self) -> web.Response:
        hooks = self.sb.hooks
        return _json(
            {"urls": hooks.urls, "groups": hooks.groups_json(), "retries": hooks.retries_json()}
        )

    def _group(self, request: web.Request) -> HookGroup:
        name = request.match_info["g"]
        group = self.sb.hooks.groups.get(name)
        if group is None:
            raise _Problem(404, f"hook group {name} does not exist")
        return group

    async def hooks(self, request: web.Request) -> web.Response:
        hooks = self.sb.hooks
        if request.method == "GET":
            return self._hooks_json()
        if request.method not in ("POST", "DELETE"):
            raise _Problem(405, "use GET, POST or DELETE")
        body = await read_body(request)
        if request.method == "POST" and "urls" in body:
            if "url" in body:
                raise _Problem(400, "give url (a hook URL) or urls (a group), not both")
            urls = body["urls"]
            if not isinstance(urls, list) or not all(_is_url(u) for u in urls):
                raise _Problem(400, "urls should be a list of http(s) URLs")
            name = body.get("group")
            if name is not None and name in hooks.groups:
                raise _Problem(409, f"hook group {name} exists")
            try:
                group = hooks.add_group(urls, name)
            except ValueError as exc:
                raise _Problem(400, str(exc)) from None
            return _json(group.to_json())
        if request.method == "DELETE" and "group" in body and "url" not in body:
            name = body["group"]
            if not isinstance(name, str) or not hooks.remove_group(name):
                raise _Problem(404, f"hook group {name} does not exist")
            return self._hooks_json()
        url = body.get("url")
        if not _is_url(url):
            raise _Problem(400, "url should be an http(s) URL")
        if request.method == "POST":
            hooks.add_url(url)
        elif not hooks.remove_url(url):
            raise _Problem(404, f"hook {url} is not registered")
        return self._hooks_json()

    async def group(self, request: web.Request) -> web.Response:
        group = self._group(request)
        if request.method == "DELETE":
            self.sb.hooks.remove_group(group.name)
            return self._hooks_json()
        return _json(group.to_json())

    async def instances(self, request: web.Request) -> web.Response:
        group = self._group(request)
        url = (await read_body(request)).get("url")
        if not _is_url(url):
            raise _Problem(400, "url should be an http(s) URL")
        if request.method == "POST":
            group.add(url)
        elif not group.remove(url):
            raise _Problem(404, f"{url} is not an instance of hook group {group.name}")
        return _json(group.to_json())

    async def retries(self, request: web.Request) -> web.Response:
        hooks = self.sb.hooks
        if request.method == "PUT":
            body = await read_body(request)
            unknown = set(body) - {"delays", "attempt_limit", "refused_pause"}
            if unknown:
                raise _Problem(400, f"unknown key(s): {', '.join(sorted(unknown))}")
            try:
                hooks.set_retries(
                    body.get("delays"), body.get("attempt_limit"), body.get("refused_pause")
                )
            except ValueError as exc:
                raise _Problem(400, str(exc)) from None
        return _json(hooks.retries_json())

    async def deliveries(self, request: web.Request) -> web.Response:
        if request.query.get("wait") == "1":
            try:
                await self.sb.hooks.wait_idle(float(request.query.get("timeout", "10")))
            except TimeoutError:
                raise _Problem(408, "deliveries still pending") from None
        return _json(list(self.sb.hooks.log))

    async def requests(self, request: web.Request) -> web.Response:
        if request.method == "DELETE":
            self.sb.rest.requests.clear()
        return _json(list(self.sb.rest.requests))

    async def relay(self, request: web.Request) -> web.Response:
        return _json(self.sb.relay.to_json())

    async def faults(self, request: web.Request) -> web.Response:
        faults = self.sb.faults
        if request.method == "DELETE":
            faults.clear()
        elif request.method in ("PUT", "POST"):
            try:
                faults.update(await read_body(request))
            except (ValueError, TypeError) as exc:
                raise _Problem(400, str(exc)) from None
        return _json(faults.to_json())

    async def drop_rtm(self, request: web.Request) -> web.Response:
        return _json({"dropped": await self.sb.relay.drop_all()})

    async def relay_outage(self, request: web.Request) -> web.Response:
        seconds = (await read_body(request)).get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise _Problem(400, "seconds should be a number (how long the relay is away)")
        if not 0 <= seconds <= 3600:
            raise _Problem(400, "seconds should be between 0 and 3600")
        dropped = await self.sb.relay.outage(float(seconds))
        return _json({"dropped": dropped, "seconds": seconds})


def add_control_routes(app: web.Application, sb: Sandbox) -> None:
    """Mount the control API as a sub-application under ``/_sandbox``."""
    c = Control(sb)
    sub = web.Application(middlewares=[problems])
    conv = "/websites/{w}/conversations/{s}"
    r = sub.router
    r.add_get("/info", c.info)
    r.add_post("/reset", c.reset)
    r.add_get("/websites", c.websites)
    r.add_post("/websites", c.add_website)
    r.add_post("/websites/{w}/{action:install|uninstall}", c.install)
    r.add_put("/websites/{w}/settings", c.settings)
    r.add_get("/websites/{w}/conversations", c.conversations)
    r.add_post("/websites/{w}/conversations", c.new_conversation)
    r.add_get(conv, c.conversation)
    r.add_get(conv + "/transcript", c.transcript)
    r.add_post(conv + "/messages", c.visitor_message)
    r.add_post(conv + "/choose", c.choose)
    r.add_post(conv + "/field", c.field)
    r.add_post(conv + "/compose", c.compose)
    r.add_post(conv + "/read", c.read)
    r.add_post(conv + "/state", c.state)
    r.add_post(conv + "/{resolve:resolve}", c.state)
    r.add_post(conv + "/assign", c.assign)
    r.add_post(conv + "/meta", c.meta)
    r.add_get(conv + "/next_reply", c.next_reply)
    r.add_get(conv + "/events", c.stream)
    r.add_get("/events", c.events)
    r.add_route("*", "/hooks", c.hooks)
    r.add_get("/hooks/retries", c.retries)
    r.add_put("/hooks/retries", c.retries)
    r.add_get("/hooks/groups/{g}", c.group)
    r.add_delete("/hooks/groups/{g}", c.group)
    r.add_post("/hooks/groups/{g}/instances", c.instances)
    r.add_delete("/hooks/groups/{g}/instances", c.instances)
    r.add_get("/deliveries", c.deliveries)
    r.add_route("*", "/requests", c.requests)
    r.add_get("/relay", c.relay)
    r.add_route("*", "/faults", c.faults)
    r.add_post("/faults/drop_rtm", c.drop_rtm)
    r.add_post("/faults/relay_outage", c.relay_outage)
    add_marketplace_routes(sub, sb)
    app.add_subapp(PREFIX, sub)
