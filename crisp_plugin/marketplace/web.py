"""The plugin's two pages for Crisp: the settings page and the widget Action URL.

**Settings** (``marketplace.settings_path``, default ``/crisp/settings``): Crisp opens
``<Settings URL>?website_id=...&token=...`` in an iframe of its dashboard. The token is
compared, in constant time, with that website's subscription token; anything else is
401 and shows nothing. The page is the form generated from the per-website model
(``form.py``). It carries no secret: not the website's token, not the plugin's key; its
hidden fields are the website id and a form token (an HMAC, by a key derived from the
plugin key, of the website id and an expiry an hour ahead), which any instance of the
plugin can check. A save is refused (403) when the browser says it comes from another
site (``Sec-Fetch-Site: cross-site``, or an ``Origin`` that is not this page's host) or
its form token is wrong or stale; otherwise it is validated by the model (each problem
shown next to its field, 400, nothing written) and written through Crisp's settings
route (PUT), then kept, and the page says so. ``Content-Security-Policy:
frame-ancestors`` lists ``marketplace.frame_ancestors`` (Crisp's app by default).

**Widgets** (``marketplace.action_path``, default ``/crisp/widget``): Crisp POSTs an
operator's click as ``{origin: {website_id, session_id, token}, widget: {section_id,
item_id}, action: {type}, payload: {data, value}}``. The origin token must be the
website's (401 otherwise); when the request is signed (``X-Crisp-Signature`` over
``[timestamp;body]``, as npm crisp-api's ``verifyWidget`` checks) and a hook secret is
set, the signature must hold too (401). The item's handler answers: ``{}`` for a button,
``{"data": {"value": ...}}`` for a data item. Malformed bodies get 400, unknown items
404, a failing handler 500, each as ``{"error", "reason"}`` JSON.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import structlog
from aiohttp import web
from pydantic import BaseModel, ValidationError

from crisp_plugin.marketplace.form import errors_by_field, form_fields, read_form, render_form
from crisp_plugin.marketplace.installation import Installation
from crisp_plugin.marketplace.mixin import Marketplace
from crisp_plugin.marketplace.widgets import WidgetAction
from crisp_plugin.signing import compact_json, verify

if TYPE_CHECKING:
    from crisp_plugin.marketplace.sync import InstallationSync
    from crisp_plugin.settings_models import MarketplaceSettings

__all__ = ["MarketplaceWeb", "form_key"]

log = structlog.get_logger("crisp_plugin.marketplace")

_FORM_LIFETIME = 3600
_ACTION_BODY_LIMIT = 64 * 1024


def form_key(plugin_key: str) -> bytes:
    """The key of the settings form tokens: derived from the plugin key, so every
    instance of the plugin checks the forms any of them served."""
    return hmac.new(plugin_key.encode(), b"crisp_plugin settings form v1", hashlib.sha256).digest()


class MarketplaceWeb:
    """The routes of the settings page and the Action URL; see the module docstring."""

    def __init__(
        self,
        plugin: Marketplace[Any],
        sync: InstallationSync[Any],
        settings: MarketplaceSettings,
        *,
        key: bytes,
        hook_secret: str | None = None,
        title: str = "Settings",
        action_timeout: float = 10.0,
    ) -> None:
        self.plugin = plugin
        self.sync = sync
        self.settings = settings
        self._key = key
        self._hook_secret = hook_secret
        self.title = title
        self.action_timeout = action_timeout
        model = type(plugin).website_settings_model
        self.model: type[BaseModel] | None = model
        self.fields = form_fields(model) if model is not None else []

    def add_routes(self, app: web.Application) -> None:
        s = self.settings
        app.router.add_get(s.settings_path, self.settings_page, allow_head=False)
        app.router.add_post(s.settings_path, self.settings_save)
        app.router.add_post(s.action_path, self.widget_action)

    # -- settings page -----------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        ancestors = " ".join(self.settings.frame_ancestors) or "'none'"
        return {
            "Content-Security-Policy": (
                f"default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                f"frame-ancestors {ancestors}"
            ),
            "X-Content-Type-Options": "nosniff",
            # same-origin, not no-referrer: under no-referrer a browser sends the
            # form's own post with "Origin: null", which the cross-site check refuses
            "Referrer-Policy": "same-origin",
            "Cache-Control": "no-store",
        }

    def _page(self, text: str, status: int = 200) -> web.Response:
        return web.Response(
            text=text, status=status, content_type="text/html", headers=self._headers()
        )

    def _refused(self, status: int, why: str) -> web.Response:
        body = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>'
            f"{status}</title></head><body><p>{why}</p></body></html>"
        )
        return self._page(body, status)

    def _form_token(self, website_id: str, expires: int) -> str:
        message = f"{website_id}\n{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def _render(
        self,
        site: Installation[Any],
        values: Mapping[str, Any],
        *,
        errors: Mapping[str, str] | None = None,
        notice: str | None = None,
        bad: bool = False,
        status: int = 200,
    ) -> web.Response:
        expires = int(time.time()) + _FORM_LIFETIME
        hidden = {
            "website_id": site.website_id,
            "expires": str(expires),
            "form_token": self._form_token(site.website_id, expires),
        }
        text = render_form(
            title=self.title,
            fields=self.fields,
            values=values,
            errors=errors or {},
            hidden=hidden,
            action=self.settings.settings_path,
            notice=notice,
            notice_bad=bad,
        )
        return self._page(text, status)

    def _current(self, site: Installation[Any]) -> dict[str, Any]:
        settings = site.settings
        if isinstance(settings, BaseModel):
            return settings.model_dump(mode="json")
        return dict(site.raw)

    async def settings_page(self, request: web.Request) -> web.Response:
        if self.model is None:
            return self._refused(404, "This plugin has no settings.")
        site = self.plugin.installations.get(request.query.get("website_id"))
        if site is None or not site.token_matches(request.query.get("token")):
            return self._refused(401, "The provided token is not valid.")
        return self._render(site, self._current(site))

    def _cross_site(self, request: web.Request) -> bool:
        if request.headers.get("Sec-Fetch-Site") == "cross-site":
            return True
        origin = request.headers.get("Origin")
        if origin is None or origin == "null":
            return origin == "null"
        return urlsplit(origin).netloc.lower() != request.host.lower()

    async def settings_save(self, request: web.Request) -> web.Response:
        if self.model is None:
            return self._refused(404, "This plugin has no settings.")
        if self._cross_site(request):
            return self._refused(403, "This form only takes posts from its own page.")
        form = await request.post()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        website_id = fields.get("website_id", "")
        expires = fields.get("expires", "")
        given = fields.get("form_token", "")
        site = self.plugin.installations.get(website_id)
        if (
            site is None
            or not expires.isdigit()
            or int(expires) < time.time()
            or not hmac.compare_digest(given, self._form_token(website_id, int(expires)))
        ):
            return self._refused(403, "This form expired or was not served here: reload it.")
        data = read_form(self.fields, fields)
        try:
            valid = self.model.model_validate(data)
        except ValidationError as exc:
            errors = errors_by_field(exc)
            return self._render(
                site, {**data}, errors=errors, notice="Nothing saved: see below.", bad=True,
                status=400,
            )  # fmt: skip
        try:
            saved = await self.sync.save(website_id, valid.model_dump(mode="json"))
        except Exception as exc:
            log.warning("settings page: Crisp did not take the settings", error=str(exc))
            return self._render(
                site, data, notice="Crisp did not take the settings; try again.", bad=True,
                status=502,
            )  # fmt: skip
        return self._render(saved, self._current(saved), notice="Saved.")

    # -- widget actions ----------------------------------------------------------------

    def _fail(self, status: int, error: str, reason: str) -> web.Response:
        return web.json_response({"error": error, "reason": reason}, status=status)

    def _signed_wrong(self, request: web.Request, body: bytes, parsed: Any) -> bool:
        signature = request.headers.get("X-Crisp-Signature")
        if signature is None or not self._hook_secret:
            return False
        stamp = request.headers.get("X-Crisp-Request-Timestamp", "")
        secret = self._hook_secret
        if verify(secret, stamp, body, signature):
            return False
        return not verify(secret, stamp, compact_json(parsed), signature)

    async def widget_action(self, request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > _ACTION_BODY_LIMIT:
            return self._fail(413, "request_too_large", "a widget action is at most 64 KiB")
        body = await request.content.read(_ACTION_BODY_LIMIT + 1)
        if len(body) > _ACTION_BODY_LIMIT:
            return self._fail(413, "request_too_large", "a widget action is at most 64 KiB")
        try:
            parsed = json.loads(body)
        except ValueError:
            return self._fail(400, "invalid_data", "the body is not JSON")
        action = self._read_action(parsed)
        if isinstance(action, str):
            return self._fail(400, "invalid_data", action)
        website_id, session_id, token, section_id, item_id, kind, data, value = action
        site = self.plugin.installations.get(website_id)
        if site is None or not site.token_matches(token):
            return self._fail(401, "unauthorized", "the origin token is not this website's")
        if self._signed_wrong(request, body, parsed):
            return self._fail(401, "unauthorized", "the signature does not match")
        item = type(self.plugin).widget_items_.get(item_id)
        handler = self.plugin.widget_handler(item_id)
        if item is None or handler is None:
            return self._fail(404, "not_found", f"no widget item {item_id!r}")
        if item.kind != kind:
            return self._fail(400, "invalid_data", f"{item_id!r} is a {item.kind} item")
        typed: WidgetAction[Any] = WidgetAction(
            website_id=website_id,
            session_id=session_id,
            section_id=section_id,
            item_id=item_id,
            kind=kind,
            installation=site,
            data=data,
            value=value,
        )
        try:
            async with asyncio.timeout(self.action_timeout):
                result = await handler(typed)
        except TimeoutError:
            log.warning("widget handler timed out", item_id=item_id, website_id=website_id)
            return self._fail(504, "timeout", f"{item_id!r} did not answer in time")
        except Exception:
            log.exception("widget handler failed", item_id=item_id, website_id=website_id)
            return self._fail(500, "handler_failed", f"{item_id!r} failed: see the plugin's log")
        log.info("widget action", item_id=item_id, kind=kind, website_id=website_id)
        if kind == "data":
            return web.json_response({"data": {"value": result}})
        return web.json_response({})

    @staticmethod
    def _read_action(
        parsed: Any,
    ) -> tuple[str, str, str, str, str, Any, dict[str, Any], Any] | str:
        """The action's parts, or what is wrong with it."""
        if not isinstance(parsed, dict):
            return "the body is not a JSON object"
        origin, widget, action = parsed.get("origin"), parsed.get("widget"), parsed.get("action")
        if not isinstance(origin, dict) or not isinstance(widget, dict):
            return "origin and widget must be objects"
        if not isinstance(action, dict) or action.get("type") not in ("button", "data"):
            return 'action.type must be "button" or "data"'
        website_id, session_id = origin.get("website_id"), origin.get("session_id")
        token = origin.get("token")
        section_id, item_id = widget.get("section_id"), widget.get("item_id")
        for name, got in (
            ("origin.website_id", website_id),
            ("origin.token", token),
            ("widget.item_id", item_id),
        ):
            if not isinstance(got, str) or not got:
                return f"{name} is missing"
        payload = parsed.get("payload") or {}
        if not isinstance(payload, dict):
            return "payload must be an object"
        data = payload.get("data") or {}
        if not isinstance(data, dict):
            return "payload.data must be an object"
        value = payload.get("value")
        if isinstance(value, dict):
            value = value.get(item_id)
        return (
            str(website_id),
            str(session_id or ""),
            str(token),
            str(section_id or ""),
            str(item_id),
            action["type"],
            data,
            value,
        )
