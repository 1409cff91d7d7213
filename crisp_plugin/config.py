"""plugin.toml -> validated ``Config``.

``load_config(path)`` reads the TOML file, replaces ``${ENV}`` and ``${ENV:-default}`` in
string values (``$${`` writes a literal ``${``; a malformed reference is a problem),
makes a relative ``state.path`` absolute against the file's folder, validates every
section with pydantic and raises ``ConfigError`` whose ``problems`` hold one line per
problem: the key, the bad value (never a secret's) and the fix. Unknown keys are
problems too (typo protection, with a "did you mean").

``Config.model_validate({...})`` builds settings in code (tests do); it checks types
and values, while ``load_config`` adds the checks that need the whole file: credentials
present unless the embedded sandbox fills them, a hook secret for signed web hooks,
``[redis] url`` (and redis-py) when a backend says redis, uvloop installed when
``runtime.event_loop`` says uvloop, and the plugin class named.
The section models themselves live in ``crisp_plugin.settings_models`` and are
re-exported here.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel, SecretStr, ValidationError

from crisp_plugin.errors import ConfigError
from crisp_plugin.event_loop import loop_problem
from crisp_plugin.redis_client import redis_available
from crisp_plugin.settings_models import (
    BackfillSettings,
    Config,
    CrispSettings,
    DispatchSettings,
    EventsSettings,
    InboxSettings,
    LogSettings,
    MetricsSettings,
    PluginSettings,
    RedisSettings,
    RtmSettings,
    RuntimeSettings,
    SandboxSettings,
    StateSettings,
    WebhookSettings,
)

__all__ = [
    "BackfillSettings",
    "Config",
    "CrispSettings",
    "DispatchSettings",
    "EventsSettings",
    "InboxSettings",
    "LogSettings",
    "MetricsSettings",
    "PluginSettings",
    "RedisSettings",
    "RtmSettings",
    "RuntimeSettings",
    "SandboxSettings",
    "StateSettings",
    "WebhookSettings",
    "configure_logging_for",
    "explain_errors",
    "file_problems",
    "interpolate",
    "load_config",
    "nested_model",
    "settings_from_dict",
    "unknown_key_line",
]

# Keys whose values are never printed, in problems or anywhere else.
SECRET_KEYS: frozenset[str] = frozenset(
    {"crisp.key", "webhooks.secret", "webhooks.key", "redis.url"}
)

# The environment variable a problem line suggests for a key, when one is natural.
_ENV_HINTS: dict[str, str] = {
    "crisp.identifier": "CRISP_IDENTIFIER",
    "crisp.key": "CRISP_KEY",
    "webhooks.secret": "CRISP_HOOK_SECRET",
}


# --------------------------------------------------------------------------- loading

_ENV_TOKEN = re.compile(r"\$\$\{|\$\{([^}]*)(\})?")
_ENV_REF = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?", re.DOTALL)


def interpolate(value: Any, env: Mapping[str, str], problems: list[str], where: str = "") -> Any:
    """Replace ``${NAME}`` / ``${NAME:-default}`` in every string of ``value``.

    ``${NAME:-default}`` uses the default when NAME is unset or empty, as a shell does.
    ``$${`` is a literal ``${`` (``"$${HOME}"`` stays ``"${HOME}"``). An unset
    ``${NAME}`` without default, a reference that is not a variable name
    (``${BAD NAME}``) and a ``${`` never closed add a problem line naming ``where``.
    """
    if isinstance(value, str):
        if "${" not in value:
            return value

        def sub(match: re.Match[str]) -> str:
            if match.group(0) == "$${":
                return "${"
            inner, closed = match.group(1), match.group(2)
            ref = _ENV_REF.fullmatch(inner) if closed else None
            if ref is None:
                shown = "<hidden>" if where in SECRET_KEYS else repr(match.group(0))
                problem = "is not an environment reference" if closed else "is never closed"
                problems.append(
                    f"{where}: {shown} {problem}: write ${{NAME}} or ${{NAME:-default}} "
                    "(NAME of letters, digits and _), or $${ for a literal ${"
                )
                return ""
            name, default = ref.group(1), ref.group(2)
            found = env.get(name)
            if default is not None:
                return found if found else default
            if found is None:
                problems.append(
                    f"{where}: environment variable {name} is not set: export it or give "
                    f"a default as ${{{name}:-...}}"
                )
                return ""
            return found

        return _ENV_TOKEN.sub(sub, value)
    if isinstance(value, dict):
        return {
            k: interpolate(v, env, problems, f"{where}.{k}" if where else str(k))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [interpolate(v, env, problems, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def configure_logging_for(settings: Config, stream: IO[str] | None = None) -> None:
    """Logging as ``[log]`` says, with the settings' credentials and secrets redacted."""
    from crisp_plugin.log import configure_logging, register_credentials

    register_credentials(settings.crisp.identifier, settings.crisp.key)
    configure_logging(
        settings.log.level, settings.log.format, stream=stream, secrets=settings.secrets()
    )


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """Read, interpolate and validate a plugin.toml; ``ConfigError`` lists every problem."""
    path = Path(path)
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            [f"{path}: no such file: create it (python -m crisp_plugin init NAME)"]
        ) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot be read ({exc.strerror})"]) from None
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = content.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            [
                f"{path}: not UTF-8 text (byte 0x{content[exc.start]:02x} on line {line}): "
                "save the file as UTF-8"
            ]
        ) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
    return settings_from_dict(raw, os.environ if env is None else env, base=path.resolve().parent)


def settings_from_dict(
    raw: Mapping[str, Any], env: Mapping[str, str] | None = None, *, base: Path | None = None
) -> Config:
    """Validate a parsed plugin.toml (after interpolation) like ``load_config`` does.

    A relative ``state.path`` is made absolute against ``base`` (``load_config`` passes
    the toml's folder, so a run from another folder finds the same file); for the
    sqlite backend its folder must exist and be writable.
    """
    problems: list[str] = []
    data = interpolate(dict(raw), os.environ if env is None else env, problems)
    env_keys = {line.split(":", 1)[0] for line in problems}
    settings: Config | None = None
    try:
        settings = Config.model_validate(data)
    except ValidationError as exc:
        problems.extend(explain_errors(exc))
    problems.extend(p for p in file_problems(data) if p.split(" ", 1)[0] not in env_keys)
    if settings is not None and not {"state.path", "inbox.path"} & env_keys:
        settings, state_problems = _resolve_state_path(settings, base)
        problems.extend(state_problems)
    if problems:
        raise ConfigError(_unique(problems))
    assert settings is not None
    return settings


def _resolve_state_path(settings: Config, base: Path | None) -> tuple[Config, list[str]]:
    """``state.path`` and ``inbox.path`` made absolute against ``base``, and whether
    SQLite can open them (when their backend is sqlite)."""
    problems: list[str] = []
    for section in ("state", "inbox"):
        settings, found = _resolve_sqlite_path(settings, section, base)
        problems.extend(found)
    return settings, problems


def _resolve_sqlite_path(
    settings: Config, section: str, base: Path | None
) -> tuple[Config, list[str]]:
    part = getattr(settings, section)
    if part.path == ":memory:":
        return settings, []
    path = Path(part.path).expanduser()
    if base is not None and not path.is_absolute():
        path = base / path
        part = part.model_copy(update={"path": str(path)})
        settings = settings.model_copy(update={section: part})
    if part.backend != "sqlite":
        return settings, []
    folder = path.parent if str(path.parent) else Path(".")
    shown = f'{section}.path = "{path}"'
    if path.is_dir():
        return settings, [f"{shown} is a folder: name a file, e.g. {path / 'crisp.sqlite3'}"]
    if not folder.is_dir():
        return settings, [f"{shown}: folder {folder} does not exist: create it or change the path"]
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return settings, [f"{shown} is not writable: fix its permissions or change the path"]
    return settings, []


def file_problems(raw: Mapping[str, Any]) -> list[str]:
    """Checks across sections for a file about to be run (on the interpolated dict).

    The plugin class must be named; without the embedded sandbox the credentials must be
    set, and signed web hooks need their secret; a backend that says redis needs
    ``[redis] url`` and the redis library. Each value is read as its section's
    model validates it (``enabled = "${SANDBOX:-true}"`` is true here as at run time,
    ``port = "8080"`` is the number 8080); a check that needs a value the model refuses
    is not made, since that value already has a problem line of its own.
    """
    problems: list[str] = []

    def value(section: str, key: str) -> Any:
        return _validated(raw, section, key)

    plugin_class = value("plugin", "class")
    if plugin_class is None:
        problems.append(
            'plugin.class is missing: name your plugin class, e.g. class = "my_bot:MyBot"'
        )
    transport = value("events", "transport")
    wants_hooks = transport in ("webhooks", "both")
    metrics_port, metrics_host = value("metrics", "port"), value("metrics", "host")
    if (
        value("metrics", "enabled") is True
        and wants_hooks
        and isinstance(metrics_port, int)
        and metrics_port != 0
        and metrics_port == value("webhooks", "port")
        and isinstance(metrics_host, str)
        and metrics_host == value("webhooks", "host")
    ):
        problems.append(
            f"metrics.port = {metrics_port} is the web hook port: the hook server already "
            "serves /healthz and /metrics; choose another port or leave metrics.enabled off"
        )
    problems.extend(_redis_problems(value))
    loop = loop_problem(value("runtime", "event_loop"))
    if loop is not None:
        problems.append(loop)
    backfill, dedupe_ttl = value("rtm", "backfill"), value("dispatch", "dedupe_ttl")
    if (
        isinstance(backfill, BackfillSettings)
        and backfill.enabled
        and isinstance(dedupe_ttl, int | float)
        and backfill.max_age > dedupe_ttl
    ):
        problems.append(
            f"rtm.backfill.max_age = {backfill.max_age:g} is longer than dispatch.dedupe_ttl "
            f"= {dedupe_ttl:g}: a recovery would read back messages whose dedupe keys have "
            "expired and handle them again; lower max_age or raise dedupe_ttl"
        )
    sandbox = value("sandbox", "enabled")
    if sandbox is not False:  # on, or not known: the sandbox may fill the credentials
        return problems
    for key in ("identifier", "key"):
        given = value("crisp", key)
        if given is not _INVALID and not _secret_text(given):
            problems.append(_missing_line(f"crisp.{key}", raw))
    unsigned, secret = value("webhooks", "unsigned"), value("webhooks", "secret")
    if wants_hooks and unsigned is False and secret is not _INVALID and not _secret_text(secret):
        problems.append(
            "webhooks.secret is missing: set CRISP_HOOK_SECRET and write "
            'secret = "${CRISP_HOOK_SECRET}", or set webhooks.unsigned = true '
            "for unsigned website hooks"
        )
    return problems


def _redis_problems(value: Callable[[str, str], Any]) -> list[str]:
    """A backend that says redis needs ``[redis] url``, and redis-py installed."""
    asked = [
        f'{section}.{key} = "redis"'
        for section, key in (
            ("state", "backend"),
            ("crisp", "limits_backend"),
            ("inbox", "backend"),
        )
        if value(section, key) == "redis"
    ]
    if not asked:
        return []
    why = " and ".join(asked)
    problems = []
    if value("inbox", "backend") == "redis" and value("webhooks", "ack") == "handled":
        problems.append(
            'webhooks.ack = "handled" cannot be kept with inbox.backend = "redis": an '
            "event may be handled by another instance than the one its hook reached; "
            'leave ack = "stored" (the hook is answered once Redis has the event)'
        )
    url = value("redis", "url")
    if url is not _INVALID and not _secret_text(url):
        problems.append(
            f"redis.url is missing: {why} needs it: write it in [redis], e.g. "
            'url = "redis://127.0.0.1:6379/0" (a password from the environment: '
            '"redis://:${REDIS_PASSWORD}@host:6379/0")'
        )
    if not redis_available():
        problems.append(f"{why} needs the redis library: pip install 'crisp-plugin[redis]'")
    return problems


# What ``_validated`` answers for a value its section's model refuses.
_INVALID: Any = object()

_SECTIONS: dict[str, type[BaseModel]] = {
    name: field.annotation
    for name, field in Config.model_fields.items()
    if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
}


def _validated(raw: Mapping[str, Any], section: str, key: str) -> Any:
    """``[section] key`` as its model reads it: the validated value, the default when the
    key (or the section) is absent, ``_INVALID`` when the model refuses the value or the
    section is not a table."""
    model = _SECTIONS[section]
    table = raw.get(section, {})
    if not isinstance(table, dict):
        return _INVALID
    name = next((n for n, f in model.model_fields.items() if (f.alias or n) == key), key)
    try:
        validated = model.model_validate({key: table[key]} if key in table else {})
    except ValidationError:
        return _INVALID
    return getattr(validated, name)


def _secret_text(value: object) -> str:
    """The text of a plain or secret string setting ("" for None)."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    return value if isinstance(value, str) else ""


def _missing_line(key: str, raw: Mapping[str, Any]) -> str:
    section, _, name = key.partition(".")
    table = raw.get(section)
    present = isinstance(table, dict) and name in table
    env = _ENV_HINTS.get(key, key.replace(".", "_").upper())
    state = "is empty" if present else "is missing"
    return f"{key} {state}: set {env} or write it in plugin.toml"


# ------------------------------------------------------------------ error explaining


def explain_errors(
    exc: ValidationError, root: type[BaseModel] | None = None, prefix: str = ""
) -> list[str]:
    """One problem line per pydantic error: the dotted key (after ``prefix``), the bad
    value (never a secret's), and the fix. ``root`` is the model validated (unknown
    keys are looked up in it for a "did you mean")."""
    root = root if root is not None else Config
    lead: tuple[int | str, ...] = (prefix,) if prefix else ()
    lines = []
    for err in exc.errors(include_url=False):
        key = _dotted((*lead, *err["loc"]))
        kind = err["type"]
        secret = key in SECRET_KEYS
        value = err.get("input")
        shown = "<hidden>" if secret else _show(value)
        msg = str(err.get("msg", ""))
        if kind == "missing":
            lines.append(f"{key} is missing: add it to plugin.toml")
        elif kind == "extra_forbidden":
            lines.append(unknown_key_line(err["loc"], root, prefix))
        elif kind in ("literal_error", "enum"):
            allowed = _allowed(msg)
            lines.append(f"{key} = {shown} is not one of {allowed}")
        elif kind == "value_error":
            lines.append(msg.removeprefix("Value error, "))
        elif kind.endswith("_type") or kind.endswith("_parsing"):
            expected = _EXPECTED.get(kind.split("_")[0], kind.split("_")[0])
            if kind == "model_type" or kind == "dict_type":
                lines.append(f"{key} = {shown} is not a table: write it as [{key}]")
            else:
                lines.append(f"{key} = {shown} is not {expected}: fix the value's type")
        elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
            lines.append(f"{key} = {shown} {_BOUNDS[kind]} {_bound(err)}: change the value")
        else:
            lines.append(f"{key} = {shown}: {msg}")
    return lines


_EXPECTED = {
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "string": "a string",
    "list": "a list",
    "dict": "a table",
    "model": "a table",
}

_BOUNDS = {
    "greater_than": "must be greater than",
    "greater_than_equal": "must be at least",
    "less_than": "must be less than",
    "less_than_equal": "must be at most",
}


def _bound(err: Any) -> str:
    ctx = err.get("ctx") or {}
    for name in ("gt", "ge", "lt", "le"):
        if name in ctx:
            bound = ctx[name]
            return f"{bound:g}" if isinstance(bound, float) else str(bound)
    return "the limit"


def _allowed(msg: str) -> str:
    # pydantic: "Input should be 'rtm', 'webhooks' or 'both'"
    names = re.findall(r"'([^']*)'", msg)
    return ", ".join(names) if names else msg


def _dotted(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        name = "class" if part == "class_" else part
        if isinstance(name, int):
            out += f"[{name}]"
        else:
            out += f".{name}" if out else str(name)
    return out


def unknown_key_line(
    loc: tuple[int | str, ...], root: type[BaseModel] | None = None, prefix: str = ""
) -> str:
    """The problem line of an unknown key at ``loc`` in ``root`` (default ``Config``),
    with the closest known key as a suggestion."""
    key = _dotted(((prefix,) if prefix else ()) + loc)
    *parents, last = loc
    model: type[BaseModel] = root if root is not None else Config
    for part in parents:
        if isinstance(part, int):
            continue  # an item of a list: the list's model stays the one to look in
        field = model.model_fields.get(str(part))
        inner = nested_model(field.annotation) if field else None
        if inner is None:
            break
        model = inner
    known = [f.alias or n for n, f in model.model_fields.items()]
    close = difflib.get_close_matches(str(last), known, n=1, cutoff=0.6)
    owner = ((prefix,) if prefix else ()) + tuple(parents)
    where = f"[{_dotted(owner)}]" if owner else "plugin.toml"
    if close:
        return f"{key} is not a known key: did you mean {close[0]}?"
    return f"{key} is not a known key in {where}: remove it (known: {', '.join(known)})"


def nested_model(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds: ``Model``, ``Model | None``, ``list[Model]``; ``None``
    when it holds no model (a mapping of models counts as none: its keys are free)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (dict, Mapping):
        return None
    for arg in reversed(typing.get_args(annotation)):
        found = nested_model(arg)
        if found is not None:
            return found
    return None


def _show(value: object) -> str:
    if isinstance(value, str):
        text = json.dumps(value)
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, dict):
        text = "{...}"
    else:
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _unique(lines: list[str]) -> list[str]:
    return list(dict.fromkeys(lines))
