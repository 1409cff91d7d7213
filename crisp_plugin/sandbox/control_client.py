"""``SandboxControl``: an async Python client of the sandbox's control API.

Tests and demos play the visitor with it::

    control = SandboxControl("http://127.0.0.1:8787")
    sid = await control.create_conversation()
    fp = await control.visitor_says(None, sid, "hello")
    reply = await control.next_reply(None, sid, after=fp)   # the bot's answer, or None

``website_id=None`` means the sandbox's first website. Errors raise
``SandboxControlError`` with the status and the control API's message.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import quote

import aiohttp

__all__ = ["SandboxControl", "SandboxControlError"]

JSON = dict[str, Any]
PluginField = Literal["settings_url", "action_url", "settings_schema", "widget_schema"]


class SandboxControlError(Exception):
    """The control API refused a call."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(f"{status}: {message}")


class SandboxControl:
    """Async wrapper of ``/_sandbox/``; one keep-alive HTTP session, closed by ``close()``."""

    def __init__(self, url: str, *, default_website: str | None = None) -> None:
        self.url = url.rstrip("/")
        self._default_website = default_website
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SandboxControl:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(
        self,
        method: str,
        path: str,
        body: JSON | None = None,
        params: dict[str, str] | None = None,
        timeout: float = 30.0,  # noqa: ASYNC109
    ) -> Any:
        """One control API call; returns the decoded JSON, or None for 204."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        async with self._session.request(
            method,
            f"{self.url}/_sandbox{path}",
            json=body,
            params=params,
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as resp:
            if resp.status == 204:
                return None
            data = await resp.json(content_type=None)
            if resp.status >= 400:
                message = data.get("error") if isinstance(data, dict) else str(data)
                raise SandboxControlError(resp.status, str(message))
            return data

    async def _website(self, website_id: str | None) -> str:
        if website_id:
            return website_id
        if self._default_website is None:
            info = await self.info()
            self._default_website = info["websites"][0]
        return self._default_website

    async def _conv(self, website_id: str | None, session_id: str) -> str:
        return f"/websites/{await self._website(website_id)}/conversations/{session_id}"

    # -- sandbox ---------------------------------------------------------------

    async def info(self) -> JSON:
        result: JSON = await self.call("GET", "/info")
        return result

    async def reset(self) -> None:
        await self.call("POST", "/reset")

    async def websites(self) -> list[JSON]:
        result: list[JSON] = await self.call("GET", "/websites")
        return result

    async def add_website(
        self, website_id: str | None = None, *, name: str | None = None, subscribed: bool = True
    ) -> str:
        body: JSON = {"subscribed": subscribed}
        if website_id:
            body["website_id"] = website_id
        if name:
            body["name"] = name
        result = await self.call("POST", "/websites", body)
        return str(result["website_id"])

    async def install(self, website_id: str | None = None) -> None:
        await self.call("POST", f"/websites/{await self._website(website_id)}/install")

    async def uninstall(self, website_id: str | None = None) -> None:
        await self.call("POST", f"/websites/{await self._website(website_id)}/uninstall")

    async def save_settings(
        self, website_id: str | None, settings: JSON, *, validate: bool = True
    ) -> None:
        """Save a website's settings as its admin would (plugin:settings:saved).

        Checked against the plugin's settings schema (a 400 naming the field, nothing
        stored); ``validate=False`` stores them anyway, as settings saved under an older
        schema would be."""
        path = f"/websites/{await self._website(website_id)}/settings"
        await self.call("PUT", path, {"settings": settings, "validate": validate})

    # -- the plugin's Marketplace entry and its widgets --------------------------------

    async def plugin(self) -> JSON:
        """``{plugin_id, urn, settings_url, action_url, settings_schema, widget_schema}``."""
        result: JSON = await self.call("GET", "/plugin")
        return result

    async def set_plugin(
        self,
        *,
        settings_url: str | None = None,
        action_url: str | None = None,
        settings_schema: JSON | None = None,
        widget_schema: JSON | None = None,
    ) -> JSON:
        """Register what the Marketplace holds for the plugin (the fields given; the
        others stay). All are checked before any changes; returns the entry now."""
        body = {
            k: v
            for k, v in {
                "settings_url": settings_url,
                "action_url": action_url,
                "settings_schema": settings_schema,
                "widget_schema": widget_schema,
            }.items()
            if v is not None
        }
        result: JSON = await self.call("PUT", "/plugin", body)
        return result

    async def clear_plugin(self, *fields: PluginField) -> JSON:
        """Forget some of the entry's fields (all four when none is named)."""
        names = fields or ("settings_url", "action_url", "settings_schema", "widget_schema")
        result: JSON = await self.call("PUT", "/plugin", dict.fromkeys(names))
        return result

    async def widget(self, website_id: str | None, session_id: str) -> JSON:
        """The widget schema rendered for a conversation (bindings resolved)."""
        path = await self._conv(website_id, session_id) + "/widget"
        result: JSON = await self.call("GET", path)
        return result

    async def widget_action(
        self,
        website_id: str | None,
        session_id: str,
        section_id: str,
        item_id: str,
        value: str | dict[str, str] | None = None,
    ) -> JSON:
        """Click a widget item as an operator: the sandbox posts the action to the
        plugin's Action URL and returns the record (request, status, answer, error)."""
        body: JSON = {"section_id": section_id, "item_id": item_id}
        if value is not None:
            body["value"] = value
        path = await self._conv(website_id, session_id) + "/widget/action"
        result: JSON = await self.call("POST", path, body)
        return result

    async def widget_actions(self, *, clear: bool = False) -> list[JSON]:
        """Every post to the Action URL so far (clicks and delivered actions)."""
        result: list[JSON] = await self.call("DELETE" if clear else "GET", "/widget/actions")
        return result

    # -- conversations -----------------------------------------------------------

    async def conversations(self, website_id: str | None = None) -> list[JSON]:
        path = f"/websites/{await self._website(website_id)}/conversations"
        result: list[JSON] = await self.call("GET", path)
        return result

    async def create_conversation(
        self,
        website_id: str | None = None,
        *,
        nickname: str | None = None,
        email: str | None = None,
    ) -> str:
        body: JSON = {}
        if nickname:
            body["nickname"] = nickname
        if email:
            body["email"] = email
        path = f"/websites/{await self._website(website_id)}/conversations"
        result = await self.call("POST", path, body)
        return str(result["session_id"])

    async def conversation(self, website_id: str | None, session_id: str) -> JSON:
        result: JSON = await self.call("GET", await self._conv(website_id, session_id))
        return result

    async def visitor_says(self, website_id: str | None, session_id: str, text: str) -> int:
        """Send a text message as the visitor (message:send); returns its fingerprint."""
        path = await self._conv(website_id, session_id) + "/messages"
        result = await self.call("POST", path, {"text": text})
        return int(result["fingerprint"])

    async def visitor_sends(
        self, website_id: str | None, session_id: str, type: str, content: Any
    ) -> int:
        """Send any message type as the visitor (file, audio...); returns its fingerprint."""
        path = await self._conv(website_id, session_id) + "/messages"
        result = await self.call("POST", path, {"type": type, "content": content})
        return int(result["fingerprint"])

    async def transcript(self, website_id: str | None, session_id: str) -> list[JSON]:
        path = await self._conv(website_id, session_id) + "/transcript"
        result: list[JSON] = await self.call("GET", path)
        return result

    async def next_reply(
        self,
        website_id: str | None,
        session_id: str,
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        after: int | None = None,
    ) -> JSON | None:
        """The next operator message after ``after`` (default: after the visitor's last
        message), waiting up to ``timeout`` seconds; None if none came."""
        params = {"timeout": str(timeout)}
        if after is not None:
            params["after"] = str(after)
        path = await self._conv(website_id, session_id) + "/next_reply"
        result: JSON | None = await self.call("GET", path, params=params, timeout=timeout + 10)
        return result

    async def choose(
        self, website_id: str | None, session_id: str, fingerprint: int | None, value: str
    ) -> JSON:
        """Pick the choice ``value`` of the picker ``fingerprint`` (None: the latest
        picker), as the visitor: message:updated with that choice selected."""
        body: JSON = {"value": value}
        if fingerprint is not None:
            body["fingerprint"] = fingerprint
        path = await self._conv(website_id, session_id) + "/choose"
        result: JSON = await self.call("POST", path, body)
        return result

    async def answer_field(
        self, website_id: str | None, session_id: str, fingerprint: int | None, value: str
    ) -> JSON:
        """Fill the field message ``fingerprint`` (None: the latest) with ``value``, as
        the visitor: message:updated with ``content.value`` set."""
        body: JSON = {"value": value}
        if fingerprint is not None:
            body["fingerprint"] = fingerprint
        path = await self._conv(website_id, session_id) + "/field"
        result: JSON = await self.call("POST", path, body)
        return result

    async def typing(
        self, website_id: str | None, session_id: str, start: bool = True, excerpt: str = ""
    ) -> None:
        body: JSON = {"type": "start" if start else "stop"}
        if excerpt:
            body["excerpt"] = excerpt
        await self.call("POST", await self._conv(website_id, session_id) + "/compose", body)

    async def resolve(self, website_id: str | None, session_id: str) -> None:
        await self.call("POST", await self._conv(website_id, session_id) + "/resolve")

    async def set_state(self, website_id: str | None, session_id: str, state: str) -> None:
        path = await self._conv(website_id, session_id) + "/state"
        await self.call("POST", path, {"state": state})

    async def assign(self, website_id: str | None, session_id: str, user_id: str | None) -> None:
        path = await self._conv(website_id, session_id) + "/assign"
        await self.call("POST", path, {"user_id": user_id})

    async def set_meta(self, website_id: str | None, session_id: str, **meta: Any) -> JSON:
        path = await self._conv(website_id, session_id) + "/meta"
        result: JSON = await self.call("POST", path, meta)
        return result

    # -- logs, hooks, relay, faults -------------------------------------------------

    async def events(self, **match: str) -> list[JSON]:
        result: list[JSON] = await self.call("GET", "/events", params=match)
        return result

    async def requests(self, *, clear: bool = False) -> list[JSON]:
        result: list[JSON] = await self.call("DELETE" if clear else "GET", "/requests")
        return result

    async def deliveries(self, *, wait: bool = False, timeout: float = 10.0) -> list[JSON]:  # noqa: ASYNC109
        params = {"wait": "1", "timeout": str(timeout)} if wait else None
        result: list[JSON] = await self.call(
            "GET", "/deliveries", params=params, timeout=timeout + 5
        )
        return result

    async def add_hook(self, url: str) -> list[str]:
        result = await self.call("POST", "/hooks", {"url": url})
        return list(result["urls"])

    async def remove_hook(self, url: str) -> list[str]:
        result = await self.call("DELETE", "/hooks", {"url": url})
        return list(result["urls"])

    async def hooks(self) -> JSON:
        """Hook URLs, groups (their instances' health) and the retry budget:
        ``{urls, groups, retries}``."""
        result: JSON = await self.call("GET", "/hooks")
        return result

    async def add_hook_group(self, urls: list[str], *, name: str | None = None) -> JSON:
        """A group of instance URLs: one hook subscription, each event delivered to one
        instance in turn and retried on the others. Returns the group (its ``name``
        made up if none was given)."""
        body: JSON = {"urls": list(urls)}
        if name is not None:
            body["group"] = name
        result: JSON = await self.call("POST", "/hooks", body)
        return result

    async def remove_hook_group(self, name: str) -> JSON:
        """Forget the group; returns what ``hooks()`` returns."""
        result: JSON = await self.call("DELETE", f"/hooks/groups/{quote(name, safe='')}")
        return result

    async def hook_group(self, name: str) -> JSON:
        """``{name, instances: [{url, healthy, skipped_for, attempts, delivered, failed,
        refused, last_status}]}``."""
        result: JSON = await self.call("GET", f"/hooks/groups/{quote(name, safe='')}")
        return result

    async def add_hook_instance(self, name: str, url: str) -> JSON:
        """An instance joins the group (last in the rotation); returns the group."""
        path = f"/hooks/groups/{quote(name, safe='')}/instances"
        result: JSON = await self.call("POST", path, {"url": url})
        return result

    async def remove_hook_instance(self, name: str, url: str) -> JSON:
        """An instance leaves the group; returns the group."""
        path = f"/hooks/groups/{quote(name, safe='')}/instances"
        result: JSON = await self.call("DELETE", path, {"url": url})
        return result

    async def hook_retries(self) -> JSON:
        """The retry budget: ``{delays, attempt_limit, window, refused_pause}``."""
        result: JSON = await self.call("GET", "/hooks/retries")
        return result

    async def set_hook_retries(
        self,
        *,
        delays: list[float] | None = None,
        attempt_limit: int | None = None,
        refused_pause: float | None = None,
    ) -> JSON:
        """Change the retry delays (seconds) and the attempt limit (delays alone also set
        it to one more than their number), and how long a group's instance that refused a
        connection is skipped. Returns the budget now in force."""
        body: JSON = {}
        if delays is not None:
            body["delays"] = list(delays)
        if attempt_limit is not None:
            body["attempt_limit"] = attempt_limit
        if refused_pause is not None:
            body["refused_pause"] = refused_pause
        result: JSON = await self.call("PUT", "/hooks/retries", body)
        return result

    async def relay(self) -> JSON:
        result: JSON = await self.call("GET", "/relay")
        return result

    async def set_faults(
        self,
        *,
        latency_ms: float | None = None,
        error_rate: float | None = None,
        rate_limit_seconds: float | None = None,
        rate_limit_requests: int | None = None,
        retry_after: int | None = None,
        duplicate_hooks: bool | None = None,
        error_after_store_rate: float | None = None,
        hang_after_store_rate: float | None = None,
        hang_ms: float | None = None,
    ) -> JSON:
        """Set some faults (the others stay as they are); returns every fault in force.

        ``error_rate``: 500s before anything happens, on every REST route.
        ``error_after_store_rate`` / ``hang_after_store_rate``: a sent message is stored
        and its event fired, then its answer is a 500 / held ``hang_ms`` (sends only).
        """
        spec = {
            k: v
            for k, v in {
                "latency_ms": latency_ms,
                "error_rate": error_rate,
                "rate_limit_seconds": rate_limit_seconds,
                "rate_limit_requests": rate_limit_requests,
                "retry_after": retry_after,
                "duplicate_hooks": duplicate_hooks,
                "error_after_store_rate": error_after_store_rate,
                "hang_after_store_rate": hang_after_store_rate,
                "hang_ms": hang_ms,
            }.items()
            if v is not None
        }
        result: JSON = await self.call("PUT", "/faults", spec)
        return result

    async def clear_faults(self) -> None:
        await self.call("DELETE", "/faults")

    async def drop_rtm(self) -> int:
        result = await self.call("POST", "/faults/drop_rtm")
        return int(result["dropped"])

    async def relay_outage(self, seconds: float) -> int:
        """Take the relay away for ``seconds`` (sockets dropped, new connections refused;
        visitors, REST and hooks go on); how many sockets were dropped."""
        result = await self.call("POST", "/faults/relay_outage", {"seconds": seconds})
        return int(result["dropped"])
