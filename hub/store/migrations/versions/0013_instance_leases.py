"""Hub instances' leases (issue 16): which instances are live, so each project has one owner.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07

Written from hub/store/schema.py against a database at 0012, then frozen: plain SQLAlchemy types,
so this revision never changes under a later edit of the schema.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "hub_instances",
        sa.Column("instance_id", sa.String(length=128), nullable=False),
        sa.Column("started_at", _TIME, nullable=False),
        sa.Column("renewed_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("instance_id", name=op.f("pk_hub_instances")),
    )


def downgrade() -> None:
    op.drop_table("hub_instances")
