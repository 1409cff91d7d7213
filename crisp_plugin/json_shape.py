"""What tells, before orjson parses a JSON text, whether it reads it as ``json`` does.

``text.translate(SHAPE)`` turns every digit into ``0`` and ``[`` into ``{``, keeping
every other byte: ``count(b"{")`` then bounds the nesting (each level opens a bracket),
and ``LONG_RUN in`` finds a run of 19 digits or more (an integer orjson might read as a
float past 64 bits; a string with such a run is sent to ``json`` too, harmlessly). Used
by the hook body parser and by the durable inboxes' payload text.
"""

from __future__ import annotations

__all__ = ["LONG_RUN", "SHAPE"]

SHAPE = bytes(
    0x30 if 0x30 <= byte <= 0x39 else 0x7B if byte == 0x5B else byte for byte in range(256)
)
LONG_RUN = b"0" * 19
