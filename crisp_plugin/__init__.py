"""crisp_plugin: write, run, test and scale Crisp plugins and bots in Python."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
