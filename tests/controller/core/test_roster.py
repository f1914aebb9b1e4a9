"""The core's roster index: columns in hash order, entries made on first lookup."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from controller.core.roster import EMPTY_ROSTER, Columns, ColumnsJoiner, Roster, RosterEntry
from wire.roles import RosterRole

WORKER = RosterEntry("p-1", RosterRole.WORKER, date(2026, 1, 1), date(2026, 12, 31))
VISITOR = RosterEntry(
    "p-2",
    RosterRole.VISITOR,
    pass_from=datetime(2026, 3, 1, 8, tzinfo=UTC),
    pass_until=datetime(2026, 3, 1, 18, tzinfo=UTC),
)
MANAGER = RosterEntry("p-3", RosterRole.MANAGER)


def test_lookup_finds_each_entry_and_nothing_else() -> None:
    roster = Roster.build(
        4, "P", [("cc" * 32, MANAGER), ("aa" * 32, WORKER), ("bb" * 32, VISITOR)], ["dd" * 32]
    )
    assert (roster.version, roster.project_id, len(roster)) == (4, "P", 3)
    assert roster.lookup("aa" * 32) == WORKER
    assert roster.lookup("bb" * 32) == VISITOR
    assert roster.lookup("cc" * 32) == MANAGER
    for missing in ("00" * 32, "ab" * 32, "ff" * 32, "", "aa"):
        assert roster.lookup(missing) is None
    assert roster.watchlisted("dd" * 32) and not roster.watchlisted("aa" * 32)
    assert list(roster.entries) == ["aa" * 32, "bb" * 32, "cc" * 32]  # hash order, whatever came in
    assert "bb" * 32 in roster.entries and "00" * 32 not in roster.entries and 5 not in roster.entries
    assert dict(roster.entries) == {"aa" * 32: WORKER, "bb" * 32: VISITOR, "cc" * 32: MANAGER}


def test_an_entry_is_made_once_and_kept() -> None:
    roster = Roster.build(1, "P", [("aa" * 32, WORKER)])
    assert roster.lookup("aa" * 32) is roster.lookup("aa" * 32)
    with pytest.raises(KeyError):
        roster.entries["bb" * 32]


def test_a_hash_listed_twice_is_refused_naming_the_version() -> None:
    with pytest.raises(ValueError, match=r"roster v3: credential hash aaaaaaaaaaaa… is listed twice"):
        Roster.build(3, "P", [("aa" * 32, WORKER), ("bb" * 32, MANAGER), ("aa" * 32, MANAGER)])


def test_parts_are_joined_in_order_whatever_order_they_come_in() -> None:
    parts = [
        Columns.of_entries([(f"{i:02x}" * 32, RosterEntry(f"p-{i}", RosterRole.WORKER))])
        for i in range(0, 60, 3)
    ]
    joiner = ColumnsJoiner(len(parts))
    for index in [5, 0, 1, 19, 2, 3, 4, *range(6, 19)]:
        joiner.add(index, parts[index])
    assert len(joiner) == 20
    roster = Roster.of_columns(1, "P", joiner.joined())
    assert list(roster.entries) == [f"{i:02x}" * 32 for i in range(0, 60, 3)]
    assert roster.lookup("2d" * 32) == RosterEntry("p-45", RosterRole.WORKER)
    unfinished = ColumnsJoiner(3)
    unfinished.add(1, parts[1])
    with pytest.raises(ValueError, match="2 of 3 parts missing"):
        unfinished.joined()


def test_the_empty_roster_is_empty() -> None:
    assert len(EMPTY_ROSTER) == 0 and EMPTY_ROSTER.lookup("aa" * 32) is None
    assert EMPTY_ROSTER.version == 0 and EMPTY_ROSTER.project_id == ""
