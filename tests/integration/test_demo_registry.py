"""The demo's registry, without the lanes: the synthetic city and the shift's people written
through the hub's Registry, the roster the hub compiles from them with the project's site rules,
and the controller's own rules on that roster, under those site rules, giving each scripted swipe
its reason. Both stores, and at any hour: a shift laid in
the morning, just before midnight (its swipes fall on the next day) and before dawn."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from controller.config import ControllerConfig, PolicyConfig, parse_config
from controller.core.decision import Lane, Swipe, decide
from controller.core.policy import parse_window
from controller.core.roster import Roster
from controller.roster_rows import columns_of_rows
from controller.roster_rules import policy_of
from hub.auth.principal import Role
from hub.registry import IdVault, load_data_key
from hub.rosters.registry_source import RegistrySource
from hub.rosters.release import compile_content
from hub.site_rules import DEFAULT_RULES, SiteRulesIn
from hub.store import Store
from hub.store.schema import gates, projects
from sitegate.demo import LANES
from sitegate.demo_lanes import shift_hours, with_demo_settings
from sitegate.demo_registry import Populated, populate
from sitegate.demo_script import ScriptedSwipe, Shift, build_shift
from sitegate.postgres import PostgresServer
from tests.support.accounts import create_account
from tests.support.clock import site_time
from tests.support.postgres import run_in_thread
from wire.clock import SITE_ZONE
from wire.credential import credential_hash
from wire.idnumber import validate_id_number
from wire.models import Direction, Reason

SHIFT_TAKES = timedelta(minutes=10)
"""Longer than the demo's shift plays: its last swipes are judged this long after it was laid."""
LAID = [
    site_time(2026, 11, 25, 10, 0),
    site_time(2026, 11, 25, 23, 59, 30),
    site_time(2026, 11, 25, 5, 59, 59),
]
WORLDS = [
    pytest.param((backend, laid), id=f"{backend}-{laid:%H%M%S}", marks=marks)
    for backend, marks in (("sqlite", ()), ("postgres", pytest.mark.postgres))
    for laid in LAID
]


@dataclass(frozen=True)
class World:
    """The registry populated as the demo does it, on one store, with the shift laid at ``laid``."""

    database_url: str
    data_key: Path
    laid: datetime
    shift: Shift
    populated: Populated


@pytest.fixture(scope="module", params=WORLDS)
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Made once for the swipes judged at once and later: judging only reads. The seed's accounts
    get argon2's cheap parameters (no test here logs in): production's were most of a world."""
    backend, laid = request.param
    home = tmp_path_factory.mktemp("demo-registry")
    server: PostgresServer | None = None
    if backend == "postgres":
        server = request.getfixturevalue("postgres_server")
        assert server.template is not None
        database = run_in_thread(server.clone(server.template))
        url = server.url(database)
    else:
        shutil.copyfile(request.getfixturevalue("sqlite_template"), home / "hub.db")
        url = f"sqlite+aiosqlite:///{home / 'hub.db'}"
    shift = build_shift(7, laid)
    populated = run_in_thread(_populate(url, home / "hub-data.key", shift, laid))
    yield World(url, home / "hub-data.key", laid, shift, populated)
    if server is not None:
        run_in_thread(server.drop(database))


async def _populate(database_url: str, key: Path, shift: Shift, laid: datetime) -> Populated:
    async with await Store.open(database_url) as store:
        await create_account(store, role=Role.CITY, username="city-duty")
    return await populate(
        database_url,
        key,
        "city-duty",
        shift,
        list(LANES.values()),
        seed=7,
        people=20,
        today=laid.date(),
        worker_hours=shift_hours(laid),
        fast_hash=True,  # nobody logs in here; production's argon2 was most of a world's cost
    )


@pytest.mark.xdist_group("demo-registry")  # a world made on one worker, not again on another
@pytest.mark.parametrize("judged_after", [timedelta(0), SHIFT_TAKES], ids=["at-once", "later"])
async def test_every_scripted_reason_follows_from_the_registry(
    world: World, tmp_path: Path, judged_after: timedelta
) -> None:
    """The shift laid, the registry filled and the roster compiled at ``world.laid``; each swipe
    judged ``judged_after`` later, as the lanes judge the shift's swipes while it plays."""
    laid, shift, populated = world.laid, world.shift, world.populated
    assert populated.accounts[populated.department] == "gc_project"
    districts, projects_line, project_line = populated.summary
    assert "6 districts" in districts and "from outside the city" in districts
    assert "registered (报备)" in projects_line and "1 not" in projects_line
    assert f"{20 + len(shift.people)} people" in projects_line
    assert "lane-hz0042-a1 (A1, in), lane-hz0042-a2 (A2, out)" in project_line

    project = shift.project_id
    async with await Store.open(world.database_url) as store:
        async with store.read("test") as conn:
            sealed = await conn.scalar(select(projects.c.site_key_cipher).where(projects.c.id == project))
            placed = (await conn.execute(select(gates.c.device_id, gates.c.lane, gates.c.direction))).all()
        source = RegistrySource(store, clock=lambda: laid)
        entries, listed = await source.entries(project), list(await source.watchlist(project))
        rules = await source.rules(project)
    assert sorted(placed) == [("lane-hz0042-a1", "A1", "in"), ("lane-hz0042-a2", "A2", "out")]
    site_key = IdVault(load_data_key(world.data_key)).open_site_key(project, sealed)
    content, _ = compile_content(project, entries, listed, rules)
    roster = Roster.of_columns(1, project, columns_of_rows(list(content.rows.values())), content.watchlist)
    for person in shift.people:  # everyone the department registered is on the lanes' roster
        assert roster.lookup(credential_hash(site_key, person.card.id_number)) is not None, person.label

    # The lane's rules on that roster, under the site rules it came with (the lane's configuration
    # holds no policy of the demo's), for every entry swipe that needs no memory of earlier ones.
    assert with_demo_settings(_config(tmp_path)).policy == PolicyConfig()
    assert content.rules is not None and content.rules.anti_passback == "hard"
    lane = Lane(Direction.IN, laid + judged_after, policy_of(content.rules))
    checked = set()
    for swipe in shift.swipes["entry"]:
        if swipe.expected is Reason.ANTI_PASSBACK:
            continue  # the lane's passage book, not the registry
        assert decide(_facts(swipe, site_key, roster), lane).reason is swipe.expected, swipe.who
        checked.add(swipe.expected)
    assert checked == {
        Reason.GRANTED,
        Reason.NOT_REGISTERED,
        Reason.CARD_EXPIRED,
        Reason.INVALID_ID_NUMBER,
        Reason.ASSIGNMENT_ENDED,
        Reason.ASSIGNMENT_NOT_STARTED,
        Reason.OUTSIDE_HOURS,
        Reason.WATCHLISTED,
    }


def test_workers_hours_laid_at_any_minute_hold_for_the_shift() -> None:
    """Laid around the demo's clock, the hours are always a real window holding the whole shift;
    late in the day they run past midnight as a night shift ("17:59-05:59"), never an empty one."""
    midnight = site_time(2026, 11, 25)
    for minute in range(0, 24 * 60, 7):
        laid = midnight + timedelta(minutes=minute, seconds=59)
        hours = parse_window(
            SiteRulesIn.model_validate(
                {**DEFAULT_RULES.model_dump(), "working_hours": {"worker": shift_hours(laid)}}
            ).working_hours["worker"]
        )
        for moment in (laid, laid + SHIFT_TAKES):
            assert hours.contains(moment.time()), (laid, hours)
    assert shift_hours(site_time(2026, 11, 25, 23, 59, 59)) == "17:59-05:59"


def _facts(swipe: ScriptedSwipe, site_key: bytes, roster: Roster) -> Swipe:
    card = swipe.card
    problem = validate_id_number(card.id_number)
    digest = credential_hash(site_key, card.id_number)
    entry = roster.lookup(digest) if problem is None else None
    return Swipe(problem, card.valid_to, entry, roster.watchlisted(digest), inside=False)


def _config(tmp_path: Path) -> ControllerConfig:
    """A lane's file as provisioning writes it, less the TLS and the pinned key."""
    text = f"""
device_id = "lane-hz0042-a1"
project_id = "HZ-330106-2026-0042"
lane = "A1"
direction = "in"
data_dir = "{tmp_path}"
site_key_file = "{tmp_path / "site.key"}"
[readers.id_module]
port = "/dev/null"
"""
    return parse_config(text)


@pytest.mark.parametrize("workers", [10, 22, 40])
def test_a_shift_of_any_size_keeps_someone_inside_for_the_refused_return(workers: int) -> None:
    """The bare-OS test plays a 10-worker shift: every worker left by A2 there, and looking for one
    who stayed in raised StopIteration. Someone always stays, and is refused at A1."""
    shift = build_shift(22, datetime(2026, 12, 6, 10, 0, tzinfo=SITE_ZONE), workers=workers)
    left = {swipe.who for swipe in shift.swipes["exit"]}
    stayed = [s for s in shift.swipes["return"] if s.who.endswith("(never left)")]
    assert len(stayed) == 1 and stayed[0].expected is Reason.ANTI_PASSBACK
    assert stayed[0].who.removesuffix(" (never left)") not in left
