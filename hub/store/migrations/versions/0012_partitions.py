"""The hub's data over years (issue 17): the journal tables partitioned by site month on PostgreSQL,
a project's completion date and a person's erasure, for retention.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

On PostgreSQL ``access_events`` and ``lane_events`` become partitioned tables (RANGE on
``wall_time``, one partition per Asia/Shanghai month, hub.store.partitions says why): each table
is renamed aside, its partitioned successor made with the same columns and defaults (the id
sequence moves over, so ids go on where they were), a partition per month the believable rows
need (from the earliest month of rows not clock_suspect, not before 2020, through three months
ahead of now) and a DEFAULT one for the rest, the rows moved, the old table dropped, then the
indexes built once over the moved rows. A unique index of a partitioned table must hold the
partition key: the primary key becomes (id, wall_time) and the (device_id, seq) unique key a
plain index (exactly once is the watermark lock's then: hub.store.journal). SQLite's tables stay
as they are.

Both stores: ``projects.completed_on`` (竣工, the day retention counts from) and
``persons.erased_at``. Written against a database at 0011, then frozen: nothing here imports the
hub, so this revision never changes under a later edit.
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ZONE = ZoneInfo("Asia/Shanghai")
_TABLES = ("access_events", "lane_events")
_FIRST_MONTH = date(2020, 1, 1)
_AHEAD = 3


def _add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def _bound(month: date) -> str:
    return f"'{datetime(month.year, month.month, 1, tzinfo=_ZONE).isoformat()}'"


def _months(connection: sa.Connection, table: str) -> list[date]:
    """Every site month from the earliest believable row's through ``_AHEAD`` months from now."""
    earliest = connection.execute(
        sa.text(f"SELECT min(wall_time) FROM {table} WHERE NOT clock_suspect AND wall_time >= :first"),  # noqa: S608
        {"first": datetime(2020, 1, 1, tzinfo=_ZONE)},
    ).scalar()
    now = datetime.now(UTC).astimezone(_ZONE)
    last = _add_months(date(now.year, now.month, 1), _AHEAD)
    if earliest is None:
        first = date(now.year, now.month, 1)
    else:
        local = earliest.astimezone(_ZONE)
        first = max(_FIRST_MONTH, date(local.year, local.month, 1))
    months, month = [], min(first, last)
    while month <= last:
        months.append(month)
        month = _add_months(month, 1)
    return months


def _indexes(connection: sa.Connection, table: str, *, but: tuple[str, str]) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of each index of ``table`` but the two named."""
    rows = connection.execute(
        sa.text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
            " AND tablename = :table AND indexname NOT IN (:one, :other)"
        ),
        {"table": table, "one": but[0], "other": but[1]},
    )
    return [(str(name), str(definition)) for name, definition in rows]


def _partition(table: str) -> None:
    connection = op.get_bind()
    aside = f"{table}_unpartitioned"
    indexes = _indexes(connection, table, but=(f"pk_{table}", f"uq_{table}_device_id_seq"))
    months = _months(connection, table)
    op.execute(f"ALTER TABLE {table} RENAME TO {aside}")
    op.execute(f"ALTER TABLE {aside} DROP CONSTRAINT pk_{table}")
    op.execute(f"ALTER TABLE {aside} DROP CONSTRAINT uq_{table}_device_id_seq")
    for name, _definition in indexes:
        op.execute(f"DROP INDEX {name}")
    op.execute(f"CREATE TABLE {table} (LIKE {aside} INCLUDING DEFAULTS) PARTITION BY RANGE (wall_time)")
    op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY (id, wall_time)")
    op.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
    for month in months:
        name = f"{table}_p{month.year:04d}{month.month:02d}"
        upper = _bound(_add_months(month, 1))
        op.execute(f"CREATE TABLE {name} PARTITION OF {table} FOR VALUES FROM ({_bound(month)}) TO ({upper})")
    op.execute(f"INSERT INTO {table} SELECT * FROM {aside}")  # noqa: S608 - the journal tables' names
    op.execute(f"DROP TABLE {aside}")
    for _name, definition in indexes:
        op.execute(definition)
    op.execute(f"CREATE INDEX ix_{table}_device_id_seq ON {table} (device_id, seq)")


def _unpartition(table: str) -> None:
    aside = f"{table}_partitioned"
    indexes = _indexes(op.get_bind(), table, but=(f"pk_{table}", f"ix_{table}_device_id_seq"))
    op.execute(f"ALTER TABLE {table} RENAME TO {aside}")
    op.execute(f"ALTER TABLE {aside} DROP CONSTRAINT pk_{table}")
    for name, _definition in indexes:
        op.execute(f"DROP INDEX {name}")
    op.execute(f"DROP INDEX ix_{table}_device_id_seq")
    op.execute(f"CREATE TABLE {table} (LIKE {aside} INCLUDING DEFAULTS)")
    op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
    op.execute(f"INSERT INTO {table} SELECT * FROM {aside}")  # noqa: S608 - the journal tables' names
    op.execute(f"DROP TABLE {aside}")
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY (id)")
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT uq_{table}_device_id_seq UNIQUE (device_id, seq)")
    for _name, definition in indexes:
        op.execute(definition)


def upgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("completed_on", sa.Date(), nullable=True))
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        for table in _TABLES:
            _partition(table)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _TABLES:
            _unpartition(table)
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("completed_on")
