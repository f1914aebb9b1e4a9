"""Pins the wall clock of this Python process when ``SITEGATE_CLOCK_OFFSET_S`` is set.

On ``PYTHONPATH`` for the any-hour check (``tests/anyhour/run.py``): every Python process that
inherits the environment (pytest, the hub, lanes, benches, and their children) starts its wall
clock at the real time plus the same offset and lets it tick, so all of them agree on the pinned
instant while ``time.monotonic()`` stays real. Programs that are not Python keep the real clock.
The offset, not an absolute instant, is what is passed down: a child started 20 s into a test
lands where its parent is, not 20 s in its past.
"""

import os

_offset = os.environ.get("SITEGATE_CLOCK_OFFSET_S")
if _offset:
    import time

    import time_machine

    _travel = time_machine.travel(time.time() + float(_offset), tick=True)
    _travel.start()
