"""Initial schema: access and lane events, per-device sequence watermarks, dead letters, devices,
roster versions and the lanes' roster status.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Written by hand to match hub/store/schema.py; tests/hub compares the migrated database with the
metadata. Plain SQLAlchemy types on purpose, so this revision never changes under a later edit.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "access_events",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("device_id", sa.String(63), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("boot_id", sa.String(64), nullable=False),
        sa.Column("mono_ns", sa.BigInteger(), nullable=False),
        sa.Column("wall_time", _TIME, nullable=False),
        sa.Column("clock_synced", sa.Boolean(), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("lane", sa.String(32), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("card_kind", sa.String(32), nullable=False),
        sa.Column("credential_hash", sa.String(64), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=True),
        sa.Column("alert", sa.Boolean(), nullable=False),
        sa.Column("warnings", sa.String(255), nullable=False, server_default=""),
        sa.Column("received_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_access_events"),
        sa.UniqueConstraint("device_id", "seq", name="uq_access_events_device_id_seq"),
    )
    op.create_index("ix_access_events_project_id_wall_time", "access_events", ["project_id", "wall_time"])
    op.create_index("ix_access_events_device_id_wall_time", "access_events", ["device_id", "wall_time"])
    op.create_index("ix_access_events_person_id_wall_time", "access_events", ["person_id", "wall_time"])
    op.create_index("ix_access_events_wall_time", "access_events", ["wall_time"])

    op.create_table(
        "lane_events",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("device_id", sa.String(63), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("boot_id", sa.String(64), nullable=False),
        sa.Column("mono_ns", sa.BigInteger(), nullable=False),
        sa.Column("wall_time", _TIME, nullable=False),
        sa.Column("clock_synced", sa.Boolean(), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("lane", sa.String(32), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("ref_seq", sa.BigInteger(), nullable=True),
        sa.Column("alert", sa.Boolean(), nullable=False),
        sa.Column("operator", sa.String(64), nullable=True),
        sa.Column("received_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_lane_events"),
        sa.UniqueConstraint("device_id", "seq", name="uq_lane_events_device_id_seq"),
    )
    op.create_index("ix_lane_events_project_id_wall_time", "lane_events", ["project_id", "wall_time"])
    op.create_index("ix_lane_events_device_id_wall_time", "lane_events", ["device_id", "wall_time"])
    op.create_index("ix_lane_events_type_wall_time", "lane_events", ["type", "wall_time"])
    op.create_index("ix_lane_events_wall_time", "lane_events", ["wall_time"])

    op.create_table(
        "device_sequences",
        sa.Column("device_id", sa.String(63), nullable=False),
        sa.Column("contiguous_through", sa.BigInteger(), nullable=False),
        sa.Column("highest_seen", sa.BigInteger(), nullable=False),
        sa.Column("gap_count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("device_id", name="pk_device_sequences"),
    )

    op.create_table(
        "dead_letters",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("received_at", _TIME, nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("payload_size", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dead_letters"),
    )
    op.create_index("ix_dead_letters_received_at", "dead_letters", ["received_at"])

    op.create_table(
        "devices",
        sa.Column("device_id", sa.String(63), nullable=False),
        sa.Column("last_seen_at", _TIME, nullable=True),
        sa.Column("presence_state", sa.String(16), nullable=True),
        sa.Column("presence_generation", sa.BigInteger(), nullable=True),
        sa.Column("presence_at", _TIME, nullable=True),
        sa.Column("last_heartbeat", _JSON, nullable=True),
        sa.PrimaryKeyConstraint("device_id", name="pk_devices"),
    )

    op.create_table(
        "roster_versions",
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("minted_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("project_id", name="pk_roster_versions"),
    )

    op.create_table(
        "roster_status",
        sa.Column("device_id", sa.String(63), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("applied_version", sa.BigInteger(), nullable=False),
        sa.Column("wants_snapshot", sa.Boolean(), nullable=False),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.Column("reported_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("device_id", name="pk_roster_status"),
    )
    op.create_index("ix_roster_status_project_id", "roster_status", ["project_id"])
    op.create_table(
        "device_commands",
        sa.Column("command_id", sa.String(32), nullable=False),
        sa.Column("device_id", sa.String(63), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("log_level", sa.String(16), nullable=True),
        sa.Column("issued_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.Column("result_ok", sa.Boolean(), nullable=True),
        sa.Column("result_detail", sa.String(500), nullable=True),
        sa.Column("result_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("command_id", name="pk_device_commands"),
    )
    op.create_index("ix_device_commands_device_id_issued_at", "device_commands", ["device_id", "issued_at"])


def downgrade() -> None:
    op.drop_index("ix_device_commands_device_id_issued_at", table_name="device_commands")
    op.drop_table("device_commands")
    op.drop_index("ix_roster_status_project_id", table_name="roster_status")
    op.drop_table("roster_status")
    op.drop_table("roster_versions")
    op.drop_table("devices")
    op.drop_index("ix_dead_letters_received_at", table_name="dead_letters")
    op.drop_table("dead_letters")
    op.drop_table("device_sequences")
    for name in (
        "ix_lane_events_wall_time",
        "ix_lane_events_type_wall_time",
        "ix_lane_events_device_id_wall_time",
        "ix_lane_events_project_id_wall_time",
    ):
        op.drop_index(name, table_name="lane_events")
    op.drop_table("lane_events")
    for name in (
        "ix_access_events_wall_time",
        "ix_access_events_person_id_wall_time",
        "ix_access_events_device_id_wall_time",
        "ix_access_events_project_id_wall_time",
    ):
        op.drop_index(name, table_name="access_events")
    op.drop_table("access_events")
