"""Zero trust at the hub (issue 13): clock-suspect events, flagged grants, the command a remote
open answers, and each device's enrolment and revocation times.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

Written from hub/store/schema.py against a database at 0005, then frozen: plain SQLAlchemy types,
so this revision never changes under a later edit of the schema. Rows stored before it are not
clock-suspect and carry no flag (nothing was checked of them).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("access_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("clock_suspect", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("flag", sa.String(length=32), nullable=True))
    with op.batch_alter_table("lane_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("command_id", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("clock_suspect", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("enrolled_at", _TIME, nullable=True))
        batch_op.add_column(sa.Column("revoked_at", _TIME, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_column("revoked_at")
        batch_op.drop_column("enrolled_at")
    with op.batch_alter_table("lane_events", schema=None) as batch_op:
        batch_op.drop_column("clock_suspect")
        batch_op.drop_column("command_id")
    with op.batch_alter_table("access_events", schema=None) as batch_op:
        batch_op.drop_column("flag")
        batch_op.drop_column("clock_suspect")
