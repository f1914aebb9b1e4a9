"""The any-hour check's one session puts every process of a test on that test's pin.

tests/anyhour/probe.py runs through the runner at the two closest pins (23:59:59 and 00:30, half
an hour and a date apart), in one process and on two xdist workers. Its tests record the wall clock
of pytest, of a Python child each starts, and of Python children that a module- and a
session-scoped fixture started: each must be on the test's own pin, so a fixture's child made for
one pin and reused at the next, or a child left on the real clock, fails. One probe test fails on
purpose at 00:30, and the runner must name that pin.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sitegate.netutil import spawn, stop_group

ROOT = Path(__file__).resolve().parents[2]
PINS = ("23:59:59", "00:30")
FAILS_AT = "00:30"
TESTS = ("first", "second", "third")
ON_THE_PIN = timedelta(minutes=10)
"""How far past its pin a clock of the probe may be: its tests take a second or two, and the pins
are 30 minutes apart, the real clock hours or days away."""


@dataclass(frozen=True)
class ProbeRun:
    code: int
    output: str
    records: list[dict[str, Any]]


@pytest.fixture(scope="module", params=[1, 2], ids=["one-process", "two-workers"])
def probe(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> ProbeRun:
    """The probe run once per worker count; both tests read the same run."""
    tmp_path = tmp_path_factory.mktemp("probe")
    workers = request.param
    record = tmp_path / "record.jsonl"
    env = dict(os.environ, ANYHOUR_PROBE_RECORD=str(record), ANYHOUR_PROBE_FAIL_AT=FAILS_AT)
    command = [sys.executable, "-m", "tests.anyhour.run", *PINS, "--parallel", str(workers)]
    command += ["--logs", str(tmp_path / "logs"), "--tests", "tests/anyhour/probe.py"]
    process = spawn(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        output, _ = process.communicate()
    finally:
        stop_group(process)
    lines = record.read_text().splitlines() if record.exists() else []
    return ProbeRun(process.returncode, output.decode(errors="replace"), [json.loads(line) for line in lines])


def test_every_process_of_a_test_is_on_its_pin(probe: ProbeRun) -> None:
    output, records = probe.output, probe.records
    assert sorted((r["test"], r["pin"]) for r in records) == sorted((t, p) for t in TESTS for p in PINS), (
        output
    )

    for r in records:
        pin = datetime.fromisoformat(str(r["at"]))
        module_child, session_child = r["module_child"], r["session_child"]
        seen = {
            "pytest": r["self"],
            "a child of the test": r["child"],
            "the module fixture's child, when started": module_child[0],
            "the module fixture's child": module_child[2],
            "the session fixture's child, when started": session_child[0],
            "the session fixture's child": session_child[2],
        }
        for who, text in seen.items():
            clock = datetime.fromisoformat(str(text))
            assert pin - timedelta(seconds=1) <= clock < pin + ON_THE_PIN, (
                f"{r['test']} at {r['pin']}: {who} at {clock}"
            )

    for fixture in ("module_child", "session_child"):
        pids = {pin: {r[fixture][1] for r in records if r["pin"] == pin} for pin in PINS}
        assert not pids[PINS[0]] & pids[PINS[1]], f"{fixture}'s process served both pins"


def test_a_failure_names_its_pin(probe: ProbeRun) -> None:
    output = probe.output
    assert probe.code == 1, output
    lines = output.splitlines()
    assert any(
        line.startswith("any-hour  23:59:59 (wall clock ") and ": ok: 3 passed" in line for line in lines
    )
    assert any(
        line.startswith("any-hour     00:30 (wall clock ") and ": FAILED: 2 passed, 1 failed" in line
        for line in lines
    )
    assert "    tests/anyhour/probe.py::test_third[00:30]" in lines
    assert f"any-hour check failed at: {FAILS_AT} (" in output
