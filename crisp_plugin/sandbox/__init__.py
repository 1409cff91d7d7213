"""The sandbox: a local Crisp that speaks the real wire protocol.

REST API v1 (envelope, Basic auth + tier, validation errors), endpoint discovery, an
RTM relay (Socket.IO, ``authentication`` handshake, event and room filters), signed
Web Hook delivery with retries, and a control API to play the visitor and inject
faults. The official clients pointed at it work unchanged:

- npm ``crisp-api``: ``setRestHost(sb.url)`` (no ``/v1``: the client appends ``/v1/``),
  ``setRtmHost(sb.relay_url)`` or endpoint discovery.
- PyPI ``crisp-api``: ``set_rest_host(sb.url)`` and ``set_tier("plugin")``.

See server.py (``Sandbox``), control.py (the control API's routes) and
control_client.py (``SandboxControl``).
"""

from __future__ import annotations

from .control_client import SandboxControl, SandboxControlError
from .server import Sandbox

__all__ = ["Sandbox", "SandboxControl", "SandboxControlError"]
