"""``Dispatcher``: the one entry point of transports, from ``(name, payload)`` to handlers.

    dispatcher = Dispatcher(plugin, settings.dispatch)
    accepted = dispatcher.feed("message:send", payload, source="webhook")

``feed`` is synchronous and never waits for handlers. It parses the payload
(``EventError`` when it does not fit the typed model: a web hook answers 400), drops a
duplicate (:class:`crisp_plugin.dedupe.Deduplicate`: before it takes queue room, a
worker or storage) and queues the event behind the others of its conversation. It
returns True when the event was accepted (a duplicate too: accepted, then dropped),
False when the dispatcher is full (``queue_limit`` events waiting) or draining, so a
transport can push back (a web hook answers 503 and Crisp delivers again later). An
event no handler is declared for is counted as ignored and goes no further.

Each event then runs through the pipeline of :mod:`crisp_plugin.middleware`: the
built-in echo drop (:class:`crisp_plugin.dedupe.DropEchoes`), the plugin's outer
middleware, the handlers whose names and filters match (each under the built-in
guard of :mod:`crisp_plugin.guard`: timeout, errors, log line), and for a
``message:updated`` carrying a picker choice or a field answer, the handlers of
``picker:choice`` / ``field:answer``. Conversation events are bound to the plugin first
(``event.reply``...), and their flow is loaded when a handler filters on ``step=``.

Semantics:

- Order: events of one conversation ``(website_id, session_id)`` run one after the
  other in arrival order, every matching handler in declaration order. Events without
  a session are ordered per website.
- Concurrency: at most ``concurrency`` conversations run at once, each in one worker
  task. A worker that empties its conversation takes the next waiting one, and hands
  over after each event while others wait, so a chatty conversation cannot starve the
  rest. When nothing waits, a worker parks (at most :data:`PARKED_WORKERS` of them,
  never more than ``concurrency``) and the next new conversation wakes it, which costs
  less than a new task; the others exit, so tasks and queues are bounded by the traffic
  in flight, not by the number of conversations ever seen. A drain lets the parked
  workers go. New conversations that arrive while a woken worker has not run yet (one
  read of many connections) line up for it: it takes them one after the other, and
  when its handler waits on I/O a callback right after it hands the rest to more
  workers, so a batch costs one wake-up when handlers do not wait, and a loop turn
  of delay when they do.
- Failures: a handler that raises or times out stops nothing else (:mod:`crisp_plugin.guard`).
- Drain: ``drain()`` stops accepting and waits for every accepted event up to the
  deadline; what is still running then is cancelled and logged with its count.

The dispatcher knows no transport and no REST client: the runner hands the dedupe's
echo registry to the REST client as an observer.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Sequence
from functools import partial
from typing import Any

import structlog

from crisp_plugin.actions import FLOW_SLOT
from crisp_plugin.admission import Admission
from crisp_plugin.config import DispatchSettings
from crisp_plugin.dedupe import Deduplicate, DropEchoes
from crisp_plugin.errors import EventError
from crisp_plugin.events.base import RECOVERY_SOURCE, STOPPED_SLOT, Event, SessionEvent
from crisp_plugin.events.derived import derive
from crisp_plugin.events.parse import parse_event
from crisp_plugin.guard import FAILED, Guard
from crisp_plugin.inbox import Entry, Inbox, InboxUnavailable, MemoryInbox
from crisp_plugin.middleware import Plan, chain, run_steps
from crisp_plugin.observer import Observer
from crisp_plugin.plugin import Plugin
from crisp_plugin.stats import DispatchStats

__all__ = ["PARKED_WORKERS", "Dispatcher"]

PARKED_WORKERS = 64
"""The most idle workers kept waiting for the next conversation."""

ConversationKey = tuple[str | None, str | None]

_REACHED = "_crisp_reached"  # in an event's __dict__: it got past the outer middleware
_NAME = "_crisp_name"  # its name, as parse_event sets it
_ENTRY = "_crisp_entry"  # its inbox entry
_RECOVERED = "_crisp_recovered"  # fed by a recovery after an RTM gap (event.recovered)
_ACK = "_crisp_ack"  # the future a web hook waits on with webhooks.ack = "handled"
_REDELIVERABLE = frozenset({"webhook"})  # sources that deliver again what they were refused

Admitted = bool | asyncio.Future[bool]
"""What ``feed`` returns: at once, or (a durable inbox, ack on handled) a future."""

EventGate = Callable[[Event], Awaitable[bool]]
"""A built-in step ahead of the plugin's middleware: False drops the event (counted
``dropped``). A marketplace plugin's: installation events applied, uninstalled websites'
events dropped."""


class Dispatcher:
    """Feeds events to a plugin's handlers. See the module docstring."""

    def __init__(
        self,
        plugin: Plugin[Any],
        settings: DispatchSettings | None = None,
        *,
        observers: Sequence[Observer] = (),
        inbox: Inbox | None = None,
        ack_handled: bool = False,
        gate: EventGate | None = None,
    ) -> None:
        self.plugin = plugin
        self.gate = gate
        self.settings = settings if settings is not None else plugin.config.dispatch
        self.stats = DispatchStats()
        # Bound once: a lazy proxy would rebuild the logger on every line (hot path).
        # Configure logging (crisp_plugin.log.configure_logging) before this point.
        self.log: Any = structlog.get_logger("crisp_plugin.dispatch").bind()
        s = self.settings
        self.inbox: Inbox = inbox if inbox is not None else MemoryInbox()
        self._keeps = self.inbox.keeps
        durable = self.inbox.durable
        self.dedupe = Deduplicate(s, self.stats, stable=durable)
        self.echoes = DropEchoes(
            s,
            plugin.urn,
            self.stats,
            remember=self.inbox.sent if durable else None,
            lookup=self.inbox.was_sent if self.inbox.routes else None,
        )
        self._ack_handled = ack_handled
        self.admission: Admission | None = (
            None
            if durable
            else Admission(
                budget=s.drain_timeout, concurrency=s.concurrency, worst=s.handler_timeout
            )
        )
        self.guard = Guard(
            timeout=s.handler_timeout,
            on_error=plugin.on_error,
            observers=observers,
            stats=self.stats,
            log=self.log,
        )
        # Each conversation's events, the running one first. A list: nearly always one
        # event, and a deque's first block costs more than the rare long queue's pop(0).
        self._queues: dict[ConversationKey, list[Event]] = {}
        self._ready: deque[ConversationKey] = deque()
        self._workers: set[asyncio.Task[None]] = set()
        self._alive = 0  # workers running or parked (their tasks may not be done yet)
        # Idle workers, each waiting on its future for a conversation (None: exit).
        self._parked: deque[asyncio.Future[ConversationKey | None]] = deque()
        self._park_limit = min(PARKED_WORKERS, s.concurrency)
        # Workers woken (or started) whose first step has not run yet: a new
        # conversation lines up in _ready for them rather than waking one more.
        self._waking = 0
        self._spill_armed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending = 0
        self._queue_limit = s.queue_limit
        self._idle = asyncio.Event()
        self._idle.set()
        self._accepting = True

    def add_observer(self, observer: Observer) -> None:
        """Report handler runs and failures to ``observer``."""
        self.guard.add_observer(observer)

    # ----------------------------------------------------------------- inspection

    @property
    def accepting(self) -> bool:
        """False once ``drain`` started."""
        return self._accepting

    @property
    def in_flight(self) -> int:
        """Events accepted and not finished (queued or running)."""
        return self._pending

    @property
    def active_conversations(self) -> int:
        """Conversations with events queued or running."""
        return len(self._queues)

    async def wait_idle(self) -> None:
        """Return when no event is queued or running."""
        await self._idle.wait()

    # --------------------------------------------------------------------- intake

    async def recover(self) -> int:
        """Open the inbox and queue what it kept from the last run, oldest first (do it
        before the transports start); how many events."""
        recovered = await self.inbox.open(self.deliver)
        self.dedupe.restore(recovered.dedupe_keys)
        self.echoes.restore(recovered.sent_keys)
        for entry in recovered.pending:
            self.deliver(entry)
        return len(recovered.pending)

    def deliver(self, entry: Entry) -> None:
        """Queue an event the inbox kept (a replay, or a routing inbox handing over what
        another instance stored): no dedupe or admission, it passed them when put."""
        known = entry.event
        if isinstance(known, Event):
            entry.event = None  # the event holds its entry from here on: no cycle
            event = known  # put by this instance, which parsed it then
        else:
            try:
                event = parse_event(entry.name, entry.payload)
            except EventError as exc:
                self.log.error("inbox: a kept event no longer parses", error=str(exc))
                self.inbox.done(entry)
                return
        event.__dict__[_ENTRY] = entry
        if entry.source == RECOVERY_SOURCE:
            event.__dict__[_RECOVERED] = True
        self._enqueue((event.website_id, event.session_id), event)

    def feed(
        self, name: str, payload: Any, source: str = "direct", redelivery: bool = False
    ) -> Admitted:
        """Accept one event; see the module docstring for the return value. Never
        blocks: it only parses, checks and queues (or hands the event to a durable
        inbox and returns a future done once it is stored).

        ``redelivery`` is True when the transport knows this is a repeated delivery of
        an event it delivered before (a web hook's attempt 2 and later)."""
        stats = self.stats
        if not self._accepting or self._pending >= self._queue_limit:
            stats.count("rejected", name)
            return False
        try:
            event = parse_event(name, payload)
        except EventError:
            stats.count("malformed", name)
            raise
        if source == RECOVERY_SOURCE:
            event.__dict__[_RECOVERED] = True
        received = stats.received
        if name in received:
            received[name] += 1
        else:
            stats.count("received", name)
        if redelivery:
            stats.count("redelivered", name)
        plugin = self.plugin
        if plugin.plan(name).empty and not plugin.wants(name):
            stats.count("ignored", name)  # nothing would run: no dedupe key to keep
            return True
        try:
            duplicate, key = self.dedupe.claim(event, source, redelivery, name)
        except RecursionError:  # a payload too deep to digest (hooks refuse them earlier)
            raise EventError(f"{name}: payload nested too deep to read") from None
        if duplicate:
            return True
        conversation = (event.website_id, event.session_id)
        admission = self.admission
        if admission is not None and source in _REDELIVERABLE:
            queue = self._queues.get(conversation)
            if not admission.allows(self._pending, len(queue) if queue else 0):
                self.dedupe.forget(key)
                stats.count("rejected", name)  # more than a drain could finish: 503
                return False
        if not self._keeps:  # the memory inbox: the queues are the only copy
            self._enqueue(conversation, event)
            return self._ack_of(event) if self._ack_handled else True
        routes = self.inbox.routes  # handed back through deliver: it may take the event
        entry = Entry(0, name, payload, source, redelivery, event if routes else None)
        try:
            stored = self.inbox.put(entry, key if isinstance(key, int) else None)
        except InboxUnavailable as exc:
            return self._refused(event, key, exc)
        if stored is None or not routes:  # (a routed one gets it in deliver: no cycle)
            event.__dict__[_ENTRY] = entry
        if stored is None:
            self._enqueue(conversation, event)
            return self._ack_of(event) if self._ack_handled else True
        self._reserve()  # counted in flight while it is being stored
        answer: asyncio.Future[bool] = self._running_loop().create_future()
        stored.add_done_callback(partial(self._stored, event, key, answer))
        return answer

    def _refused(self, event: Event, key: Hashable | None, exc: BaseException) -> bool:
        self.dedupe.forget(key)
        self.stats.count("rejected", event.name)
        self.log.warning("inbox refused an event", event_name=event.name, error=str(exc))
        return False

    def _stored(
        self,
        event: Event,
        key: Hashable | None,
        answer: asyncio.Future[bool],
        stored: asyncio.Future[None],
    ) -> None:
        self._release()
        if answer.done():
            return
        error = stored.exception() if not stored.cancelled() else InboxUnavailable("cancelled")
        if error is not None:
            answer.set_result(self._refused(event, key, error))
            return
        if self.inbox.routes:  # its owner handles it, maybe another instance: stored is all
            answer.set_result(True)
            return
        self._enqueue((event.website_id, event.session_id), event)
        if self._ack_handled:
            self._ack_of(event).add_done_callback(partial(_pass_on, answer))
        else:
            answer.set_result(True)

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        """The running loop, asked of asyncio only when it changed (``get_running_loop``
        makes a ``getpid`` system call every time)."""
        loop = self._loop
        if loop is None or not loop.is_running():
            loop = self._loop = asyncio.get_running_loop()
        return loop

    def _ack_of(self, event: Event) -> asyncio.Future[bool]:
        future: asyncio.Future[bool] = self._running_loop().create_future()
        event.__dict__[_ACK] = future
        return future

    def _reserve(self) -> None:
        if not self._pending:  # (idle is set exactly when nothing is pending)
            self._idle.clear()
        self._pending += 1

    def _release(self) -> None:
        self._pending -= 1
        if self._pending == 0:
            self._idle.set()

    def _enqueue(self, conversation: ConversationKey, event: Event) -> None:
        if not self._pending:  # (idle is set exactly when nothing is pending)
            self._idle.clear()
        self._pending += 1
        queue = self._queues.get(conversation)
        if queue is not None:
            queue.append(event)
            return
        self._queues[conversation] = [event]
        if self._waking:
            # A worker runs soon: it takes this conversation after its own, unless its
            # handler waits on something; then the spill, right after it, wakes another.
            self._ready.append(conversation)
            if not self._spill_armed:
                self._spill_armed = True
                self._running_loop().call_soon(self._spill)
        elif not self._start(conversation):
            self._ready.append(conversation)

    def _start(self, conversation: ConversationKey) -> bool:
        """Wake a parked worker for ``conversation``, or start one; False when
        ``concurrency`` workers are busy."""
        parked = self._parked
        while parked:
            wake = parked.pop()  # the last parked: the warmest
            if not wake.done():
                wake.set_result(conversation)
                self._waking += 1
                return True
        if self._alive < self.settings.concurrency:
            self._alive += 1
            self._waking += 1
            task = self._running_loop().create_task(self._work(conversation))
            self._workers.add(task)
            task.add_done_callback(self._worker_done)
            return True
        return False

    def _spill(self) -> None:
        """After the workers woken with a batch of new conversations ran: hand what
        they left waiting (their handlers are waiting on I/O) to more workers."""
        self._spill_armed = False
        ready = self._ready
        while ready and self._start(ready[0]):
            ready.popleft()

    def _unpark(self) -> None:
        """Let every parked worker exit, or first take a conversation still lined up
        for a spill (a drain must not leave those to the busy workers alone)."""
        parked, ready = self._parked, self._ready
        while parked:
            wake = parked.pop()
            if wake.done():
                continue
            if ready:
                wake.set_result(ready.popleft())
                self._waking += 1
            else:
                wake.set_result(None)

    # -------------------------------------------------------------------- workers

    def _worker_done(self, task: asyncio.Task[None]) -> None:
        self._workers.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.log.error("dispatch worker crashed", exc_info=task.exception())

    async def _work(self, conversation: ConversationKey) -> None:
        self._waking -= 1
        try:
            await self._serve(conversation, asyncio.current_task())
        finally:
            self._alive -= 1

    async def _serve(self, conversation: ConversationKey, task: asyncio.Task[Any] | None) -> None:
        """A worker's loop; ``task`` is the worker's own (the guard's key for the
        handlers it runs, found once rather than per handler).

        Each event goes through the pipeline here, inline (a coroutine less per event):
        the echo drop, the gate, the outer middleware around the handlers, its outcome
        counted, its entry done."""
        queues, ready, parked = self._queues, self._ready, self._parked
        stats, admission, perf_counter = self.stats, self.admission, time.perf_counter
        while True:
            queue = queues[conversation]
            event = queue[0]  # stays queued while running: later events line up behind
            data = event.__dict__
            try:
                name = data.get(_NAME) or event.name  # (the property's first read, inline)
                entry = data.get(_ENTRY)
                started = perf_counter() if admission is not None else 0.0
                fenced = entry is not None and not self.inbox.current(entry)
                if fenced:
                    stats.count("fenced", name)  # its partition moved: not ours to run
                    if entry is not None:
                        self.inbox.fenced(entry)
                elif not (name == "message:received" and await self.echoes.is_echo(event)) and (
                    self.gate is None or await self._passes_gate(event, name)
                ):
                    plan = self.plugin.plan(name)
                    try:
                        single = plan.single
                        if plan.outer:
                            await chain(plan.outer, self._deliver)(event)
                        elif single is None or plan.needs_flow or name == "message:updated":
                            await self._handle(event, name, plan, task)
                        else:  # _handle's steps for the common plan, without its coroutine
                            data[_REACHED] = True
                            if isinstance(event, SessionEvent):
                                self.plugin.bind_event(event)
                            if STOPPED_SLOT not in data:  # (event.stopped, inline)
                                await self.guard.run(event, single, task)
                    except Exception as exc:
                        await self.guard.failed(event, "outer middleware", exc)
                    if FAILED in data:
                        stats.count("failed", name)
                    elif _REACHED not in data:
                        stats.count("dropped", name)  # an outer middleware did not pass it on
                    elif name in stats.handled:
                        stats.handled[name] += 1  # the common case, without the generic path
                    else:
                        stats.count("handled", name)
                if not fenced:
                    if entry is not None:
                        self.inbox.done(entry)
                    ack = data.get(_ACK)
                    if ack is not None and not ack.done():
                        ack.set_result(True)
                    if admission is not None:
                        admission.finished(perf_counter() - started)
            finally:
                del queue[0]
                self._pending -= 1  # (_release, inline)
                if not self._pending:
                    self._idle.set()
                ack = data.get(_ACK)
                if ack is not None and not ack.done():
                    ack.set_result(False)  # cancelled (the drain deadline): not handled
            if not queue:
                del queues[conversation]
                if ready:
                    conversation = ready.popleft()
                    continue
                if len(parked) >= self._park_limit or not self._accepting:
                    return
                wake: asyncio.Future[ConversationKey | None] = self._running_loop().create_future()
                parked.append(wake)
                woken = await wake
                if woken is None:
                    return
                self._waking -= 1
                conversation = woken
            elif ready:
                ready.append(conversation)
                conversation = ready.popleft()

    async def _passes_gate(self, event: Event, name: str) -> bool:
        assert self.gate is not None
        try:
            passes = await self.gate(event)
        except Exception as exc:
            await self.guard.failed(event, "gate", exc)
            return False
        if not passes:
            self.stats.count("dropped", name)
        return passes

    async def _deliver(self, event: Event) -> None:
        """The end of the outer middleware: the handlers, then a derived event's."""
        name = event.name
        await self._handle(event, name, self.plugin.plan(name))

    async def _handle(
        self, event: Event, name: str, plan: Plan, task: asyncio.Task[Any] | None = None
    ) -> None:
        event.__dict__[_REACHED] = True
        if isinstance(event, SessionEvent):
            self.plugin.bind_event(event)
            if plan.needs_flow:
                await event.flow.load()
        single = plan.single
        if single is None:
            await run_steps(plan.steps, event, self.guard)
        elif not event.stopped:
            await self.guard.run(event, single, task)
        if name != "message:updated":
            return
        derived = derive(event)
        if derived is None:
            return
        plan = self.plugin.plan(derived.name)
        if plan.empty:
            return
        if FLOW_SLOT in event.__dict__:
            derived.__dict__[FLOW_SLOT] = event.__dict__[FLOW_SLOT]  # the same snapshot
        await self._handle(derived, derived.name, plan, task)
        if FAILED in derived.__dict__:
            event.__dict__[FAILED] = True

    # ---------------------------------------------------------------------- drain

    async def drain(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109
        """Stop accepting, wait for accepted events up to ``timeout`` (default
        ``drain_timeout``); True when all finished, False when some were cancelled."""
        self._accepting = False
        self._unpark()
        self.inbox.stop_delivering()
        limit = self.settings.drain_timeout if timeout is None else timeout
        try:
            async with asyncio.timeout(limit):
                await self._idle.wait()
            return True
        except TimeoutError:
            pass
        abandoned = self._pending
        self.log.warning(
            "drain deadline passed: cancelling handlers",
            abandoned=abandoned,
            conversations=len(self._queues),
            drain_timeout=limit,
        )
        self._parked.clear()
        workers = list(self._workers)
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        self._alive = 0  # (a worker cancelled before its first step never counted down)
        self._waking = 0
        for queue in self._queues.values():
            for event in queue:  # with ack on handled, their hooks get 503: redelivered
                ack = event.__dict__.get(_ACK)
                if ack is not None and not ack.done():
                    ack.set_result(False)
        self._queues.clear()
        self._ready.clear()
        self._pending = 0
        self._idle.set()
        return False

    def close(self) -> None:
        """Stop the timeout watchdog and let parked workers go (after ``drain``)."""
        self._unpark()
        self.guard.close()

    def resume(self) -> None:
        """Accept events again after a drain (tests, reloads)."""
        self._accepting = True


def _pass_on(answer: asyncio.Future[bool], done: asyncio.Future[bool]) -> None:
    if not answer.done():
        answer.set_result(done.result())
