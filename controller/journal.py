"""The durable journal: every decision is committed here before the relay moves.

SQLite in WAL mode with ``synchronous=FULL``: a commit has reached the disk when ``append``
returns, so a power cut after the relay pulse cannot lose the event. Events stay until the hub
acknowledges that it stored them (a contiguous watermark); the sequence counter lives in its own
row so forgetting acknowledged events never lets a sequence number be reused.

``passages`` holds each person's latest passage for anti-passback (:mod:`controller.core.passback`):
the lane's own, written in the transaction of the event that records it, and its siblings',
relayed by the hub, written in one transaction per relay and only where newer (by ``at``, when it
happened, in microseconds since the epoch) than the row held. ``device_id`` names the sibling that
recorded it (NULL: this lane). A journal from before passages were shared has neither column: it
is migrated in place when opened (``PRAGMA user_version`` 0 → 1), its rows untimed until the lane
stamps them (:meth:`Journal.stamp_untimed`).

Acknowledged is not forgotten at once (invariant 11): an event the hub acknowledged stays for a
window (:class:`Retention`, 7 days by default) so that a hub restored from a backup can ask for it
again (:meth:`Journal.rewind`, on the hub's :class:`wire.models.ResendRequest`). The window is
measured on the hub's clock (the ``at`` of its acks, kept per minute in ``acks``), never on the
Pi's, which has no RTC; it is bounded by disk: at most ``max_events`` acknowledged events are
kept, and none while the disk's free space is under ``min_free_mb``. ``backlog`` and ``pending``
see only what the hub has not acknowledged.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from controller.core.passback import Passage
from wire.codec import decode, encode
from wire.models import AccessEvent, Direction, LaneEvent
from wire.topics import Channel

Record = AccessEvent | LaneEvent
R = TypeVar("R", AccessEvent, LaneEvent)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, payload BLOB NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS passages (
    person_id TEXT PRIMARY KEY, direction TEXT NOT NULL, seq INTEGER NOT NULL
) STRICT;
INSERT OR IGNORE INTO meta (key, value) VALUES
    ('last_seq', 0), ('acked_through', 0), ('generation', 0), ('site_sync_us', 0);
"""
SCHEMA_VERSION = 2
"""1: passages carry ``at`` and ``device_id`` (site-wide anti-passback). 2: acknowledged events are
kept for a window: ``acks`` dates the acks, ``meta.resend_epoch`` the latest restore acted on."""
_MIGRATIONS = {
    1: (
        "ALTER TABLE passages ADD COLUMN at INTEGER",
        "ALTER TABLE passages ADD COLUMN device_id TEXT",
    ),
    2: (
        "CREATE TABLE IF NOT EXISTS acks (minute INTEGER PRIMARY KEY, through INTEGER NOT NULL) STRICT",
        "INSERT OR IGNORE INTO meta (key, value) VALUES ('resend_epoch', 0)",
    ),
}
_US_PER_MINUTE = 60_000_000
_MARK_ACK = (
    "INSERT INTO acks (minute, through) VALUES (?, ?) "
    "ON CONFLICT (minute) DO UPDATE SET through = max(through, excluded.through)"
)
"""Which seqs the hub had acknowledged by each minute of its clock: what the window is counted from."""


@dataclass(frozen=True, slots=True)
class Retention:
    """How long acknowledged events stay, and the disk's bounds on that (controller config
    ``[journal]``). ``keep_s`` 0 keeps nothing: an ack forgets at once, as before invariant 11."""

    keep_s: float = 7 * 86_400.0
    max_events: int = 200_000
    """At most this many acknowledged events (about 100 MB of journal at ~500 bytes each)."""
    min_free_mb: float = 100.0
    """While the disk has less free space than this, acknowledged events are dropped at the next
    ack: deciding and journaling new passages come first."""


@dataclass(frozen=True, slots=True)
class Gap:
    """Seqs ``from_seq``..``through_seq`` a restored hub (``epoch``) asked for that this journal no
    longer keeps: what the lane tells the hub (:class:`wire.models.JournalGap`)."""

    from_seq: int
    through_seq: int
    epoch: int

    @property
    def count(self) -> int:
        return self.through_seq - self.from_seq + 1


@dataclass(frozen=True, slots=True)
class Rewound:
    """What a :meth:`Journal.rewind` did: ``resent`` events are to go to the hub again; ``lost``
    events the hub asked for were no longer kept (older than the window, or dropped for disk),
    the seqs of ``gap``."""

    resent: int
    lost: int
    gap: Gap | None = None


def gone(through_seq: int, first_kept: int, acked: int) -> tuple[int, int] | None:
    """The seqs a hub holding through ``through_seq`` asks for that a journal keeping events from
    ``first_kept`` on (acknowledged through ``acked``) no longer has: (from, through), or None.
    Only acknowledged ones: what was never acknowledged is still kept, to be sent."""
    last_gone = min(first_kept - 1, acked)
    return (through_seq + 1, last_gone) if last_gone > through_seq else None


_GAP_KEYS = ("gap_from", "gap_through", "gap_epoch")
"""``meta`` rows of the gap still to tell the hub (:meth:`Journal.gap`); written when first needed."""
_SET_META = (
    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_OFFER = (
    "INSERT INTO passages (person_id, direction, seq, at, device_id) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (person_id) DO UPDATE SET direction = excluded.direction, seq = excluded.seq, "
    "at = excluded.at, device_id = excluded.device_id "
    "WHERE passages.at IS NULL OR excluded.at > passages.at"
)
"""A sibling's passage: stored only where it happened after the row held (the book's rule)."""


def to_us(at: datetime) -> int:
    """Microseconds since the epoch: exact, and ordered as the instants are whatever their zone."""
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


class JournalError(RuntimeError):
    pass


class Journal:
    def __init__(self, path: Path, *, retention: Retention | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.retention = retention or Retention()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            self._migrate()
        except sqlite3.DatabaseError as err:
            self._db.close()
            raise JournalError(f"journal {path} cannot be opened: {err}") from err

    def _migrate(self) -> None:
        """Bring the schema up to :data:`SCHEMA_VERSION`, one transaction a step (a power cut
        mid-way leaves that step undone, to be done at the next start). A new journal takes the
        same steps as an old one: ``_SCHEMA`` is the first release's, and stays so."""
        db = self._db
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        for step in range(version + 1, SCHEMA_VERSION + 1):
            db.execute("BEGIN IMMEDIATE")
            try:
                for statement in _MIGRATIONS[step]:
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {step}")
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

    def _meta(self, key: str) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0])

    @property
    def last_seq(self) -> int:
        return self._meta("last_seq")

    @property
    def acked_through(self) -> int:
        return self._meta("acked_through")

    def backlog(self) -> int:
        """Events the hub has not acknowledged (those kept after their ack are not a backlog)."""
        row = self._db.execute(
            "SELECT count(*) FROM events WHERE seq > (SELECT value FROM meta WHERE key = 'acked_through')"
        ).fetchone()
        return int(row[0])

    def kept(self) -> int:
        """Acknowledged events still kept, for a hub restored from a backup to ask for again."""
        row = self._db.execute(
            "SELECT count(*) FROM events WHERE seq <= (SELECT value FROM meta WHERE key = 'acked_through')"
        ).fetchone()
        return int(row[0])

    def append(self, build: Callable[[int], R], *, passage: tuple[str, Direction] | None = None) -> R:
        """Give ``build`` the next sequence number and commit the event it returns, durably.

        ``passage`` (person, direction) is recorded in the same transaction, at the event's wall
        time, so the anti-passback state can never disagree with the events after a power cut.
        """
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            seq = self._meta("last_seq") + 1
            event = build(seq)
            if event.seq != seq:
                raise JournalError(f"event built with seq {event.seq}, journal expected {seq}")
            db.execute("INSERT INTO events (seq, payload) VALUES (?, ?)", (seq, encode(event)))
            db.execute("UPDATE meta SET value = ? WHERE key = 'last_seq'", (seq,))
            if passage is not None:
                self._upsert_passage(passage[0], passage[1], seq, event.wall_time)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # a failed COMMIT may already have rolled back
                db.execute("ROLLBACK")
            raise
        return event

    def _upsert_passage(self, person_id: str, direction: Direction, seq: int, at: datetime) -> None:
        """This lane's own passage: it saw it, so it replaces whatever was held."""
        self._db.execute(
            "INSERT INTO passages (person_id, direction, seq, at, device_id) VALUES (?, ?, ?, ?, NULL) "
            "ON CONFLICT (person_id) DO UPDATE SET direction = excluded.direction, seq = excluded.seq, "
            "at = excluded.at, device_id = NULL",
            (person_id, direction.value, seq, to_us(at)),
        )

    def passages(self) -> list[tuple[str, Direction]]:
        rows = self._db.execute("SELECT person_id, direction FROM passages").fetchall()
        return [(str(person), Direction(direction)) for person, direction in rows]

    def passage_records(self) -> list[tuple[str, Passage]]:
        """Each person's latest passage, whole: what the lane's :class:`PassbackBook` starts from."""
        rows = self._db.execute("SELECT person_id, direction, seq, at, device_id FROM passages").fetchall()
        return [
            (
                str(person),
                Passage(Direction(direction), None if at is None else from_us(at), device, int(seq)),
            )
            for person, direction, seq, at, device in rows
        ]

    def offer_passages(self, offered: Sequence[tuple[str, Passage]]) -> list[tuple[str, Passage]]:
        """Siblings' passages, in one durable transaction, each stored only where it happened after
        the one held; returns those stored (the caller applies exactly those to its book)."""
        if not offered:
            return []
        db = self._db
        taken: list[tuple[str, Passage]] = []
        db.execute("BEGIN IMMEDIATE")
        try:
            for person_id, passage in offered:
                if passage.at is None:
                    continue  # untimed: cannot be ordered, so it is never newer
                cursor = db.execute(
                    _OFFER,
                    (person_id, passage.direction.value, passage.seq, to_us(passage.at), passage.device_id),
                )
                if cursor.rowcount:
                    taken.append((person_id, passage))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return taken

    def stamp_untimed(self, at: datetime) -> int:
        """Give passages journaled before they carried a time the instant ``at`` (the lane's start):
        they then expire at the site's next cutoff like any other. Returns how many there were."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            count = self._db.execute("UPDATE passages SET at = ? WHERE at IS NULL", (to_us(at),)).rowcount
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        return int(count)

    @property
    def site_sync_mark(self) -> datetime | None:
        """``issued_at`` of the newest site sync accepted: an older or equal one is a replay."""
        us = self._meta("site_sync_us")
        return None if us == 0 else from_us(us)

    def mark_site_sync(self, issued_at: datetime) -> None:
        """Durably, so that a sync replayed after a reboot is still refused."""
        self._db.execute("UPDATE meta SET value = ? WHERE key = 'site_sync_us'", (to_us(issued_at),))

    def pending(self, after_seq: int, limit: int) -> list[Record]:
        """Unacknowledged events after ``after_seq``, in order."""
        rows = self._db.execute(
            "SELECT payload FROM events "
            "WHERE seq > max(?, (SELECT value FROM meta WHERE key = 'acked_through')) ORDER BY seq LIMIT ?",
            (after_seq, limit),
        ).fetchall()
        events = []
        for (payload,) in rows:
            event = decode(Channel.EVENT, payload)
            assert isinstance(event, AccessEvent | LaneEvent)
            events.append(event)
        return events

    def forget_through(self, seq: int, *, at: datetime | None = None) -> int:
        """The hub has stored everything through ``seq`` (its ack, sent at ``at`` on its clock):
        move the watermark, never backwards, and drop what the :class:`Retention` no longer keeps.
        Returns how many events the ack newly covered."""
        seq = min(seq, self.last_seq)
        now_us = to_us(at or datetime.now(UTC))
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            before = self._meta("acked_through")
            if seq <= before:
                db.execute("COMMIT")
                return 0
            covered = db.execute("SELECT count(*) FROM events WHERE seq > ? AND seq <= ?", (before, seq))
            newly = int(covered.fetchone()[0])
            db.execute("UPDATE meta SET value = ? WHERE key = 'acked_through'", (seq,))
            db.execute(_MARK_ACK, (now_us // _US_PER_MINUTE, seq))
            self._drop_beyond_retention(seq, now_us)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # a failed COMMIT may already have rolled back
                db.execute("ROLLBACK")
            raise
        return newly

    def _drop_beyond_retention(self, acked: int, now_us: int) -> None:
        """Drop acknowledged events older than the window (by the minute of their ack), beyond the
        count bound, or all of them while the disk is short of free space."""
        keep = self.retention
        db = self._db
        oldest_minute = (now_us - int(keep.keep_s * 1_000_000)) // _US_PER_MINUTE
        row = db.execute("SELECT max(through) FROM acks WHERE minute < ?", (oldest_minute,)).fetchone()
        through = max(int(row[0] or 0), acked - keep.max_events)
        if keep.min_free_mb > 0 and self._free_mb() < keep.min_free_mb:
            through = acked
        if keep.keep_s <= 0:
            through = acked
        through = min(through, acked)
        if through > 0:
            db.execute("DELETE FROM events WHERE seq <= ?", (through,))
        db.execute("DELETE FROM acks WHERE minute < ? OR through <= ?", (oldest_minute, through))

    def _free_mb(self) -> float:
        try:
            return shutil.disk_usage(self.path.parent).free / 1e6
        except OSError:
            return float("inf")  # cannot tell: the count and the window still bound the journal

    @property
    def resend_epoch(self) -> int:
        """The latest restore of the hub this lane resent for (0: none)."""
        return self._meta("resend_epoch")

    def rewind(self, through_seq: int, epoch: int) -> Rewound | None:
        """The hub was restored and holds this lane's events only through ``through_seq``: move
        the watermark back to it (no further back than the events kept, never forward), so that
        what follows goes to the hub again. Once per ``epoch``, durably: None for an epoch already
        acted on (a retained request seen again, a hub that says it at every start)."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            if epoch <= self._meta("resend_epoch"):
                db.execute("COMMIT")
                return None
            db.execute("UPDATE meta SET value = ? WHERE key = 'resend_epoch'", (epoch,))
            acked = self._meta("acked_through")
            row = db.execute("SELECT min(seq) FROM events").fetchone()
            first_kept = int(row[0]) if row[0] is not None else self._meta("last_seq") + 1
            target = min(acked, max(through_seq, first_kept - 1))
            missing = gone(through_seq, first_kept, acked)
            gap = Gap(missing[0], missing[1], epoch) if missing else None
            if target < acked:
                db.execute("UPDATE meta SET value = ? WHERE key = 'acked_through'", (target,))
                db.execute("DELETE FROM acks WHERE through > ?", (target,))
            told = (gap.from_seq, gap.through_seq, epoch) if gap else (0, 0, 0)
            for key, value in zip(_GAP_KEYS, told, strict=True):
                db.execute(_SET_META, (key, value))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return Rewound(resent=acked - target, lost=gap.count if gap else 0, gap=gap)

    def gap(self) -> Gap | None:
        """The seqs the latest restore asked for that this journal no longer had, until the hub
        acknowledges past them (:meth:`hub_holds_through` then clears it): told to the hub again at
        each connection. None when there is none to tell."""
        values = dict(self._db.execute("SELECT key, value FROM meta WHERE key IN (?, ?, ?)", _GAP_KEYS))
        through = int(values.get("gap_through", 0))
        if through == 0:
            return None
        return Gap(int(values["gap_from"]), through, int(values["gap_epoch"]))

    def hub_holds_through(self, through_seq: int) -> None:
        """The hub acknowledged through ``through_seq``: a gap at or below it was taken (the hub
        moved its watermark over it), and is told no more."""
        self._db.execute("UPDATE meta SET value = 0 WHERE key = 'gap_through' AND value <= ?", (through_seq,))

    def next_generation(self) -> int:
        """A connection generation that grows across reboots (orders presence notices at the hub)."""
        self._db.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
        return self._meta("generation")

    def probe(self) -> None:
        """A real, durable write (a counter in ``meta``): raises while the disk cannot take one.
        What clears a journal fault on an idle lane (:meth:`writable` takes a lock but writes nothing,
        so it passes on a full disk)."""
        self._db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('probe', 0)")
        self._db.execute("UPDATE meta SET value = value + 1 WHERE key = 'probe'")

    def writable(self) -> bool:
        """A write lock can be taken (cheap: no data written); false on a closed or read-only journal."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("ROLLBACK")
        except sqlite3.Error:
            return False
        return True

    def close(self) -> None:
        self._db.close()
