"""RTM that misses nothing: what the relay did not deliver during a gap, recovered over
REST and handled late (``[rtm.backfill]``).

- :mod:`crisp_plugin.transports.gaps` measures the gaps (the RTM transport's watch);
- :mod:`~crisp_plugin.backfill.recovery` reads the window over REST and feeds the
  missed messages to the dispatcher (source ``"recovery"``, ``event.recovered``);
- :mod:`~crisp_plugin.backfill.gate` holds the new socket's events meanwhile;
- :mod:`~crisp_plugin.backfill.reader` makes the REST reads, against
  :mod:`~crisp_plugin.backfill.budget`'s caps;
- :mod:`~crisp_plugin.backfill.marks` keeps the mark and the day's calls;
- :mod:`~crisp_plugin.backfill.setup` wires them for the runner.
"""
