import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from controller.core.roster import RosterEntry
from controller.roster_store import load_roster, save_roster, save_row_arrays
from wire.roles import RosterRole

ENTRIES = [
    ("aa" * 32, RosterEntry("p-1", RosterRole.WORKER, date(2026, 1, 1), date(2026, 12, 31))),
    ("bb" * 32, RosterEntry("p-2", RosterRole.MANAGER)),
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
        RosterRole.VISITOR,
        pass_from=datetime(2026, 3, 1, 8, tzinfo=timezone(timedelta(hours=8))),
        pass_until=datetime(2026, 3, 1, 18, tzinfo=timezone(timedelta(hours=8))),
    ),
)


def test_the_file_is_meta_entries_and_watchlist_in_one_json_object(tmp_path: Path) -> None:
    path = tmp_path / "roster.json"
    save_roster(path, 7, "P1", [*ENTRIES, VISITING], ["dd" * 32])
    data = json.loads(path.read_bytes())
    assert data["meta"] == {"1": {"version": 7, "project_id": "P1"}}
    [document] = data["entries"].values()
    assert document["rows"][0] == ["aa" * 32, "p-1", "worker", "2026-01-01", "2026-12-31"]
    assert document["rows"][2][-2:] == ["2026-03-01T08:00:00+08:00", "2026-03-01T18:00:00+08:00"]
    assert data["watchlist"] == {"1": {"h": "dd" * 32}}
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


def test_a_document_per_entry_is_a_fault(tmp_path: Path) -> None:
    """The 0.1.0 development layout (a document per entry) was never installed: it is not read."""
    path = tmp_path / "roster.json"
    single = {
        "meta": {"1": {"version": 5, "project_id": "P1"}},
        "entries": {"1": {"h": "aa" * 32, "p": "p-1", "r": "worker", "from": None, "to": None}},
        "watchlist": {},
    }
    path.write_text(json.dumps(single))
    loaded = load_roster(path)
    assert loaded.roster.version == 0 and loaded.fault is not None and "without rows" in loaded.fault
