"""A benchmark's lifetime: a deadline, an orderly exit on SIGTERM, and no process left behind.

Every bench runs its body inside :func:`bench_lifetime` (after parsing its arguments):

* **A deadline.** ``--deadline-s`` bounds the whole run. A wait asks the lifetime for its budget
  (``life.budget(30)``: at most 30 s and never past the deadline) or lets it do the waiting
  (:meth:`Lifetime.until`, :meth:`Lifetime.wait`, :func:`read_line`); when the time is up it fails
  with a message naming what it waited for. A backstop alarm (SIGALRM) fires :data:`BACKSTOP_S`
  after the deadline, in case something waits in a way that is not bounded like that, and names
  the step the bench was in (:meth:`Lifetime.step`).
* **SIGTERM (and SIGHUP) is an orderly exit.** The handler raises :class:`Terminated`, a
  ``SystemExit``: ``with`` blocks unwind, so the broker, the hub, PostgreSQL and the bench's own
  children are stopped by their context managers. Inside ``asyncio.run`` the exception stops the
  loop, which then cancels its tasks, so their ``async with`` blocks unwind as well. Only the first
  signal raises; one that arrives while the bench is cleaning up is noted, not raised mid-cleanup.
* **No process outlives the bench.** The bench makes itself a child subreaper
  (``PR_SET_CHILD_SUBREAPER``), so whatever its children start and orphan (a daemon that detaches
  into a session of its own, as ``pg_ctl start`` does with PostgreSQL) is re-parented to the bench
  rather than to init. However the body ended, the process groups ``sitegate.netutil.spawn``
  started and nobody stopped are stopped whole (``stop_all_groups``), then every process whose
  parent chain still leads to the bench (but netutil's watchdog, which ends when the bench does)
  is sent SIGTERM, then SIGKILL after :data:`STOP_GRACE_S`, and reaped. Children the bench starts
  itself get :func:`die_with_parent` as ``preexec_fn`` (killed if the bench is killed outright).

Exit status: what the body returns (0, or 1 when a goal is missed); :data:`EXIT_FAILED` (2) when
the bench could not finish (a wait ran out, a check failed, an error), with the reason as the last
line on stderr and ``{"bench": NAME, "failed": REASON}`` as the last line on stdout; 128 + the
signal's number when it was terminated.

A bench killed with SIGKILL can do none of this: whoever runs it should start it in a session of
its own (``start_new_session=True``) and, if it has to kill it, kill that session's processes
(tests/test_benches.py does).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import queue
import signal
import sys
import threading
import time
import traceback
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from types import FrameType
from typing import IO, Any, AnyStr, Final, NoReturn, TypeVar

T = TypeVar("T")

EXIT_FAILED: Final = 2
BACKSTOP_S: Final = 15.0
"""How long after the deadline the alarm ends a bench that is stuck somewhere no wait bounds."""
STOP_GRACE_S: Final = 5.0
"""How long a leftover process gets after SIGTERM before SIGKILL."""
STOP_TASKS_S: Final = 15.0
"""How long the bench's own asyncio tasks (its lanes) get to stop when it cleans up."""
PR_SET_PDEATHSIG: Final = 1
PR_SET_CHILD_SUBREAPER: Final = 36

_current: Lifetime | None = None


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class BenchFailed(Exception):
    """The bench could not finish: what it waited for did not happen, or a check failed."""


class Terminated(SystemExit):
    """SIGTERM or SIGHUP, raised where the bench was, so that everything unwinds."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signum = signum


class OutOfTime(SystemExit):
    """The backstop alarm: the deadline passed long ago and the bench is still at it."""

    def __init__(self, message: str) -> None:
        super().__init__(EXIT_FAILED)
        self.message = message


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value >= 10 else f"{value:.2g} s"


class Lifetime:
    """The running bench's deadline and the step it is at."""

    def __init__(self, name: str, deadline_s: float) -> None:
        if deadline_s <= 0:
            raise ValueError("--deadline-s must be positive")
        self.name = name
        self.deadline_s = deadline_s
        self.started = time.monotonic()
        self.ends = self.started + deadline_s
        self.doing = "starting"
        self.pid = os.getpid()
        self.signalled: int | None = None
        self.closing = False

    def remaining(self) -> float:
        return max(0.0, self.ends - time.monotonic())

    def step(self, doing: str) -> None:
        """Say what the bench does now (to stderr, and for the backstop's message)."""
        self.doing = doing
        log(f"{self.name}: {doing}")

    def budget(self, within_s: float | None = None) -> float:
        """Seconds a wait may take: ``within_s`` at most, and never past the deadline."""
        remaining = self.remaining()
        return remaining if within_s is None else max(0.0, min(within_s, remaining))

    def fail(self, message: str) -> NoReturn:
        raise BenchFailed(message)

    @property
    def within_deadline(self) -> str:
        return f"within the bench's deadline (--deadline-s {self.deadline_s:g})"

    def limit(self, within_s: float | None) -> tuple[float, str]:
        """The budget and how to say it: "within 30 s", or "within 4.2 s, the rest of the bench's
        deadline (--deadline-s 60)" when the deadline cuts it short."""
        limit = self.budget(within_s)
        if within_s is not None and limit >= within_s:
            return limit, f"within {_seconds(limit)}"
        if limit < 0.05:
            return limit, self.within_deadline
        return (
            limit,
            f"within {_seconds(limit)}, the rest of the bench's deadline (--deadline-s {self.deadline_s:g})",
        )

    def timed_out(self, what: str, limit_text: str, detail: str | None) -> NoReturn:
        self.fail(f"{what} {limit_text}" + (f": {detail}" if detail else ""))

    async def until(
        self,
        predicate: Callable[[], bool | Awaitable[bool]],
        what: str,
        *,
        within_s: float | None = None,
        detail: Callable[[], str | None] | None = None,
        poll_s: float = 0.02,
    ) -> None:
        """Poll ``predicate`` (plain or async) until it holds; else fail with
        "``what`` within N s: ``detail()``"."""
        limit, text = self.limit(within_s)
        ends = time.monotonic() + limit
        while True:
            held = predicate()
            if not isinstance(held, bool):
                held = await held
            if held:
                return
            if time.monotonic() >= ends:
                self.timed_out(what, text, detail() if detail else None)
            await asyncio.sleep(poll_s)

    async def wait(
        self,
        awaitable: Awaitable[T],
        what: str,
        *,
        within_s: float | None = None,
        detail: Callable[[], str | None] | None = None,
    ) -> T:
        """``await awaitable`` within the budget; else fail with "``what`` within N s"."""
        limit, text = self.limit(within_s)
        timeout = asyncio.timeout(limit)
        try:
            async with timeout:
                return await awaitable
        except TimeoutError:
            if timeout.expired():
                self.timed_out(what, text, detail() if detail else None)
            raise

    async def stop(
        self, tasks: Iterable[asyncio.Task[Any]], what: str, *, within_s: float = STOP_TASKS_S
    ) -> None:
        """Cancel ``tasks`` until they have ended (:func:`sitegate.tasks.cancel_until_done`: one
        that swallows a cancel is cancelled again), within ``within_s`` whatever is left of the
        deadline (this is the bench's cleanup); else fail naming ``what`` and the tasks still running."""
        from sitegate.tasks import cancel_until_done

        every = list(tasks)
        try:
            async with asyncio.timeout(within_s):
                await cancel_until_done(every)
        except TimeoutError:
            running = ", ".join(task.get_name() for task in every if not task.done())
            self.fail(f"{what} did not stop within {_seconds(within_s)}: still running: {running}")

    # -- signals --------------------------------------------------------------------------------

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if os.getpid() != self.pid:  # a forked child (powercut's lanes) that inherited the handler
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        if self.signalled is not None or self.closing:
            self.signalled = self.signalled or signum
            log(f"{self.name}: {signal.Signals(signum).name} noted; already stopping")
            return
        self.signalled = signum
        raise Terminated(signum)

    def _on_alarm(self, signum: int, frame: FrameType | None) -> None:
        if os.getpid() != self.pid or self.closing:
            return
        raise OutOfTime(
            f"still {self.doing} {_seconds(BACKSTOP_S)} after the deadline (--deadline-s {self.deadline_s:g})"
        )


def current() -> Lifetime | None:
    """The running bench's lifetime, if any (the helpers in bench/_common.py bound their waits by it)."""
    return _current


def budget(within_s: float) -> float:
    """``within_s``, cut to the running bench's deadline if there is one."""
    return within_s if _current is None else _current.budget(within_s)


@contextlib.contextmanager
def bench_lifetime(name: str, deadline_s: float) -> Iterator[Lifetime]:
    """Run a bench's body with a deadline, SIGTERM as an orderly exit, and no process left behind
    (see the module's docstring). Enter it once, around everything the bench starts."""
    global _current
    life = Lifetime(name, deadline_s)
    _current = life
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    handled = (signal.SIGTERM, signal.SIGHUP)
    previous = {sig: signal.signal(sig, life._on_signal) for sig in handled}
    previous_alarm = signal.signal(signal.SIGALRM, life._on_alarm)
    signal.setitimer(signal.ITIMER_REAL, deadline_s + BACKSTOP_S)
    failure: str | None = None
    try:
        yield life
    except Terminated as err:
        signame = signal.Signals(err.signum).name
        log(f"{name}: terminated by {signame} while {life.doing}; stopping what it started")
        raise
    except KeyboardInterrupt:
        log(f"{name}: interrupted while {life.doing}; stopping what it started")
        raise
    except OutOfTime as err:
        failure = err.message
    except BenchFailed as err:
        failure = str(err)
    except Exception as err:
        traceback.print_exc()
        failure = f"{type(err).__name__} while {life.doing}: {err}"
    finally:
        life.closing = True
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_alarm)
        try:
            stop_leftovers(name)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            _current = None
    if failure is not None:
        log(f"{name}: FAILED: {failure}")
        print(json.dumps({"bench": name, "failed": failure}, ensure_ascii=False), flush=True)
        raise SystemExit(EXIT_FAILED)
    if life.signalled is not None:  # arrived while cleaning up after a body that had finished
        raise SystemExit(128 + life.signalled)


# -- processes ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Proc:
    pid: int
    ppid: int
    pgid: int
    sid: int
    state: str
    start: int
    """Start time in clock ticks since boot: (pid, start) names one process even if pids are reused."""
    name: str


def processes() -> dict[int, Proc]:
    """Every process on the machine, from /proc (those that vanish while it reads are skipped)."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                text = stat.read().decode(errors="replace")
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        pid = int(entry.name)
        found[pid] = Proc(
            pid, int(fields[1]), int(fields[2]), int(fields[3]), fields[0], int(fields[19]), name
        )
    return found


def descendants(root: int, table: dict[int, Proc] | None = None) -> list[Proc]:
    """Processes whose parent chain leads to ``root`` (not ``root`` itself), parents first."""
    table = processes() if table is None else table
    children: dict[int, list[Proc]] = {}
    for proc in table.values():
        children.setdefault(proc.ppid, []).append(proc)
    found: list[Proc] = []
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for child in children.get(parent, []):
            found.append(child)
            frontier.append(child.pid)
    return found


def _alive(proc: Proc) -> bool:
    now = processes().get(proc.pid)
    return now is not None and now.start == proc.start and now.state != "Z"


def _reap() -> None:
    """Collect the exit status of every child that has exited (orphans re-parented to the bench
    among them), so none stays a zombie."""
    me = os.getpid()
    for proc in processes().values():
        if proc.ppid == me and proc.state == "Z":
            with contextlib.suppress(ChildProcessError):
                os.waitpid(proc.pid, os.WNOHANG)


def _signal_all(procs: list[Proc], signum: int) -> None:
    for proc in procs:
        if _alive(proc):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(proc.pid, signum)


def _spawned_groups_stopped(name: str) -> int | None:
    """Stop the process groups sitegate.netutil started for this process and nobody stopped (the
    way their owners would: the whole group); returns the pid of netutil's watchdog, which stays
    until this process exits (it then stops whatever groups are still registered, i.e. none)."""
    try:
        from sitegate import netutil
    except ImportError:
        return None
    stop_all = getattr(netutil, "stop_all_groups", None)
    if stop_all is not None:
        stopped = stop_all()
        if stopped:
            log(f"{name}: stopped {len(stopped)} process group(s) left running: {'; '.join(stopped)}")
    watchdog = getattr(netutil, "_watchdog", None)
    return getattr(watchdog, "pid", None)


def stop_leftovers(name: str) -> list[Proc]:
    """SIGTERM, then SIGKILL, every live process descended from this one (but sitegate.netutil's
    watchdog, which ends by itself when this process exits); returns what it found."""
    watchdog = _spawned_groups_stopped(name)
    leftovers = [p for p in descendants(os.getpid()) if p.state != "Z" and p.pid != watchdog]
    if leftovers:
        listed = ", ".join(f"{p.name} ({p.pid})" for p in leftovers)
        log(f"{name}: stopping {len(leftovers)} leftover process(es): {listed}")
        _signal_all(leftovers, signal.SIGTERM)
        ends = time.monotonic() + STOP_GRACE_S
        while any(_alive(p) for p in leftovers) and time.monotonic() < ends:
            _reap()
            time.sleep(0.05)
        stubborn = [p for p in leftovers if _alive(p)]
        if stubborn:
            log(f"{name}: SIGKILL for {', '.join(f'{p.name} ({p.pid})' for p in stubborn)}")
            _signal_all(stubborn, signal.SIGKILL)
            ends = time.monotonic() + 2.0
            while any(_alive(p) for p in stubborn) and time.monotonic() < ends:
                _reap()
                time.sleep(0.05)
    _reap()
    return leftovers


def _prctl(option: int, value: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(option, value, 0, 0, 0) != 0:
        log(f"prctl({option}, {value}) failed: {os.strerror(ctypes.get_errno())}")


def die_with_parent() -> Callable[[], None]:
    """A ``preexec_fn`` for the bench's own children: SIGKILL when the bench dies, even by SIGKILL
    (PR_SET_PDEATHSIG; dropped by a child that changes user, e.g. mosquitto started as root)."""
    parent = os.getpid()

    def preexec() -> None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the bench died before the line above
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


def read_line(stream: IO[AnyStr], what: str, within_s: float | None = None) -> AnyStr:
    """One line from a child's pipe, within the budget; else fail naming ``what``. The read runs in
    a daemon thread: a child that never writes is killed when the bench cleans up, which ends it."""
    if _current is not None:
        limit, text = _current.limit(within_s)
    else:
        limit = 60.0 if within_s is None else within_s
        text = f"within {_seconds(limit)}"
    lines: queue.SimpleQueue[AnyStr | BaseException] = queue.SimpleQueue()

    def reader() -> None:
        try:
            lines.put(stream.readline())
        except BaseException as err:  # handed to the waiting thread
            lines.put(err)

    threading.Thread(target=reader, name=f"read {what}", daemon=True).start()
    try:
        got = lines.get(timeout=limit)
    except queue.Empty:
        raise BenchFailed(f"{what} {text}") from None
    if isinstance(got, BaseException):
        raise got
    return got
