import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from controller.journal import Gap, Journal, JournalError, Retention, Rewound, gone
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


# -- acknowledged is not forgotten at once (invariant 11) ----------------------------------------

DAY = 86_400.0
T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def filled(tmp_path: Path, events: int, retention: Retention) -> Journal:
    journal = Journal(tmp_path / "kept.sqlite3", retention=retention)
    for _ in range(events):
        journal.append(make_event)
    return journal


def test_acknowledged_events_stay_for_the_window_on_the_hubs_clock(tmp_path: Path) -> None:
    journal = filled(tmp_path, 6, Retention(keep_s=7 * DAY, max_events=100, min_free_mb=0))
    assert journal.forget_through(3, at=T0) == 3
    assert (journal.backlog(), journal.kept()) == (3, 3)
    assert [e.seq for e in journal.pending(0, 10)] == [4, 5, 6]  # kept events are not resent
    assert journal.forget_through(5, at=T0 + timedelta(days=6)) == 2
    assert journal.kept() == 5  # the first ack is 6 days old: inside the window
    journal.forget_through(6, at=T0 + timedelta(days=7, minutes=2))
    assert journal.kept() == 3  # seqs 1-3, acked more than 7 days ago, are gone; 4-6 stay


def test_the_disk_bounds_what_is_kept(tmp_path: Path) -> None:
    journal = filled(tmp_path, 10, Retention(keep_s=7 * DAY, max_events=4, min_free_mb=0))
    journal.forget_through(10, at=T0)
    assert journal.kept() == 4
    short = filled(tmp_path / "short", 3, Retention(keep_s=7 * DAY, max_events=100, min_free_mb=1e12))
    short.forget_through(3, at=T0)
    assert short.kept() == 0  # less free disk than the floor: nothing kept


def test_rewind_resends_what_is_kept_once_per_epoch(tmp_path: Path) -> None:
    journal = filled(tmp_path, 10, Retention(keep_s=7 * DAY, max_events=6, min_free_mb=0))
    journal.forget_through(10, at=T0)  # seqs 5-10 kept
    rewound = journal.rewind(2, epoch=7)
    assert rewound is not None and (rewound.resent, rewound.lost) == (6, 2)  # 3 and 4 are gone
    assert journal.acked_through == 4 and journal.backlog() == 6
    assert [e.seq for e in journal.pending(0, 3)] == [5, 6, 7]
    assert journal.rewind(0, epoch=7) is None  # the same restore again: nothing more
    journal.close()
    reopened = Journal(tmp_path / "kept.sqlite3")
    assert (reopened.resend_epoch, reopened.acked_through) == (7, 4)  # durable across a reboot
    assert reopened.rewind(99, epoch=8) == Rewound(resent=0, lost=0)  # never forward
    assert reopened.acked_through == 4


@pytest.mark.parametrize(
    ("through", "first_kept", "acked", "missing"),
    [
        (2, 5, 10, (3, 4)),  # 3 and 4 dropped: older than the window
        (4, 5, 10, None),  # the hub holds what was dropped
        (2, 11, 10, (3, 10)),  # nothing kept: every acknowledged seq after the hub's is gone
        (2, 4, 3, (3, 3)),  # 3 acknowledged and dropped; 4, never acknowledged, is kept
        (12, 5, 10, None),  # the hub holds more than the lane acknowledged
    ],
)
def test_which_seqs_are_gone_given_what_is_kept(
    through: int, first_kept: int, acked: int, missing: tuple[int, int] | None
) -> None:
    assert gone(through, first_kept, acked) == missing


def test_the_gap_is_kept_until_the_hub_acknowledges_past_it(tmp_path: Path) -> None:
    journal = filled(tmp_path, 10, Retention(keep_s=7 * DAY, max_events=6, min_free_mb=0))
    journal.forget_through(10, at=T0)  # seqs 5-10 kept
    assert journal.gap() is None
    rewound = journal.rewind(2, epoch=7)
    assert rewound is not None and rewound.gap == Gap(3, 4, 7) and rewound.gap.count == 2
    journal.close()
    reopened = Journal(tmp_path / "kept.sqlite3")
    assert reopened.gap() == Gap(3, 4, 7)  # told again after a reboot
    reopened.hub_holds_through(2)
    assert reopened.gap() == Gap(3, 4, 7)  # the hub has not taken it yet
    reopened.hub_holds_through(4)
    assert reopened.gap() is None
    reopened.forget_through(10, at=T0)
    later = reopened.rewind(4, epoch=8)  # a later restore that holds what was dropped: no gap
    assert later == Rewound(resent=6, lost=0) and reopened.gap() is None


def test_an_old_journal_is_migrated_to_keep_acknowledged_events(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    Journal(path).close()
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE acks")
        db.execute("DELETE FROM meta WHERE key = 'resend_epoch'")
        db.execute("PRAGMA user_version = 1")
    journal = Journal(path)
    assert journal.resend_epoch == 0
    journal.append(make_event)
    journal.forget_through(1, at=T0)
    assert journal.kept() == 1
