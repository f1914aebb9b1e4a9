"""Re-pins the wall clock at the start of every test of an any-hour run (``-p tests.anyhour.plugin``).

Without it a long run drifts off the instant under test: 05:59:59 is 06:00 a minute later. Each
test's setup moves this process back to ``SITEGATE_PIN_AT`` and publishes the new offset in the
environment, so the processes the test starts land on the same instant.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import datetime

import pytest
import time_machine

_travel: time_machine.travel | None = None


def _pinned() -> datetime | None:
    text = os.environ.get("SITEGATE_PIN_AT")
    return datetime.fromisoformat(text) if text else None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    global _travel
    pin = _pinned()
    if pin is None:
        return
    started = sys.modules.get("sitecustomize")  # tests/anyhour's, which pinned us at interpreter start
    first = getattr(started, "_travel", None)
    if first is not None:
        first.stop()
        started._travel = None  # type: ignore[union-attr]
    if _travel is not None:
        _travel.stop()
    offset = pin.timestamp() - time.time()  # every travel is stopped: this is the real clock
    os.environ["SITEGATE_CLOCK_OFFSET_S"] = repr(offset)
    _travel = time_machine.travel(pin, tick=True)
    _travel.start()


def pytest_report_header(config: pytest.Config) -> str | None:
    pin = _pinned()
    return f"any-hour run: every process's wall clock pinned to {pin.isoformat()}" if pin else None
