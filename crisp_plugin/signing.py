"""Web hook signatures as Crisp computes them, and the compact JSON Crisp sends.

Signature = lowercase hex HMAC-SHA256, keyed with the plugin's signature secret, over
``"[" + timestamp + ";" + body + "]"``, the timestamp exactly as in the
``X-Crisp-Request-Timestamp`` header and the body as the raw bytes on the wire.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

__all__ = ["compact_json", "sign", "verify"]


def compact_json(obj: Any) -> bytes:
    """JSON text the way Crisp's servers write it: no spaces, raw UTF-8 (no \\u escapes)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(secret: str, timestamp: str | int, body: bytes) -> str:
    """The ``X-Crisp-Signature`` value for ``body`` sent at ``timestamp``."""
    message = b"[" + str(timestamp).encode("ascii") + b";" + body + b"]"
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """Constant-time check of a signature over the raw body bytes."""
    if not secret or not signature or not timestamp:
        return False
    if not (signature.isascii() and timestamp.isascii()):
        return False  # a hex digest is ASCII; anything else is simply wrong, not an error
    expected = sign(secret, timestamp, body)
    return hmac.compare_digest(expected, signature.strip().lower())
