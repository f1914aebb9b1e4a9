"""The order the suite's modules are handed out in, and the groups of the modules that mostly wait:
the pure merge, then a real two-worker session that records its modules' CPU and groups by it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.support.ordering import DURATIONS_ENV, module_order, waits

ROOT = Path(__file__).resolve().parents[2]


def test_a_module_waits_when_its_cpu_is_under_the_share_of_its_time() -> None:
    assert waits([10.0, 3, 1.0])
    assert not waits([10.0, 3, 5.0])
    assert not waits([10.0, 3])  # a record from before CPU was kept: no claim either way
    assert not waits([0.0, 3, 0.0])  # a module of nothing but skips


def test_new_modules_first_then_waiting_and_computing_advance_together_longest_first() -> None:
    record = {
        "w_long": [40.0, 1, 4.0],
        "w_mid": [20.0, 1, 2.0],
        "w_short": [20.0, 1, 1.0],
        "c_long": [120.0, 9, 60.0],
        "c_mid": [60.0, 9, 30.0],
        "c_short": [60.0, 9, 30.0],
        "c_old": [0.5, 1],  # no CPU recorded: computes, as far as anyone knows
    }
    modules = ["c_short", "new_b", "w_short", "c_old", "w_mid", "c_mid", "new_a", "c_long", "w_long"]
    # Waiting: 80 s in all, computing: 240.5 s. Each step takes from the side less far through
    # its total (waiting on a tie; equal times in the order given): w_long (0.5 of the waiting
    # done), c_long (0.499), c_short (0.748), w_short (0.75), c_mid (1.0), w_mid, then c_old.
    assert module_order(record, modules) == [
        "new_b",
        "new_a",
        "w_long",
        "c_long",
        "c_short",
        "w_short",
        "c_mid",
        "w_mid",
        "c_old",
    ]
    assert sorted(module_order(record, modules)) == sorted(modules)  # nothing lost, nothing twice


def test_no_record_keeps_the_order_given() -> None:
    assert module_order({}, ["b", "a", "c"]) == ["b", "a", "c"]


INNER_CONFTEST = """\
import subprocess
import sys
import time

import pytest
from tests.support import ordering

@pytest.fixture(scope="session", autouse=True)
def heavy_to_stop():
    yield
    time.sleep(2.0)  # as a PostgreSQL server or a browser takes to stop, and their children's CPU:
    subprocess.run([sys.executable, "-c", "sum(range(40_000_000))"], check=True)

def pytest_configure(config):
    ordering.register(config)

@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("xdist_group") is None and (
            group := ordering.waiting_group(config, item.nodeid)
        ):
            item.add_marker(pytest.mark.xdist_group(group))
"""

INNER_TESTS = {
    "test_sleeps.py": "import time\n\n"
    + "".join(f"def test_s{i}():\n    time.sleep(0.05)\n\n" for i in range(4)),
    "test_computes.py": "".join(f"def test_c{i}():\n    sum(range(10_000_000))\n\n" for i in range(4)),
}


def test_a_session_records_each_modules_cpu_and_groups_the_one_the_record_says_waits(tmp_path: Path) -> None:
    """Run 1 has no record: nothing grouped, and the record it leaves holds each module's time and
    CPU. Run 2 reads a record that says which module waits: its tests are one group (one worker),
    the other's are not. (Run 1's own record is not what run 2 reads: whether a module that
    computes for 0.24 s shows a third of its time in CPU depends on how loaded the machine is.)"""
    (tmp_path / "conftest.py").write_text(INNER_CONFTEST)
    for name, text in INNER_TESTS.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    durations = tmp_path / "durations.json"
    env = {**os.environ, DURATIONS_ENV: str(durations), "PYTHONPATH": str(ROOT)}
    env.pop("PYTEST_ADDOPTS", None)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-n",
        "2",
        "--dist",
        "loadgroup",
        "-v",
        "-p",
        "no:cacheprovider",
    ]
    command += ["-p", "no:schemathesis", "-p", "no:anyio", "-p", "no:hypothesispytest"]

    def run() -> str:
        done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        return done.stdout

    first = run()
    assert "@waits:" not in first
    record = json.loads(durations.read_text())
    sleeps, computes = record["test_sleeps.py"], record["test_computes.py"]
    assert sleeps[1] == computes[1] == 4
    assert sleeps[0] >= 0.2, sleeps  # four sleeps of 0.05 s
    # The session's fixtures' teardown (2 s and ~1 CPU-s in a child) in each worker's last test is
    # charged to neither module.
    assert sleeps[0] < 2.0 and computes[0] < 2.0 + computes[2], (sleeps, computes)
    assert computes[2] >= 0.12, computes  # four sums of ~0.06 s of CPU each, however loaded
    assert sleeps[2] < computes[2] / 4, (sleeps, computes)

    durations.write_text(json.dumps({"test_sleeps.py": [1.0, 4, 0.02], "test_computes.py": [1.0, 4, 0.6]}))
    second = run()
    grouped = re.findall(r"test_sleeps\.py::test_s\d@waits:test_sleeps\.py", second)
    assert len(set(grouped)) == 4, second
    assert "test_computes.py::test_c0@" not in second and "test_computes.py::test_c0" in second
