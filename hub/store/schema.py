"""The hub's tables, defined once in SQLAlchemy Core for SQLite and PostgreSQL alike.

``versions/0001_initial.py`` is written by hand to match this file; a test compares the two, so
a change here without a migration fails the build.

Access events and lane events share one sequence per device (the controller's journal) but not a
table: their columns differ, and every listing reads one kind. :mod:`hub.store.sequences` counts
both tables' seqs for the watermark.

Enumerations (decision, reason, lane event type, ...) are plain strings, not database enums: the wire package
adds reasons over time and a new value must not need a schema change to be stored.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from hub.store.types import IdType, JsonType, UtcDateTime

# Named constraints and indexes, so migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

access_events = Table(
    "access_events",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("device_id", String(63), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("boot_id", String(64), nullable=False),
    Column("mono_ns", BigInteger, nullable=False),
    Column("wall_time", UtcDateTime, nullable=False),
    Column("clock_synced", Boolean, nullable=False),
    Column("project_id", String(64), nullable=False),
    Column("lane", String(32), nullable=False),
    Column("direction", String(8), nullable=False),
    Column("decision", String(16), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("card_kind", String(32), nullable=False),
    Column("credential_hash", String(64), nullable=False),
    Column("person_id", String(64), nullable=True),
    Column("alert", Boolean, nullable=False),
    # Soft objections (comma-separated reason codes), e.g. anti-passback in soft mode.
    Column("warnings", String(255), nullable=False, server_default=""),
    Column("received_at", UtcDateTime, nullable=False),
    # Exactly once at the hub: the key the controller numbers its journal by.
    UniqueConstraint("device_id", "seq"),
    Index(None, "project_id", "wall_time"),
    Index(None, "device_id", "wall_time"),
    Index(None, "person_id", "wall_time"),
    # The unfiltered listing and since/until-only queries walk this one, newest first.
    Index(None, "wall_time"),
)

lane_events = Table(
    "lane_events",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("device_id", String(63), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("boot_id", String(64), nullable=False),
    Column("mono_ns", BigInteger, nullable=False),
    Column("wall_time", UtcDateTime, nullable=False),
    Column("clock_synced", Boolean, nullable=False),
    Column("project_id", String(64), nullable=False),
    Column("lane", String(32), nullable=False),
    Column("direction", String(8), nullable=False),
    Column("type", String(32), nullable=False),
    # The access event (same device) a passage outcome refers to; None for the other types.
    Column("ref_seq", BigInteger, nullable=True),
    Column("alert", Boolean, nullable=False),
    # The operator account behind a remote open; NULL for everything else.
    Column("operator", String(64), nullable=True),
    Column("received_at", UtcDateTime, nullable=False),
    # Unique per table; that a seq is not also an access event's is checked by the store
    # (hub/store/journal.py) under the device's watermark lock.
    UniqueConstraint("device_id", "seq"),
    Index(None, "project_id", "wall_time"),
    Index(None, "device_id", "wall_time"),
    Index(None, "type", "wall_time"),
    # The unfiltered listing and since/until-only queries walk this one, newest first.
    Index(None, "wall_time"),
)

device_sequences = Table(
    "device_sequences",
    metadata,
    Column("device_id", String(63), primary_key=True),
    # Every seq in 1..contiguous_through is stored: what a StorageAck may promise.
    Column("contiguous_through", BigInteger, nullable=False),
    Column("highest_seen", BigInteger, nullable=False),
    # How many seqs in (contiguous_through, highest_seen] are still missing.
    Column("gap_count", BigInteger, nullable=False),
)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("received_at", UtcDateTime, nullable=False),
    Column("topic", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("payload_size", Integer, nullable=False),
    Index(None, "received_at"),
)

devices = Table(
    "devices",
    metadata,
    Column("device_id", String(63), primary_key=True),
    Column("last_seen_at", UtcDateTime, nullable=True),
    Column("presence_state", String(16), nullable=True),
    Column("presence_generation", BigInteger, nullable=True),
    Column("presence_at", UtcDateTime, nullable=True),
    Column("last_heartbeat", JsonType, nullable=True),
)

roster_versions = Table(
    "roster_versions",
    metadata,
    Column("project_id", String(64), primary_key=True),
    # The newest version minted for the project: only ever grows, across restarts and hub instances,
    # because a lane refuses any version not above the one it runs.
    Column("version", BigInteger, nullable=False),
    # sha256 of that version's canonical body: unchanged content never takes a new version.
    Column("content_sha256", String(64), nullable=False),
    Column("entries", Integer, nullable=False),
    Column("minted_at", UtcDateTime, nullable=True),
)

roster_status = Table(
    "roster_status",
    metadata,
    Column("device_id", String(63), primary_key=True),
    Column("project_id", String(64), nullable=False),
    # The lane's last word on its roster (wire.roster.RosterStatus), kept for device health.
    Column("applied_version", BigInteger, nullable=False),
    Column("wants_snapshot", Boolean, nullable=False),
    Column("problem", Text, nullable=True),
    Column("reported_at", UtcDateTime, nullable=False),
    Index(None, "project_id"),
)


device_commands = Table(
    "device_commands",
    metadata,
    # The command's own id: the lane executes an id once, the hub records it once.
    Column("command_id", String(32), primary_key=True),
    Column("device_id", String(63), nullable=False),
    Column("action", String(32), nullable=False),
    Column("operator", String(64), nullable=False),
    Column("log_level", String(16), nullable=True),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("result_ok", Boolean, nullable=True),
    Column("result_detail", String(500), nullable=True),
    Column("result_at", UtcDateTime, nullable=True),
    Index(None, "device_id", "issued_at"),
)
