"""The marketplace tests' sandbox: three websites, each with settings of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from crisp_plugin.sandbox import Sandbox

SITES = {
    "11111111-1111-4111-8111-111111111111": {"message": "Bonjour", "tone": "formal"},
    "22222222-2222-4222-8222-222222222222": {"message": "Hi there"},
    "33333333-3333-4333-8333-333333333333": {"enabled": False, "message": "never sent"},
}


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox(port=0, websites=list(SITES), hook_retry_delays=(0.1, 0.3)) as sandbox:
        for website_id, settings in SITES.items():
            await sandbox.control.save_settings(website_id, settings)
        yield sandbox
