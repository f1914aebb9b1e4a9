"""SIGTERM to a test session is an orderly teardown, not a kill.

pytest turns Ctrl-C (SIGINT) into a KeyboardInterrupt: the running test stops and every fixture is
torn down. SIGTERM (what CI runners, ``timeout`` and ``kill`` send) would kill the process outright
and leave its brokers, hubs and databases running; here it takes the Ctrl-C path too. The first
SIGTERM counts; another within 5 s is ignored (the xdist controller's copy, or a signal to the
whole process group, reaches a worker twice at once), one later cuts a hung teardown short (what
that teardown had yet to stop is stopped at the end of the session, tests/conftest.py).

A KeyboardInterrupt that lands inside a fixture's teardown ends the teardown of that test right
there (pytest does not run the test's remaining finalizers), so a signal that arrives while a test
is being torn down (or while the session is) waits until that teardown is over.

Under pytest-xdist the controller passes SIGTERM on to its workers. In a worker SIGINT is handled
the same way, but only ever once: a terminal's Ctrl-C reaches the workers with the controller, and
execnet interrupts a worker whose teardown runs past 5 s with a SIGINT of its own.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Generator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

REPEAT_S = 5.0


class Termination:
    def __init__(self, config: pytest.Config) -> None:
        self.worker = hasattr(config, "workerinput")
        self.controller = not self.worker and config.pluginmanager.hasplugin("dsession")
        self.signalled: int | None = None
        self.signalled_at = 0.0
        self.tearing_down = 0
        self.session_over = False

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        signal.signal(signal.SIGTERM, self.on_signal)
        if self.worker:
            signal.signal(signal.SIGINT, self.on_signal)

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.signalled is not None:
            if signum == signal.SIGTERM and time.monotonic() - self.signalled_at > REPEAT_S:
                self.signalled_at = float("inf")  # once
                raise KeyboardInterrupt(f"{signal.Signals(signum).name} again: teardown cut short")
            return  # the teardown the first one started goes on
        self.signalled = signum
        self.signalled_at = time.monotonic()
        if self.controller:
            signal_workers(signal.SIGTERM)
        if not self.tearing_down and not self.session_over:
            self.interrupt()

    def interrupt(self) -> None:
        assert self.signalled is not None
        raise KeyboardInterrupt(f"{signal.Signals(self.signalled).name}: tearing down")

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_teardown(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> Generator[None, Any, Any]:
        self.tearing_down += 1
        try:
            return (yield)
        finally:
            self.tearing_down -= 1
            if self.signalled is not None and not self.tearing_down and not self.session_over:
                self.interrupt()  # now that this test's fixtures are down

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> Generator[None, Any, Any]:
        self.session_over = True  # the session's fixtures are torn down in here: no interrupting that
        return (yield)


def signal_workers(sig: int) -> None:
    """``sig`` to this process's children in its own session: the xdist workers (the watchdog and
    the groups spawned by sitegate.netutil lead sessions of their own)."""
    me, session = os.getpid(), os.getsid(0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": state, ppid, pgrp, session
        if int(fields[1]) == me and int(fields[3]) == session:
            with contextlib.suppress(OSError):
                os.kill(int(entry.name), sig)


def register(config: pytest.Config) -> None:
    termination = Termination(config)
    config.pluginmanager.register(termination, "sitegate-termination")
    termination.install()
