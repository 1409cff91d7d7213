"""The plugin.toml sections as pydantic models, one class per ``[section]``.

Each model checks its own keys' types and values (and forbids unknown keys);
``Config`` gathers them. Loading the file, ``${ENV}`` interpolation, the checks that
need the whole file and the problem lines live in ``crisp_plugin.config``, which
re-exports every class here.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationInfo, field_validator

from crisp_plugin.api_url import normalize_api_url
from crisp_plugin.event_loop import EventLoopChoice
from crisp_plugin.redis_client import REDIS_SCHEMES, redis_password, shown_url

__all__ = [
    "BackfillSettings",
    "Config",
    "CrispSettings",
    "DispatchSettings",
    "EventsSettings",
    "InboxSettings",
    "LogSettings",
    "MarketplaceSettings",
    "MetricsSettings",
    "PluginSettings",
    "RedisSettings",
    "RtmSettings",
    "RuntimeSettings",
    "SandboxSettings",
    "StateSettings",
    "WebhookSettings",
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class PluginSettings(_Section):
    """``[plugin]``: which class to run and how it signs its messages."""

    class_: str | None = Field(default=None, alias="class")
    urn: str = "urn:crisp-plugin:bot:1"
    name: str | None = None

    @field_validator("class_")
    @classmethod
    def _class_path(cls, value: str | None) -> str | None:
        if value is None:
            return None
        module, sep, attr = value.partition(":")
        if not sep or not module.strip() or not attr.strip():
            raise ValueError(
                f'plugin.class = "{value}" is not "module:Class": write e.g. class = "my_bot:MyBot"'
            )
        return value

    @field_validator("urn")
    @classmethod
    def _urn(cls, value: str) -> str:
        if not value.startswith("urn:"):
            raise ValueError(
                f'plugin.urn = "{value}" does not start with "urn:": write e.g. '
                'urn = "urn:my-company:my-bot:1"'
            )
        return value


class CrispSettings(_Section):
    """``[crisp]``: the token and the API it talks to."""

    identifier: str = ""
    key: SecretStr = SecretStr("")
    tier: Literal["plugin", "website", "user"] = "plugin"
    allow_insecure_http: bool = False  # declared before api_url: its validator reads it
    api_url: str = "https://api.crisp.chat"
    plugin_id: str | None = None
    timeout: float = Field(default=10.0, gt=0)
    max_retries: int = Field(default=3, ge=0)
    rate_limit: float | None = Field(default=None, gt=0)
    daily_quota: int | None = Field(default=None, gt=0)
    # Where rate_limit and daily_quota are counted: in this process, or on Redis
    # ([redis]) for every instance of the plugin together.
    limits_backend: Literal["memory", "redis"] = "memory"
    verify_sends: bool = True

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str, info: ValidationInfo) -> str:
        allowed = bool(info.data.get("allow_insecure_http", False))
        return normalize_api_url(value, allow_insecure_http=allowed)

    @property
    def has_credentials(self) -> bool:
        """True when both the identifier and the key are set."""
        return bool(self.identifier and self.key.get_secret_value())


class EventsSettings(_Section):
    """``[events]``: how events reach the plugin."""

    transport: Literal["rtm", "webhooks", "both"] = "rtm"


class WebhookSettings(_Section):
    """``[webhooks]``: the HTTP server Crisp posts events to."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    path: str = "/crisp/hooks"
    secret: SecretStr | None = None
    body_limit: int = Field(default=1_048_576, gt=0)
    ack: Literal["stored", "handled"] = "stored"
    replay_window: float = Field(default=0.0, ge=0)
    unsigned: bool = False
    key: SecretStr | None = None
    fast_path: bool = True
    request_timeout: float = Field(default=10.0, gt=0)
    max_connections: int = Field(default=1000, ge=1)

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(
                f'webhooks.path = "{value}" does not start with "/": write e.g. '
                'path = "/crisp/hooks"'
            )
        return value


class BackfillSettings(_Section):
    """``[rtm.backfill]``: after a gap in the relay (a drop, an outage, a restart, a
    takeover), ask the REST API for the messages sent meanwhile and handle them late
    (:mod:`crisp_plugin.backfill`).

    ``max_age``: seconds a recovery reaches back at most (a restart after a longer
    stop recovers only that much). ``margin``: seconds before the moment the relay was
    last heard that a recovery starts (the two clocks, events in flight at the drop).
    ``min_gap``: gaps shorter than this are not recovered. ``max_calls_per_gap`` and
    ``max_calls_per_day``: REST calls recovery may spend (they count in the daily
    quota like every call); past them a warning names what was not recovered."""

    enabled: bool = True
    max_age: float = Field(default=600.0, gt=0)
    margin: float = Field(default=2.0, ge=0, le=300)
    min_gap: float = Field(default=0.0, ge=0)
    max_calls_per_gap: int = Field(default=200, ge=1)
    max_calls_per_day: int = Field(default=1000, ge=1)


class RtmSettings(_Section):
    """``[rtm]``: the Socket.IO relay; ``[rtm.backfill]`` what is done after a gap."""

    url: str | None = None
    rooms: list[str] = Field(default_factory=list)
    inboxes: list[str] = Field(default_factory=list)
    auth_timeout: float = Field(default=10.0, gt=0)
    reconnect_delay: float = Field(default=1.0, gt=0)
    reconnect_max: float = Field(default=10.0, gt=0)
    backfill: BackfillSettings = Field(default_factory=BackfillSettings)


class DispatchSettings(_Section):
    """``[dispatch]``: ordering, concurrency, dedupe and shutdown of handlers.

    ``dedupe_ttl`` applies to messages (keyed by website, session and fingerprint),
    whatever the source. ``dedupe_digest_ttl`` (seconds) to other events, keyed by a
    digest of their payload: such a copy is dropped only when an equal one arrived
    from the other source (RTM and web hooks both on) or it is a web hook redelivery
    (``X-Delivery-Attempt-Count`` above 1) within that window; a repeat from one
    source is a genuine event (a conversation resolved twice) and always runs.
    """

    concurrency: int = Field(default=100, ge=1)
    handler_timeout: float = Field(default=30.0, gt=0)
    dedupe_ttl: float = Field(default=600.0, ge=0)
    dedupe_digest_ttl: float = Field(default=5.0, ge=0)
    dedupe_max: int = Field(default=100_000, ge=0)
    drain_timeout: float = Field(default=30.0, ge=0)
    queue_limit: int = Field(default=10_000, ge=1)
    drop_echoes: bool = True


class StateSettings(_Section):
    """``[state]``: where ``self.state`` keeps per-conversation values, and flows their
    steps (``flow_ttl``: seconds a flow lives after its last change)."""

    backend: Literal["memory", "sqlite", "redis"] = "memory"
    path: str = "crisp_state.sqlite3"
    ttl: float | None = Field(default=None, gt=0)
    flow_ttl: float | None = Field(default=86_400.0, gt=0)


class InboxSettings(_Section):
    """``[inbox]``: where accepted events are kept until handled.

    ``memory``: at most once on a crash (the queues are the only copy). ``sqlite``: an
    event is committed to ``path`` before its hook is answered 200 and replayed after a
    crash; ``synchronous = "full"`` also survives a power loss (an fsync per commit).
    ``redis``: one inbox for every instance (on ``[redis]``): an event is in a Redis
    stream before its hook is answered, and is handled by whichever instance holds its
    conversation's partition (``partitions`` leases of ``lease_ttl`` seconds, spread over
    the live instances)."""

    backend: Literal["memory", "sqlite", "redis"] = "memory"
    path: str = "crisp_inbox.sqlite3"
    synchronous: Literal["normal", "full"] = "normal"
    partitions: int = Field(default=16, ge=1, le=1024)
    lease_ttl: float = Field(default=5.0, ge=0.5, le=300)


class RedisSettings(_Section):
    """``[redis]``: the Redis server that the instances of one plugin share, for
    ``state.backend = "redis"`` and ``crisp.limits_backend = "redis"``.

    ``url`` is ``redis://[user:password@]host[:port][/db]`` (``rediss://`` for TLS), a
    password taken from the environment (``"redis://:${REDIS_PASSWORD}@host:6379/0"``);
    it is a secret: never shown whole in a problem line, a log line or a repr.
    ``prefix`` starts every key (default ``crisp:{<plugin.urn>}``: two plugins on one
    Redis never share a key). The timeouts are seconds."""

    url: SecretStr | None = None
    prefix: str | None = None
    connect_timeout: float = Field(default=5.0, gt=0)
    socket_timeout: float = Field(default=5.0, gt=0)

    @field_validator("url")
    @classmethod
    def _url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return value
        text = value.get_secret_value()
        shown = shown_url(text)
        try:
            parts = urlsplit(text)
            _ = parts.port  # a port that is not a number raises ValueError
        except ValueError as exc:
            raise ValueError(
                f'redis.url = "{shown}" is not a Redis URL ({exc}): write e.g. '
                'url = "redis://127.0.0.1:6379/0"'
            ) from None
        if parts.scheme not in REDIS_SCHEMES or not parts.hostname:
            raise ValueError(
                f'redis.url = "{shown}" is not a Redis URL: write redis://host:6379/0 '
                '(rediss:// for TLS), e.g. url = "redis://:${REDIS_PASSWORD}@127.0.0.1:6379/0"'
            )
        database = parts.path.strip("/")
        if database and not database.isdigit():
            raise ValueError(
                f'redis.url = "{shown}": the path after the host is a database number '
                "(/0, /1...), not a name"
            )
        return value

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str | None) -> str | None:
        if value is not None and (not value or value != value.strip()):
            raise ValueError(
                f"redis.prefix = {value!r} is empty or starts or ends with a space: "
                "leave it out (the default comes from plugin.urn) or write a word"
            )
        return value


class RuntimeSettings(_Section):
    """``[runtime]``: what ``run`` does to the process it owns (never when embedded).

    ``gc_tuning``: freeze the start-up objects and enlarge the young generation while
    the plugin runs (:mod:`crisp_plugin.gc_tuning`), for a flatter latency.
    ``event_loop``: the loop ``run`` starts (:mod:`crisp_plugin.event_loop`): ``"auto"``
    uvloop when installed, else asyncio's; ``"asyncio"``; ``"uvloop"`` (must be installed)."""

    gc_tuning: bool = True
    event_loop: EventLoopChoice = "auto"


class LogSettings(_Section):
    """``[log]``: level and renderer (``auto``: console on a terminal, JSON otherwise)."""

    level: Literal["debug", "info", "warning", "error", "critical"] = "info"
    format: Literal["auto", "console", "json"] = "auto"

    @field_validator("level", "format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value


class SandboxSettings(_Section):
    """``[sandbox]``: run the local Crisp in-process; it fills missing credentials."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=8787, ge=0, le=65535)
    websites: list[str] = Field(default_factory=list)
    chat_page: bool = True


class MetricsSettings(_Section):
    """``[metrics]``: ``/healthz`` and ``/metrics`` on a port of their own, for any
    transport (an RTM-only plugin has no hook server to carry them). With web hooks on,
    the hook port serves both routes as well."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=9090, ge=0, le=65535)


class MarketplaceSettings(_Section):
    """``[marketplace]``: the pages a marketplace plugin (one that mixes in
    ``crisp_plugin.marketplace.Marketplace``) serves to Crisp, and how it keeps its list
    of installed websites current.

    The settings page and the widget Action URL are served on the web hook server's
    port when web hooks are on, else on ``host``:``port``. ``frame_ancestors`` are the
    origins allowed to frame the settings page (Crisp's app). ``public_url`` is how
    Crisp reaches the plugin (what ``schema`` prints as the URLs to paste in the
    Marketplace). ``resync_interval``: seconds between two ``websites/since`` checks."""

    settings_path: str = "/crisp/settings"
    action_path: str = "/crisp/widget"
    host: str = "127.0.0.1"
    port: int = Field(default=8090, ge=0, le=65535)
    frame_ancestors: list[str] = Field(default_factory=lambda: ["https://app.crisp.chat"])
    public_url: str | None = None
    resync_interval: float = Field(default=600.0, gt=0)

    @field_validator("settings_path", "action_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must start with /")
        return value


class Config(_Section):
    """Every section of plugin.toml; ``settings`` is the free ``[settings]`` table."""

    plugin: PluginSettings = Field(default_factory=PluginSettings)
    crisp: CrispSettings = Field(default_factory=CrispSettings)
    events: EventsSettings = Field(default_factory=EventsSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    rtm: RtmSettings = Field(default_factory=RtmSettings)
    dispatch: DispatchSettings = Field(default_factory=DispatchSettings)
    state: StateSettings = Field(default_factory=StateSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    marketplace: MarketplaceSettings = Field(default_factory=MarketplaceSettings)
    runtime: RuntimeSettings = Field(default_factory=RuntimeSettings)
    inbox: InboxSettings = Field(default_factory=InboxSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    settings: dict[str, Any] = Field(default_factory=dict)

    def secrets(self) -> list[str]:
        """The secret values in these settings (for log redaction)."""
        out = [self.crisp.key.get_secret_value()]
        for secret in (self.webhooks.secret, self.webhooks.key):
            if secret is not None:
                out.append(secret.get_secret_value())
        if self.redis.url is not None:
            out.append(redis_password(self.redis.url.get_secret_value()) or "")
        return [s for s in out if s]
