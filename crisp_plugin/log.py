"""Logging with structlog: a console renderer on a terminal, JSON lines otherwise.

``configure_logging(settings)`` (the runner calls it) sets the level and renderer of
``[log]`` and registers the secrets of the settings for redaction. Redaction is a
processor that runs last before rendering, on every value of every line (tracebacks
included):

- any registered secret value (``register_secret``) appearing in a string, anywhere,
  is replaced by ``"[redacted]"``;
- a value under a secret-looking key name (``key``, ``secret``, ``password``,
  ``token``, ``authorization``, ``signature``, ``*_secret``, ``*_token``...) is
  replaced, however deeply it is nested;
- ``pydantic.SecretStr`` values are replaced, and pydantic models are dumped first so
  their fields get the same treatment.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from typing import IO, Any

import structlog
from pydantic import BaseModel, SecretStr

from crisp_plugin.config import LogSettings, Settings

__all__ = [
    "REDACTED",
    "configure_logging",
    "forget_secrets",
    "get_logger",
    "redact",
    "redact_processor",
    "register_secret",
]

REDACTED = "[redacted]"

_SECRET_KEY = re.compile(
    r"(?i)^(key|secret|password|passwd|token|authorization|signature|cookie|api_key|"
    r"x-crisp-signature|.*[_-](secret|password|token|signature))$"
)
_MIN_SECRET = 4
_secrets: set[str] = set()


def register_secret(value: str | SecretStr | None) -> None:
    """Redact this value wherever it appears in a log line from now on."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if value and len(value) >= _MIN_SECRET:
        _secrets.add(value)


def forget_secrets() -> None:
    """Forget every registered secret (tests)."""
    _secrets.clear()


def _scrub(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def redact(value: Any, _depth: int = 0) -> Any:
    """A copy of ``value`` with secrets replaced (by registered value and key name)."""
    if isinstance(value, str):
        return _scrub(value) if _secrets else value
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, SecretStr):
        return REDACTED
    if _depth > 20:
        return "..."
    if isinstance(value, BaseModel):
        value = value.model_dump(by_alias=True)
    if isinstance(value, dict):
        return {
            k: (
                REDACTED
                if isinstance(k, str) and _SECRET_KEY.match(k) and v not in (None, "")
                else redact(v, _depth + 1)
            )
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple, set, frozenset)):
        return [redact(v, _depth + 1) for v in value]
    if isinstance(value, bytes):
        return _scrub(value.decode("utf-8", "replace")) if _secrets else value
    if isinstance(value, BaseException):
        return _scrub(f"{type(value).__name__}: {value}")
    return value


def redact_processor(
    logger: Any, method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: redact every value of the line (keys kept)."""
    for key, value in list(event_dict.items()):
        if key != "event" and _SECRET_KEY.match(key) and value not in (None, ""):
            event_dict[key] = REDACTED
        elif key == "exc_info":
            continue  # rendered by the renderer, whose output is scrubbed
        else:
            event_dict[key] = redact(value)
    return event_dict


class _Scrubbed:
    """Wrap a renderer: scrub registered secrets from the rendered line (tracebacks)."""

    def __init__(self, renderer: Any) -> None:
        self.renderer = renderer

    def __call__(self, logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> Any:
        line = self.renderer(logger, method, event_dict)
        return _scrub(line) if _secrets and isinstance(line, str) else line


def configure_logging(
    settings: Settings | LogSettings | None = None,
    *,
    stream: IO[str] | None = None,
    secrets: Iterable[str] = (),
) -> None:
    """Set up structlog (and the stdlib root logger) for a run.

    ``format = "auto"`` picks the console renderer when ``stream`` is a terminal and
    JSON otherwise. Secrets of ``Settings`` and ``secrets`` are registered.
    """
    log_settings: LogSettings
    if isinstance(settings, Settings):
        log_settings = settings.log
        for secret in settings.secrets():
            register_secret(secret)
    else:
        log_settings = settings or LogSettings()
    for secret in secrets:
        register_secret(secret)
    out: Any = stream if stream is not None else sys.stderr
    fmt = log_settings.format
    if fmt == "auto":
        fmt = "console" if getattr(out, "isatty", lambda: False)() else "json"
    level = logging.getLevelName(log_settings.level.upper())
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_processor,
    ]
    if fmt == "console":
        processors.append(_Scrubbed(structlog.dev.ConsoleRenderer(colors=out.isatty())))
    else:
        processors.append(structlog.processors.format_exc_info)
        processors.append(_Scrubbed(structlog.processors.JSONRenderer()))
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=level, stream=out, format="%(levelname)s %(name)s %(message)s")


def get_logger(name: str = "crisp_plugin", **bound: Any) -> Any:
    """A structlog logger bound with ``logger=name`` and ``bound`` values."""
    return structlog.get_logger(name).bind(**bound)
