"""Logging with structlog: a console renderer on a terminal, JSON lines otherwise.

``configure_logging(level, format, secrets=...)`` sets the level and renderer (the
values of ``[log]``; ``crisp_plugin.config.configure_logging_for(settings)`` passes them
with the settings' secrets) and registers the secrets for redaction. This module takes
plain values: it knows nothing of the configuration models. Redaction is a
processor that runs last before rendering, on every value of every line (tracebacks
included):

- any registered secret value (``register_secret``) appearing in a string, anywhere,
  is replaced by ``"[redacted]"``;
- a value under a secret-looking key name (``key``, ``secret``, ``password``,
  ``token``, ``authorization``, ``signature``, ``*_secret``, ``*_token``...) is
  replaced, however deeply it is nested;
- ``pydantic.SecretStr`` values are replaced, and pydantic models are dumped first so
  their fields get the same treatment.

``register_credentials(identifier, key)`` registers the key and the HTTP Basic token
``base64(identifier:key)`` a request carries, so a logged ``Authorization`` header or a
dumped request is scrubbed too.

Plain stdlib logging (``logging.getLogger("mine").warning("key %s", key)``, aiohttp's
own loggers...) goes through the same chain: the root logger gets one handler whose
``structlog.stdlib.ProcessorFormatter`` runs the redactor and the same renderer, so in
JSON mode every line of the process is a JSON object and no line carries a secret.
"""

from __future__ import annotations

import base64
import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from typing import IO, Any

import structlog
from pydantic import BaseModel, SecretStr

__all__ = [
    "REDACTED",
    "SafeStream",
    "configure_logging",
    "forget_secrets",
    "get_logger",
    "is_enabled",
    "redact",
    "redact_processor",
    "register_credentials",
    "register_secret",
]

REDACTED = "[redacted]"

_SECRET_KEY = re.compile(
    r"(?i)^(key|secret|password|passwd|token|authorization|signature|cookie|api_key|"
    r"x-crisp-signature|.*[_-](secret|password|token|signature))$"
)
_MIN_SECRET = 4
_secrets: set[str] = set()
_longest_first: list[str] = []  # a secret inside a longer one must not split it
_level: int | None = None  # the configured level (None: structlog's default, everything)


def is_enabled(level: int) -> bool:
    """True when a line at ``level`` (``logging.INFO``...) would be written."""
    return _level is None or level >= _level


def register_secret(value: str | SecretStr | None) -> None:
    """Redact this value wherever it appears in a log line from now on."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if value and len(value) >= _MIN_SECRET and value not in _secrets:
        _secrets.add(value)
        _longest_first[:] = sorted(_secrets, key=len, reverse=True)


def register_credentials(identifier: str | None, key: str | SecretStr | None) -> None:
    """Redact a token key and its HTTP Basic form ``base64(identifier:key)``.

    Call it wherever a token pair is known (the runner, the REST client): a logged
    ``Authorization: Basic ...`` header then never shows the token either.
    """
    if isinstance(key, SecretStr):
        key = key.get_secret_value()
    register_secret(key)
    if identifier and key:
        token = base64.b64encode(f"{identifier}:{key}".encode()).decode("ascii")
        register_secret(token)


def forget_secrets() -> None:
    """Forget every registered secret (tests)."""
    _secrets.clear()
    _longest_first.clear()


def _scrub(text: str) -> str:
    for secret in _longest_first:
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
    level: str = "info",
    format: str = "auto",
    *,
    stream: IO[str] | None = None,
    secrets: Iterable[str] = (),
) -> None:
    """Set up structlog (and the stdlib root logger) for a run.

    ``format``: ``console``, ``json``, or ``auto`` (console when ``stream`` is a terminal,
    JSON otherwise). ``secrets`` are registered for redaction.
    """
    global _level
    for secret in secrets:
        register_secret(secret)
    out: Any = SafeStream(stream if stream is not None else sys.stderr)
    fmt = format
    if fmt == "auto":
        fmt = "console" if out.isatty() else "json"
    number = logging.getLevelName(level.upper())
    if not isinstance(number, int):
        raise ValueError(f"log level {level!r} is not one of debug, info, warning, error")
    _level = number
    common: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    tail: list[Any] = [redact_processor]
    if fmt == "console":
        tail.append(_Scrubbed(structlog.dev.ConsoleRenderer(colors=out.isatty())))
    else:
        tail.append(structlog.processors.format_exc_info)
        tail.append(_Scrubbed(structlog.processors.JSONRenderer()))
    structlog.configure(
        processors=[*common, *tail],
        wrapper_class=structlog.make_filtering_bound_logger(number),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    _route_stdlib(out, number, common, tail)


class SafeStream:
    """A text stream whose write errors are swallowed: once the reader is gone (``run
    ... | head -1``, a closed pipe) a log line must never raise into the code that
    logged it, least of all into the signal handler and shutdown. After the first
    failure it stops writing (``broken``)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.broken = False

    def write(self, text: str) -> int:
        if not self.broken:
            try:
                written: int = self.stream.write(text)
                return written
            except (OSError, ValueError):  # BrokenPipeError, or a closed file
                self.broken = True
        return len(text)

    def flush(self) -> None:
        if not self.broken:
            try:
                self.stream.flush()
            except (OSError, ValueError):
                self.broken = True

    def isatty(self) -> bool:
        try:
            return bool(self.stream.isatty())
        except (OSError, ValueError, AttributeError):
            return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


_stdlib_handler: logging.Handler | None = None


def _route_stdlib(out: Any, level: int, common: list[Any], tail: list[Any]) -> None:
    """Send stdlib records through the structlog chain (redactor + renderer)."""
    global _stdlib_handler
    root = logging.getLogger()
    if _stdlib_handler is not None:
        root.removeHandler(_stdlib_handler)
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*common, structlog.stdlib.add_logger_name],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *tail],
        )
    )
    root.addHandler(handler)
    root.setLevel(level)
    _stdlib_handler = handler


def get_logger(name: str = "crisp_plugin", **bound: Any) -> Any:
    """A structlog logger bound with ``logger=name`` and ``bound`` values."""
    return structlog.get_logger(name).bind(**bound)
