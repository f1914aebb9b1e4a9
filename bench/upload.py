"""Upload bench: a project-day of passages uploaded to the worker platform's stand-in (issue 19).

    .venv/bin/python bench/upload.py [--events 20000] [--teams 30] [--delay-s 0.5] [--store sqlite]
        [--seed 0] [--deadline-s S]

Builds a project on a fresh hub database: ``--teams`` teams (班组, each named for a trade), about four
passages a person (``--events`` / 4 people, spread over the teams), then ``--events`` granted passages
through the store's own path (corrected times, the unique key), over the last hours of the day. The
hub's uploader (hub.platform.uploader, in this process, on the machine's clock) then uploads them to a
stand-in of the platform (sitegate.platform_standin, in this process too) that answers after
``--delay-s``, as the platform answers asynchronously: teams first, then people by twenties, then the
passages, a team and 20 rows a request, each request's outcome polled.

The last stdout line is one JSON object: ``events`` (made), ``uploaded`` (passages the platform
holds), ``duplicates`` (passages it holds more than once: 0), ``requests`` (every request the
platform received, polls included), ``upload_s`` (from the uploader's first round until every
passage is accepted), and beside them ``teams``, ``workers``, ``requests_by_method``, ``rounds``.
Progress goes to stderr. Exit status 2 (bench/_lifetime.py) when it could not finish: the upload did
not settle before the deadline, or the platform does not hold every passage exactly once.
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
import random  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402

from pydantic import SecretStr  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bench._common import BENCH_PROJECT, STORES, access_event, database, log  # noqa: E402
from bench._lifetime import Lifetime, bench_lifetime  # noqa: E402
from hardware.emulators.identities import synthetic_identity  # noqa: E402
from hub.auth.principal import Principal, Role  # noqa: E402
from hub.events.journal import store_events  # noqa: E402
from hub.platform.dictionaries import WORK_TYPES  # noqa: E402
from hub.platform.settings import PlatformSettingsDesk, PlatformSettingsIn  # noqa: E402
from hub.platform.upload_settings import UploadSettings  # noqa: E402
from hub.platform.uploader import RoundReport, Uploader  # noqa: E402
from hub.registry.vault import IdVault, mask  # noqa: E402
from hub.store import Store  # noqa: E402
from hub.store.schema import (  # noqa: E402
    assignments,
    districts,
    enterprises,
    gates,
    persons,
    platform_uploads,
    projects,
    teams,
)
from sitegate.platform_standin import PlatformStandin  # noqa: E402
from wire.clock import SITE_ZONE, SystemClock  # noqa: E402
from wire.models import Direction  # noqa: E402

PROJECT_CODE = "330106-BENCH-0001"
APPID = "bench"
APPSECRET = "0123456789abcdef0123456789abcdef"
LANES = {"lane-up-in": ("in", "东门进场"), "lane-up-out": ("out", "东门出场")}
TRADES = [name for code, name in WORK_TYPES.items() if code != "900"]
CREATED = datetime(2026, 1, 1, tzinfo=UTC)
STORE_BATCH = 2000


async def build(store: Store, vault: IdVault, events: int, team_count: int, seed: int, now: datetime) -> int:
    """The project, its people in their teams and ``events`` passages; returns how many people."""
    rng = random.Random(seed)
    people = max(team_count, events // 4)
    async with store.write("bench world") as conn:
        await conn.execute(districts.insert().values(code="330106", name="西湖区"))
        await conn.execute(
            enterprises.insert(),
            [
                {
                    "id": eid,
                    "number": f"91330106MA2B0000{n}X",
                    "name": name,
                    "kind": kind,
                    "district": "330106",
                    "local": True,
                    "created_at": CREATED,
                }
                for n, (eid, name, kind) in enumerate(
                    [
                        ("ent-gc", "基准建工", "general_contractor"),
                        ("ent-sub", "基准劳务", "labour_subcontractor"),
                    ]
                )
            ],
        )
        await conn.execute(
            projects.insert().values(
                id=BENCH_PROJECT,
                permit_number="330106202601019999",
                name="基准项目",
                district="330106",
                address="西湖区",
                gc_enterprise_id="ent-gc",
                site_key_cipher=b"-",
                created_at=CREATED,
            )
        )
        await conn.execute(
            teams.insert(),
            [
                {
                    "id": f"team-{t:03d}",
                    "project_id": BENCH_PROJECT,
                    "enterprise_id": "ent-sub",
                    "name": f"{TRADES[t % len(TRADES)]}{t // len(TRADES) + 1}班",
                    "created_at": CREATED,
                }
                for t in range(team_count)
            ],
        )
        person_rows, assignment_rows, numbers = [], [], set()
        for n in range(people):
            number = synthetic_identity(rng).id_number
            while number in numbers:  # a synthetic identity may come twice among thousands
                number = synthetic_identity(rng).id_number
            numbers.add(number)
            person_id = f"p-{n:07d}"
            person_rows.append(
                {
                    "id": person_id,
                    "id_index": vault.blind_index(number),
                    "id_cipher": vault.seal_id(person_id, number),
                    "id_masked": mask(number),
                    "name": f"工人{n}",
                    "card_kind": "resident",
                    "enterprise_id": "ent-sub",
                    "category": "worker",
                    "created_at": CREATED,
                }
            )
            assignment_rows.append(
                {
                    "project_id": BENCH_PROJECT,
                    "person_id": person_id,
                    "enterprise_id": "ent-sub",
                    "role": "worker",
                    "entry_date": CREATED.date(),
                    "credential_hash": f"{n:064x}",
                    "created_at": CREATED,
                    "team_id": f"team-{n % team_count:03d}",
                }
            )
        await conn.execute(persons.insert(), person_rows)
        await conn.execute(assignments.insert(), assignment_rows)
        await conn.execute(
            gates.insert(),
            [
                {
                    "device_id": d,
                    "project_id": BENCH_PROJECT,
                    "lane": d[-3:],
                    "direction": direction,
                    "name": name,
                }
                for d, (direction, name) in LANES.items()
            ],
        )
    start = now - timedelta(hours=10)
    step = timedelta(hours=10) / (events + 1)
    seqs = dict.fromkeys(LANES, 0)
    inside: set[int] = set()
    batch = []
    for n in range(events):
        person = n % people
        direction = Direction.OUT if person in inside else Direction.IN
        inside ^= {person}
        device = "lane-up-in" if direction is Direction.IN else "lane-up-out"
        seqs[device] += 1
        batch.append(
            access_event(
                device,
                seqs[device],
                person_id=f"p-{person:07d}",
                direction=direction,
                wall_time=start + step * (n + 1),
            )
        )
        if len(batch) == STORE_BATCH or n == events - 1:
            await store_events(store, batch, received_at=now)
            batch = []
    return people


async def accepted(store: Store) -> int:
    async with store.read("bench: accepted") as conn:
        return int(
            await conn.scalar(
                select(func.count())
                .select_from(platform_uploads)
                .where(platform_uploads.c.state == "accepted")
            )
            or 0
        )


async def bench(life: Lifetime, args: argparse.Namespace, url: str) -> dict[str, Any]:
    clock = SystemClock()
    now = clock.wall()
    vault = IdVault(bytes(range(32)))
    async with await Store.open(url, clock=clock) as store, PlatformStandin(delay_s=args.delay_s) as standin:
        life.step("building the project")
        people = await build(store, vault, args.events, args.teams, args.seed, now)
        log(f"upload: {args.events} passages of {people} people in {args.teams} teams on {args.store}")
        standin.add_project(PROJECT_CODE, APPID, APPSECRET)
        settings = PlatformSettingsIn(
            variant="provincial",
            endpoint=standin.url,
            project_code=PROJECT_CODE,
            appid=APPID,
            appsecret=SecretStr(APPSECRET),
            upload_from=(now - timedelta(hours=11)).astimezone(SITE_ZONE).date(),
        )
        await PlatformSettingsDesk(store, vault, Principal(0, "bench", Role.CITY)).put(
            BENCH_PROJECT, settings, now=now
        )
        upload = UploadSettings(poll_s=min(0.25, args.delay_s), first_retry_s=1, concurrency=4)
        life.step("uploading")
        rounds, total = 0, RoundReport()
        started = time.perf_counter()
        async with Uploader(store, vault, upload, clock=clock) as uploader:
            while await accepted(store) < args.events:
                if life.remaining() <= 0:
                    life.fail(f"the upload did not settle: {await accepted(store)} of {args.events} accepted")
                report = await uploader.run_once()
                total.add(report)
                rounds += 1
                if not (report.requests or report.enqueued):
                    await asyncio.sleep(upload.poll_s)
        upload_s = time.perf_counter() - started
        result = {
            "bench": "upload",
            "store": args.store,
            "events": args.events,
            "uploaded": len(standin.attendance),
            "duplicates": standin.duplicates(),
            "requests": sum(standin.requests.values()),
            "upload_s": round(upload_s, 3),
            "teams": len(standin.teams),
            "workers": len(standin.workers),
            "requests_by_method": dict(standin.requests),
            "rounds": rounds,
            "delay_s": args.delay_s,
        }
    if result["uploaded"] != args.events or result["duplicates"]:
        life.fail(
            f"the platform holds {result['uploaded']} passages ({result['duplicates']} twice)"
            f" of {args.events}"
        )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--teams", type=int, default=30)
    parser.add_argument("--delay-s", type=float, default=0.5, help="the stand-in's asynchronous delay")
    parser.add_argument("--store", choices=STORES, default="sqlite")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--deadline-s", type=float, help="the whole run's deadline (default: 60 s + 10 ms a passage)"
    )
    args = parser.parse_args()
    if args.events < 1 or args.teams < 1:
        parser.error("--events and --teams must be at least 1")
    with (
        bench_lifetime("upload", args.deadline_s or 60.0 + 0.01 * args.events) as life,
        tempfile.TemporaryDirectory(prefix="sitegate-upload-bench-") as tmp,
        database(args.store, Path(tmp)) as url,
    ):
        result = asyncio.run(bench(life, args, url))
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
