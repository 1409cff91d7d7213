"""A bot meant to run as several instances on one Redis: it numbers each visitor
message in its conversation and answers ``#<n> <text>``.

The count lives in ``self.state`` (Redis: one for every instance), and a conversation's
events are handled one at a time, in order, by whichever instance owns its partition:
so the numbers run 1, 2, 3... without a gap or a repeat, whichever instance each hook
reached. Every answer is a REST call, counted in the one daily quota of all instances.
"""

from crisp_plugin import Plugin, on
from crisp_plugin.events import MessageSend


class Counter(Plugin):
    @on("message:send")
    async def number(self, event: MessageSend) -> None:
        scope = self.state.for_event(event)
        count = await scope.get("count", 0) + 1
        await scope.set("count", count)
        await event.reply(f"#{count} {event.text}")
