"""No process a test starts outlives it: a pytest session in a subprocess, whose test has a broker,
a hub (HubLauncher) and PostgreSQL running, is stopped by pytest-timeout, by SIGTERM (alone and
under pytest-xdist) and by SIGKILL, and afterwards not one process it started is left.

Every process the inner session starts inherits a marker in its environment (mosquitto and
PostgreSQL keep it when they change user), so survivors are found in /proc whoever their parent
is by then. Stopped by a timeout or SIGTERM, the session's own teardown must have stopped
everything by the time pytest exits: it runs without the watchdog (``SITEGATE_NO_WATCHDOG``),
which is what catches the SIGKILL case.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from sitegate.netutil import NO_WATCHDOG, spawn, stop_group
from tests.support.ordering import DURATIONS_ENV

ROOT = Path(__file__).resolve().parents[1]
MARKER = "SITEGATE_HYGIENE_RUN"

INNER_TEST = """
import json, os, shutil, time
from pathlib import Path

import pytest

from sitegate.hubproc import HubLauncher


@pytest.fixture
def hub(broker, tmp_path):
    database = tmp_path / "hub.db"
    shutil.copyfile(os.environ["HYGIENE_HUB_DB"], database)  # migrated: the hub starts straight away
    with HubLauncher(database, broker.host, broker.port) as running:
        yield running


@pytest.fixture
def slow_teardown(hub):
    # Torn down first, when the outer test wants a signal to land there: says so, then lasts until
    # the outer test says it has sent the signal (Python runs the handler before the next check).
    yield
    mark = os.environ.get("HYGIENE_TEARDOWN_MARK")
    if mark:
        Path(mark).touch()
        signalled, deadline = Path(mark + ".signalled"), time.monotonic() + 60
        while not signalled.exists() and time.monotonic() < deadline:
            time.sleep(0.02)


# Counts from the end of the fixtures' setup; a SIGTERM must beat it (4 s), a timeout need not wait.
@pytest.mark.timeout(float(os.environ.get("HYGIENE_TIMEOUT_S", "4")), func_only=True)
def test_everything_running_then_stuck(postgres_server, broker, hub, slow_teardown):
    started = {"postgres": postgres_server.pid, "broker": broker.pid, "hub": hub.proc.pid}
    directories = [str(postgres_server.directory), str(broker.workdir)]
    record = Path(os.environ["HYGIENE_RECORD"])
    record.with_suffix(".tmp").write_text(json.dumps({"pids": started, "directories": directories}))
    record.with_suffix(".tmp").rename(record)  # whole, or not there yet
    time.sleep(600)
"""

UNUSED_PLUGINS = ("schemathesis", "anyio", "time_machine")
"""Installed pytest plugins the inner session has no use for: not importing them saves ~0.3 s of
CPU in each of its processes (6 in this module), a third of a bare session's start."""

INNER_INI = """\
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
"""


def survivors(marker: str) -> list[str]:
    """Every process whose environment carries ``marker``: ``pid command``."""
    needle = f"{MARKER}={marker}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                found.append(f"{entry.name} {command.strip()[:160]}")
        except OSError:
            continue  # gone meanwhile, or a kernel thread
    return found


def wait_for_none(marker: str, within_s: float) -> list[str]:
    deadline = time.monotonic() + within_s
    while (left := survivors(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def kill_all(marker: str) -> None:
    for line in survivors(marker):
        pid = int(line.split()[0])
        for kill in (os.killpg, os.kill):
            with contextlib.suppress(OSError):
                kill(pid, signal.SIGKILL)


def in_groups(pgids: list[int]) -> list[str]:
    """Processes, zombies aside (an orphan waits for init to reap it), in any of these groups."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, _, pgrp = stat[stat.rindex(")") + 2 :].split()[:3]
        if int(pgrp) in pgids and state != "Z":
            found.append(f"{entry.name} {stat[: stat.rindex(')') + 1]} {state}")
    return found


@pytest.mark.postgres
@pytest.mark.broker
@pytest.mark.timeout(180)
@pytest.mark.parametrize(
    ("stop", "xdist"),
    [
        ("timeout", False),
        ("SIGTERM", False),
        ("SIGTERM", True),
        ("SIGTERM during teardown", False),
        ("SIGKILL", False),
    ],
    ids=["timeout", "sigterm", "sigterm-xdist", "sigterm-during-teardown", "sigkill-watchdog"],
)
def test_a_stopped_session_leaves_no_process_running(
    tmp_path: Path, sqlite_template: Path, stop: str, xdist: bool
) -> None:
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(INNER_TEST))
    (tmp_path / "pytest.ini").write_text(INNER_INI)
    record = tmp_path / "started.json"
    tearing_down = tmp_path / "tearing-down"
    marker = uuid.uuid4().hex
    env = {
        **os.environ,
        MARKER: marker,
        "HYGIENE_RECORD": str(record),
        # The hub's schema migrated once for the module's five sessions (~0.45 CPU-s a hub start less)
        "HYGIENE_HUB_DB": str(sqlite_template),
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("PYTEST_XDIST_WORKER", None)
    env.pop(DURATIONS_ENV, None)  # the inner session's test_inner.py is not one of the suite's modules
    if stop != "SIGKILL":
        env[NO_WATCHDOG] = "1"  # the session's own teardown must do it
    if stop == "SIGTERM during teardown":
        env["HYGIENE_TEARDOWN_MARK"] = str(tearing_down)  # the test times out; then the signal comes
    if stop in ("timeout", "SIGTERM during teardown"):
        env["HYGIENE_TIMEOUT_S"] = "1.5"
    command = [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider", "-q"]
    command += [arg for plugin in UNUSED_PLUGINS for arg in ("-p", f"no:{plugin}")]
    command += ["-n", "1"] if xdist else ["-p", "no:xdist"]
    command += ["--rootdir", str(tmp_path), str(tmp_path / "test_inner.py")]
    directories: list[Path] = []
    try:
        inner = spawn(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while not record.exists():
                assert inner.poll() is None, inner.communicate()[0].decode(errors="replace")[-3000:]
                assert time.monotonic() < deadline, "the inner test never got its processes running"
                time.sleep(0.05)
            recorded = json.loads(record.read_text())
            started, directories = recorded["pids"], [Path(d) for d in recorded["directories"]]
            assert all(isinstance(pid, int) for pid in started.values()), started
            assert survivors(marker), "the marker does not reach the inner session's processes"
            if stop == "SIGTERM during teardown":
                while not tearing_down.exists():
                    assert inner.poll() is None and time.monotonic() < deadline, "no teardown began"
                    time.sleep(0.02)
                os.kill(inner.pid, signal.SIGTERM)
                Path(f"{tearing_down}.signalled").touch()  # the inner teardown may end now
            elif stop != "timeout":
                os.kill(inner.pid, getattr(signal, stop))
            output = inner.communicate(timeout=90)[0].decode(errors="replace")
        finally:
            stop_group(inner, grace=1.0)
        # After SIGKILL the watchdog stops them (its grace is 3 s); otherwise the session did, before
        # it exited, and at most a backend already on its way out may still be seen.
        left = wait_for_none(marker, within_s=10.0 if stop == "SIGKILL" else 1.0)
    finally:
        kill_all(marker)  # a failing run leaves nothing to the next test either
        if stop == "SIGKILL":  # nobody was left to remove the broker's and the cluster's directories
            for directory in directories:
                shutil.rmtree(directory, ignore_errors=True)
    assert left == [], f"{stop}: still running:\n" + "\n".join(left) + "\n" + output[-3000:]
    assert in_groups(list(started.values())) == []
    if stop == "timeout":
        assert "Timeout" in output and "1 failed" in output, output[-3000:]
    elif stop.startswith("SIGTERM"):
        assert inner.returncode == pytest.ExitCode.INTERRUPTED, output[-3000:]
        assert "KeyboardInterrupt" in output, output[-3000:]
    if stop != "SIGKILL":
        assert "left running" not in output, output[-3000:]
        assert [d for d in directories if d.exists()] == [], "the teardown left directories behind"
