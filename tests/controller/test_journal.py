import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from controller.journal import Journal, JournalError
from wire.models import AccessEvent, CardKind, Decision, Direction, LaneEvent, LaneEventType, Reason


def make_event(seq: int) -> AccessEvent:
    return AccessEvent(
        device_id="lane-a1",
        seq=seq,
        boot_id="0f1e2d3c-boot",
        mono_ns=seq * 1000,
        wall_time=datetime(2026, 11, 24, 8, 0, tzinfo=UTC),
        clock_synced=True,
        project_id="P1",
        lane="A1",
        direction=Direction.IN,
        decision=Decision.DENIED,
        reason=Reason.NOT_REGISTERED,
        card_kind=CardKind.RESIDENT,
        credential_hash="ab" * 32,
    )


def test_sequence_survives_reopen_and_forgetting(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    for _ in range(5):
        journal.append(make_event)
    assert journal.forget_through(3) == 3
    assert [e.seq for e in journal.pending(0, 10)] == [4, 5]
    journal.close()

    reopened = Journal(tmp_path / "j.sqlite3")
    assert reopened.last_seq == 5
    assert reopened.acked_through == 3
    assert reopened.append(make_event).seq == 6  # forgetting never lets a number be reused
    assert reopened.backlog() == 3


def test_forget_never_moves_backwards_or_past_the_end(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    for _ in range(3):
        journal.append(make_event)
    assert journal.forget_through(2) == 2
    assert journal.forget_through(1) == 0
    assert journal.acked_through == 2
    assert journal.forget_through(99) == 1
    assert journal.acked_through == 3


def test_a_failed_build_leaves_no_trace(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")

    def broken(seq: int) -> AccessEvent:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        journal.append(broken)
    with pytest.raises(JournalError, match="expected 1"):
        journal.append(lambda seq: make_event(seq + 1))
    assert journal.last_seq == 0
    assert journal.backlog() == 0
    assert journal.append(make_event).seq == 1


def test_generations_grow(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    first = journal.next_generation()
    assert journal.next_generation() == first + 1


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(JournalError, match="cannot be opened"):
        Journal(path)


def test_a_remote_open_journaled_before_command_ids_still_loads(tmp_path: Path) -> None:
    """A lane upgraded with a remote_open unsent: its stored payload has no ``command_id`` key. It
    loads (and is sent; the hub refuses it, having no command to answer), not a journal that fails
    to decode and so never sends again."""
    journal = Journal(tmp_path / "j.sqlite3")
    opened = journal.append(
        lambda seq: LaneEvent(
            device_id="lane-a1",
            seq=seq,
            boot_id="0f1e2d3c-boot",
            mono_ns=1000,
            wall_time=datetime(2026, 11, 24, 8, 0, tzinfo=UTC),
            clock_synced=True,
            project_id="P1",
            lane="A1",
            direction=Direction.IN,
            type=LaneEventType.REMOTE_OPEN,
            operator="gc-0042-op",
        )
    )
    journal.close()
    old = opened.model_dump(mode="json", exclude={"command_id"})
    with sqlite3.connect(tmp_path / "j.sqlite3") as db:
        db.execute("UPDATE events SET payload = ? WHERE seq = ?", (json.dumps(old).encode(), opened.seq))
    db.close()

    [loaded] = Journal(tmp_path / "j.sqlite3").pending(0, 10)
    assert isinstance(loaded, LaneEvent)
    assert loaded.type is LaneEventType.REMOTE_OPEN and loaded.command_id is None
