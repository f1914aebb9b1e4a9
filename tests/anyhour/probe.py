"""What the processes of an any-hour test see: run through the runner by tests/anyhour/test_pins.py.

Not collected by the main suite (no ``test_`` prefix). Each test records, into the file
``ANYHOUR_PROBE_RECORD`` names (one JSON object a line), its pin and the wall clock of this process,
of a Python child it starts itself, and of long-lived Python children that module- and
session-scoped fixtures started (with when, by this process's clock, each was started). ``ANYHOUR_PROBE_FAIL_AT``
names a pin where one test fails on purpose.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import pytest

from tests.anyhour.plugin import Pin

pytestmark = pytest.mark.any_hour

ASK = "import datetime; print(datetime.datetime.now(datetime.UTC).isoformat())"
ANSWER = "import datetime, sys\nfor _ in sys.stdin: print(datetime.datetime.now(datetime.UTC).isoformat(), flush=True)"


class Child:
    """A Python process that answers each line it reads with its wall clock."""

    def __init__(self) -> None:
        self.started_at = datetime.now(UTC).isoformat()  # this process's clock when it started the child
        self.process = subprocess.Popen(
            [sys.executable, "-c", ANSWER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def now(self) -> str:
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        stdin.write("\n")
        stdin.flush()
        return stdout.readline().strip()

    def stop(self) -> None:
        streams: list[IO[str] | None] = [self.process.stdin, self.process.stdout]
        for stream in streams:
            if stream is not None:
                stream.close()
        self.process.wait(10)


@pytest.fixture(scope="session")
def session_child() -> Iterator[Child]:  # takes no pin: only the plugin keeps it from crossing pins
    child = Child()
    yield child
    child.stop()


@pytest.fixture(scope="module")
def module_child() -> Iterator[Child]:  # the same
    child = Child()
    yield child
    child.stop()


def record(anyhour_pin: Pin, test: str, module_child: Child, session_child: Child) -> None:
    line = {
        "test": test,
        "pin": anyhour_pin.name,
        "at": anyhour_pin.at.isoformat(),
        "self": datetime.now(UTC).isoformat(),
        "child": subprocess.run(
            [sys.executable, "-c", ASK], capture_output=True, text=True, check=True
        ).stdout.strip(),
        "module_child": [module_child.started_at, module_child.process.pid, module_child.now()],
        "session_child": [session_child.started_at, session_child.process.pid, session_child.now()],
    }
    with Path(os.environ["ANYHOUR_PROBE_RECORD"]).open("a") as out:
        out.write(json.dumps(line) + "\n")


def test_first(anyhour_pin: Pin, module_child: Child, session_child: Child) -> None:
    record(anyhour_pin, "first", module_child, session_child)


def test_second(anyhour_pin: Pin, module_child: Child, session_child: Child) -> None:
    record(anyhour_pin, "second", module_child, session_child)


def test_third(anyhour_pin: Pin, module_child: Child, session_child: Child) -> None:
    record(anyhour_pin, "third", module_child, session_child)
    assert anyhour_pin.name != os.environ.get("ANYHOUR_PROBE_FAIL_AT"), "fails here on purpose"
