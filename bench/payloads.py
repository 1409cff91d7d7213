"""Crisp-shaped event payloads and signed hook bodies for the benchmarks."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from crisp_plugin.signing import compact_json, sign

WEBSITE_ID = "8c842203-7ed8-4e29-a608-7cf78a7d2fcc"
HOOK_PATH = "/crisp/hooks"
SECRET = "bench-hook-secret-0123456789abcdef"
IDENTIFIER = "7c3ef21c-1e04-41ce-8c06-5605c346f73e"
KEY = "bench-token-key-0123456789abcdef0123456789abcdef0123456789abcdef"


def session_id(i: int) -> str:
    return f"session_{uuid.UUID(int=i + 1)}"


def message_send(website_id: str, session: str, fingerprint: int, text: str) -> dict[str, Any]:
    """The ``data`` of a ``message:send`` event (a visitor's text message)."""
    return {
        "website_id": website_id,
        "session_id": session,
        "inbox_id": None,
        "type": "text",
        "from": "user",
        "origin": "chat",
        "content": text,
        "fingerprint": fingerprint,
        "stamped": True,
        "timestamp": int(time.time() * 1000),
        "user": {"nickname": "Visitor", "user_id": f"user_{session[8:16]}"},
    }


def hook_body(event: str, data: dict[str, Any]) -> bytes:
    return compact_json(
        {
            "website_id": data["website_id"],
            "event": event,
            "data": data,
            "timestamp": data.get("timestamp", int(time.time() * 1000)),
        }
    )


def write_hook_pool(path: Path, count: int, sessions: int = 500) -> Path:
    """``count`` distinct signed ``message:send`` hooks, one per line for wrk's script."""
    base = int(time.time() * 1000)
    with path.open("w", encoding="utf-8") as f:
        for i in range(count):
            data = message_send(WEBSITE_ID, session_id(i % sessions), 10**12 + i, "hello there")
            body = hook_body("message:send", data)
            ts = str(base + i)
            f.write(f"{ts}\t{sign(SECRET, ts, body)}\t{body.decode('utf-8')}\n")
    return path
