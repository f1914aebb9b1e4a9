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
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
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
SCHEMA_VERSION = 1
"""1: passages carry ``at`` and ``device_id`` (site-wide anti-passback)."""
_MIGRATIONS = {
    1: (
        "ALTER TABLE passages ADD COLUMN at INTEGER",
        "ALTER TABLE passages ADD COLUMN device_id TEXT",
    ),
}
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
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
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
        return int(self._db.execute("SELECT count(*) FROM events").fetchone()[0])

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
        rows = self._db.execute(
            "SELECT payload FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (after_seq, limit)
        ).fetchall()
        events = []
        for (payload,) in rows:
            event = decode(Channel.EVENT, payload)
            assert isinstance(event, AccessEvent | LaneEvent)
            events.append(event)
        return events

    def forget_through(self, seq: int) -> int:
        """Drop events the hub has stored; returns how many were dropped. Never moves backwards."""
        seq = min(seq, self.last_seq)
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            if seq <= self._meta("acked_through"):
                db.execute("COMMIT")
                return 0
            dropped = db.execute("DELETE FROM events WHERE seq <= ?", (seq,)).rowcount
            db.execute("UPDATE meta SET value = ? WHERE key = 'acked_through'", (seq,))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # a failed COMMIT may already have rolled back
                db.execute("ROLLBACK")
            raise
        return int(dropped)

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
