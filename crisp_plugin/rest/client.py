"""``RestClient``: every Crisp REST route, plus typed short forms for bot work.

Three levels, pick the one that fits:

1. Short forms on the client, typed, returning pydantic models (``send_message``,
   ``get_conversation``, ``list_conversations``, ``get_settings``...).
2. Every one of the 229 routes, grouped like the official clients, in their own
   namespaces: ``rest.website.send_message_in_conversation(website_id, session_id,
   body)``, ``rest.plugin.get_connect_account()``, ``rest.plan...``, ``rest.bucket...``,
   ``rest.media...`` (generated from routes.tsv; they return plain JSON data). A short
   form on the client never hides a raw route: ``rest.get_conversation`` is the typed
   one, ``rest.website.get_conversation`` the raw one.
3. ``rest.request(method, path, body=..., query=...)`` for anything else.

A bot replies with ``from: "operator"`` and an ``origin`` set to the plugin URN (given
as ``urn=``), so the dispatcher can recognise its own messages when Crisp echoes them
back as ``message:received``; observers (``message_sent``) also learn the fingerprint
of every message sent.

With ``verify_sends=True`` (the default) the short forms that send a message give it
a fingerprint of the client's choosing and survive a lost answer without a duplicate:
see sends.py. The raw route sends exactly the body it is given.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import structlog

from crisp_plugin.errors import ConfigError
from crisp_plugin.observer import Observer
from crisp_plugin.rest.core import RestCore, Tier, quote_segment
from crisp_plugin.rest.generated import (
    BucketRoutes,
    MediaRoutes,
    PlanRoutes,
    PluginRoutes,
    WebsiteRoutes,
)
from crisp_plugin.rest.limits import RequestLimiter, RequestQuota
from crisp_plugin.rest.models import (
    ConnectAccount,
    ConnectEndpoints,
    ConnectWebsite,
    Conversation,
    ConversationMeta,
    Message,
    PeopleProfile,
    SentMessage,
    SubscriptionSettings,
)
from crisp_plugin.rest.retry import RetryPolicy
from crisp_plugin.rest.sends import new_fingerprint, send_verified

if TYPE_CHECKING:
    from crisp_plugin.config import Config
    from crisp_plugin.redis_client import RedisLink

__all__ = ["ConversationStateName", "RestClient"]

ConversationStateName = Literal["pending", "unresolved", "resolved"]
_log = structlog.get_logger("crisp_plugin.rest")
Choice = str | tuple[str, str] | Mapping[str, Any]


def _conv(website_id: str, session_id: str) -> str:
    return f"/v1/website/{quote_segment(website_id)}/conversation/{quote_segment(session_id)}"


class RestClient(RestCore):
    """Async client of Crisp's REST API v1.

    >>> async with RestClient(identifier, key, urn="urn:acme:faq-bot:1") as rest:
    ...     sent = await rest.send_message(website_id, session_id, "Hello!")
    ...     sent.fingerprint

    One aiohttp session (keep-alive pool) per client; create one client per process and
    share it. Errors are the typed exceptions of :mod:`crisp_plugin.errors`.
    ``verify_sends`` (default True): messages sent by the short forms carry a
    client-chosen fingerprint and are checked, not lost or doubled, when an answer is
    lost (crisp_plugin.rest.sends); False keeps the plain rule (never resend a POST
    whose answer was lost).
    """

    def __init__(
        self,
        identifier: str,
        key: str,
        *,
        tier: Tier = "plugin",
        api_url: str = "https://api.crisp.chat",
        timeout: float = 10.0,
        urn: str | None = None,
        plugin_id: str | None = None,
        max_retries: int = 3,
        retry: RetryPolicy | None = None,
        rate_limit: float | None = None,
        burst: int | None = None,
        daily_quota: int | None = None,
        quota_warn_ratio: float = 0.8,
        allow_insecure_http: bool = False,
        pool_size: int = 100,
        observers: Sequence[Observer] = (),
        quota: RequestQuota | None = None,
        limiter: RequestLimiter | None = None,
        verify_sends: bool = True,
    ) -> None:
        super().__init__(
            identifier,
            key,
            tier=tier,
            api_url=api_url,
            timeout=timeout,
            max_retries=max_retries,
            retry=retry,
            rate_limit=rate_limit,
            burst=burst,
            daily_quota=daily_quota,
            quota_warn_ratio=quota_warn_ratio,
            allow_insecure_http=allow_insecure_http,
            pool_size=pool_size,
            observers=observers,
            quota=quota,
            limiter=limiter,
        )
        self.urn = urn
        self.plugin_id = plugin_id
        self.verify_sends = verify_sends
        self._fingerprints_kept = True  # until Crisp answers a send with another one
        self.website = WebsiteRoutes(self)
        self.plugin = PluginRoutes(self)
        self.plan = PlanRoutes(self)
        self.bucket = BucketRoutes(self)
        self.media = MediaRoutes(self)

    @classmethod
    def from_settings(
        cls,
        settings: Config,
        observers: Sequence[Observer] = (),
        *,
        link: RedisLink | None = None,
    ) -> RestClient:
        """A client configured from a loaded ``plugin.toml`` (``[crisp]`` and ``[plugin]``).

        With ``crisp.limits_backend = "redis"`` the daily quota and the rate limit are
        counted on ``link`` (from ``open_redis(settings)``) for every instance of the
        plugin; the client does not close the link. Without a link that is a
        ``ConfigError``."""
        crisp = settings.crisp
        quota: RequestQuota | None = None
        limiter: RequestLimiter | None = None
        if crisp.limits_backend == "redis":
            if link is None:
                raise ConfigError(
                    [
                        'crisp.limits_backend = "redis" needs a Redis link: '
                        "RestClient.from_settings(config, link=await open_redis(config))"
                    ]
                )
            from crisp_plugin.rest.redis_limits import redis_limits

            quota, limiter = redis_limits(settings, link)
        return cls(
            crisp.identifier,
            crisp.key.get_secret_value(),
            tier=crisp.tier,
            api_url=crisp.api_url,
            timeout=crisp.timeout,
            urn=settings.plugin.urn,
            plugin_id=crisp.plugin_id,
            max_retries=crisp.max_retries,
            rate_limit=crisp.rate_limit,
            daily_quota=crisp.daily_quota,
            allow_insecure_http=crisp.allow_insecure_http,
            observers=observers,
            quota=quota,
            limiter=limiter,
            verify_sends=crisp.verify_sends,
        )

    @property
    def origin(self) -> str:
        """The ``origin`` put on messages sent: the plugin URN, else ``"chat"``."""
        return self.urn or "chat"

    # -- messages ----------------------------------------------------------------

    async def send_message(
        self,
        website_id: str,
        session_id: str,
        content: Any,
        *,
        type: str = "text",
        from_: Literal["operator", "user"] = "operator",
        origin: str | None = None,
        user: Mapping[str, Any] | None = None,
        mentions: Sequence[str] | None = None,
        fingerprint: int | None = None,
        stealth: bool | None = None,
        automated: bool | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> SentMessage:
        """Send a message (text by default) into a conversation; returns its fingerprint.

        ``content`` is a string for ``text`` / ``note``, an object for the other types
        (see PROTOCOL.md). ``extra`` adds any other body field (``references``, ...).

        With ``verify_sends`` (the client's default) the message carries a fingerprint
        of the client's choosing (``fingerprint`` when given), and an attempt whose
        answer is lost (5xx, timeout) is checked against the conversation and sent again
        only when it is not there (sends.py): no reply lost, none doubled.
        """
        body: dict[str, Any] = {
            "type": type,
            "from": from_,
            "origin": origin or self.urn or "chat",
            "content": content,
        }
        if user is not None:
            body["user"] = dict(user)
        if mentions is not None:
            body["mentions"] = list(mentions)
        if fingerprint is not None:
            body["fingerprint"] = fingerprint
        if stealth is not None:
            body["stealth"] = stealth
        if automated is not None:
            body["automated"] = automated
        if extra:
            body.update(extra)
        path = _conv(website_id, session_id) + "/message"
        if not (self.verify_sends and self._fingerprints_kept):
            data = await self.request("POST", path, body=body)
        else:
            if body.get("fingerprint") is None:
                body["fingerprint"] = new_fingerprint()
            data = await send_verified(self, path, body)
            if isinstance(data, dict) and data.get("fingerprint") != body["fingerprint"]:
                self._fingerprints_kept = False
                _log.warning(
                    "rest.fingerprint_not_kept",
                    sent=body["fingerprint"],
                    answered=data.get("fingerprint"),
                    detail="Crisp stored the message under another fingerprint: sends are "
                    "no longer verified (a lost answer could not be checked)",
                )
        self._notify_sent(website_id, session_id, data)
        return SentMessage.model_validate(data)

    async def send_note(
        self,
        website_id: str,
        session_id: str,
        text: str,
        *,
        mentions: Sequence[str] | None = None,
        user: Mapping[str, Any] | None = None,
        origin: str | None = None,
    ) -> SentMessage:
        """A private note, seen by operators only (``mentions``: user ids to notify)."""
        return await self.send_message(
            website_id,
            session_id,
            text,
            type="note",
            mentions=mentions,
            user=user,
            origin=origin,
        )

    async def send_picker(
        self,
        website_id: str,
        session_id: str,
        text: str,
        choices: Sequence[Choice],
        *,
        picker_id: str = "picker",
        required: bool | None = None,
        user: Mapping[str, Any] | None = None,
        origin: str | None = None,
    ) -> SentMessage:
        """Buttons for the visitor. ``choices``: ``(value, label)`` pairs, plain strings
        (value and label) or full objects.

        The visitor's choice comes back as a ``message:updated`` event whose content has
        the chosen choice ``selected``.
        """
        items: list[dict[str, Any]] = []
        for choice in choices:
            if isinstance(choice, str):
                items.append({"value": choice, "label": choice, "selected": False})
            elif isinstance(choice, tuple):
                value, label = choice
                items.append({"value": value, "label": label, "selected": False})
            elif isinstance(choice, Mapping):
                items.append({"selected": False, **choice})
            else:
                raise TypeError(
                    "a picker choice is a (value, label) pair, a string or a choice "
                    f"object, not {type(choice).__name__}"
                )
        content: dict[str, Any] = {"id": picker_id, "text": text, "choices": items}
        if required is not None:
            content["required"] = required
        return await self.send_message(
            website_id, session_id, content, type="picker", user=user, origin=origin
        )

    async def send_file(
        self,
        website_id: str,
        session_id: str,
        url: str,
        *,
        name: str,
        mime_type: str,
        user: Mapping[str, Any] | None = None,
        origin: str | None = None,
    ) -> SentMessage:
        """A file already hosted at ``url`` (``name`` shown, ``mime_type`` e.g. image/png)."""
        content = {"name": name, "url": url, "type": mime_type}
        return await self.send_message(
            website_id, session_id, content, type="file", user=user, origin=origin
        )

    async def compose(
        self,
        website_id: str,
        session_id: str,
        typing: bool = True,
        *,
        excerpt: str | None = None,
        from_: Literal["operator", "user"] = "operator",
        stealth: bool | None = None,
    ) -> None:
        """Show (``typing=True``) or hide the "is typing" indicator."""
        body: dict[str, Any] = {"type": "start" if typing else "stop", "from": from_}
        if excerpt is not None:
            body["excerpt"] = excerpt
        if stealth is not None:
            body["stealth"] = stealth
        await self.request("PATCH", _conv(website_id, session_id) + "/compose", body=body)

    async def mark_read(
        self,
        website_id: str,
        session_id: str,
        fingerprints: Sequence[int] | None = None,
        *,
        from_: Literal["operator", "user"] = "user",
        origin: str | None = None,
    ) -> None:
        """Mark messages read. ``from_="user"`` (default) marks the visitor's messages as
        read by the operator side; no ``fingerprints`` means all of them."""
        body: dict[str, Any] = {"from": from_, "origin": origin or self.urn or "chat"}
        if fingerprints is not None:
            body["fingerprints"] = list(fingerprints)
        await self.request("PATCH", _conv(website_id, session_id) + "/read", body=body)

    async def list_messages(
        self,
        website_id: str,
        session_id: str,
        *,
        before: int | None = None,
        after: int | None = None,
        around: int | None = None,
    ) -> list[Message]:
        """One batch of messages, oldest first; timestamps in ms select the window."""
        query = {"timestamp_before": before, "timestamp_after": after, "timestamp_around": around}
        data = await self.request("GET", _conv(website_id, session_id) + "/messages", query=query)
        return [Message.model_validate(m) for m in data or ()]

    async def get_message(self, website_id: str, session_id: str, fingerprint: int) -> Message:
        """One message by fingerprint."""
        data = await self.request("GET", _conv(website_id, session_id) + f"/message/{fingerprint}")
        return Message.model_validate(data)

    # -- conversations -----------------------------------------------------------------

    async def create_conversation(self, website_id: str) -> str:
        """Open a new conversation; returns its session_id."""
        data = await self.request("POST", f"/v1/website/{quote_segment(website_id)}/conversation")
        return str(data["session_id"])

    async def get_conversation(self, website_id: str, session_id: str) -> Conversation:
        """One conversation (state, metas, last message...)."""
        return Conversation.model_validate(await self.request("GET", _conv(website_id, session_id)))

    async def list_conversations(
        self,
        website_id: str,
        *,
        per_page: int | None = None,
        start_page: int = 1,
        max_pages: int | None = None,
        **filters: Any,
    ) -> AsyncIterator[Conversation]:
        """Every conversation, page after page, until an empty page.

        ``filters`` become the query (``filter_unread=True``, ``search_query="x"``...).
        """
        query: dict[str, Any] = dict(filters)
        if per_page is not None:
            query["per_page"] = per_page
        base = f"/v1/website/{quote_segment(website_id)}/conversations/"
        page = start_page
        while max_pages is None or page < start_page + max_pages:
            data = await self.request("GET", f"{base}{page}", query=query or None)
            if not data:
                return
            for item in data:
                yield Conversation.model_validate(item)
            page += 1

    async def set_state(
        self, website_id: str, session_id: str, state: ConversationStateName
    ) -> None:
        """Set a conversation's state: ``pending``, ``unresolved`` or ``resolved``."""
        await self.request("PATCH", _conv(website_id, session_id) + "/state", body={"state": state})

    async def resolve(self, website_id: str, session_id: str) -> None:
        """Mark a conversation resolved."""
        await self.set_state(website_id, session_id, "resolved")

    async def get_meta(self, website_id: str, session_id: str) -> ConversationMeta:
        """A conversation's metas (nickname, email, segments, data...)."""
        data = await self.request("GET", _conv(website_id, session_id) + "/meta")
        return ConversationMeta.model_validate(data)

    async def update_meta(
        self,
        website_id: str,
        session_id: str,
        meta: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> None:
        """Merge metas: ``update_meta(w, s, email="a@b.c", data={"plan": "pro"})``."""
        body = {**(meta or {}), **fields}
        await self.request("PATCH", _conv(website_id, session_id) + "/meta", body=body)

    async def assign(
        self, website_id: str, session_id: str, user_id: str | None, *, silent: bool = False
    ) -> None:
        """Assign the conversation to an operator (``None`` unassigns)."""
        body: dict[str, Any] = {"assigned": {"user_id": user_id} if user_id else None}
        if silent:
            body["silent"] = True
        await self.request("PATCH", _conv(website_id, session_id) + "/routing", body=body)

    # -- people ------------------------------------------------------------------------

    async def get_profile(self, website_id: str, people_id: str) -> PeopleProfile:
        """A contact profile (``people_id`` may be an e-mail; it is URL-encoded)."""
        path = f"/v1/website/{quote_segment(website_id)}/people/profile/{quote_segment(people_id)}"
        return PeopleProfile.model_validate(await self.request("GET", path))

    async def update_profile(
        self, website_id: str, people_id: str, profile: Mapping[str, Any]
    ) -> None:
        """Merge fields into a contact profile (``{"person": {"nickname": ...}}``...)."""
        path = f"/v1/website/{quote_segment(website_id)}/people/profile/{quote_segment(people_id)}"
        await self.request("PATCH", path, body=dict(profile))

    # -- plugin ------------------------------------------------------------------------

    async def get_connect_account(self) -> ConnectAccount:
        """The plugin token's account (remembers ``plugin_id`` on the client)."""
        account = ConnectAccount.model_validate(
            await self.request("GET", "/v1/plugin/connect/account")
        )
        if self.plugin_id is None:
            self.plugin_id = account.plugin_id
        return account

    async def check_session(self) -> bool:
        """True when the token is valid (HEAD /v1/plugin/connect/session)."""
        from crisp_plugin.errors import Unauthorized

        try:
            await self.request("HEAD", "/v1/plugin/connect/session")
        except Unauthorized:
            return False
        return True

    async def get_connect_endpoints(self, website_id: str | None = None) -> ConnectEndpoints:
        """RTM relay endpoints for this token's tier (``website_id`` for website tier)."""
        if website_id is not None:
            path = f"/v1/website/{quote_segment(website_id)}/connect/endpoints"
        else:
            path = f"/v1/{self.tier}/connect/endpoints"
        return ConnectEndpoints.model_validate(await self.request("GET", path) or {})

    async def list_connect_websites(
        self, *, configured_only: bool = False, include_plan: bool = False
    ) -> AsyncIterator[ConnectWebsite]:
        """Every website that installed the plugin, with its settings (all pages)."""
        query = {"filter_configured": configured_only, "include_plan": include_plan}
        page = 1
        while True:
            data = await self.request("GET", f"/v1/plugin/connect/websites/all/{page}", query=query)
            if not data:
                return
            for item in data:
                yield ConnectWebsite.model_validate(item)
            page += 1

    async def list_connect_websites_since(
        self, date_since: str, *, configured_only: bool = False, include_plan: bool = False
    ) -> list[ConnectWebsite]:
        """Websites linked, unlinked or updated since an ISO-8601 date (``difference``)."""
        query = {
            "date_since": date_since,
            "filter_configured": configured_only,
            "include_plan": include_plan,
        }
        data = await self.request("GET", "/v1/plugin/connect/websites/since", query=query)
        return [ConnectWebsite.model_validate(item) for item in data or ()]

    async def _plugin_id(self, plugin_id: str | None) -> str:
        if plugin_id:
            return plugin_id
        if self.plugin_id is None:
            await self.get_connect_account()
        assert self.plugin_id is not None
        return self.plugin_id

    def _settings_path(self, website_id: str, plugin_id: str) -> str:
        return (
            f"/v1/plugins/subscription/{quote_segment(website_id)}/"
            f"{quote_segment(plugin_id)}/settings"
        )

    async def get_settings(
        self, website_id: str, plugin_id: str | None = None
    ) -> SubscriptionSettings:
        """This plugin's settings on a website (plugin_id from the client or the token)."""
        path = self._settings_path(website_id, await self._plugin_id(plugin_id))
        return SubscriptionSettings.model_validate(await self.request("GET", path) or {})

    async def save_settings(
        self,
        website_id: str,
        settings: Mapping[str, Any],
        plugin_id: str | None = None,
        *,
        merge: bool = False,
    ) -> None:
        """Replace (PUT) this plugin's settings on a website, or merge them (PATCH)."""
        path = self._settings_path(website_id, await self._plugin_id(plugin_id))
        await self.request("PATCH" if merge else "PUT", path, body=dict(settings))
