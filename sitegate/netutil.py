"""Loopback and child-process helpers shared by the demo, tests and benchmarks.

Child processes (mosquitto, PostgreSQL, the hub, pcscd in the tests) are started with :func:`spawn`:
each leads a session, hence a process group, of its own, and :func:`stop_group` stops that whole
group (``SIGTERM``, then ``SIGKILL`` after a grace), so nothing a child started outlives it. A
signal to the parent's group (a terminal's Ctrl-C, ``kill -TERM -<pgid>``) does not reach them:
the parent stops them itself, in its ``finally`` blocks and context managers.

If the parent dies without doing so (``SIGKILL``, ``os._exit``, a crash), a small watchdog process,
started with the first child and holding the read end of a pipe from the parent, sees the pipe
close and stops every group still running. ``PR_SET_PDEATHSIG`` would not do: mosquitto started as
root drops to its own user, which clears it, and it would not reach a child's children.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import IO, Any

STOP_GRACE_S = 5.0
NO_WATCHDOG = "SITEGATE_NO_WATCHDOG"
"""Set (non-empty) in the environment, no watchdog is started: for the test that checks that an
orderly teardown alone stops every group (tests/test_process_hygiene.py)."""


LISTEN_PORTS = range(20000, 32768)
"""Where :func:`free_port` looks: below Linux's ephemeral range (``ip_local_port_range``, 32768-60999
by default), from which the kernel also picks the local port of every outgoing connection. A port the
kernel handed out for a listener "free a moment ago" was often taken by a client's connect() before
the listener bound it: with a city bench's 10,000 connections open, hubs in the any-hour check died
with "address already in use". Ports here are never handed to a client, so only another caller of
this function can take one, and it picks at random among 12,768."""


_PICK = random.SystemRandom()
"""Not the random module's shared generator: a test that seeds it (for a reproducible world) would
make every process pick the same ports."""


def _ephemeral_floor() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as ranges:
            return int(ranges.read().split()[0])
    except (OSError, ValueError, IndexError):
        return LISTEN_PORTS.stop


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago, outside the kernel's ephemeral range (see
    :data:`LISTEN_PORTS`); the caller binds it soon after."""
    candidates = range(LISTEN_PORTS.start, min(LISTEN_PORTS.stop, _ephemeral_floor()))
    for _ in range(64 if len(candidates) > 100 else 0):
        port = _PICK.choice(candidates)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:  # a crowded range: the kernel's pick
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listening on {host}:{port} after {timeout:.1f}s") from None
            time.sleep(0.01)


# --- child processes in process groups of their own ---------------------------------------------


def spawn(args: Sequence[str], **popen: Any) -> subprocess.Popen[bytes]:
    """``subprocess.Popen(args, **popen)`` in a new session (its own process group, whose id is
    its pid), known to the watchdog until :func:`stop_group` or :func:`kill_group` has stopped it."""
    popen["start_new_session"] = True
    with _lock:
        proc: subprocess.Popen[bytes] = subprocess.Popen(args, **popen)
        _register(proc)
    return proc


def stop_group(
    proc: subprocess.Popen[Any], *, sig: int = signal.SIGTERM, grace: float = STOP_GRACE_S
) -> int | None:
    """``sig`` to the process group ``proc`` leads, ``SIGKILL`` to what is left of it once the leader
    has exited or after ``grace`` seconds, then the leader reaped; returns its exit status.

    Interrupted (a ``KeyboardInterrupt`` from a signal, a test's timeout), it still kills the group
    and reaps the leader before the exception goes on. The leader is waited for without being reaped
    (``WNOWAIT``) until the group is killed, so its pid, the group's id, cannot be reused meanwhile.
    Safe to call again, and on a process that already exited or that was started by ``spawn``'s
    caller in a session of its own some other way.
    """
    pgid = proc.pid
    try:
        if proc.returncode is None:
            _signal_group(pgid, sig)
            deadline = time.monotonic() + grace
            while not _exited(pgid) and time.monotonic() < deadline:
                time.sleep(0.01)
    finally:
        try:
            _signal_group(pgid, signal.SIGKILL)  # stragglers, or the leader after the grace
            proc.wait()
        finally:
            with _lock:
                _unregister(proc)
    return proc.returncode


def kill_group(proc: subprocess.Popen[Any]) -> int | None:
    """``SIGKILL`` to the whole group at once (no grace: the way a machine loses a process)."""
    return stop_group(proc, sig=signal.SIGKILL, grace=0)


def stop_all_groups(grace: float = STOP_GRACE_S, *, keep: Sequence[int] = ()) -> list[str]:
    """Stop every group this process spawned and has not stopped yet, but those in ``keep`` (their
    ids, from :func:`running_groups`); returns their command lines (a test session calls this at
    its end: anything here was left running by a fixture). A block that stops what it started
    passes what ran before it as ``keep``: in a test process that is the session's database server
    and brokers, which other tests go on using."""
    spared = set(keep)
    with _lock:
        left = [proc for pgid, proc in _live.items() if pgid not in spared] if _owner == os.getpid() else []
    for proc in left:
        with contextlib.suppress(Exception):
            stop_group(proc, grace=grace)
    return [_command(proc) for proc in left]


def _command(proc: subprocess.Popen[Any]) -> str:
    args = proc.args
    return " ".join(map(str, args)) if isinstance(args, list | tuple) else str(args)


def running_groups() -> list[int]:
    """The process group ids spawned by this process and not stopped yet."""
    with _lock:
        return sorted(_live) if _owner == os.getpid() else []


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _exited(pid: int) -> bool:
    """Whether the child ``pid`` has exited, without reaping it."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True  # reaped already (a wait() elsewhere)


# The watchdog: it reads "+<pgid>" and "-<pgid>" lines; at end of input (its parent is gone, however
# it went) it stops the groups still listed. Run with -I -S: no site, no PYTHONPATH, no sitecustomize.
_WATCHDOG = """\
import os, signal, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
groups = set()
for line in sys.stdin:
    if line[:1] == "+":
        groups.add(int(line[1:]))
    elif line[:1] == "-":
        groups.discard(int(line[1:]))
def send(sig):
    alive = False
    for pgid in groups:
        try:
            os.killpg(pgid, sig)
            alive = True
        except OSError:
            pass
    return alive
if send(signal.SIGTERM):
    deadline = time.monotonic() + 3
    while send(0) and time.monotonic() < deadline:
        time.sleep(0.05)
    send(signal.SIGKILL)
"""

_lock = threading.RLock()
_live: dict[int, subprocess.Popen[Any]] = {}
_owner = os.getpid()
_watchdog: subprocess.Popen[bytes] | None = None
_done_with: list[subprocess.Popen[bytes]] = []  # kept referenced: no "still running" ResourceWarning
_atexit_done = False


def _register(proc: subprocess.Popen[Any]) -> None:
    global _atexit_done
    _forget_if_forked()
    _live[proc.pid] = proc
    if not _atexit_done:
        atexit.register(stop_all_groups)
        _atexit_done = True
    _tell(f"+{proc.pid}\n")


def _unregister(proc: subprocess.Popen[Any]) -> None:
    if _owner != os.getpid():
        return
    if _live.pop(proc.pid, None) is not None:
        _tell(f"-{proc.pid}\n")


def _forget_if_forked() -> None:
    """A forked child inherits the parent's list and pipe: it keeps neither."""
    global _owner, _watchdog
    if _owner != os.getpid():
        _owner = os.getpid()
        _live.clear()
        if _watchdog is not None:
            _done_with.append(_watchdog)
        _watchdog = None


def _tell(line: str) -> None:
    global _watchdog
    for _ in range(2):
        if _watchdog is None or _watchdog.poll() is not None:
            if _watchdog is not None:
                _done_with.append(_watchdog)
            _watchdog = _start_watchdog()
            line = "".join(f"+{pgid}\n" for pgid in _live)  # a new watchdog needs the whole list
            if _watchdog is None:
                return
        stdin: IO[bytes] | None = _watchdog.stdin
        try:
            assert stdin is not None
            stdin.write(line.encode())
            stdin.flush()
            return
        except (BrokenPipeError, ValueError):
            _done_with.append(_watchdog)
            _watchdog = None


def _start_watchdog() -> subprocess.Popen[bytes] | None:
    if os.environ.get(NO_WATCHDOG):
        return None
    try:
        return subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _WATCHDOG],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a signal to our group must not take it with us
            close_fds=True,
        )
    except OSError:
        return None  # no watchdog: the groups are still stopped by stop_group and atexit
