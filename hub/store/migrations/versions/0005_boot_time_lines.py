"""Each lane boot's time line: corrected times on access events, the boots' anchors, clock steps.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06

Written from hub/store/schema.py against a database at 0004, then frozen: plain SQLAlchemy types,
so this revision never changes under a later edit of the schema. Rows stored before it get their
wall time as corrected time (nothing better is known of them).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "device_clocks",
        sa.Column("device_id", sa.String(length=63), nullable=False),
        sa.Column("boot_id", sa.String(length=64), nullable=False),
        sa.Column("anchor_seq", sa.BigInteger(), nullable=False),
        sa.Column("anchor_wall", _TIME, nullable=True),
        sa.Column("anchor_mono_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "boot_id", name=op.f("pk_device_clocks")),
    )
    with op.batch_alter_table("access_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("corrected_time", _TIME, nullable=True))
        batch_op.create_index(
            "ix_access_events_person_id_corrected_time", ["person_id", "corrected_time"], unique=False
        )
    op.execute("UPDATE access_events SET corrected_time = wall_time WHERE corrected_time IS NULL")
    with op.batch_alter_table("lane_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("step_s", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lane_events", schema=None) as batch_op:
        batch_op.drop_column("step_s")
    with op.batch_alter_table("access_events", schema=None) as batch_op:
        batch_op.drop_index("ix_access_events_person_id_corrected_time")
        batch_op.drop_column("corrected_time")
    op.drop_table("device_clocks")
