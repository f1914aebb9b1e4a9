"""A project's roster as the registry gives it: which assignment speaks for a person, who is
watchlisted, which lanes get it. Rows are written straight into the tables (the registry API has
its own tests); both stores."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest

from hub.rosters.registry_source import ENDED_KEPT_DAYS, RegistrySource
from hub.rosters.release import compile_content
from hub.store import Store
from hub.store.schema import assignments, persons, site_rules
from tests.support.registry_rows import contractor_with_projects, place_gates

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
TODAY = date(2026, 11, 25)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    async with await Store.open(database_url) as opened:
        yield opened


async def world(store: Store) -> None:
    async with store.write("world") as conn:
        await contractor_with_projects(
            conn,
            ("prj-a", "prj-b"),
            district="310101",
            district_name="Huangpu",
            gc_number="91310101MA1FL00001",
            now=NOW,
            registered_at=NOW,
            address="somewhere",
        )
        for n in range(1, 6):
            await conn.execute(
                persons.insert().values(
                    id=f"per-{n}",
                    id_index=f"{n:064x}",
                    id_cipher=b"sealed",
                    id_masked="110101********001X",
                    name=f"Person {n}",
                    card_kind="resident",
                    enterprise_id="ent-gc",
                    category="worker",
                    watchlisted=n == 5,
                    created_at=NOW,
                )
            )
        await place_gates(
            conn,
            [
                ("lane-a1", "prj-a", "1", "in", "East"),
                ("lane-a2", "prj-a", "2", "out", "East"),
                ("lane-b1", "prj-b", "1", "both", "Main"),
            ],
        )


async def assign(
    store: Store,
    person: int,
    entry: date,
    exit_: date | None,
    project: str = "prj-a",
    role: str = "worker",
    window: tuple[datetime, datetime] | None = None,
) -> None:
    pass_from, pass_until = window or (None, None)
    async with store.write("assign") as conn:
        await conn.execute(
            assignments.insert().values(
                project_id=project,
                person_id=f"per-{person}",
                enterprise_id="ent-gc",
                role=role,
                entry_date=entry,
                exit_date=exit_,
                credential_hash=f"{person:02d}" * 32,
                created_at=NOW,
                pass_from=pass_from,
                pass_until=pass_until,
            )
        )


async def test_current_then_upcoming_then_latest_ended(store: Store) -> None:
    await world(store)
    # per-1: ended last month, back in force today -> the current one speaks.
    await assign(store, 1, TODAY - timedelta(days=60), TODAY - timedelta(days=20))
    await assign(store, 1, TODAY - timedelta(days=3), None, role="manager")
    # per-2: ended, and starting again next week -> the upcoming one.
    await assign(store, 2, TODAY - timedelta(days=40), TODAY - timedelta(days=10))
    await assign(store, 2, TODAY + timedelta(days=7), None)
    # per-3: two ended stints -> the latest exit.
    await assign(store, 3, TODAY - timedelta(days=25), TODAY - timedelta(days=20))
    await assign(store, 3, TODAY - timedelta(days=15), TODAY - timedelta(days=5))
    # per-4: ended long ago -> not on the roster at all.
    await assign(store, 4, TODAY - timedelta(days=400), TODAY - timedelta(days=ENDED_KEPT_DAYS + 1))
    # per-1 on another project stays there.
    await assign(store, 1, TODAY, None, project="prj-b")

    source = RegistrySource(store, clock=lambda: NOW)
    entries = dict(await source.entries("prj-a"))
    assert set(entries) == {"01" * 32, "02" * 32, "03" * 32}
    assert entries["01" * 32] == {
        "person_id": "per-1",
        "role": "manager",
        "entry_date": TODAY - timedelta(days=3),
        "exit_date": None,
    }
    assert entries["02" * 32]["entry_date"] == TODAY + timedelta(days=7)
    assert entries["03" * 32]["exit_date"] == TODAY - timedelta(days=5)
    assert [h for h, _ in await source.entries("prj-b")] == ["01" * 32]


async def test_the_day_is_shanghai_s(store: Store) -> None:
    await world(store)
    await assign(store, 1, TODAY, None)
    # 23:30 UTC on the 24th is 07:30 on the 25th in Shanghai: the assignment is in force.
    late_utc = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
    await assign(store, 1, TODAY - timedelta(days=9), TODAY - timedelta(days=1))
    entries = dict(await RegistrySource(store, clock=lambda: late_utc).entries("prj-a"))
    assert entries["01" * 32]["entry_date"] == TODAY


async def test_watchlist_and_lanes(store: Store) -> None:
    await world(store)
    await assign(store, 5, TODAY, None)
    await assign(store, 1, TODAY, None)
    source = RegistrySource(store, clock=lambda: NOW)
    assert set(await source.watchlist("prj-a")) == {"05" * 32}
    assert set(await source.watchlist("prj-b")) == set()
    assert set(await source.devices("prj-a")) == {"lane-a1", "lane-a2"}
    assert await source.projects_with_lanes() == ["prj-a", "prj-b"]
    assert set(await source.devices("prj-unknown")) == set()
    lanes = await source.devices_of(["prj-a", "prj-b", "prj-unknown"])  # the reports' one read
    assert {project: set(found) for project, found in lanes.items()} == {
        "prj-a": {"lane-a1", "lane-a2"},
        "prj-b": {"lane-b1"},
    }


async def test_a_visitors_entry_carries_its_pass_window_and_compiles_to_a_seven_field_row(
    store: Store,
) -> None:
    await world(store)
    window = (NOW - timedelta(hours=1), NOW + timedelta(hours=3))
    await assign(store, 2, TODAY, TODAY, role="visitor", window=window)
    await assign(store, 1, TODAY, None)
    entries = dict(await RegistrySource(store, clock=lambda: NOW).entries("prj-a"))
    assert entries["02" * 32] == {
        "person_id": "per-2",
        "role": "visitor",
        "entry_date": TODAY,
        "exit_date": TODAY,
        "pass_from": window[0],
        "pass_until": window[1],
    }
    assert "pass_from" not in entries["01" * 32]  # no window: the five-field row, as before
    content, _ = compile_content("prj-a", list(entries.items()), [])
    rows = content.rows
    assert rows["02" * 32][5:] == (window[0].isoformat(), window[1].isoformat())
    assert len(rows["01" * 32]) == 5


async def test_many_projects_facts_at_once_are_each_projects_own(store: Store) -> None:
    """The start-up's one read of a group of projects gives what a project at a time gives."""
    await world(store)
    await assign(store, 1, TODAY - timedelta(days=60), TODAY - timedelta(days=20))
    await assign(store, 1, TODAY - timedelta(days=3), None, role="manager")
    await assign(store, 4, TODAY - timedelta(days=400), TODAY - timedelta(days=ENDED_KEPT_DAYS + 1))
    await assign(store, 5, TODAY, None)
    await assign(store, 2, TODAY, None, project="prj-b")
    hours = {"worker": "06:00-20:00"}
    async with store.write("rules") as conn:
        await conn.execute(
            site_rules.insert().values(
                project_id="prj-b",
                anti_passback="hard",
                accept_uid_only=False,
                inside_expires_at=None,
                working_hours=hours,
                night_work=[],
                updated_by="tester",
                updated_at=NOW,
            )
        )
    source = RegistrySource(store, clock=lambda: NOW)
    found = await source.facts(["prj-a", "prj-b", "prj-unknown"])
    for project in ("prj-a", "prj-b", "prj-unknown"):
        facts = found[project]
        assert sorted(facts.entries, key=lambda e: e[0]) == sorted(
            await source.entries(project), key=lambda e: e[0]
        )
        assert set(facts.watchlist) == set(await source.watchlist(project))
        assert facts.rules == await source.rules(project)
        assert set(facts.devices) == set(await source.devices(project))
    assert found["prj-b"].rules is not None and found["prj-a"].rules is None
    assert set(found["prj-a"].watchlist) == {"05" * 32} and len(found["prj-a"].entries) == 2
