"""Power-cut rig: a lane process SIGKILLed at random points while it journals and swaps rosters.

Each trial forks a child that plays a lane after a reboot: it reopens the journal and roster the
previous trial left behind and loops: append an event with the real ``Journal.append``, pulse a
real ``LaneOutputs`` relay (gpiozero ``MockFactory`` pins), tell the parent the pulse happened,
and every few events swap in a new roster version with the real ``save_roster``. The parent kills
the child with SIGKILL after a random delay, so the kill lands anywhere: inside the SQLite commit,
inside the roster's write, fsync or rename, or between them. Then it plays the rebooted lane: the
journal must open with a gapless sequence that holds every event whose pulse was reported, and
``load_roster`` must give one complete roster no older than the last version reported saved.

The evidence leaves the child through a pipe, one unbuffered ``os.write`` per fact, written just
after the fact (a pipe write shorter than PIPE_BUF is atomic), so whatever the parent reads had
happened before the kill.

What SIGKILL does and does not simulate: the process dies between any two instructions, but the
kernel lives on, so everything the child had written still reaches the file from the page cache.
The rig therefore tests the ordering and atomicity of our own code (journal before relay; temp
file and rename, never a moment without a complete roster file). A real power cut also loses the
page cache; surviving that rests on SQLite's ``synchronous=FULL`` and on the fsyncs in
``write_atomically``, which this rig does not exercise (that needs a block-level fault injector
such as dm-log-writes, or a machine whose power is really pulled).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import select
import signal
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from gpiozero.pins.mock import MockFactory

from controller.board import BoardProfile, load_board
from controller.core.roster import Roster, RosterEntry
from controller.journal import Journal, JournalError
from controller.outputs import LaneOutputs
from controller.roster_store import load_roster, save_roster
from wire.models import AccessEvent, CardKind, Decision, Direction, Reason
from wire.roles import RosterRole

PROJECT_ID = "P1"
JOURNAL_NAME = "journal.sqlite3"
ROSTER_NAME = "roster.json"
MAX_ROSTER_ENTRIES = 500
MAX_EVENTS_BETWEEN_SWAPS = 4
_READ_CHUNK = 65536
_MAX_PROBLEMS_KEPT = 20


# --- what the lane writes, and how to tell a complete roster ----------------------------------


def entry_count(version: int) -> int:
    """How many entries roster ``version`` has, so a reader can tell a complete one."""
    return version * 7 % MAX_ROSTER_ENTRIES + 1


def roster_items(version: int) -> list[tuple[str, RosterEntry]]:
    return [
        (f"{version:016x}{i:048x}", RosterEntry(f"p-{version}-{i}", RosterRole.WORKER))
        for i in range(entry_count(version))
    ]


def roster_problem(roster: Roster) -> str | None:
    """Why ``roster`` is not exactly one version as :func:`roster_items` wrote it, or ``None``."""
    if roster.project_id != PROJECT_ID:
        return f"v{roster.version}: project {roster.project_id!r}, expected {PROJECT_ID!r}"
    expected = entry_count(roster.version)
    if len(roster) != expected:
        return f"v{roster.version}: {len(roster)} entries, expected {expected}"
    prefix = f"p-{roster.version}-"
    strays = [e.person_id for e in roster.entries.values() if not e.person_id.startswith(prefix)]
    if strays:
        return f"v{roster.version}: {len(strays)} entries from another version (e.g. {strays[0]})"
    return None


def granted_event(seq: int) -> AccessEvent:
    return AccessEvent(
        device_id="lane-a1",
        seq=seq,
        boot_id="0f1e2d3c-boot",
        mono_ns=seq * 1000,
        wall_time=datetime(2026, 11, 24, 8, 0, tzinfo=UTC),
        clock_synced=True,
        project_id=PROJECT_ID,
        lane="A1",
        direction=Direction.IN,
        decision=Decision.GRANTED,
        reason=Reason.GRANTED,
        card_kind=CardKind.RESIDENT,
        credential_hash="ab" * 32,
        person_id=f"p-{seq}",
    )


# --- the child: a lane that runs until it is killed ---------------------------------------------


@dataclass(frozen=True, slots=True)
class LanePlan:
    workdir: Path
    board: BoardProfile
    first_version: int
    seed: int
    swap_rosters: bool = True
    pulse_before_commit: bool = False
    """The wrong order, for checking that the rig notices it; never what the service does."""


def _say(out: int, tag: bytes, number: int) -> None:
    os.write(out, b"%s %d\n" % (tag, number))


def _run_lane(plan: LanePlan, out: int) -> None:
    rng = random.Random(plan.seed)
    journal = Journal(plan.workdir / JOURNAL_NAME)
    outputs = LaneOutputs(plan.board, Direction.IN, pin_factory=MockFactory(), loop=asyncio.new_event_loop())
    roster_path = plan.workdir / ROSTER_NAME
    version = plan.first_version
    while True:
        for _ in range(rng.randint(1, MAX_EVENTS_BETWEEN_SWAPS)):
            if plan.pulse_before_commit:
                seq = journal.last_seq + 1
                outputs.pulse_relay()
                _say(out, b"P", seq)
                journal.append(granted_event)
            else:
                event = journal.append(granted_event)
                outputs.pulse_relay()
                _say(out, b"P", event.seq)
        if plan.swap_rosters:
            _say(out, b"S", version)
            save_roster(roster_path, version, PROJECT_ID, roster_items(version))
            _say(out, b"R", version)
            version += 1


def _fork_lane(plan: LanePlan) -> tuple[int, int]:
    """Start the lane in a child process; returns its pid and the read end of its report pipe."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        code = 0
        try:
            _run_lane(plan, write_fd)
        except BaseException as err:
            code = 1
            with contextlib.suppress(OSError):
                os.write(write_fd, f"E {type(err).__name__}: {err}"[: select.PIPE_BUF - 1].encode() + b"\n")
        finally:
            os._exit(code)
    os.close(write_fd)
    return pid, read_fd


def _kill_after(pid: int, read_fd: int, delay_s: float) -> tuple[bytes, bool]:
    """Read the child's reports for ``delay_s``, SIGKILL it, read the rest; True if it died by the kill."""
    received = bytearray()
    try:
        deadline = time.monotonic() + delay_s
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([read_fd], [], [], left)
            if ready:
                chunk = os.read(read_fd, _READ_CHUNK)
                if not chunk:
                    break  # the child closed its end: it exited by itself
                received += chunk
    except BaseException:  # a test's timeout, SIGTERM: the lane (it runs until killed) must not live on
        os.close(read_fd)
        raise
    finally:
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    while chunk := os.read(read_fd, _READ_CHUNK):
        received += chunk
    os.close(read_fd)
    killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    return bytes(received), killed


@dataclass(slots=True)
class LaneReport:
    pulsed: list[int] = field(default_factory=list)
    begun: list[int] = field(default_factory=list)
    saved: list[int] = field(default_factory=list)
    last: str | None = None
    error: str | None = None

    @classmethod
    def parse(cls, raw: bytes) -> LaneReport:
        report = cls()
        for line in raw.decode(errors="replace").splitlines():
            tag, _, rest = line.partition(" ")
            if tag == "E":
                report.error = rest
                continue
            {"P": report.pulsed, "S": report.begun, "R": report.saved}[tag].append(int(rest))
            report.last = tag
        return report


# --- the parent: kill, reboot, check ------------------------------------------------------------


@dataclass(slots=True)
class Tally:
    trials: int = 0
    lost_events: int = 0
    corrupt_rosters: int = 0
    journal_faults: int = 0
    child_errors: int = 0
    events_pulsed: int = 0
    roster_swaps: int = 0
    kills_at_startup: int = 0
    kills_during_appends: int = 0
    kills_during_roster_write: int = 0
    new_roster_before_confirm: int = 0
    """Kills after the rename but before ``save_roster`` returned: the new version was already live."""
    roster_fallbacks: int = 0
    """Loads that needed ``.prev``: not corrupt (the version is complete and current), but the
    current file should never be damaged by a kill, so the bench counts it as a failure too."""
    last_seq: int = 0
    roster_version: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """Nothing lost or torn, the journal sound, and the roster never needed its fallback."""
        return not (
            self.lost_events
            or self.corrupt_rosters
            or self.journal_faults
            or self.child_errors
            or self.roster_fallbacks
        )

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        del data["problems"]
        return data


class PowerCutRig:
    """Runs trials on one lane directory, which lives on across trials like a lane across reboots."""

    def __init__(
        self,
        workdir: Path,
        *,
        seed: int = 0,
        min_delay_s: float = 0.005,
        max_delay_s: float = 0.080,
        swap_rosters: bool = True,
        pulse_before_commit: bool = False,
    ) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        self.rng = random.Random(seed)
        self.min_delay_s = min_delay_s
        self.max_delay_s = max_delay_s
        self.swap_rosters = swap_rosters
        self.pulse_before_commit = pulse_before_commit
        self.board = load_board("rpi4")
        self.tally = Tally()
        self.confirmed_version = 0
        self.begun_version = 0

    def _problem(self, message: str) -> None:
        if len(self.tally.problems) < _MAX_PROBLEMS_KEPT:
            self.tally.problems.append(f"trial {self.tally.trials}: {message}")

    def trial(self) -> LaneReport:
        delay = self.rng.uniform(self.min_delay_s, self.max_delay_s)
        plan = LanePlan(
            workdir=self.workdir,
            board=self.board,
            first_version=self.begun_version + 1,
            seed=self.rng.getrandbits(32),
            swap_rosters=self.swap_rosters,
            pulse_before_commit=self.pulse_before_commit,
        )
        pid, read_fd = _fork_lane(plan)
        raw, killed = _kill_after(pid, read_fd, delay)
        report = LaneReport.parse(raw)
        tally = self.tally
        tally.trials += 1
        if not killed or report.error is not None:
            tally.child_errors += 1
            self._problem(f"lane exited by itself: {report.error or 'no error reported'}")
        tally.events_pulsed += len(report.pulsed)
        tally.roster_swaps += len(report.saved)
        if report.last is None:
            tally.kills_at_startup += 1
        elif report.last == "S":
            tally.kills_during_roster_write += 1
        else:
            tally.kills_during_appends += 1
        self._check_journal(report)
        if self.swap_rosters:
            self._check_roster(report)
        return report

    def _check_journal(self, report: LaneReport) -> None:
        tally = self.tally
        path = self.workdir / JOURNAL_NAME
        try:
            journal = Journal(path)
        except JournalError as err:
            tally.journal_faults += 1
            tally.lost_events += len(report.pulsed)
            self._problem(f"journal does not open after the kill: {err}")
            return
        try:
            last_seq = journal.last_seq
            fresh = [e.seq for e in journal.pending(tally.last_seq, limit=last_seq + 1)]
        finally:
            journal.close()
        with contextlib.closing(sqlite3.connect(path)) as db:
            stored = {seq for (seq,) in db.execute("SELECT seq FROM events")}
        if last_seq < tally.last_seq:
            tally.journal_faults += 1
            self._problem(f"sequence went back from {tally.last_seq} to {last_seq}")
        if stored != set(range(1, last_seq + 1)):
            tally.journal_faults += 1
            holes = sorted(set(range(1, last_seq + 1)) - stored)[:5]
            extra = sorted(stored - set(range(1, last_seq + 1)))[:5]
            self._problem(f"journal to seq {last_seq} has holes {holes} / strays {extra}")
        if fresh != list(range(tally.last_seq + 1, last_seq + 1)):
            tally.journal_faults += 1
            self._problem(f"events after seq {tally.last_seq} do not read back in order")
        lost = sorted(set(report.pulsed) - stored)
        if lost:
            tally.lost_events += len(lost)
            self._problem(f"relay pulsed for seq {lost} but the journal does not hold them")
        tally.last_seq = max(tally.last_seq, last_seq)

    def _check_roster(self, report: LaneReport) -> None:
        tally = self.tally
        self.confirmed_version = max([self.confirmed_version, *report.saved])
        self.begun_version = max([self.begun_version, *report.begun])
        loaded = load_roster(self.workdir / ROSTER_NAME)
        roster = loaded.roster
        problem: str | None
        if roster.version == 0 and len(roster) == 0:
            nothing_yet = self.confirmed_version == 0 and (loaded.fault or "").startswith("no roster")
            problem = None if nothing_yet else f"empty roster after v{self.confirmed_version} was saved"
        elif roster.version < self.confirmed_version:
            problem = f"v{roster.version} loaded, but v{self.confirmed_version} had been saved"
        elif roster.version > self.begun_version:
            problem = f"v{roster.version} loaded, but no save of it was ever begun"
        else:
            problem = roster_problem(roster)
        if problem is not None:
            tally.corrupt_rosters += 1
            self._problem(f"roster: {problem} (fault: {loaded.fault})")
            return
        if loaded.fault is not None and roster.version:
            tally.roster_fallbacks += 1
        if roster.version > self.confirmed_version:
            tally.new_roster_before_confirm += 1
        tally.roster_version = roster.version


def run_trials(
    workdir: Path,
    trials: int,
    *,
    seed: int = 0,
    progress: Callable[[Tally], None] | None = None,
    **rig_options: Any,
) -> Tally:
    rig = PowerCutRig(workdir, seed=seed, **rig_options)
    for _ in range(trials):
        rig.trial()
        if progress is not None:
            progress(rig.tally)
    return rig.tally


# --- a kill before every step of one action -----------------------------------------------------


def run_killed_before_call(n: int, action: Callable[[], object]) -> bool:
    """Fork a child that runs ``action`` and SIGKILLs itself just before its ``n``-th C-level call.

    Returns ``True`` if the child died that way, ``False`` if ``action`` finished first. Every
    change an action makes on disk goes through a C call (open, write, fsync, rename, link), so
    ``n = 1, 2, ...`` until ``False`` visits every state a kill can leave the disk in.
    """
    pid = os.fork()
    if pid == 0:
        calls = 0
        finished = False

        def profile(frame: FrameType, event: str, arg: object) -> None:
            nonlocal calls
            if event == "c_call" and not finished:
                calls += 1
                if calls >= n:
                    os.kill(os.getpid(), signal.SIGKILL)

        code = 0
        try:
            sys.setprofile(profile)
            action()
            finished = True
            sys.setprofile(None)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    try:
        _, status = os.waitpid(pid, 0)
    except BaseException:  # a test's timeout, SIGTERM: the child goes too
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
        return True
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        return False
    raise RuntimeError(f"child running the action failed (wait status {status:#x})")
