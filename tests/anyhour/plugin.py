"""One pytest session runs each clock-sensitive test once per pin (``-p tests.anyhour.plugin``).

``tests/anyhour/run.py`` names the pins in ``SITEGATE_ANYHOUR_PINS`` (JSON: name -> instant, in
order). Every collected test marked ``any_hour`` is parametrized over them through the autouse,
session-scoped fixture ``anyhour_pin``: ``test_x[05:59:59]``. As a session-scoped parameter it
makes pytest order the items pin by pin (a pin's items of one module stay together).

At each test's setup, before any fixture is made, this process's wall clock moves to the test's
pin (time-machine, ticking) and the offset from the real clock is published in the environment
(``SITEGATE_CLOCK_OFFSET_S``), so every Python process the test starts lands on the same instant
(``tests/anyhour/sitecustomize.py``); re-pinning at each test also keeps a long run from drifting
off the instant under test (05:59:59 is 06:00 a minute later).

Between the last test of one pin and the first of the next (in each xdist worker), everything the
session holds is torn down: session- and module-scoped fixtures (a broker, a hub, lanes, a bench)
are made again at the new pin, as in a session of their own, never reused from another pin's
tests. Teardown runs at the old pin.

Each test's pin rides on its reports (``user_properties``); the session's controller writes what
passed and failed at each pin to ``SITEGATE_ANYHOUR_RESULTS`` (JSON) for the runner.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
import time_machine

PINS_ENV = "SITEGATE_ANYHOUR_PINS"
RESULTS_ENV = "SITEGATE_ANYHOUR_RESULTS"
OFFSET_ENV = "SITEGATE_CLOCK_OFFSET_S"
PIN_PROPERTY = "anyhour_pin"


@dataclass(frozen=True)
class Pin:
    name: str  # the time of day, "05:59:59"
    at: datetime  # the instant, tz-aware


def configured_pins() -> list[Pin]:
    text = os.environ.get(PINS_ENV)
    if not text:
        return []
    return [Pin(name, datetime.fromisoformat(at)) for name, at in json.loads(text).items()]


def pin_of(item: pytest.Item) -> Pin | None:
    callspec = getattr(item, "callspec", None)
    pin = callspec.params.get("anyhour_pin") if callspec is not None else None
    return pin if isinstance(pin, Pin) else None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    pins = configured_pins()
    if pins and metafunc.definition.get_closest_marker("any_hour") is not None:
        metafunc.parametrize(
            "anyhour_pin", pins, ids=[pin.name for pin in pins], indirect=True, scope="session"
        )


@pytest.fixture(scope="session", autouse=True)
def anyhour_pin(request: pytest.FixtureRequest) -> Pin | None:
    """The pin this test runs at (None outside the any-hour check)."""
    return getattr(request, "param", None)


@dataclass
class _Clock:
    travel: time_machine.travel | None = None
    held: Pin | None = None  # the pin the session's fixtures were made at


_clock = _Clock()


def _repin(pin: Pin) -> None:
    if _clock.travel is not None:
        _clock.travel.stop()
    offset = pin.at.timestamp() - time.time()  # no travel is running: this is the real clock
    os.environ[OFFSET_ENV] = repr(offset)
    _clock.travel = time_machine.travel(pin.at, tick=True)
    _clock.travel.start()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        pin = pin_of(item)
        if pin is not None:
            item.user_properties.append((PIN_PROPERTY, pin.name))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    pin = pin_of(item)
    if pin is None:
        return
    if _clock.held is not None and _clock.held != pin:
        # Left standing by a teardown that failed: nothing made at another pin is used at this one.
        item.session._setupstate.teardown_exact(None)
    _repin(pin)
    _clock.held = pin


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None]:
    try:
        return (yield)
    finally:
        if nextitem is not None and pin_of(nextitem) != _clock.held:
            item.session._setupstate.teardown_exact(None)  # the whole session, at the old pin
        if not item.session._setupstate.stack:
            _clock.held = None


@dataclass(eq=False)  # a plugin: pluggy keeps plugins in sets
class Results:
    """What each pin's tests did, as the controller (or the only process) hears it."""

    pins: list[Pin]
    failed: dict[str, dict[str, None]] = field(default_factory=dict)  # pin -> node ids, in order
    tests: dict[str, dict[str, None]] = field(default_factory=dict)
    skipped: dict[str, dict[str, None]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        name = dict(report.user_properties).get(PIN_PROPERTY)
        if not isinstance(name, str):
            return
        self.tests.setdefault(name, {})[report.nodeid] = None
        self.seconds[name] = self.seconds.get(name, 0.0) + report.duration
        if report.failed:
            self.failed.setdefault(name, {})[report.nodeid] = None
        elif report.skipped:
            self.skipped.setdefault(name, {})[report.nodeid] = None

    def as_json(self) -> dict[str, dict[str, object]]:
        return {
            pin.name: {
                "at": pin.at.isoformat(),
                "tests": len(self.tests.get(pin.name, {})),
                "failed": list(self.failed.get(pin.name, {})),
                "skipped": len(set(self.skipped.get(pin.name, {})) - set(self.failed.get(pin.name, {}))),
                "seconds": round(self.seconds.get(pin.name, 0.0), 1),
            }
            for pin in self.pins
        }

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self) -> None:
        path = os.environ.get(RESULTS_ENV)
        if path:
            Path(path).write_text(json.dumps(self.as_json(), indent=1))


def pytest_configure(config: pytest.Config) -> None:
    pins = configured_pins()
    if pins and not hasattr(config, "workerinput"):  # not in an xdist worker: the controller hears all
        config.pluginmanager.register(Results(pins), "anyhour-results")


def pytest_report_header(config: pytest.Config) -> str | None:
    pins = configured_pins()
    if not pins:
        return None
    listed = ", ".join(f"{pin.name} ({pin.at:%Y-%m-%d %H:%M:%S %Z})" for pin in pins)
    return f"any-hour check: each test once per pin, every process's wall clock pinned to {listed}"
