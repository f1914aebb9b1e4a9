import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from tinydb import TinyDB

from controller.atomic_storage import AtomicJSONStorage
from controller.core.roster import Role, RosterEntry
from controller.roster_store import load_roster, save_roster, save_row_arrays

ENTRIES = [
    ("aa" * 32, RosterEntry("p-1", Role.WORKER, date(2026, 1, 1), date(2026, 12, 31))),
    ("bb" * 32, RosterEntry("p-2", Role.MANAGER)),
]


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "roster.json"
    save_roster(path, 7, "P1", ENTRIES)
    loaded = load_roster(path)
    assert loaded.fault is None
    assert loaded.roster.version == 7
    assert loaded.roster.project_id == "P1"
    assert loaded.roster.lookup("aa" * 32) == ENTRIES[0][1]
    assert loaded.roster.lookup("cc" * 32) is None


def test_damaged_file_falls_back_to_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "roster.json"
    save_roster(path, 1, "P1", ENTRIES[:1])
    save_roster(path, 2, "P1", ENTRIES)
    path.write_bytes(path.read_bytes()[:40])  # torn by something outside our control
    loaded = load_roster(path)
    assert loaded.roster.version == 1
    assert loaded.fault is not None
    assert "not JSON" in loaded.fault


def test_bad_entry_is_a_fault_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "roster.json"
    path.write_text(
        '{"meta": {"1": {"version": 3, "project_id": "P1"}}, "entries": {"1": {"h": "x", "r": "pilot"}}}'
    )
    loaded = load_roster(path)
    assert loaded.roster.version == 0
    assert len(loaded.roster) == 0
    assert loaded.fault is not None
    assert "bad entry" in loaded.fault


def test_missing_roster_is_empty_and_reported(tmp_path: Path) -> None:
    loaded = load_roster(tmp_path / "absent.json")
    assert len(loaded.roster) == 0
    assert loaded.fault is not None


VISITING = (
    "cc" * 32,
    RosterEntry(
        "p-3",
        Role.VISITOR,
        pass_from=datetime(2026, 3, 1, 8, tzinfo=timezone(timedelta(hours=8))),
        pass_until=datetime(2026, 3, 1, 18, tzinfo=timezone(timedelta(hours=8))),
    ),
)


def test_the_file_is_tinydb_tables_of_documents(tmp_path: Path) -> None:
    path = tmp_path / "roster.json"
    save_roster(path, 7, "P1", [*ENTRIES, VISITING], ["dd" * 32])
    db = TinyDB(path, storage=AtomicJSONStorage)
    assert db.table("meta").all() == [{"version": 7, "project_id": "P1"}]
    [document] = db.table("entries").all()
    assert document["rows"][0] == ["aa" * 32, "p-1", "worker", "2026-01-01", "2026-12-31"]
    assert document["rows"][2][-2:] == ["2026-03-01T08:00:00+08:00", "2026-03-01T18:00:00+08:00"]
    assert db.table("watchlist").all() == [{"h": "dd" * 32}]
    loaded = load_roster(path).roster
    assert loaded.lookup(VISITING[0]) == VISITING[1]
    assert loaded.watchlisted("dd" * 32)


def test_row_arrays_are_written_as_they_are_and_read_back_checked(tmp_path: Path) -> None:
    path = tmp_path / "roster.json"
    first = json.dumps([["aa" * 32, "p-1", "worker", "2026-01-01", "2026-12-31"]]).encode()
    second = json.dumps([["bb" * 32, "p-2", "manager", None, None]]).encode()
    save_row_arrays(path, 9, "P1", [first, second], ["dd" * 32])
    assert first in path.read_bytes() and second in path.read_bytes()
    loaded = load_roster(path)
    assert (loaded.fault, loaded.roster.version, len(loaded.roster)) == (None, 9, 2)
    assert loaded.roster.lookup("aa" * 32) == ENTRIES[0][1]
    assert loaded.roster.lookup("bb" * 32) == ENTRIES[1][1]


def test_documents_out_of_hash_order_still_load(tmp_path: Path) -> None:
    path = tmp_path / "roster.json"
    later = json.dumps([["bb" * 32, "p-2", "manager", None, None]]).encode()
    earlier = json.dumps([["aa" * 32, "p-1", "worker", "2026-01-01", "2026-12-31"]]).encode()
    save_row_arrays(path, 2, "P1", [later, earlier])
    loaded = load_roster(path)
    assert loaded.fault is None and list(loaded.roster.entries) == ["aa" * 32, "bb" * 32]


def test_a_hash_in_two_documents_is_a_fault(tmp_path: Path) -> None:
    path = tmp_path / "roster.json"
    row = json.dumps([["aa" * 32, "p-1", "worker", None, None]]).encode()
    save_row_arrays(path, 2, "P1", [row, row])
    loaded = load_roster(path)
    assert loaded.roster.version == 0 and loaded.fault is not None and "listed twice" in loaded.fault


def test_a_row_the_hub_could_not_have_sent_is_a_fault(tmp_path: Path) -> None:
    path = tmp_path / "roster.json"
    save_row_arrays(path, 2, "P1", [json.dumps([["aa" * 32, "p\x01", "worker", None, None]]).encode()])
    loaded = load_roster(path)
    assert loaded.roster.version == 0 and loaded.fault is not None and "person_id" in loaded.fault


def test_saving_a_hash_twice_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "roster.json"
    with pytest.raises(ValueError, match="listed twice"):
        save_roster(path, 1, "P1", [ENTRIES[0], ENTRIES[0]])
    assert not path.exists()


def test_a_file_in_the_earlier_layout_still_loads(tmp_path: Path) -> None:
    """A document per entry (h, p, r, from, to, pass), as lanes wrote before rows came whole."""
    path = tmp_path / "roster.json"
    earlier = {
        "meta": {"1": {"version": 5, "project_id": "P1"}},
        "entries": {
            "1": {"h": "aa" * 32, "p": "p-1", "r": "worker", "from": "2026-01-01", "to": "2026-12-31"},
            "2": {"h": "bb" * 32, "p": "p-2", "r": "manager", "from": None, "to": None},
            "3": {
                "h": "cc" * 32,
                "p": "p-3",
                "r": "visitor",
                "from": None,
                "to": None,
                "pass": ["2026-03-01T08:00:00+08:00", "2026-03-01T18:00:00+08:00"],
            },
        },
        "watchlist": {"1": {"h": "dd" * 32}},
    }
    path.write_text(json.dumps(earlier))
    loaded = load_roster(path)
    assert (loaded.fault, loaded.roster.version, len(loaded.roster)) == (None, 5, 3)
    assert dict(loaded.roster.entries) == dict([*ENTRIES, VISITING])
    assert loaded.roster.watchlisted("dd" * 32)
