"""Pins the wall clock of this Python process when ``SITEGATE_CLOCK_OFFSET_S`` is set.

On ``PYTHONPATH`` for the any-hour check (``tests/anyhour/run.py``): every Python process that
inherits the environment (the hub, lanes, benches, and their children) starts its wall clock at
the real time plus the same offset and lets it tick, so all of them agree on the pinned instant
while ``time.monotonic()`` stays real. Programs that are not Python keep the real clock. The
offset, not an absolute instant, is what is passed down: a child started 20 s into a test lands
where its parent is, not 20 s in its past. The check's own pytest processes start without an
offset (``tests/anyhour/plugin.py`` pins them at each test's setup and sets it for the children).

time-machine imports pytest if it can (for its fixture): ~0.25 s of CPU in every child, a hub or a
lane that has no use for it. Unless this is ``python -m pytest`` or ``pytest``, it is imported with
pytest hidden.
"""

import os
import sys

_offset = os.environ.get("SITEGATE_CLOCK_OFFSET_S")
if _offset:
    import time

    _pytest = any(os.path.basename(arg) in ("pytest", "py.test") for arg in sys.orig_argv[:3])
    _hide = not _pytest and "pytest" not in sys.modules
    if _hide:
        sys.modules["pytest"] = None  # type: ignore[assignment]  # import pytest raises ImportError
    try:
        import time_machine
    finally:
        if _hide:
            del sys.modules["pytest"]

    _travel = time_machine.travel(time.time() + float(_offset), tick=True)
    _travel.start()
