from datetime import date
from pathlib import Path

from controller.core.roster import Role, RosterEntry
from controller.roster_store import load_roster, save_roster

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
