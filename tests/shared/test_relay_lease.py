"""One relay holder among N instances (``inbox.backend = "redis"`` with RTM): the others
stand by, take over within the lease TTL when the holder dies, and a holder that was
frozen past its TTL stops acting on relay events once it wakes up.

Each instance serves ``/healthz`` on its own port (``[metrics]``); its ``relay`` field
says ``holder`` or ``standby``.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from crisp_plugin.sandbox import Sandbox
from tests.redis_server import RedisServer
from tests.shared.instances import relay_instances, replies, until_lease, until_roles
from tests.transports.transport_kit import eventually

TTL = 2.0


async def answered_once(sandbox: Sandbox, session: str, text: str) -> None:
    """The visitor says ``text`` and gets exactly one reply to it: a marker message
    said after it is answered too, so a second reply (which would come before the
    marker's, the conversation being handled in order) would be seen."""
    await sandbox.control.visitor_says(None, session, text)
    await sandbox.control.visitor_says(None, session, f"{text}-marker")
    await eventually(lambda: f"re:{text}-marker" in replies(sandbox)[session], timeout=30)
    assert replies(sandbox)[session].count(f"re:{text}") == 1, replies(sandbox)[session]


@pytest.mark.timeout(120)
async def test_a_standby_takes_the_relay_within_the_ttl_when_the_holder_dies(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    async with Sandbox(port=0) as sandbox:
        group = relay_instances(tmp_path, sandbox, redis_server.url)
        try:
            await group[0].start()
            await until_roles(group[:1], ["holder"], within=30)
            await group[1].start()
            await until_roles(group, ["holder", "standby"], within=30)
            session = await sandbox.control.create_conversation()
            await answered_once(sandbox, session, "before")

            assert await group[0].kill() == -signal.SIGKILL
            killed = time.monotonic()
            await until_lease(group[1], within=4 * TTL)
            took = time.monotonic() - killed
            await until_roles(group[1:], ["holder"], within=30)  # and its socket is up
            up = time.monotonic() - killed
            print(
                f"\nrelay lease taken over {took:.2f} s after the holder was killed (TTL "
                f"{TTL:g}), its socket up at {up:.2f} s"
            )
            # The TTL, then at most one renewal period of the standby, and a second for
            # this test's polling and a busy machine; the socket's connect is not in it.
            assert took <= TTL + TTL / 3 + 1.0
            await answered_once(sandbox, session, "after")

            await group[0].start()  # back: it stands by
            await until_roles(group, ["standby", "holder"], within=30)
        finally:
            for instance in group:
                if instance.process is not None:
                    assert await instance.term() == 0, instance.log()[-3000:]


@pytest.mark.timeout(120)
async def test_a_frozen_holder_is_fenced_off_when_it_wakes(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    """SIGSTOP the holder past its TTL: the standby takes the relay; SIGCONT it: it
    finds the lease gone, stands by, and the events its old socket hears meanwhile are
    not acted on (each message is answered once, by the new holder)."""
    async with Sandbox(port=0) as sandbox:
        group = relay_instances(tmp_path, sandbox, redis_server.url)
        try:
            await group[0].start()
            await until_roles(group[:1], ["holder"], within=30)
            await group[1].start()
            await until_roles(group, ["holder", "standby"], within=30)
            session = await sandbox.control.create_conversation()
            frozen = group[0].process
            assert frozen is not None
            frozen.send_signal(signal.SIGSTOP)
            try:
                await until_roles(group[1:], ["holder"], within=4 * TTL)
                # The frozen socket is still open to the relay: it hears this too.
                await sandbox.control.visitor_says(None, session, "while frozen")
                await eventually(lambda: "re:while frozen" in replies(sandbox)[session], 30)
            finally:
                frozen.send_signal(signal.SIGCONT)
            await until_roles(group, ["standby", "holder"], within=30)
            await answered_once(sandbox, session, "after the thaw")
            assert replies(sandbox)[session].count("re:while frozen") == 1
            assert "relay events fenced off" in group[0].log()  # it heard, and did not act
        finally:
            for instance in group:
                if instance.process is not None:
                    assert await instance.term() == 0, instance.log()[-3000:]
