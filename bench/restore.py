"""Restore bench: a hub restored from a backup gets back every event the lanes had, once.

    .venv/bin/python bench/restore.py [--store sqlite|postgres] [--events 20000] [--devices 10]
        [--rate 2000] [--backup-after 0.4] [--deadline-s S]

Issue 17's story at scale. A private mosquitto, the database (SQLite, or a private PostgreSQL),
the hub as a process, and ``--devices`` lanes: real ``controller.uplink.Uplink`` over real
``controller.journal.Journal`` files, in this process, with the lanes' default retention (acknowledged
events kept 7 days, bounded by disk). The lanes journal ``--events`` events at ``--rate`` a second.
Once ``--backup-after`` of them are acknowledged, ``sitegate hub backup`` runs (a process, the
command the systemd timer runs) while the lanes journal another tenth (in the backup or not, as it
happens); the rest are journaled and acknowledged after it.
Then the hub is destroyed (SIGKILL; its database emptied: the SQLite file deleted, PostgreSQL's
schema dropped; its keys deleted), ``sitegate hub restore`` puts the backup back, and a new hub
starts on it. It asks every lane to resend after its restored watermark; the bench waits until the
hub holds every event and every lane's journal is acknowledged again, then reads the database.

Last stdout line, one JSON object: ``events``, ``acked_before_backup`` (acknowledged when the
backup began), ``acked_after_backup`` (acknowledged after it began), ``in_backup`` (rows the restored
database held), ``present_after_restore`` (rows at the end), ``lost`` and ``duplicates`` (goals 0
and 0), ``resent`` (events the lanes sent again when the restored hub asked), the times of the
backup, the restore and the recovery, and the backup's size. Exit status 1 if an event is lost or
stored twice, 2 if the bench could not finish (every wait bounded, the whole run by
``--deadline-s``), 128 + N when ended by signal N; the broker, the hubs and PostgreSQL are stopped
whichever way it ends (bench/_lifetime.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine  # noqa: E402

from bench._common import Passages, Run, bench_parser, device_ids, place_devices, started  # noqa: E402
from bench._lanes import Lanes, logging_progress, until_acked  # noqa: E402
from bench._lifetime import Lifetime  # noqa: E402
from controller.config import MqttConfig  # noqa: E402
from hub.backup.databases import empty_postgres  # noqa: E402
from hub.backup.sealed import make_recovery_keys  # noqa: E402
from hub.store.schema import access_events  # noqa: E402

DURING_BACKUP = 0.1
"""The share of the events journaled while the backup runs (in it or not, as it happens)."""
COMMAND_S = 600.0
"""The longest a backup or a restore command may take (bounded by the deadline too)."""


async def count_stored(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(access_events)) or 0)


async def hub_command(life: Lifetime, what: str, url: str, state_dir: Path, *args: str) -> float:
    """``sitegate hub <args>`` as a process, in the hub's working directory; its duration."""
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sitegate.cli", "hub", *args, "--database-url", url,
        cwd=state_dir, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await life.wait(proc.communicate(), what, within_s=COMMAND_S)
    if proc.returncode != 0:
        life.fail(f"{what} exited {proc.returncode}: {err.decode(errors='replace').strip()[-500:]}")
    return time.monotonic() - started


async def destroy(url: str, state_dir: Path, store: str) -> None:
    """The hub's data gone: its database emptied, its keys and CA deleted."""
    if store == "sqlite":
        for name in ("hub.sqlite3", "hub.sqlite3-wal", "hub.sqlite3-shm"):
            (state_dir / name).unlink(missing_ok=True)
    else:
        await empty_postgres(url)
        state_dir = state_dir / "var"
    for key in ("hub-data.key", "roster-signing.key"):
        (state_dir / key).unlink(missing_ok=True)


async def restore_run(run: Run, args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, int]]:
    life, url, broker, workdir = run.life, run.url, run.broker, run.files
    config = MqttConfig(host=broker.host, port=broker.port, resend_after_s=2.0, reconnect_window_s=0.5)
    lanes = Lanes(life, workdir, device_ids(args.devices, "lane-rs"), Passages(args.events, 0.9), config)
    make_recovery_keys(workdir / "recovery.key", workdir / "recovery.pub")
    backup = workdir / "hub.sgbackup"

    def acked_all() -> bool:
        return all(j.acked_through == j.last_seq for j in lanes.journals.values())

    life.step(f"starting the hub ({args.store})")
    first = run.hub("hub")
    with first:
        await place_devices(url, list(lanes.journals))
        async with lanes.running():
            backup_at = int(args.events * args.backup_after)
            during = int(args.events * DURING_BACKUP)
            await lanes.journal(backup_at, args.rate)
            await life.until(
                logging_progress(lambda: lanes.acked() >= backup_at, lambda: lanes.progress(args.events)),
                f"{backup_at} events acknowledged before the backup",
                within_s=120,
                detail=lambda: lanes.progress(args.events),
                poll_s=0.05,
            )
            acked_before = lanes.acked()
            life.step(f"backing up with {acked_before} events acknowledged, {during} more coming meanwhile")
            command = ["backup", "--recovery-public-key", str(workdir / "recovery.pub"), "--out", str(backup)]
            backup_s, _ = await asyncio.gather(
                hub_command(life, "sitegate hub backup", url, workdir, *command),
                lanes.journal(during, args.rate),
            )
            life.step("the backup taken; the rest of the events journaled, waiting for their acks")
            await lanes.journal(args.events - lanes.journaled, args.rate)
            if not await until_acked(life, lanes, args.events):
                life.fail(f"acks stalled before the hub was destroyed: {lanes.progress(args.events)}")
            acked_after = lanes.acked() - acked_before
            kept = sum(j.kept() for j in lanes.journals.values())
            life.step(f"destroying the hub ({kept} acknowledged events kept by the lanes)")
            first.kill()
            await destroy(url, workdir, args.store)
            life.step("restoring the backup")
            restore_args = ["restore", "--recovery-key", str(workdir / "recovery.key"), "--from", str(backup)]
            restore_s = await hub_command(life, "sitegate hub restore", url, workdir, *restore_args)
            engine = create_async_engine(url)  # one for every poll: a new engine a poll costs CPU
            try:
                in_backup = await count_stored(engine)
                life.step(f"the restored hub starts with {in_backup} of {args.events} events")
                started = time.monotonic()
                with run.hub("hub-restored"):
                    stored = 0

                    async def recovered() -> bool:
                        nonlocal stored
                        if not acked_all():  # the journals first: no database read while resending
                            return False
                        stored = await count_stored(engine)
                        return stored == args.events

                    await life.until(
                        recovered,
                        "every event back at the restored hub and acknowledged",
                        within_s=120 + args.events / 500,
                        detail=lambda: f"{stored} stored; {lanes.progress(args.events)}",
                        poll_s=0.25,
                    )
                    recovery_s = time.monotonic() - started
            finally:
                await engine.dispose()
            resent = sum(uplink.resent for uplink in lanes.uplinks.values())
            journaled = lanes.last_seqs()
    report = {
        "acked_before_backup": acked_before,
        "acked_after_backup": acked_after,
        "in_backup": in_backup,
        "resent": resent,
        "backup_s": round(backup_s, 2),
        "backup_bytes": backup.stat().st_size,
        "restore_s": round(restore_s, 2),
        "recovery_s": round(recovery_s, 2),
    }
    return report, journaled


def main() -> int:
    parser = bench_parser(
        __doc__,
        events=20_000,
        devices=10,
        devices_are="simulated lanes",
        keeps="logs, databases, backup",
        rate=2000,
        deadline_default="240 s + the journaling time, twice",
    )
    parser.add_argument(
        "--backup-after", type=float, default=0.4, help="share of the events acknowledged before the backup"
    )
    args = parser.parse_args()
    if not 0 < args.backup_after < 1 - DURING_BACKUP:
        parser.error(f"--backup-after must be between 0 and {1 - DURING_BACKUP:g}")
    if args.rate <= 0 or args.events < args.devices:
        parser.error("--rate must be positive and --events at least --devices")
    deadline_s = args.deadline_s or 240.0 + 2 * args.events / args.rate + args.events / 250
    with started("restore", args, deadline_s, files_prefix="sitegate-restore-") as run:
        outcome, journaled = asyncio.run(restore_run(run, args))
        counted = asyncio.run(run.counted(journaled))
    report = {
        "store": args.store,
        "events": args.events,
        "devices": args.devices,
        "acked_before_backup": outcome.pop("acked_before_backup"),
        "acked_after_backup": outcome.pop("acked_after_backup"),
        "present_after_restore": counted.stored,
        "lost": counted.lost,
        "duplicates": counted.duplicates,
        "unexpected": counted.unexpected,
        **outcome,
    }
    print(json.dumps(report))
    return 0 if counted.lost == counted.duplicates == counted.unexpected == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
