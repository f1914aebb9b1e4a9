"""Relayed passages survive a SIGKILL like the lane's own: each relay is taken whole or not at all.

A child process plays a lane taking relays, each the site's passages of every person at one
instant (all with that relay's number), through the real ``Journal.offer_passages``, and says so
on a pipe right after each commit. The parent SIGKILLs it at a random moment, reopens the journal
as the rebooted lane would, and checks: every person holds the same relay (none half-applied)
and no older one than the last the child reported taken. The next trial goes on from there.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from controller.journal import Journal

PEOPLE = 30
CHILD = f"""
import os, sys
from datetime import UTC, datetime, timedelta
from controller.core.passback import Passage
from controller.journal import Journal
from wire.models import Direction

journal = Journal(__import__("pathlib").Path(sys.argv[1]))
held = dict(journal.passage_records())
relay = max((p.seq for p in held.values()), default=0)
base = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
while True:
    relay += 1
    direction = Direction.IN if relay % 2 else Direction.OUT
    at = base + timedelta(seconds=relay)
    taken = journal.offer_passages(
        [(f"p-{{n:03d}}", Passage(direction, at, "lane-a2", relay)) for n in range({PEOPLE})]
    )
    assert len(taken) == {PEOPLE}, len(taken)
    os.write(1, f"{{relay}}\\n".encode())
"""


def test_a_killed_lane_keeps_every_relay_it_reported_and_no_half_of_one(tmp_path: Path) -> None:
    rng = random.Random(20261124)
    path = tmp_path / "journal.sqlite3"
    Journal(path).close()
    reported_last = 0
    for _ in range(15):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(path)],
            stdout=subprocess.PIPE,
            cwd=Path(__file__).resolve().parents[2],
        )
        assert child.stdout is not None
        first = b""
        try:
            # Killed while relays are being written, however slowly a loaded machine starts it:
            # after its first reported relay, then a few dozen more.
            first = child.stdout.readline()
            time.sleep(rng.random() * 0.1)
        finally:
            os.kill(child.pid, signal.SIGKILL)
            output = first.decode() + child.stdout.read().decode()
            child.wait()
            child.stdout.close()
        lines = [int(line) for line in output.split("\n")[:-1]]  # the last piece may be cut short
        if lines:
            reported_last = lines[-1]
        journal = Journal(path)
        held = dict(journal.passage_records())
        journal.close()
        relays = {passage.seq for passage in held.values()}
        if not held:
            assert reported_last == 0
            continue
        assert len(held) == PEOPLE and len(relays) == 1, f"a relay half applied: {sorted(relays)}"
        assert relays.pop() >= reported_last
    assert reported_last > 15  # the kills landed while it was working, not only at start-up
