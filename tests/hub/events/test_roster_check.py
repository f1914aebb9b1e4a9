"""Grants the roster could not hold: stored and flagged ``not_in_roster``; a grant the roster
holds is not. The rule alone, then through the store's write on both stores."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.events.journal import store_events
from hub.events.roster_check import NOT_IN_ROSTER, Tenure, flag_unheld, held
from hub.store import Store
from hub.store.schema import access_events, assignments, persons
from tests.hub.factories import BASE_TIME, make_event
from tests.support.registry_rows import GC, contractor_with_projects
from wire.clock import SITE_ZONE
from wire.models import Direction

DAY = BASE_TIME.astimezone(SITE_ZONE).date()
"""The site's day of BASE_TIME, when the factories' events happen."""


def _tenure(entry: int = -10, exit: int | None = None, **extra: Any) -> Tenure:
    """An assignment on proj-1 from ``entry`` days to ``exit`` days around DAY (None: open-ended)."""
    ends = None if exit is None else DAY + timedelta(days=exit)
    return Tenure("proj-1", DAY + timedelta(days=entry), ends, **extra)


@pytest.mark.parametrize(
    "tenures",
    [
        [_tenure()],
        [_tenure(entry=0, exit=0)],  # a one-day assignment, that day
        [_tenure(entry=-100, exit=-50), _tenure(entry=-1)],  # left, came back
        [_tenure(pass_from=BASE_TIME - timedelta(hours=1), pass_until=BASE_TIME + timedelta(hours=1))],
    ],
)
def test_a_grant_the_roster_holds(tenures: list[Tenure]) -> None:
    assert held(make_event(1), BASE_TIME, tenures)


@pytest.mark.parametrize(
    "tenures",
    [
        [],  # never assigned
        [_tenure(entry=1)],  # starts tomorrow
        [_tenure(entry=-30, exit=-1)],  # ended yesterday
        [Tenure("proj-2", DAY, None)],  # another project's
        [_tenure(watchlisted=True)],
        [_tenure(pass_from=BASE_TIME + timedelta(minutes=1), pass_until=BASE_TIME + timedelta(hours=1))],
    ],
)
def test_a_grant_the_roster_could_not_hold(tenures: list[Tenure]) -> None:
    assert not held(make_event(1), BASE_TIME, tenures)


def test_a_visitor_may_leave_after_the_pass_ends() -> None:
    ended = _tenure(pass_from=BASE_TIME - timedelta(hours=3), pass_until=BASE_TIME - timedelta(hours=1))
    assert held(make_event(1, direction=Direction.OUT), BASE_TIME, [ended])
    assert not held(make_event(1), BASE_TIME, [ended])


def test_the_day_is_the_sites_at_the_corrected_time() -> None:
    """Corrected to 23:59 the day before (site time): an assignment starting DAY did not run yet."""
    eve = datetime.combine(DAY, datetime.min.time(), tzinfo=SITE_ZONE) - timedelta(minutes=1)
    assert not held(make_event(1), eve, [_tenure(entry=0)])
    assert held(make_event(1), eve + timedelta(minutes=2), [_tenure(entry=0)])


async def _registry(store: Store, *rows: tuple[str, date, date | None, bool]) -> None:
    """proj-1 and, for each (person, entry, exit, watchlisted), the person and an assignment."""
    async with store.write("test registry") as conn:
        await contractor_with_projects(
            conn,
            ["proj-1"],
            district="110101",
            district_name="D",
            gc_number="91110000000000000X",
            now=BASE_TIME,
        )
        for index, (person_id, entry, exit, watchlisted) in enumerate(rows):
            await conn.execute(
                persons.insert().values(
                    id=person_id,
                    id_index=f"{index:064x}",
                    id_cipher=b"sealed",
                    id_masked="110101********0000",
                    name=f"Worker {index}",
                    card_kind="resident",
                    category="worker",
                    watchlisted=watchlisted,
                    created_at=BASE_TIME,
                )
            )
            await conn.execute(
                assignments.insert().values(
                    project_id="proj-1",
                    person_id=person_id,
                    enterprise_id=GC,
                    role="worker",
                    entry_date=entry,
                    exit_date=exit,
                    credential_hash=f"{index:064x}",
                    created_at=BASE_TIME,
                )
            )


async def _flags(store: Store) -> dict[int, str | None]:
    async with store.read("test flags") as conn:
        rows = (await conn.execute(select(access_events.c.seq, access_events.c.flag))).all()
    return {int(seq): flag for seq, flag in rows}


async def test_grants_the_roster_could_not_hold_are_stored_flagged(store: Store) -> None:
    await _registry(
        store,
        ("person-ok", DAY - timedelta(days=5), None, False),
        ("person-left", DAY - timedelta(days=30), DAY - timedelta(days=1), False),
        ("person-listed", DAY - timedelta(days=5), None, True),
    )
    result = await store_events(
        store,
        [
            make_event(1, person_id="person-ok"),
            make_event(2, person_id="person-left"),
            make_event(3, person_id="person-listed"),
            make_event(4, person_id="person-unknown"),
            make_event(5, granted=False),  # a refusal is no grant: never flagged
        ],
    )
    assert result.new == 5  # every record stored: the arm opened
    assert await _flags(store) == {1: None, 2: NOT_IN_ROSTER, 3: NOT_IN_ROSTER, 4: NOT_IN_ROSTER, 5: None}


async def test_a_resend_of_a_flagged_grant_is_a_duplicate_and_stays_flagged(store: Store) -> None:
    await _registry(store)
    await store_events(store, [make_event(1, person_id="person-unknown")])
    result = await store_events(store, [make_event(1, person_id="person-unknown")])
    assert result.duplicates == 1
    assert await _flags(store) == {1: NOT_IN_ROSTER}


class _Counting:
    """A connection that counts the statements it runs."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.statements = 0

    @property
    def dialect(self) -> Any:
        return self.conn.dialect

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        self.statements += 1
        return await self.conn.execute(statement, parameters)


async def test_one_read_per_batch_and_none_without_a_grant(store: Store) -> None:
    await _registry(store, ("person-ok", DAY - timedelta(days=5), None, False))
    grants = [(make_event(seq, person_id="person-ok"), BASE_TIME) for seq in range(1, 51)]
    async with store.read("test") as conn:
        counting = _Counting(conn)
        assert await flag_unheld(counting, grants) == []  # type: ignore[arg-type]
        assert counting.statements == 1
        assert await flag_unheld(counting, [(make_event(51, granted=False), BASE_TIME)]) == []  # type: ignore[arg-type]
        assert counting.statements == 1
