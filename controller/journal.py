"""The durable journal: every decision is committed here before the relay moves.

SQLite in WAL mode with ``synchronous=FULL``: a commit has reached the disk when ``append``
returns, so a power cut after the relay pulse cannot lose the event. Events stay until the hub
acknowledges that it stored them (a contiguous watermark); the sequence counter lives in its own
row so forgetting acknowledged events never lets a sequence number be reused.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

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
INSERT OR IGNORE INTO meta (key, value) VALUES ('last_seq', 0), ('acked_through', 0), ('generation', 0);
"""


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
        except sqlite3.DatabaseError as err:
            self._db.close()
            raise JournalError(f"journal {path} cannot be opened: {err}") from err

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

        ``passage`` (person, direction) is recorded in the same transaction, so the anti-passback
        state can never disagree with the events after a power cut.
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
                self._upsert_passage(passage[0], passage[1], seq)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # a failed COMMIT may already have rolled back
                db.execute("ROLLBACK")
            raise
        return event

    def _upsert_passage(self, person_id: str, direction: Direction, seq: int) -> None:
        self._db.execute(
            "INSERT INTO passages (person_id, direction, seq) VALUES (?, ?, ?) "
            "ON CONFLICT (person_id) DO UPDATE SET direction = excluded.direction, seq = excluded.seq",
            (person_id, direction.value, seq),
        )

    def passages(self) -> list[tuple[str, Direction]]:
        rows = self._db.execute("SELECT person_id, direction FROM passages").fetchall()
        return [(str(person), Direction(direction)) for person, direction in rows]

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
