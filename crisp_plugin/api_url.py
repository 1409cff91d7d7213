"""``crisp.api_url``: one normalisation and one idea of loopback, wherever it is given.

plugin.toml's ``[crisp]`` section (``crisp_plugin.settings_models``) and a REST client
built in code (``crisp_plugin.rest.core``) both check the address with
``normalize_api_url``, so ``check --offline`` and ``run`` accept the same URLs. The
module uses the standard library only: the REST package imports it and must not need
the framework's configuration.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

__all__ = ["LOOPBACK_NAMES", "is_loopback", "normalize_api_url"]

# Host names that resolve to this machine in the usual /etc/hosts (Debian writes the
# ip6- ones); compared without case and without a trailing dot.
LOOPBACK_NAMES: frozenset[str] = frozenset(
    {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
)


def is_loopback(host: str | None) -> bool:
    """True when ``host`` stays on this machine: any address of 127.0.0.0/8, ``::1``
    (bracketed or not), an IPv4-mapped loopback (``::ffff:127.0.0.1``) or one of
    ``LOOPBACK_NAMES``."""
    if not host:
        return False
    name = host.strip().lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    if name.rstrip(".") in LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def normalize_api_url(value: str, *, allow_insecure_http: bool = False) -> str:
    """``value`` without surrounding blanks, trailing ``/`` or ``/v1``; ``ValueError``
    (one line, naming ``crisp.api_url``) for what is not an http(s) URL with a host, or
    for plain http to a host that is not loopback unless ``allow_insecure_http``."""
    url = value.strip().rstrip("/")
    if url.endswith("/v1"):
        url = url[:-3]
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number in range
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f'crisp.api_url = "{value}" is not an http(s) URL: write e.g. '
            'api_url = "https://api.crisp.chat"'
        )
    if parts.scheme == "http" and not allow_insecure_http and not is_loopback(parts.hostname):
        raise ValueError(
            f'crisp.api_url = "{value}" uses plain http to a remote host: '
            "use https, or set crisp.allow_insecure_http = true if you mean it"
        )
    return url
