"""crisp_plugin.testing: the fixtures plugin authors use, checked on a tiny echo bot."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from crisp_plugin import Plugin, on
from crisp_plugin.events import MessageSend, MessageUpdated
from crisp_plugin.sandbox import Sandbox
from crisp_plugin.testing import NewVisitor, PluginRunner, TransportName, Visitor


class Echo(Plugin):
    """Echoes text with a prefix from [settings]; "menu" sends a picker."""

    @on("message:send", type="text")
    async def echo(self, event: MessageSend) -> None:
        text = event.text or ""
        if text == "menu":
            await self.rest.send_picker(
                event.website_id, event.session_id, "Pick one", [("a", "Apples"), ("p", "Pears")]
            )
            return
        prefix = str(self.settings.get("prefix", "echo"))
        await self.rest.send_message(event.website_id, event.session_id, f"{prefix}: {text}")

    @on("message:updated")
    async def picked(self, event: MessageUpdated) -> None:
        content = event.content if isinstance(event.content, dict) else {}
        chosen = [c["value"] for c in content.get("choices", []) if c.get("selected")]
        await self.rest.send_message(event.website_id, event.session_id, f"picked {chosen}")


async def test_replies_are_read_in_order(run_plugin: PluginRunner, visitor: Visitor) -> None:
    async with run_plugin(Echo, settings={"prefix": "you said"}) as plugin:
        assert plugin.settings == {"prefix": "you said"}
        await visitor.say("one")
        await visitor.say("two")
        first = await visitor.expect_reply()
        second = await visitor.expect_reply()
        assert (first.text, second.text) == ("you said: one", "you said: two")
        assert first.from_ == "operator" and first.origin == plugin.urn
        texts = [m.text for m in await visitor.transcript()]
        assert sorted(texts) == ["one", "two", "you said: one", "you said: two"]


async def test_expect_reply_says_what_came_instead(
    run_plugin: PluginRunner, visitor: Visitor
) -> None:
    async with run_plugin(Echo):
        await visitor.say("hello")
        with pytest.raises(AssertionError, match=r"matching 'goodbye'.*'echo: hello'"):
            await visitor.expect_reply(match="goodbye", timeout=0.5)


async def test_expect_no_reply_fails_when_the_bot_answers(
    run_plugin: PluginRunner, visitor: Visitor
) -> None:
    async with run_plugin(Echo):
        await visitor.say("hello")
        with pytest.raises(AssertionError, match=r"expected no reply.*'echo: hello'"):
            await visitor.expect_no_reply()


async def test_choose_by_label_or_value(run_plugin: PluginRunner, visitor: Visitor) -> None:
    async with run_plugin(Echo):
        await visitor.say("menu")
        picker = await visitor.expect_reply(match="Pick one")
        assert [c["label"] for c in picker.choices] == ["Apples", "Pears"]
        with pytest.raises(AssertionError, match="not a choice"):
            await visitor.choose("Bananas")
        await visitor.choose("Pears")
        await visitor.expect_reply(match=r"picked \['p'\]")
        await visitor.choose("a", picker=picker)
        await visitor.expect_reply(match=r"picked \['a'\]")


async def test_each_visitor_has_a_conversation(
    run_plugin: PluginRunner, new_visitor: NewVisitor
) -> None:
    async with run_plugin(Echo):
        alice, bob = await new_visitor(), await new_visitor()
        assert alice.session_id != bob.session_id
        await alice.say("from alice")
        await bob.say("from bob")
        assert (await bob.expect_reply()).text == "echo: from bob"
        assert (await alice.expect_reply()).text == "echo: from alice"


@pytest.mark.parametrize("transport", ["webhooks", "both"])
async def test_hooks_are_registered_for_the_run_only(
    run_plugin: PluginRunner, visitor: Visitor, sandbox: Sandbox, transport: TransportName
) -> None:
    async with run_plugin(Echo, transport=transport):
        assert len(sandbox.hooks.urls) == 1
        await visitor.say("over hooks")
        await visitor.expect_reply(match="echo: over hooks")
        await visitor.expect_no_reply()
    assert sandbox.hooks.urls == []


class Late(Plugin):
    """Answers after a pause longer than any fixed wait a test would pick."""

    @on("message:send")
    async def slow(self, event: MessageSend) -> None:
        await asyncio.sleep(0.6)
        await event.reply("sorry, I was slow")


@pytest.mark.parametrize("transport", ["rtm", "webhooks", "both"])
async def test_expect_no_reply_waits_for_the_plugin_to_settle_not_for_a_fixed_time(
    run_plugin: PluginRunner, visitor: Visitor, transport: TransportName
) -> None:
    async with run_plugin(Late, transport=transport):
        await visitor.say("anyone?")
        # A 0.3 s sleep would have passed here; settling waits for the handler.
        with pytest.raises(AssertionError, match="expected no reply, got 'sorry, I was slow'"):
            await visitor.expect_no_reply()


class Boom(Plugin):
    @on("message:send")
    async def crash(self, event: MessageSend) -> None:
        raise ValueError("the bot is broken")


async def test_a_handler_that_raises_fails_the_test_with_its_exception(
    run_plugin: PluginRunner, visitor: Visitor
) -> None:
    with pytest.raises(AssertionError, match=r"Boom\.crash failed on message:send") as caught:
        async with run_plugin(Boom):
            await visitor.say("hi")
            await visitor.settle()
    assert isinstance(caught.value.__cause__, ValueError)
    assert "the bot is broken" in str(caught.value)


async def test_allow_errors_lets_a_test_expect_a_failing_handler(
    run_plugin: PluginRunner, visitor: Visitor
) -> None:
    async with run_plugin(Boom, allow_errors=True):
        await visitor.say("hi")
        await visitor.settle()
    [failure] = run_plugin.failures
    assert (failure.event, failure.handler) == ("message:send", "Boom.crash")
    assert isinstance(failure.error, ValueError)


def test_a_users_test_fails_and_shows_the_handlers_exception(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_mode = auto\n")
    pytester.makepyfile(
        test_bot="""
        from crisp_plugin import Plugin, on

        class Broken(Plugin):
            @on("message:send")
            async def answer(self, event):
                raise KeyError("missing-price-table")

        async def test_answers(run_plugin, visitor):
            async with run_plugin(Broken):
                await visitor.say("price?")
                await visitor.settle()
        """
    )
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*KeyError: 'missing-price-table'*",
            "*handler Broken.answer failed on message:send*",
        ]
    )


class Noter(Plugin):
    @on("message:send")
    async def note_then_reply(self, event: MessageSend) -> None:
        await event.note("VIP customer")
        await event.reply("Hello!")


async def test_notes_are_not_replies_and_have_their_own_expectation(
    run_plugin: PluginRunner, visitor: Visitor
) -> None:
    async with run_plugin(Noter):
        await visitor.say("hi")
        reply = await visitor.expect_reply()
        assert reply.text == "Hello!"  # the note came first, but the visitor never sees it
        note = await visitor.expect_note(match="VIP")
        assert note.type == "note"
        assert [m.text for m in await visitor.replies()] == ["Hello!"]


async def test_a_failed_expectation_carries_the_handler_failures_that_explain_it(
    run_plugin: PluginRunner, visitor: Visitor
) -> None:
    with pytest.raises(AssertionError) as caught:
        async with run_plugin(Boom):
            await visitor.say("hi")
            await visitor.expect_reply(timeout=0.5)  # never comes: the handler raised
    notes = "\n".join(getattr(caught.value, "__notes__", []))
    assert "meanwhile handler Boom.crash failed on message:send" in notes
    assert "the bot is broken" in notes


async def test_a_relative_state_path_in_a_config_is_the_configs_folders(
    run_plugin: PluginRunner, visitor: Visitor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    config = folder / "plugin.toml"
    config.write_text('[state]\nbackend = "sqlite"\npath = "bot_state.sqlite3"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # tests often run from another folder
    async with run_plugin(Echo, config=config) as plugin:
        await visitor.say("hi")
        await visitor.expect_reply()
        assert plugin.config.state.path == str(folder / "bot_state.sqlite3")
    assert (folder / "bot_state.sqlite3").is_file()
    assert not (elsewhere / "bot_state.sqlite3").exists()


def test_a_forgotten_await_fails_a_scaffolded_projects_test(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    from crisp_plugin.scaffold import scaffold

    files = scaffold("careless", tmp_path / "careless")
    folder = files[0].parent
    module = folder / "careless.py"
    module.write_text(
        module.read_text().replace(
            'await event.reply("Hi! How can I help you today?")',
            'event.reply("Hi! How can I help you today?")  # forgot await',
        )
    )
    pytester.chdir()
    result = pytester.runpytest_subprocess(
        "-q", "-p", "no:cacheprovider", "-c", str(folder / "pytest.ini"), str(folder)
    )
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*was never awaited*"])


async def test_a_message_said_while_the_relay_is_away_is_answered_once_it_is_back(
    run_plugin: PluginRunner, visitor: Visitor, sandbox: Sandbox
) -> None:
    async with run_plugin(Echo):
        await sandbox.control.relay_outage(0.3)
        await visitor.say("anyone there?")  # the relay is away: only a recovery sees it
        reply = await visitor.expect_reply(timeout=10)
        assert reply.text == "echo: anyone there?"
        await visitor.expect_no_reply()  # once: settled includes the recovery
