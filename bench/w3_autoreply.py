"""W3 auto-reply end to end: K conversations, each visitor message answered by the bot.

The sandbox process plays K visitors at once; each says messages one at a time and
waits for the bot's reply before the next. Two phases per run:

- paced (latency): after each reply a visitor pauses a random 0 to 2T ms (T = 200 ms)
  before its next message, so K conversations offer a steady load below every
  contender's capacity; p50 and p99 latency come from here;
- saturated (throughput): no pause, so the slowest part sets the pace; replies/s
  comes from here (its latency is K / replies/s by Little's law, shown as well).

Path: visitor message stored -> event
(RTM push or signed hook POST) -> bot's handler -> ``send_message`` over REST -> reply
stored. Latency is measured inside the sandbox from just before the visitor's message
is stored to the moment the reply is stored; the bot's CPU time per reply (from /proc,
over the saturated phase) shows its own cost, whatever limits the pace. Contenders:
ours over hooks and over RTM, the official Node client's bot over RTM and over hooks.
"""

from __future__ import annotations

from typing import Any

from bench import ours
from bench.model import Contender, Metric, Options, Workload, ratio
from bench.payloads import HOOK_PATH
from bench.procs import NODE_DIR, Proc, cpu_seconds, free_port
from bench.sandbox_proc import SandboxProc, running_sandbox


async def _phase(sb: SandboxProc, k: int, messages: int, think_ms: float) -> dict[str, Any]:
    r: dict[str, Any] = await sb.command(
        cmd="autoreply", conversations=k, messages=messages, think_ms=think_ms, within=100.0
    )
    if r["missing"]:
        raise RuntimeError(f"{r['missing']} of {r['missing'] + r['replies']} replies missing")
    return r


async def _drive(sb: SandboxProc, opts: Options, bot: Proc) -> dict[str, float]:
    k = opts.conversations
    await _phase(sb, k, 1, 0)  # warm-up: connections, caches
    paced = await _phase(sb, k, opts.paced_messages, opts.think_ms)
    cpu0 = cpu_seconds(bot.pid)
    full = await _phase(sb, k, opts.messages_per_conversation, 0)
    cpu = cpu_seconds(bot.pid) - cpu0
    hooks = await sb.command(cmd="hook_stats")
    if hooks["retried"]:
        print(f" [hook retries: {hooks['retried']} ({hooks['failed']})]", end="", flush=True)
    return {
        "p50_ms": paced["p50_ms"],
        "p99_ms": paced["p99_ms"],
        "per_s": full["per_s"],
        "sat_p99_ms": full["p99_ms"],
        "cpu_us": cpu / max(1, full["replies"]) * 1e6,
        "sb_cpu_us": full["cpu_s"] / max(1, full["replies"]) * 1e6,
    }


async def _ours(opts: Options, transport: str) -> dict[str, float]:
    async with running_sandbox(opts) as sb:
        data = ours.settings("AutoReply", api_url=sb.url, transport=transport)
        proc = await ours.start_runner(f"ours {transport}", data, opts)
        try:
            if transport == "webhooks":
                await sb.command(cmd="add_hook", url=_hook_url_of(proc))
            return await _drive(sb, opts, proc)
        finally:
            await proc.stop()


def _hook_url_of(proc: Proc) -> str:
    url = proc.ready_info.get("hook_url")
    if not url:
        raise RuntimeError("our runner announced no hook URL")
    return str(url)


async def run_ours_hooks(opts: Options) -> dict[str, float]:
    return await _ours(opts, "webhooks")


async def run_ours_rtm(opts: Options) -> dict[str, float]:
    return await _ours(opts, "rtm")


async def _node(opts: Options, mode: str) -> dict[str, float]:
    async with running_sandbox(opts) as sb:
        argv = ["node", str(NODE_DIR / "bot.js"), mode]
        port = free_port()
        if mode == "hooks":
            argv += [str(port), HOOK_PATH]
        proc = await Proc.start(
            f"node bot {mode}", argv, cpu=opts.server_cpu, cwd=NODE_DIR, env=sb.node_env()
        )
        try:
            await proc.ready()
            if mode == "hooks":
                await sb.command(cmd="add_hook", url=f"http://127.0.0.1:{port}{HOOK_PATH}")
            return await _drive(sb, opts, proc)
        finally:
            await proc.stop()


async def run_node_rtm(opts: Options) -> dict[str, float]:
    return await _node(opts, "rtm")


async def run_node_hooks(opts: Options) -> dict[str, float]:
    return await _node(opts, "hooks")


def workload(opts: Options) -> Workload:
    k, m = opts.conversations, opts.messages_per_conversation
    return Workload(
        key="w3",
        title=f"W3 auto-reply K={k}",
        metrics=[
            Metric("p50_ms", "p50 ms paced", higher_is_better=False, digits=2),
            Metric("p99_ms", "p99 ms paced", higher_is_better=False, digits=2),
            Metric("per_s", "replies/s saturated", higher_is_better=True),
            Metric("sat_p99_ms", "p99 ms saturated", higher_is_better=False, digits=1),
            Metric("cpu_us", "bot CPU us/reply", higher_is_better=False, digits=0),
            Metric("sb_cpu_us", "sandbox CPU us/reply", higher_is_better=False, digits=0),
        ],
        contenders=[
            Contender("ours_hooks", "ours: hooks", run_ours_hooks, ours=True),
            Contender("ours_rtm", "ours: RTM", run_ours_rtm, ours=True),
            Contender("node_rtm", "npm crisp-api bot: RTM", run_node_rtm),
            Contender("node_hooks", "npm crisp-api bot: hooks", run_node_hooks),
        ],
        limits=(
            f"Paced: {k} visitors x {opts.paced_messages} messages, a random 0 to "
            f"{2 * opts.think_ms:g} ms pause after each reply; saturated: {k} visitors x "
            f"{m} messages, no pause. Every reply is a full REST round trip into the "
            "sandbox, so the sandbox (one Python process: REST validation, store, event "
            "fan-out, and for hooks the signing and POSTing of every event) does more "
            "work per reply than the bot does, and shares its core with the visitors "
            "being played. Saturated, K conversations are always in flight, so latency "
            "is queueing: p99 is at least K / replies/s (Little's law), whoever the bot. "
            "Over hooks the sandbox also signs and POSTs every event, which is why hooks "
            "saturate below RTM. CPU per reply times replies/s says who saturates: when "
            "sandbox CPU us/reply x replies/s is about 1 s/s, the sandbox's core is full "
            "and the bot is waiting on it; when bot CPU us/reply x replies/s is, the bot "
            "is the limit."
        ),
    )


def targets(w: Workload) -> list[tuple[str, str, bool | None]]:
    out: list[tuple[str, str, bool | None]] = []
    node = w.median("node_rtm", "per_s")
    for key, label in (("ours_hooks", "hooks"), ("ours_rtm", "RTM")):
        p99 = w.median(key, "p99_ms")
        out.append(
            (
                f"W3 ({label}): p99 under 10 ms at {w.title.split('=')[-1]} conversations",
                "n/a" if p99 is None else f"{p99:.2f} ms",
                None if p99 is None else p99 < 10,
            )
        )
        r = ratio(w.median(key, "per_s"), node, True)
        out.append(
            (
                f"W3 ({label}): replies/s at least the Node bot's (RTM)",
                "n/a" if r is None else f"{r:.2f}x the Node bot's replies/s",
                None if r is None else r >= 1.0,
            )
        )
    return out
