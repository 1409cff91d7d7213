"""W4 REST: N send-message calls; the workload lives in bench/rest_send.py (its owner
runs it standalone too), this module only names it for the harness."""

from __future__ import annotations

from bench.rest_send import targets, workload

__all__ = ["targets", "workload"]
