"""Recovery that loses nothing (issue 17, invariant 11), with real processes: a real mosquitto, the
real hub process on SQLite, ``sitegate hub backup`` and ``sitegate hub restore`` as commands, and
real lane uplinks with their journals.

Ingest runs; a backup is taken while events keep coming; more events are acknowledged after it;
the hub is destroyed (killed, its database and keys deleted) and restored from the backup. The
restored hub asks every lane to resend after its watermark, the lanes resend what they kept, and
the hub ends with every event of the run, once.

One more lane keeps fewer acknowledged events than the backup lacks (a backup older than its
window): it tells the restored hub which are gone, the hub records the loss (a ``journal_gap``
alert with the count) and acknowledges over it, and the lane's journal drains.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from controller.journal import Journal, Retention
from hub.backup.sealed import make_recovery_keys
from hub.store import Store
from hub.workflows.alerts import JOURNAL_GAP, Alerts, AlertSettings
from sitegate.hubproc import HubLauncher
from sitegate.mosquitto import Mosquitto
from tests.hub.backup.test_gap import CITY
from tests.integration.test_link_exactly_once import append_events, placed, stored_seqs, until, uplinks

pytestmark = pytest.mark.broker

LANES = ("lane-rst-1", "lane-rst-2")
SHORT = "lane-rst-3"
"""A lane whose journal keeps only the last :data:`SHORT_KEEPS` acknowledged events."""
BEFORE, DURING, AFTER = 150, 100, 200
"""Events per lane acknowledged before the backup, sent while it is taken, acknowledged after it."""
SHORT_KEEPS = 100


def hub_command(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "sitegate.cli", "hub", *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def rows_per_key(db: Path) -> int:
    """Rows beyond one per (device, seq): 0 by the unique key, counted all the same."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        rows, keys = conn.execute(
            "SELECT count(*), count(DISTINCT device_id || ':' || seq) FROM access_events"
        ).fetchone()
    return int(rows) - int(keys)


async def test_a_hub_restored_from_a_backup_gets_back_every_event_once(
    broker: Mosquitto, tmp_path: Path
) -> None:
    state = tmp_path / "var"
    db = state / "hub.sqlite3"
    url = f"sqlite+aiosqlite:///{db}"
    keys = tmp_path / "keys"
    keys.mkdir()
    make_recovery_keys(keys / "r.key", keys / "r.pub")  # made off the hub, in production
    await placed(db, [*LANES, SHORT])
    kept = Retention(keep_s=7 * 86_400, max_events=100_000, min_free_mb=0)
    journals = {lane: Journal(tmp_path / f"{lane}.sqlite3", retention=kept) for lane in LANES}
    short = Retention(keep_s=7 * 86_400, max_events=SHORT_KEEPS, min_free_mb=0)
    journals[SHORT] = Journal(tmp_path / f"{SHORT}.sqlite3", retention=short)

    def add(count: int) -> None:
        for journal in journals.values():
            append_events(journal, journal_device[journal], count)

    journal_device = {journal: lane for lane, journal in journals.items()}
    backup = tmp_path / "hub.sgbackup"
    async with uplinks(broker, journals) as links:
        with HubLauncher(db, broker.host, broker.port) as hub:
            add(BEFORE)
            for link in links.values():
                link.notify()
            await until(lambda: all(j.acked_through == BEFORE for j in journals.values()), 30, "first acks")
            add(DURING)  # still arriving while the backup is taken
            for link in links.values():
                link.notify()
            backup_args = ["backup", "--recovery-public-key", str(keys / "r.pub"), "--out", str(backup)]
            await asyncio.to_thread(hub_command, *backup_args, "--database-url", url)
            add(AFTER)
            for link in links.values():
                link.notify()
            total = BEFORE + DURING + AFTER
            await until(lambda: all(j.acked_through == total for j in journals.values()), 30, "all acked")
            hub.proc.kill()  # the hub destroyed: no clean stop, its database and keys gone
            hub.proc.wait(10)
        for path in state.iterdir():
            if path.is_file():
                path.unlink()
        assert all(journals[lane].backlog() == 0 and journals[lane].kept() == total for lane in LANES)
        assert journals[SHORT].kept() == SHORT_KEEPS

        restore_args = ["restore", "--recovery-key", str(keys / "r.key"), "--from", str(backup)]
        await asyncio.to_thread(hub_command, *restore_args, "--database-url", url)
        restored = {lane: stored_seqs(db, lane) for lane in (*LANES, SHORT)}
        assert all(BEFORE <= len(seqs) < total for seqs in restored.values()), restored  # the backup's
        with HubLauncher(db, broker.host, broker.port):
            await until(
                lambda: all(stored_seqs(db, lane) == list(range(1, total + 1)) for lane in LANES),
                30,
                "every event back at the restored hub",
            )
            await until(lambda: all(j.acked_through == total for j in journals.values()), 10, "acked again")
        resent = {lane: link.resent for lane, link in links.items()}
        assert journals[SHORT].gap() is None  # the hub took it: told no more
    assert rows_per_key(db) == 0
    # The short lane: everything it still kept is back, once; the rest is recorded as lost.
    still_kept = set(range(total - SHORT_KEEPS + 1, total + 1))
    back = stored_seqs(db, SHORT)
    assert back == sorted(set(restored[SHORT]) | still_kept)
    assert resent[SHORT] == SHORT_KEEPS and journals[SHORT].backlog() == 0
    async with await Store.open(url) as store:
        gaps = await Alerts(store, CITY, AlertSettings()).journal_gaps(now=datetime.now(UTC))
    assert [(a.kind, a.subject, a.details["count"]) for a in gaps] == [
        (JOURNAL_GAP, SHORT, total - len(back))
    ]
    for lane in LANES:
        # What the backup lacked (more only if it held a lane's events with a hole below them)
        assert total - len(restored[lane]) <= resent[lane] <= total - BEFORE, resent
        assert journals[lane].acked_through == total and journals[lane].backlog() == 0
