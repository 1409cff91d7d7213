"""Where the official Node clients of each generation are pinned (each folder has its
package.json and package-lock.json, installed with ``npm ci``)."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent
NODE_DIR = HERE / "node"
"""npm crisp-api 11.3.0: Engine.IO v4, endpoint discovery."""
NODE_EIO3_DIR = HERE / "node_eio3"
"""npm crisp-api 5.1.0, node-crisp-api 4.2.2, socket.io-client 2.4.0: Engine.IO v3."""
LISTEN_JS = HERE / "listen.js"
"""Runs any of `CLIENTS`, unchanged, listening on the relay."""

CLIENTS = {
    "crisp-api@11.3.0": NODE_DIR,
    "crisp-api@5.1.0": NODE_EIO3_DIR,
    "node-crisp-api@4.2.2": NODE_EIO3_DIR,
}
"""Every official Node client the conformance tests drive, and the folder pinning it."""
