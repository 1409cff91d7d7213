"""The chat page in a real headless browser (Debian's chromium, driven by Playwright).

1. The quickstart as a newcomer runs it: ``python -m crisp_plugin run plugin.toml``
   prints the chat page's address; typing "hello" there shows the greeter's answer.
2. What a bot can show appears live and answers back: its typing indicator, a field
   message (filled in and sent), a picker after the page's Resolve button (clicked).
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

from playwright.async_api import Browser, Page, expect

from crisp_plugin import Plugin, on
from crisp_plugin.config import settings_from_dict
from crisp_plugin.embedded_sandbox import embedded_sandbox, with_sandbox
from crisp_plugin.events import MessageSend, MessageUpdated, SessionSetState
from crisp_plugin.runner import Runner

ROOT = Path(__file__).resolve().parents[2]
URL = re.compile(r"https?://127\.0\.0\.1:\d+/\S*")


async def _read_address(proc: asyncio.subprocess.Process, within: float) -> tuple[str, str]:
    """The first URL the process prints (on stdout or stderr), and what it printed."""
    seen: list[str] = []

    async def scan(stream: asyncio.StreamReader | None) -> str:
        assert stream is not None
        while True:
            line = (await stream.readline()).decode(errors="replace")
            if not line:
                await asyncio.sleep(within)  # EOF: let the other stream answer
                raise AssertionError("no address printed")
            seen.append(line)
            found = URL.search(line)
            if found and "chat" in line.lower():
                return found.group(0)

    tasks = [asyncio.ensure_future(scan(s)) for s in (proc.stdout, proc.stderr)]
    try:
        done, _ = await asyncio.wait(tasks, timeout=within, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task.exception() is None:
                return task.result(), "".join(seen)
        raise AssertionError("the chat page's address was not printed:\n" + "".join(seen))
    finally:
        for task in tasks:
            task.cancel()


async def _say(page: Page, text: str) -> None:
    await page.get_by_test_id("text").fill(text)
    await page.get_by_test_id("text").press("Enter")


async def test_quickstart_greeter_answers_hello_in_the_browser(
    browser: Browser, tmp_path: Path
) -> None:
    # The README's plugin.toml, on a free port so the test never collides.
    toml = (ROOT / "plugin.toml").read_text(encoding="utf-8")
    toml, n = re.subn(r"(?m)^port\s*=.*$", "port = 0", toml)
    assert n == 1, "plugin.toml should set [sandbox] port once"
    config = tmp_path / "plugin.toml"
    config.write_text(toml, encoding="utf-8")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "crisp_plugin",
        "run",
        str(config),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        address, _ = await _read_address(proc, within=15)
        page = await browser.new_page()
        await page.goto(address)
        await expect(page.locator("body[data-ready=true]")).to_be_attached(timeout=10_000)
        await _say(page, "hello")
        await expect(page.locator(".message.user").last).to_have_text("hello")
        answer = page.locator(".message.operator .text")
        await expect(answer.last).to_have_text("Hi! How can I help?", timeout=10_000)
    finally:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), timeout=10)
        except TimeoutError:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, f"run exited with {proc.returncode} on SIGTERM"


class PageBot(Plugin):
    """Types before answering, asks for an e-mail in a field, a rating when resolved."""

    @on("message:send", text=r"late")
    async def typing_then_answer(self, event: MessageSend) -> None:
        await self.rest.compose(event.website_id, event.session_id, True)
        await asyncio.sleep(0.8)
        await self.rest.send_message(event.website_id, event.session_id, "Noted.")

    @on("message:send", text=r"email")
    async def ask_email(self, event: MessageSend) -> None:
        field = {"id": "email", "text": "Your e-mail?", "explain": "you@example.com"}
        await self.rest.send_message(event.website_id, event.session_id, field, type="field")

    @on("session:set_state", when=lambda event: event.state == "resolved")
    async def ask_rating(self, event: SessionSetState) -> None:
        choices = [("5", "Great"), ("1", "Bad")]
        await self.rest.send_picker(
            event.website_id, event.session_id, "How did we do?", choices, picker_id="rating"
        )

    @on("message:updated")
    async def thanks(self, event: MessageUpdated) -> None:
        content = event.content
        if not isinstance(content, dict):
            return
        if content.get("id") == "rating":
            chosen = [c["label"] for c in content.get("choices", []) if c.get("selected")]
            reply = f"Thanks: {', '.join(chosen)}"
        else:
            reply = f"Got {content.get('value')}"
        await self.rest.send_message(event.website_id, event.session_id, reply)


async def test_typing_fields_and_pickers_show_live_and_answer_back(browser: Browser) -> None:
    settings = settings_from_dict(
        {
            "plugin": {"class": f"{__name__}:PageBot"},
            "sandbox": {"enabled": True, "port": 0, "chat_page": True},
            "events": {"transport": "rtm"},
        }
    )
    async with (
        embedded_sandbox(settings, print) as sandbox,
        Runner(with_sandbox(settings, sandbox), plugin_class=PageBot),
    ):
        page = await browser.new_page()
        await page.goto(sandbox.url + "/")
        await expect(page.locator("body[data-ready=true]")).to_be_attached(timeout=10_000)
        last_reply = page.locator(".message.operator .text").last

        await _say(page, "my order is late")
        await expect(page.get_by_test_id("typing")).to_be_visible(timeout=5_000)
        await expect(last_reply).to_have_text("Noted.")
        await expect(page.get_by_test_id("typing")).to_be_hidden()

        await _say(page, "can I leave my email?")
        field = page.locator(".message.operator .field input")
        await expect(field).to_be_visible(timeout=5_000)
        await field.fill("ada@example.com")
        await field.press("Enter")
        await expect(last_reply).to_have_text("Got ada@example.com", timeout=5_000)

        await page.get_by_test_id("resolve").click()
        await expect(page.get_by_test_id("resolve")).to_have_text("Resolved", timeout=5_000)
        await expect(page.get_by_test_id("resolve")).to_be_disabled()
        choice = page.locator(".message.operator .choices button", has_text="Great")
        await expect(choice).to_be_visible(timeout=5_000)
        await choice.click()
        await expect(last_reply).to_have_text("Thanks: Great", timeout=5_000)
        await expect(choice).to_have_class(re.compile(r"\bselected\b"))
